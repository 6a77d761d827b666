"""Catalogue of the real NHS England / ONS files evalint reads, and ``read_source(name)``.

Every known file version is registered in ``sources.toml`` (beside this module) with its
sha256, the public copy it came from, licence (OGL v3) and citation. A file is looked for in the
real-data folder (:func:`evalint.datasets.realdata.realdata_dir`: ``$EVALINT_REALDATA_DIR`` or
``shared/realdata`` beside a checkout), then in the download cache
(``<evalint cache>/realdata/<folder>/<name>``), and downloaded there from its pinned public copy
when ``download=True``. Its bytes must hash to the registered sha256: a different vintage is an
error (pass the file to the reader directly to read an unregistered version).

References
----------
See ``methods/data_sources.md`` for coverage, version history and known breaks of each source.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files as _package_files
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.datasets.catalog import DatasetInfo, FileInfo
from evalint.datasets.realdata import RealDataNotFoundError, realdata_dir
from evalint.datasets.registry import ChecksumError, _download, cache_dir, sha256_file
from evalint.errors import SpecificationError, format_examples

try:  # Python >= 3.11
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover
    import tomli as _toml  # type: ignore[no-redef]

__all__ = ["SourceInfo", "list_sources", "read_source", "source_info", "source_paths"]


@dataclass(frozen=True)
class SourceInfo:
    """One registered real-data source: the reader that reads it and its known file versions."""

    name: str
    description: str
    folder: str
    reader: str
    kwargs: dict[str, Any]
    coverage: str
    level: str
    licence: str
    citation: str
    publisher_url: str
    known_breaks: str
    files: tuple[FileInfo, ...]


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, SourceInfo]:
    raw = _toml.loads(_package_files("evalint.io").joinpath("sources.toml").read_text("utf-8"))
    out = {}
    for name, e in raw.items():
        fs = tuple(FileInfo(name=f["name"], sha256=f["sha256"].lower(), url=f.get("url", ""),
                            url_is_exact=bool(f.get("url_is_exact", False)), conversion="",
                            rows=None, columns=()) for f in e["files"])
        out[name] = SourceInfo(name=name, description=e["description"], folder=e["folder"],
                               reader=e["reader"], kwargs=dict(e.get("kwargs", {})),
                               coverage=e["coverage"], level=e.get("level", ""),
                               licence=e["licence"], citation=e["citation"],
                               publisher_url=e.get("publisher_url", ""),
                               known_breaks=e.get("known_breaks", ""), files=fs)
    return out


def source_info(name: str) -> SourceInfo:
    """The catalogue entry of source ``name`` (see :func:`list_sources`)."""
    cat = _catalogue()
    if name not in cat:
        hint = ""
        if isinstance(name, (str, Path)) and ("/" in str(name) or "\\" in str(name)
                                              or Path(str(name)).suffix.lower() in (".csv", ".xlsx", ".xls")):
            hint = (" To read a file by its path, call its reader directly, e.g. "
                    "evalint.io.read_healthyr(path); list_sources() shows which reader reads which source.")
        raise SpecificationError(
            f"unknown real-data source {name!r}; known sources: {format_examples(sorted(cat), 30)}.{hint}")
    return cat[name]


def list_sources() -> pd.DataFrame:
    """One row per registered source: name, level, coverage, reader, files, licence."""
    return pd.DataFrame([{"name": s.name, "level": s.level, "coverage": s.coverage,
                          "reader": s.reader, "files": len(s.files), "licence": s.licence,
                          "description": s.description} for s in _catalogue().values()])


def source_paths(name: str, *, download: bool = False, verify: bool = True) -> list[Path]:
    """Local paths of a source's files, checked against their sha256.

    Parameters
    ----------
    name : str
        Source name.
    download : bool
        Fetch files found nowhere locally from their pinned public copy into the cache.
    verify : bool
        Check each file's sha256 (on by default).

    Raises
    ------
    evalint.datasets.realdata.RealDataNotFoundError
        A file is in neither the real-data folder nor the cache (and not downloaded).
    evalint.datasets.registry.ChecksumError
        A file's bytes are not the registered version.
    """
    info = source_info(name)
    root = realdata_dir()
    cache = cache_dir() / "realdata"
    ds = DatasetInfo(id=name, description=info.description, design="", tests="",
                     licence=info.licence, citation=info.citation, folder=info.folder,
                     files=info.files)
    out = []
    for f in info.files:
        candidates = ([root / info.folder / f.name] if root is not None else []) + [cache / info.folder / f.name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            if download and f.url_is_exact:
                found = _download(ds, f, base_url=None, target_dir=cache, force=False)
            else:
                raise RealDataNotFoundError(
                    f"{name}: file {info.folder}/{f.name} not found in "
                    f"{format_examples([str(c.parent) for c in candidates])}. Set "
                    "$EVALINT_REALDATA_DIR to the folder holding it"
                    + (", or pass download=True to fetch the pinned copy " + f.url if f.url_is_exact else "")
                    + ".")
        if verify:
            got = sha256_file(found)
            if got != f.sha256:
                raise ChecksumError(
                    f"{name}: {found} has sha256 {got[:16]}..., not the registered version "
                    f"{f.sha256[:16]}... (a different vintage?). Read it with "
                    f"evalint.io.{info.reader}({str(found)!r}) directly, or restore the registered file.")
        out.append(found)
    return out


def read_source(name: str, *, download: bool = False, verify: bool = True,
                **kwargs: Any) -> pd.DataFrame:
    """Read a registered source with its reader.

    Parameters
    ----------
    name : str
        Source name (:func:`list_sources`), e.g. ``"healthyr_icb_criteria_to_reside"``.
    download, verify : bool
        See :func:`source_paths`.
    **kwargs
        Passed to the reader (over the catalogue's defaults).

    Returns
    -------
    pandas.DataFrame
        The reader's tidy frame; ``attrs["evalint_source"]`` holds the name, citation, licence
        and files.
    """
    info = source_info(name)
    reader = getattr(importlib.import_module("evalint.io"), info.reader)
    params = inspect.signature(reader).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        accepted = [n for n, p in list(params.items())[1:] if p.kind is not p.VAR_POSITIONAL]
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise SpecificationError(
                f"read_source({name!r}): option(s) {format_examples(unknown)} not understood by "
                f"{info.reader}; it accepts {format_examples(accepted) or 'no options'}.")
    args = {**info.kwargs, **kwargs}
    paths = source_paths(name, download=download, verify=verify)
    target: Any = paths if len(paths) > 1 else paths[0]
    if info.reader == "read_healthyr":
        target = paths[0]
    frame = reader(target, **args)
    frame.attrs["evalint_source"] = {"name": name, "citation": info.citation,
                                     "licence": info.licence, "files": [str(p) for p in paths]}
    return frame
