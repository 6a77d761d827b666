"""Reference datasets (registry with checksums) and simulated NHS-like panels with known truth."""

from evalint.datasets.registry import (
    ChecksumError,
    DatasetInfo,
    DatasetNotFoundError,
    FileInfo,
    cache_dir,
    download,
    info,
    list_datasets,
    load,
    path,
    reference_dir,
    sha256_file,
)

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
]
