"""The dataset catalog: ``registry.toml`` read into dataset records.

One job: the records of the registry (:class:`ColumnInfo`, :class:`FileInfo`,
:class:`DatasetInfo`) and reading the packaged ``registry.toml`` into them, once per
process (``_registry``). Finding, verifying, downloading and loading the files is
:mod:`evalint.datasets.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files as _package_files

from evalint.errors import SpecificationError, format_examples

try:  # Python >= 3.11
    import tomllib as _toml
except ImportError:  # pragma: no cover - Python 3.10
    try:
        import tomli as _toml  # type: ignore[no-redef]
    except ImportError:
        _toml = None  # type: ignore[assignment]

__all__ = ["ColumnInfo", "DatasetInfo", "FileInfo"]

_DTYPES = ("int", "float", "str", "date", "bool")


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a registered table: name, dtype applied by :func:`load`, description."""

    name: str
    dtype: str
    description: str


@dataclass(frozen=True)
class FileInfo:
    """One registered file.

    Attributes
    ----------
    name : str
        File name inside the dataset folder.
    sha256 : str
        Hash of the exact bytes evalint accepts.
    url : str
        Origin the file was made from ("" if made by this project).
    url_is_exact : bool
        True when the bytes at ``url`` hash to ``sha256`` (then ``url`` is a download source).
    conversion : str
        How the file was made from its origin.
    rows : int or None
        Data rows of a CSV file (header excluded).
    columns : tuple of ColumnInfo
    """

    name: str
    sha256: str
    url: str
    url_is_exact: bool
    conversion: str
    rows: int | None
    columns: tuple[ColumnInfo, ...]

    @property
    def is_table(self) -> bool:
        """True for CSV files that :func:`load` can read."""
        return self.name.lower().endswith(".csv")


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset: id, what it is, where it comes from, its files."""

    id: str
    description: str
    design: str
    tests: str
    licence: str
    citation: str
    folder: str
    files: tuple[FileInfo, ...]

    @property
    def default_file(self) -> FileInfo:
        """The main file (the first registered, usually ``data.csv``)."""
        return self.files[0]

    def file(self, name: str | None = None) -> FileInfo:
        """The :class:`FileInfo` called ``name`` (default: the main file)."""
        if name is None:
            return self.default_file
        for f in self.files:
            if f.name == name:
                return f
        raise SpecificationError(
            f"dataset {self.id!r} has no file {name!r}. Its files: "
            f"{format_examples([f.name for f in self.files], limit=20)}. Pass file=<one of these>."
        )

    def __str__(self) -> str:
        lines = [f"{self.id}: {self.description}", f"  design:   {self.design}",
                 f"  tests:    {self.tests}", f"  licence:  {self.licence}",
                 f"  citation: {self.citation}", "  files:"]
        for f in self.files:
            rows = f", {f.rows} rows" if f.rows is not None else ""
            lines.append(f"    {f.name}{rows}, sha256 {f.sha256[:12]}...")
            for c in f.columns:
                lines.append(f"      {c.name} ({c.dtype}): {c.description}")
        return "\n".join(lines)


# ---------------------------------------------------------------- registry
@lru_cache(maxsize=1)
def _registry() -> dict[str, DatasetInfo]:
    if _toml is None:  # pragma: no cover - Python 3.10 without tomli
        raise ImportError("Reading the dataset registry needs Python >= 3.11 or the 'tomli' package.")
    raw = _package_files("evalint.datasets").joinpath("registry.toml").read_bytes()
    table = _toml.loads(raw.decode("utf-8"))
    out: dict[str, DatasetInfo] = {}
    for ds_id, entry in table.items():
        file_infos = []
        for f in entry["files"]:
            cols = tuple(ColumnInfo(c["name"], c["dtype"], c.get("description", "")) for c in f.get("columns", ()))
            for c in cols:
                if c.dtype not in _DTYPES:  # pragma: no cover - guards edits of registry.toml
                    raise SpecificationError(f"registry.toml: {ds_id}/{f['name']} column {c.name!r} "
                                             f"has dtype {c.dtype!r}; use one of {_DTYPES}.")
            file_infos.append(FileInfo(
                name=f["name"], sha256=f["sha256"].lower(), url=f.get("url", ""),
                url_is_exact=bool(f.get("url_is_exact", False)), conversion=f.get("conversion", ""),
                rows=f.get("rows"), columns=cols,
            ))
        out[ds_id] = DatasetInfo(
            id=ds_id, description=entry["description"], design=entry.get("design", ""),
            tests=entry.get("tests", ""), licence=entry["licence"], citation=entry["citation"],
            folder=entry.get("folder", ds_id), files=tuple(file_infos),
        )
    return out
