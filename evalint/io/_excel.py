"""The Excel engine for a workbook: python-calamine for legacy ``.xls`` files.

pandas deprecates its xlrd engine for ``.xls``; python-calamine (Rust calamine) reads NHS
England's Monthly A&E Time Series workbook (March 2024 edition, six sheets) into frames equal to
xlrd's in values and dtypes (checked in tests/unit/test_io_readers.py), faster. ``.xlsx``
workbooks are read with openpyxl, named explicitly (pandas will change its default). When calamine
is not installed, pandas' default
(xlrd) is used.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Literal

__all__ = ["excel_engine"]


def excel_engine(path: str | Path) -> Literal["calamine", "openpyxl"] | None:
    """``"calamine"`` for a ``.xls`` file when python-calamine is installed; ``"openpyxl"`` for
    ``.xlsx``/``.xlsm`` (named, because pandas announces that its default .xlsx engine will change:
    the readers were checked against the published totals with openpyxl); else ``None``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xls" and find_spec("python_calamine") is not None:
        return "calamine"
    if suffix in (".xlsx", ".xlsm"):
        return "openpyxl"
    return None
