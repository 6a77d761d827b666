"""Geography of the NHS in England, on the 42 ICBs of 1 July 2022 (vintage ``"2022"``).

- ICBs: :func:`icb_table`, :func:`icb_codes`, :func:`icb_name`, :func:`to_icb_code`,
  :func:`load_icbs` (with ICS waves; also in ``evalint.calendar``).
- Trusts: attribution weights :func:`trust_icb_weights` (``"activity"``, ``"catchment"``,
  ``"main"``, ``"host"``), :func:`trust_main_icb`, successions :func:`trust_successors` and
  :func:`harmonise_trust_codes`.
- Areas: :func:`ccg_to_icb`, :func:`subicb_to_icb`, :func:`stp_to_icb`, :func:`ltla_to_icb`
  (shares for split areas), :func:`areas_to_icb` (an area series onto the 2022 ICBs).
- Denominators: :func:`icb_population` (monthly, by age band), :func:`add_population`,
  :func:`trust_catchment_population`, :func:`add_catchment_population`, :func:`rate_per_100k`.
- Aggregation: :func:`trust_to_icb` -> :class:`ICBAggregation` (values and coverage).
- Later boundaries: :func:`to_icb_vintage` puts ICB 2022 values on the April 2026 ICBs with a
  lookup the user supplies (the mapping is not shipped; without one it raises
  :class:`UnsupportedVintageError` saying how to supply it).

The lookups are read from the real-data folder (``$EVALINT_REALDATA_DIR`` or ``shared/realdata``
beside a checkout; ``source_dir=`` overrides); the ICB table is package data. Rules and known
defects: methods/geography.md.
"""

from evalint.geography._source import SUPPORTED_VINTAGES
from evalint.geography.aggregate import ICBAggregation, trust_to_icb
from evalint.geography.areas import (
    AREA_LEVELS,
    areas_to_icb,
    ccg_to_icb,
    ltla_to_icb,
    stp_to_icb,
    subicb_to_icb,
    utla_to_icb,
)
from evalint.geography.errors import (
    AmbiguousSuccessionError,
    UnknownCodeError,
    UnsupportedVintageError,
)
from evalint.geography.icbs import icb_codes, icb_name, icb_table, load_icbs, to_icb_code
from evalint.geography.population import (
    AGE_BANDS,
    add_catchment_population,
    add_population,
    icb_population,
    icb_population_years,
    rate_per_100k,
    trust_catchment_population,
)
from evalint.geography.vintages import LATER_VINTAGES, icb_vintage_lookup, to_icb_vintage
from evalint.geography.trusts import (
    WEIGHT_BASES,
    harmonise_trust_codes,
    trust_icb_weights,
    trust_main_icb,
    trust_successors,
)

__all__ = [
    "SUPPORTED_VINTAGES",
    "WEIGHT_BASES",
    "AGE_BANDS",
    "AmbiguousSuccessionError",
    "UnknownCodeError",
    "UnsupportedVintageError",
    "ICBAggregation",
    "trust_to_icb",
    "AREA_LEVELS",
    "areas_to_icb",
    "stp_to_icb",
    "ccg_to_icb",
    "ltla_to_icb",
    "subicb_to_icb",
    "utla_to_icb",
    "icb_codes",
    "icb_name",
    "icb_table",
    "load_icbs",
    "to_icb_code",
    "add_population",
    "add_catchment_population",
    "icb_population",
    "icb_population_years",
    "rate_per_100k",
    "trust_catchment_population",
    "harmonise_trust_codes",
    "trust_icb_weights",
    "trust_main_icb",
    "trust_successors",
    "LATER_VINTAGES",
    "icb_vintage_lookup",
    "to_icb_vintage",
]
