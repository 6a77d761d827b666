"""Readers for published NHS England statistics, returning tidy frames for ``Panel.from_frame``.

- :func:`read_ae_monthly`: monthly "A&E Attendances and Emergency Admissions" provider CSVs
  (sitrep MSitAE), provider x month or England x month.
- :func:`read_discharge_sitrep` and :func:`aggregate_to_month`: the acute discharge situation
  report (patients no longer meeting the criteria to reside, discharges), organisation x day,
  then x month (stocks averaged per day, flows summed).
- :func:`ae_attendances_panel`, :func:`panel_coverage`, :func:`build_ae_panel`: the
  NHSRdatasets ``ae_attendances`` frame (``evalint.datasets.load("nhs_ae_attendances")``)
  as an org x month panel, with orgs that have gaps reported and handled explicitly;
  :func:`combine_org_codes` sums merged trusts' predecessor codes into the successor.

Headers are matched case-insensitively and tolerate known variants; "-" and blanks become NaN
and are counted (:class:`MissingValuesWarning`), never filled with 0. See
``methods/data_sources.md``.
"""

from evalint.io._headers import InconsistentTotalsWarning, MissingValuesWarning, normalise_header
from evalint.io.ae_monthly import AE_MEASURES, parse_msitae_period, read_ae_monthly
from evalint.io.ae_panel import (
    CombinedCodesWarning,
    ae_attendances_panel,
    build_ae_panel,
    combine_org_codes,
    panel_coverage,
)
from evalint.io.discharge_sitrep import (
    FLOWS,
    SITREP_MEASURES,
    STOCKS,
    aggregate_to_month,
    read_discharge_sitrep,
)

__all__ = [
    "AE_MEASURES",
    "FLOWS",
    "SITREP_MEASURES",
    "STOCKS",
    "CombinedCodesWarning",
    "InconsistentTotalsWarning",
    "MissingValuesWarning",
    "ae_attendances_panel",
    "aggregate_to_month",
    "build_ae_panel",
    "combine_org_codes",
    "normalise_header",
    "panel_coverage",
    "parse_msitae_period",
    "read_ae_monthly",
    "read_discharge_sitrep",
]
