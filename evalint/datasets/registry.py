"""Registry of the public reference datasets evalint is tested against, and their loaders.

The registry (``registry.toml``, package data) maps a dataset id to its files, each with the
sha256 of the exact bytes evalint accepts, the origin it was made from, its licence, citation
and columns. The data files are not shipped with evalint: :func:`path` finds them, in order,

1. in ``$EVALINT_DATA_DIR/<id>/<file>``;
2. in the ``shared/reference`` folder beside a source checkout (``<repo_root>/../shared/reference``,
   where ``repo_root`` holds ``pyproject.toml`` above the ``evalint`` package);
3. in the user cache (``$EVALINT_CACHE_DIR`` or ``~/.cache/evalint``), ``<cache>/<id>/<file>``;
4. by download into the cache: from the mirror ``$EVALINT_DATA_URL`` (or ``base_url=``), which
   must serve ``<base>/<id>/<file>``, else from the registry ``url`` when that address serves
   exactly the registered bytes (``url_is_exact``).

Every file is checked against its registered sha256 wherever it is found: a local file with
other bytes raises :class:`ChecksumError` (evalint never silently uses a different file), and a
download with other bytes is deleted before :class:`ChecksumError` is raised.

The records and the reading of ``registry.toml`` are in :mod:`evalint.datasets.catalog`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from evalint.datasets.catalog import DatasetInfo, FileInfo, _registry
from evalint.errors import DataError, SpecificationError, format_examples

__all__ = [
    "ChecksumError",
    "DatasetNotFoundError",
    "list_datasets",
    "info",
    "path",
    "load",
    "download",
    "reference_dir",
    "cache_dir",
    "sha256_file",
    "DATA_DIR_ENV",
    "CACHE_DIR_ENV",
    "DATA_URL_ENV",
]

#: Environment variable naming a folder laid out as ``<dir>/<id>/<file>``; searched first.
DATA_DIR_ENV = "EVALINT_DATA_DIR"
#: Environment variable overriding the download cache folder (default ``~/.cache/evalint``).
CACHE_DIR_ENV = "EVALINT_CACHE_DIR"
#: Environment variable giving a mirror base URL serving ``<base>/<id>/<file>``.
DATA_URL_ENV = "EVALINT_DATA_URL"


class ChecksumError(DataError):
    """A dataset file's bytes do not match the sha256 in the registry."""


class DatasetNotFoundError(DataError):
    """A dataset file is not available locally and cannot be downloaded."""


def info(dataset_id: str) -> DatasetInfo:
    """The registry entry of ``dataset_id`` (files, sha256, origin, licence, citation, columns).

    Raises
    ------
    evalint.errors.SpecificationError
        Unknown id; the message lists the registered ids.
    """
    reg = _registry()
    if dataset_id not in reg:
        raise SpecificationError(
            f"dataset {dataset_id!r} is not registered. Registered datasets: "
            f"{', '.join(sorted(reg))}. See evalint.datasets.list_datasets()."
        )
    return reg[dataset_id]


