"""Reading the lookup files of ``<realdata>/lookups_trust_icb_la`` and
``<realdata>/population_icb_ltla`` (one cached read per file and folder), and the vintage check."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from evalint.geography.errors import UnsupportedVintageError

__all__ = ["SUPPORTED_VINTAGES", "check_vintage", "read_lookup", "LOOKUPS", "POPULATION", "CATCHMENT"]

#: Boundary sets evalint has lookups for. "2022": ICBs as established on 1 July 2022
#: (ONS ICB July 2022 codes E54...), LTLA 2022, CCG/sub-ICB April 2021/July 2022, trusts 2022.
SUPPORTED_VINTAGES = ("2022",)

LOOKUPS = "lookups_trust_icb_la"
POPULATION = "population_icb_ltla"
CATCHMENT = "hf_trust_quarterly_beds_los"


def check_vintage(vintage: str | int) -> str:
    """Return the vintage as a string, or raise :class:`UnsupportedVintageError`."""
    key = str(vintage).strip()
    if key not in SUPPORTED_VINTAGES:
        raise UnsupportedVintageError(
            f"geography vintage {vintage!r} is not supported; supported: "
            f"{', '.join(SUPPORTED_VINTAGES)}. The 2022 vintage is the 42 ICBs of 1 July 2022 "
            "(ONS codes E54...). Put data on other boundaries onto it first (predecessor trust "
            "codes: harmonise_trust_codes; CCGs: ccg_to_icb). The April 2026 ICBs are not a vintage of "
            "the package: their mapping from the 2022 ICBs is not published in evalint. Put a 2022 ICB series "
            "on them with a lookup you supply: evalint.geography.to_icb_vintage(frame, value, target='2026', "
            "lookup='icb22_to_icb26.csv') (columns icb22_code, icb26_code, share; or set "
            "$EVALINT_ICB_LOOKUP_2026); see methods/geography.md."
        )
    return key


def _folder(source_dir: str | Path | None) -> Path:
    # imported here: evalint.datasets imports evalint.geography, so a module-level import fails when
    # evalint.geography is imported first (``import evalint`` no longer imports datasets before it)
    from evalint.datasets.realdata import RealDataNotFoundError, realdata_dir

    if source_dir is not None:
        path = Path(source_dir).expanduser()
        if not path.is_dir():
            raise RealDataNotFoundError(f"source_dir {str(path)!r} is not a folder")
        return path
    root = realdata_dir(required=True)
    assert root is not None
    return root


@lru_cache(maxsize=64)
def _read(path: str, dtype_str: tuple[str, ...]) -> pd.DataFrame:
    return pd.read_csv(path, dtype={c: str for c in dtype_str})


def read_lookup(
    source: str, name: str, *, str_columns: tuple[str, ...] = (), source_dir: str | Path | None = None
) -> pd.DataFrame:
    """A fresh copy of ``<realdata>/<source>/<name>`` (``source_dir`` replaces ``<realdata>``).

    Raises
    ------
    RealDataNotFoundError
        Naming the file and the folder searched.
    """
    folder = _folder(source_dir)
    path = folder / source / name
    if not path.is_file():
        from evalint.datasets.realdata import RealDataNotFoundError

        raise RealDataNotFoundError(
            f"lookup file {source}/{name} not found under {folder}. It ships with the project's "
            f"shared/realdata folder (see {source}/SOURCE.md); set $EVALINT_REALDATA_DIR or "
            "pass source_dir=."
        )
    return _read(str(path), str_columns).copy()
