"""Reference datasets and simulated NHS-like panels.

- The registry of public reference datasets (sha256-checked; files found locally or downloaded
  into a cache): :func:`list_datasets`, :func:`info`, :func:`path`, :func:`load`,
  :func:`download`, :func:`reference_dir`.
- Simulated monthly panels of the 42 ICBs (and one national series) with known intervention
  effects: :func:`simulate_nhs`, :func:`simulate_series`, :class:`SimulatedPanel`.
"""

from evalint.datasets._calibration import icb_units
from evalint.datasets._simulated import SimulatedPanel
from evalint.datasets.catalog import DatasetInfo, FileInfo
from evalint.datasets.registry import (
    ChecksumError,
    DatasetNotFoundError,
    cache_dir,
    download,
    info,
    list_datasets,
    load,
    path,
    reference_dir,
    sha256_file,
)
from evalint.datasets.simulate import OUTCOMES, simulate_nhs, simulate_series

__all__ = [
    "ChecksumError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "FileInfo",
    "cache_dir",
    "download",
    "info",
    "list_datasets",
    "load",
    "path",
    "reference_dir",
    "sha256_file",
    "OUTCOMES",
    "SimulatedPanel",
    "icb_units",
    "simulate_nhs",
    "simulate_series",
]