def list_datasets() -> pd.DataFrame:
    """All registered datasets, one row each.

    Columns: ``id``, ``description``, ``design``, ``files`` (comma-separated), ``rows`` (of the
    main file), ``licence``, ``citation``, ``local`` (folder where the main file was found without
    downloading, or ``""``; existence only, the checksum is verified when the file is used).
    """
    rows = []
    for ds in _registry().values():
        found = _find_local(ds, ds.default_file)
        rows.append({
            "id": ds.id, "description": ds.description, "design": ds.design,
            "files": ", ".join(f.name for f in ds.files), "rows": ds.default_file.rows,
            "licence": ds.licence, "citation": ds.citation,
            "local": str(found.parent) if found is not None else "",
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- locations
def _checkout_roots() -> list[Path]:
    """Candidate evalint source checkouts: the one this module sits in (editable install),
    then the working directory and its parents (an installed package run from a clone)."""
    candidates = [Path(__file__).resolve().parents[2]]
    cwd = Path.cwd().resolve()
    candidates += [cwd, *cwd.parents]
    roots = []
    for root in candidates:
        pyproject = root / "pyproject.toml"
        try:
            if pyproject.is_file() and 'name = "evalint"' in pyproject.read_text(encoding="utf-8"):
                roots.append(root)
        except OSError:
            continue
    return roots


def _repo_shared_reference() -> Path | None:
    """``<checkout>/../shared/reference`` for a source checkout, if it exists."""
    for repo_root in _checkout_roots():
        shared = repo_root.parent / "shared" / "reference"
        if shared.is_dir():
            return shared
    return None


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _data_dir_env() -> Path | None:
    """``$EVALINT_DATA_DIR`` as a folder, or ``None`` when unset.

    Set to something that is not a folder, it is an error (as ``$EVALINT_REALDATA_DIR`` is): a
    typo would otherwise fall through to the next location without a word and give another
    copy than the one the user pointed at.
    """
    env = _env_dir(DATA_DIR_ENV)
    if env is not None and not env.is_dir():
        raise DatasetNotFoundError(
            f"${DATA_DIR_ENV} is set to {os.environ[DATA_DIR_ENV].strip()!r}, which is not a folder. "
            "Point it at a folder laid out as <dataset id>/<file> (e.g. the project's "
            "shared/reference), or unset it."
        )
    return env


def reference_dir() -> Path | None:
    """The local reference-data folder: ``$EVALINT_DATA_DIR`` if set, else the
    ``shared/reference`` folder beside a source checkout, else ``None``.

    Raises
    ------
    DatasetNotFoundError
        ``$EVALINT_DATA_DIR`` is set but is not a folder.
    """
    env = _data_dir_env()
    if env is not None:
        return env
    return _repo_shared_reference()


def cache_dir() -> Path:
    """The download cache: ``$EVALINT_CACHE_DIR`` or ``~/.cache/evalint`` (not created here)."""
    env = _env_dir(CACHE_DIR_ENV)
    return env if env is not None else Path.home() / ".cache" / "evalint"


def _rel(ds: DatasetInfo, f: FileInfo) -> Path:
    return Path(f.name) if ds.folder in ("", ".") else Path(ds.folder) / f.name


def _search_dirs() -> list[tuple[str, Path]]:
    dirs: list[tuple[str, Path]] = []
    env = _data_dir_env()
    if env is not None:
        dirs.append((f"${DATA_DIR_ENV}", env))
    shared = _repo_shared_reference()
    if shared is not None:
        dirs.append(("shared/reference beside the checkout", shared))
    dirs.append(("user cache", cache_dir()))
    return dirs


def _find_local(ds: DatasetInfo, f: FileInfo) -> Path | None:
    for _, d in _search_dirs():
        candidate = d / _rel(ds, f)
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------- checksums
_HASHED: dict[tuple[str, int, int], str] = {}


def sha256_file(file_path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(file_path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified_sha(p: Path) -> str:
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHED:
        _HASHED[key] = sha256_file(p)
    return _HASHED[key]


def _check_local(ds: DatasetInfo, f: FileInfo, p: Path) -> Path:
    got = _verified_sha(p)
    if got != f.sha256:
        raise ChecksumError(
            f"{ds.id}/{f.name} found at {p} has sha256 {got}, but the registry expects "
            f"{f.sha256}. evalint will not use a different file silently. Replace it with the "
            f"registered file (origin: {f.url or 'made by the evalint project'}; {f.conversion}) or "
            "delete it so that the next location in the search order is used."
        )
    return p


# ---------------------------------------------------------------- public access
def path(dataset_id: str, file: str | None = None, *, download: bool = True,
         base_url: str | None = None) -> Path:
    """Local path of a registered file, verified against its sha256.

    Parameters
    ----------
    dataset_id : str
        Registered id, e.g. ``"mpdta"``; see :func:`list_datasets`.
    file : str, optional
        File name within the dataset (default: its main file, usually ``data.csv``).
    download : bool
        When the file is not found locally, download it into the cache (default) or raise.
    base_url : str, optional
        Mirror base URL serving ``<base>/<id>/<file>``; overrides ``$EVALINT_DATA_URL``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    evalint.errors.SpecificationError
        Unknown dataset id or file name.
    ChecksumError
        A local file (or a download) does not match the registered sha256.
    DatasetNotFoundError
        Not found locally and not downloadable (the message lists where it looked and the fix).
    """
    ds = info(dataset_id)
    f = ds.file(file)
    for _, d in _search_dirs():
        candidate = d / _rel(ds, f)
        if candidate.is_file():
            return _check_local(ds, f, candidate)
    if download:
        return _download(ds, f, base_url=base_url, target_dir=cache_dir(), force=False)
    looked = "; ".join(f"{label}: {d / _rel(ds, f)}" for label, d in _search_dirs())
    raise DatasetNotFoundError(
        f"{ds.id}/{f.name} is not available locally (looked in {looked}) and download=False. "
        f"Set ${DATA_DIR_ENV} to a folder holding {_rel(ds, f).as_posix()}, or call with "
        "download=True."
    )


def download(dataset_id: str, file: str | None = None, *, base_url: str | None = None,
             cache: str | os.PathLike[str] | None = None, force: bool = False,
             timeout: float = 60.0) -> Path:
    """Download a registered file into the cache and verify its sha256.

    Parameters
    ----------
    dataset_id, file : str
        As in :func:`path`.
    base_url : str, optional
        Mirror base URL (``<base>/<id>/<file>``); default ``$EVALINT_DATA_URL``, else the
        registry ``url`` when it serves the exact bytes.
    cache : path, optional
        Target folder (default :func:`cache_dir`); the file goes to ``<cache>/<id>/<file>``.
    force : bool
        Download even if a verified copy is already in the cache.
    timeout : float
        Seconds before the connection is abandoned.

    Returns
    -------
    pathlib.Path
        The verified cached file.

    Raises
    ------
    ChecksumError
        The downloaded bytes do not match (the partial file is deleted first), or a cached
        copy has other bytes.
    DatasetNotFoundError
        No download source, or the download failed.
    """
    ds = info(dataset_id)
    f = ds.file(file)
    target_dir = Path(cache).expanduser() if cache is not None else cache_dir()
    return _download(ds, f, base_url=base_url, target_dir=target_dir, force=force, timeout=timeout)


def _source_url(ds: DatasetInfo, f: FileInfo, base_url: str | None) -> str:
    base = base_url if base_url is not None else os.environ.get(DATA_URL_ENV, "").strip()
    if base:
        return base.rstrip("/") + "/" + _rel(ds, f).as_posix()
    if f.url and f.url_is_exact:
        return f.url
    origin = (f"it is a conversion of {f.url} ({f.conversion})" if f.url
              else f"it was made by the evalint project ({f.conversion})")
    raise DatasetNotFoundError(
        f"{ds.id}/{f.name} is not available locally and has no exact public download: {origin}. "
        f"Set ${DATA_DIR_ENV} to a folder holding {_rel(ds, f).as_posix()} (e.g. the project's "
        f"shared/reference folder), or ${DATA_URL_ENV} to a mirror serving "
        f"<base>/{_rel(ds, f).as_posix()}."
    )


def _download(ds: DatasetInfo, f: FileInfo, *, base_url: str | None, target_dir: Path,
              force: bool, timeout: float = 60.0) -> Path:
    target = target_dir / _rel(ds, f)
    if target.is_file() and not force:
        return _check_local(ds, f, target)
    url = _source_url(ds, f, base_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetNotFoundError(
            f"Downloading {ds.id}/{f.name} from {url} failed: {exc}. Check the address "
            f"(${DATA_URL_ENV} / base_url) and the connection, or set ${DATA_DIR_ENV} to a local copy."
        ) from exc
    got = h.hexdigest()
    if got != f.sha256:
        tmp.unlink(missing_ok=True)
        raise ChecksumError(
            f"Downloaded {ds.id}/{f.name} from {url}: sha256 {got}, but the registry expects "
            f"{f.sha256}. The download was deleted. The source serves different bytes; use a "
            f"mirror of the registered file (${DATA_URL_ENV}) or a local copy (${DATA_DIR_ENV})."
        )
    os.replace(tmp, target)
    return target


def load(dataset_id: str, file: str | None = None, *, download: bool = True,
         base_url: str | None = None) -> pd.DataFrame:
    """Read a registered CSV file with the registry's column dtypes.

    Integer columns become ``int64`` (nullable ``Int64`` where values are missing), floats
    ``float64``, text columns pandas strings, dates ``datetime64``.

    Parameters
    ----------
    dataset_id, file, download, base_url
        As in :func:`path`.

    Returns
    -------
    pandas.DataFrame
        A fresh frame (safe to modify).

    Raises
    ------
    evalint.errors.SpecificationError
        Unknown id or file, or a file that is not a table (scripts: use :func:`path`).
    """
    ds = info(dataset_id)
    f = ds.file(file)
    if not f.is_table:
        raise SpecificationError(
            f"{ds.id}/{f.name} is not a table; load() reads CSV files only. Use "
            f"evalint.datasets.path({ds.id!r}, {f.name!r}) to get its location."
        )
    p = path(dataset_id, f.name, download=download, base_url=base_url)
    text_cols = {c.name: str for c in f.columns if c.dtype == "str"}
    frame = pd.read_csv(p, dtype=text_cols)
    return _apply_dtypes(frame, f)


def _apply_dtypes(frame: pd.DataFrame, f: FileInfo) -> pd.DataFrame:
    for c in f.columns:
        if c.name not in frame.columns:
            raise DataError(
                f"{f.name}: registered column {c.name!r} is not in the file (columns: "
                f"{format_examples(list(frame.columns), limit=30)}); the registry and file disagree."
            )
        col = frame[c.name]
        if c.dtype == "int":
            frame[c.name] = col.astype("Int64" if col.isna().any() else "int64")
        elif c.dtype == "float":
            frame[c.name] = col.astype("float64")
        elif c.dtype == "date":
            frame[c.name] = pd.to_datetime(col)
        elif c.dtype == "bool":
            frame[c.name] = col.astype("boolean" if col.isna().any() else "bool")
    return frame

