"""The TOML configuration of ``evalint evaluate CONFIG.toml``.

Example::

    [data]
    path = "icb_monthly.csv"          # CSV or Parquet, relative to this file
    unit = "icb_code"
    time = "month"
    outcomes = ["emergency_admissions", "length_of_stay", "delayed_discharges"]
    population = "population"         # optional: rates per 100,000
    weights = "spells"                # optional: bed-days for length of stay
    # covariates = [], cohort = "...", treatment = "...", missing = "error" | "drop"
    # cluster = "icb_code"            # optional: units nested in clusters (e.g. practices in ICBs);
    #                                 # DiD inference is clustered by it
    # time_kind = "ordinal"           # optional: integer period numbers (survey waves 0/1, 1..T)
    #                                 # rather than dates; intervention = 3 is then a period number

    # or, instead of path: [data.simulate] with simulate_nhs() arguments (seed, adoption, effects, ...)
    # or source = "healthyr_icb_criteria_to_reside" (a real-data reader, evalint.io.list_sources())
    # trust rows onto ICBs (evalint.geography; methods/geography.md):
    # geography = "icb2022"           # unit holds trust codes: successions, then trust_to_icb
    # attribution = "activity"        # "activity" | "catchment" | "main" | "host"
    # splits = { RW6 = "RM3" }        # successor of a split predecessor trust
    # denominator = "all"             # ONS population column (age "all" | "18+" | "65+" | "75+")

    [evaluation]
    intervention = "ics_golive_2022"  # a preset, a date, or a table [evaluation.intervention] unit = date
    # treated = ["QHG"] (units of a single date; codes as text, "004"), outcomes = [...],
    # designs = "auto" | ["its", "did", "synth"] (registered designs),
    # alpha = 0.05, seed = 0, fast = false, calendar = true, start = "2020-09", end = "2025-03"
    # [evaluation.options.its] harmonics = 1 ... (per-design estimator options, checked before any fit)

    [output]
    dir = "evalint-report"            # relative to this file
    formats = ["html", "md"]
    name = "report"
"""

from __future__ import annotations

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
    import tomli as tomllib  # type: ignore[no-redef]
import datetime as _dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import (
    ConfigError,
    DataError,
    EmptyDataError,
    NonNumericError,
    SpecificationError,
    format_examples,
    plain,
)
from evalint.evaluate.registry import design_names

__all__ = ["EvaluateConfig", "load_config", "build_panel", "read_table", "read_toml", "SCHEMA"]

_DATA_KEYS = {"path", "unit", "time", "outcomes", "outcome", "population", "weights", "covariates", "cohort",
              "treatment", "missing", "freq", "simulate", "geography", "attribution", "splits", "denominator",
              "source", "cluster", "time_kind"}
_EVAL_KEYS = {"intervention", "treated", "outcomes", "designs", "alpha", "seed", "fast", "calendar", "start", "end",
              "options"}
_OUT_KEYS = {"dir", "formats", "name", "overwrite"}

# Each key's one type. Names: "string", "boolean", "integer", "number", "table", "date",
# "list of strings". A key listed in the _*_KEYS sets but not here is not type-checked.
_STR, _BOOL, _INT, _NUM, _TABLE = "string", "boolean", "integer", "number", "table"
_LIST = "list of strings"
_DATE = "date"
_UNITS = "list of unit codes (strings or integers)"
SCHEMA: dict[str, dict[str, tuple[str, ...]]] = {
    "data": {"path": (_STR,), "unit": (_STR,), "time": (_STR,), "outcomes": (_STR, _LIST), "outcome": (_STR, _LIST),
             "population": (_STR,), "weights": (_STR,), "covariates": (_STR, _LIST), "cohort": (_STR,),
             "treatment": (_STR,), "missing": (_STR,), "freq": (_STR,), "simulate": (_TABLE,),
             "geography": (_STR,), "attribution": (_STR,), "splits": (_TABLE,), "denominator": (_STR,),
             "source": (_STR,), "cluster": (_STR,), "time_kind": (_STR,)},
    "evaluation": {"intervention": (_STR, _DATE, _TABLE, _INT), "treated": (_STR, _INT, _UNITS),
                   "outcomes": (_STR, _LIST), "designs": (_STR, _LIST), "alpha": (_NUM,), "seed": (_INT,),
                   "fast": (_BOOL,), "calendar": (_BOOL,), "start": (_STR, _DATE), "end": (_STR, _DATE),
                   "options": (_TABLE,)},
    "output": {"dir": (_STR,), "formats": (_STR, _LIST), "name": (_STR,), "overwrite": (_BOOL,)},
}
_CHOICES = {("data", "missing"): ("error", "drop")}


def _choices(section: str, key: str) -> tuple[str, ...] | None:
    """The values a key may take (``designs``: ``"auto"`` and the registered design names)."""
    if (section, key) == ("evaluation", "designs"):
        return ("auto", *design_names())
    return _CHOICES.get((section, key))


def _is(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == _TABLE:
        return isinstance(value, dict)
    if kind == _DATE:
        return isinstance(value, (_dt.date, _dt.datetime))
    if kind == _LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == _UNITS:
        return isinstance(value, list) and all(isinstance(v, str) or _is(v, _INT) for v in value)
    raise AssertionError(kind)  # pragma: no cover


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_repr(v) for v in value[:5]) + (", ..." if len(value) > 5 else "") + "]"
    return str(value)


def _check_types(table: Mapping[str, Any], section: str, path: Path) -> None:
    schema = SCHEMA.get(section, {})
    for key, value in table.items():
        kinds = schema.get(key)
        if kinds is None:
            continue
        if not any(_is(value, k) for k in kinds):
            want = " or ".join(kinds)
            hint = ""
            if _BOOL in kinds and isinstance(value, str):
                hint = f" Write {key} = true or {key} = false, without quotes."
            elif (_INT in kinds or _NUM in kinds) and isinstance(value, str):
                hint = f" Write the number without quotes, e.g. {key} = {value.strip() or 0}."
            elif isinstance(value, list) and _LIST in kinds:
                hint = " Every item must be a quoted string."
            elif isinstance(value, list) and _UNITS in kinds:
                hint = " Every item must be a unit code: a quoted string (\"004\") or an integer."
            article = "an" if want[0] in "aeiou" else "a"
            must = "true or false (a boolean)" if kinds == (_BOOL,) else f"{article} {want}"
            raise ConfigError(
                f"{path}: [{section}] {key} must be {must}; got {_toml_repr(value)} "
                f"({type(value).__name__}).{hint}")
        choices = _choices(section, key)
        if choices is not None:
            items = value if isinstance(value, list) else [value]
            bad = [v for v in items if v not in choices]
            if bad:
                raise ConfigError(f"{path}: [{section}] {key} = {_toml_repr(value)}: {_toml_repr(bad[0])} is not "
                                  f"one of {', '.join(repr(c) for c in choices)}.")
    if section == "evaluation":
        if "seed" in table and table["seed"] < 0:
            raise ConfigError(f"{path}: [evaluation] seed must be a non-negative integer; got {table['seed']}.")
        if "alpha" in table and not 0 < table["alpha"] < 0.5:
            raise ConfigError(f"{path}: [evaluation] alpha must be a number between 0 and 0.5 "
                              f"(e.g. 0.05); got {table['alpha']}.")
        inter = table.get("intervention")
        if isinstance(inter, dict):
            bad_dates = [k for k, v in inter.items() if not (_is(v, _STR) or _is(v, _DATE) or _is(v, _INT))]
            if bad_dates:
                raise ConfigError(f"{path}: [evaluation.intervention] maps a unit to its first treated date; "
                                  f"{bad_dates[0]} = {_toml_repr(inter[bad_dates[0]])} is not a date or "
                                  "string such as \"2023-04\".")


@dataclass(frozen=True)
class EvaluateConfig:
    """A parsed configuration; paths are absolute."""

    source: Path
    data: Mapping[str, Any]
    evaluation: Mapping[str, Any]
    out_dir: Path
    formats: tuple[str, ...] = ("html", "md")
    name: str = "report"
    raw: Mapping[str, Any] = field(default_factory=dict)
    overwrite: bool = False


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
        what = "section" if where == "top level" else "key"
        place = "at the top level" if where == "top level" else f"in [{where}]"
        mean = f" Did you mean {close[0]!r}?" if close else ""
        others = f" (and {', '.join(repr(u) for u in unknown[1:])})" if len(unknown) > 1 else ""
        raise ConfigError(
            f"{path}: unknown {what} {key!r}{others} {place}.{mean} Allowed: {', '.join(sorted(allowed))}."
        )


def read_toml(path: str | Path, command: str) -> tuple[Path, dict[str, Any]]:
    """The resolved path and the TOML table of a configuration file, as every command reads one.

    UTF-8 text (a byte-order mark, as some Windows editors write, is dropped). ``command`` names
    the command whose ``--help`` shows an example.

    Raises
    ------
    ConfigError
        A folder, not a regular file, missing or unreadable, not UTF-8 (byte and line), invalid TOML.
    """
    p = Path(path).resolve()
    if p.is_dir():
        raise ConfigError(f"configuration file {str(path)!r} is a folder; give the .toml file inside it.")
    if p.exists() and not p.is_file():
        raise ConfigError(f"configuration file {str(path)!r} is not a regular file; give a .toml file.")
    if not p.is_file():
        raise ConfigError(f"configuration file {str(path)!r} does not exist.")
    try:
        raw_bytes = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"configuration file {str(path)!r} cannot be read ({exc.strerror}).") from None
    try:
        text = raw_bytes.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is dropped
    except UnicodeDecodeError as exc:
        line = raw_bytes[:exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}: not UTF-8 text (byte 0x{raw_bytes[exc.start]:02x} on line {line}). TOML files must be "
            "UTF-8: save the file as UTF-8 in your editor."
        ) from None
    try:
        return p, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}). See `evalint {command} --help` for an example.") from None


def load_config(path: str | Path) -> EvaluateConfig:
    """Read and check a configuration file.

    Every key has one type (:data:`SCHEMA`): ``fast = "false"`` is an error, not true.

    Raises
    ------
    ConfigError
        Missing or unreadable file, not UTF-8, invalid TOML, unknown keys (with a
        did-you-mean), keys of the wrong type, missing keys, bad formats.
    """
    p, raw = read_toml(path, "evaluate")
    _check_keys(raw, {"data", "evaluation", "output"}, "top level", p)
    for section in ("data", "evaluation", "output"):
        if section in raw and not isinstance(raw[section], dict):
            raise ConfigError(f"{p}: {section} must be a table ([{section}]); got {_toml_repr(raw[section])}.")
    data = dict(raw.get("data", {}))
    if not data:
        raise ConfigError(f"{p}: the [data] table is missing; it needs path (or simulate), unit, time, outcomes.")
    _check_keys(data, _DATA_KEYS, "data", p)
    _check_types(data, "data", p)
    if "outcomes" in data and "outcome" in data:
        raise ConfigError(f"{p}: [data] gives both outcomes and outcome; keep one (outcomes = [...] lists several), "
                          "otherwise one of them would be ignored.")
    if "simulate" in data:
        other = [k for k in data if k != "simulate"]
        if other:
            raise ConfigError(
                f"{p}: [data] {', '.join(other)} cannot be used with [data.simulate]: the simulated panel has its "
                "own units, periods, outcomes and population, so these keys would be ignored. Remove them (or "
                "remove [data.simulate] to read a file); choose the outcomes to evaluate with [evaluation] "
                "outcomes.")
    if "simulate" not in data and "source" not in data:
        missing = [k for k in ("path", "time") if k not in data]
        if "outcomes" not in data and "outcome" not in data:
            missing.append("outcomes")
        if missing:
            raise ConfigError(f"{p}: [data] needs {', '.join(missing)} (or a [data.simulate] table).")
        data["path"] = str((p.parent / Path(data["path"]).expanduser()).resolve())
    ev = dict(raw.get("evaluation", {}))
    _check_keys(ev, _EVAL_KEYS, "evaluation", p)
    _check_types(ev, "evaluation", p)
    out = dict(raw.get("output", {}))
    _check_keys(out, _OUT_KEYS, "output", p)
    _check_types(out, "output", p)
    formats = out.get("formats", ["html", "md"])
    if isinstance(formats, str):
        formats = [formats]
    bad = [f for f in formats if f not in ("html", "md")]
    if bad or not formats:
        raise ConfigError(f"{p}: [output] formats {formats!r}; use a list of 'html' and/or 'md'.")
    name = str(out.get("name", "report"))
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigError(f"{p}: [output] name {name!r} must be a plain file name without folders, e.g. \"report\".")
    out_dir = (p.parent / Path(out.get("dir", "evalint-report")).expanduser()).resolve()  # "~/x": home
    return EvaluateConfig(source=p, data=data, evaluation=ev, out_dir=out_dir, formats=tuple(formats),
                          name=name, raw=raw, overwrite=bool(out.get("overwrite", False)))


def read_table(path: str | Path, source: Any = None, unit: str | None = None) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed: comma, semicolon, tab or pipe) or Parquet file.

    Parameters
    ----------
    path : str or Path
    source : object, optional
        The configuration file, named in messages.
    unit : str, optional
        The unit column of a CSV: its codes are read as text when any is written with a leading
        zero (``004`` stays ``"004"``, not the number 4); codes that are plain numbers without
        leading zeros are read as numbers, as before.

    Raises
    ------
    DataError
        The path is a folder or missing, the file is empty, it does not parse, or its header
        names a column twice.
    """
    path = Path(path)
    where = f"{source}: [data] path" if source is not None else "data path"
    if path.is_dir():
        raise DataError(f"{where} {str(path)!r} is a folder, not a file; give the .csv or .parquet file inside it.")
    if not path.is_file():
        raise DataError(f"{where} {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except (ImportError, ValueError, OSError) as exc:
            raise DataError(f"{where} {str(path)!r} cannot be read as Parquet ({exc}).") from None
    if suffix not in (".csv", ".txt", ".gz", ".tsv"):
        raise DataError(f"{where} {str(path)!r}: use a .csv or .parquet file (got {suffix or 'no suffix'!r}).")
    if path.stat().st_size == 0:
        raise EmptyDataError(f"{where} {str(path)!r} is empty (0 bytes); it needs a header row and data rows.")
    import gzip

    opener = gzip.open if suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:  # type: ignore[operator]
            sample = fh.read(64 * 1024)
    except OSError as exc:
        raise DataError(f"{where} {str(path)!r} cannot be read ({exc}).") from None
    if not sample.strip():
        raise EmptyDataError(f"{where} {str(path)!r} holds no data (only blank lines).")
    header = sample.splitlines()[0]
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    sep = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    if counts[","] and counts[sep] == counts[","]:
        sep = ","
    _check_header(header, sep, where, path)
    try:
        frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig",  # Excel's UTF-8 files start with a BOM
                            dtype={unit: str} if unit and unit in _header_names(header, sep) else None)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"{where} {str(path)!r} has no columns (empty file).") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"{where} {str(path)!r} does not parse as a CSV with delimiter {sep!r} ({str(exc).splitlines()[0]}). "
            "Save it as comma-separated UTF-8 text."
        ) from None
    if frame.shape[0] == 0:
        raise EmptyDataError(f"{where} {str(path)!r} has a header ({', '.join(map(str, frame.columns[:10]))}) "
                             "but no data rows.")
    if unit and unit in frame.columns:
        frame[unit] = _unit_codes(frame[unit])
    return frame


def _header_names(header: str, sep: str) -> list[str]:
    """The column names of a CSV header line as written (quotes removed, nothing renamed)."""
    import csv

    return next(csv.reader([header], delimiter=sep), [])


def _check_header(header: str, sep: str, where: str, path: Path) -> None:
    """Refuse a header that names a column twice (pandas would rename the copy ``name.1`` and the
    first would be used silently)."""
    names = _header_names(header, sep)  # as written: 'adm' and 'adm ' are two columns to pandas too
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            seen.setdefault(n, []).append(i)
    dup = [(n, pos) for n, pos in seen.items() if len(pos) > 1]
    if dup:
        name, pos = dup[0]
        more = f" (and {', '.join(repr(n) for n, _ in dup[1:])})" if len(dup) > 1 else ""
        raise DataError(
            f"{where} {str(path)!r}: column name {name!r} appears {len(pos)} times in the header (positions "
            f"{', '.join(map(str, pos))}){more}; only one column can hold it. Rename or drop the duplicates "
            "first.")


def _unit_codes(codes: pd.Series) -> pd.Series:
    """Unit codes read as text: kept as text when any has a leading zero (``004``), else as the
    numbers pandas reads (so numeric codes keep their type and order)."""
    text = codes.dropna().astype(str).str.strip()
    if text.str.match(r"[+-]?0\d").any():
        return codes
    try:
        return pd.to_numeric(codes)
    except (ValueError, TypeError):
        return codes


def build_panel(cfg: EvaluateConfig) -> Any:
    """The Panel the configuration describes (read from its file, or simulated)."""
    from evalint.data.panel import Panel

    d = cfg.data
    if "simulate" in d:
        from evalint.datasets import simulate_nhs

        import inspect

        allowed = sorted(inspect.signature(simulate_nhs).parameters)
        _check_keys(d["simulate"], set(allowed), "data.simulate", cfg.source)
        return simulate_nhs(**dict(d["simulate"])).panel
    if "source" in d:  # a registered real-data source: evalint/evaluate/config_sources.py
        from evalint.evaluate.config_sources import build_source_panel

        return build_source_panel(cfg, _apply_geography)
    frame = read_table(d["path"], cfg.source, unit=d.get("unit"))
    outcomes = d.get("outcomes", d.get("outcome"))
    frame, d = _apply_geography(cfg, frame, d, outcomes)
    time = d["time"]
    if not d.get("unit") and time in frame.columns and frame[time].duplicated().any():
        counts = frame[time].value_counts()
        raise ConfigError(
            f"{cfg.source}: [data] has no unit key, so the data are read as one series, but the time column "
            f"{time!r} repeats (up to {int(counts.max())} rows for one period, e.g. {plain(counts.index[0])}). "
            "Add unit = the column holding the unit codes (the data's columns: "
            f"{', '.join(map(str, frame.columns[:12]))}); if they hold one series, drop the repeated rows.")
    return Panel.from_frame(
        frame, unit=d.get("unit"), time=d["time"], outcome=outcomes, treatment=d.get("treatment"),
        cohort=d.get("cohort"), population=d.get("population"), weights=d.get("weights"),
        covariates=d.get("covariates", ()), freq=d.get("freq"), missing=d.get("missing", "error"),
        cluster=d.get("cluster"), time_kind=d.get("time_kind"),
    )


def _apply_geography(cfg: EvaluateConfig, frame: pd.DataFrame, d: Mapping[str, Any],
                     outcomes: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``geography`` / ``attribution`` / ``splits`` / ``denominator`` of ``[data]``: trust rows to
    the 2022 ICBs and an ONS population column (:mod:`evalint.geography`)."""
    d = dict(d)
    geography = d.get("geography")
    if geography is None and any(k in d for k in ("attribution", "splits")):
        raise SpecificationError(f"{cfg.source}: [data] attribution/splits need geography = \"icb2022\".")
    if geography is not None:
        from evalint import geography as geo

        if geography != "icb2022":
            raise SpecificationError(
                f"{cfg.source}: [data] geography = {geography!r}; the one supported is \"icb2022\" "
                "(trust rows onto the 42 ICBs of July 2022).")
        if not d.get("unit"):
            raise SpecificationError(f"{cfg.source}: [data] geography needs unit = the trust code column.")
        values = [outcomes] if isinstance(outcomes, str) else list(outcomes)
        for col in values:   # harmonising sums numeric columns only: text would vanish unnamed
            if col in frame.columns and not pd.api.types.is_numeric_dtype(frame[col]):
                numeric = pd.to_numeric(frame[col], errors="coerce")
                bad = numeric.isna() & frame[col].notna()
                if bad.any():
                    raise NonNumericError(
                        f"{cfg.source}: [data] outcome column {col!r} holds non-numeric values "
                        f"{format_examples(frame.loc[bad, col].astype(str).unique())} (rows "
                        f"{format_examples(frame.index[bad.to_numpy()].tolist())}); trust rows can "
                        "only be summed onto ICBs as numbers. Make suppressed cells ('*', '-') "
                        "empty, or correct them in the file.")
                frame = frame.assign(**{col: numeric})
        frame = geo.harmonise_trust_codes(frame, d["unit"], time=d["time"], splits=d.get("splits"))
        agg = geo.trust_to_icb(frame, values, trust=d["unit"], time=d["time"],
                               weights=d.get("attribution", "activity"))
        frame, d["unit"] = agg.frame, "icb22_code"
    denominator = d.get("denominator")
    if denominator is not None:
        from evalint import geography as geo

        if d.get("population"):
            raise SpecificationError(f"{cfg.source}: [data] give population or denominator, not both.")
        frame = geo.add_population(frame, unit=d.get("unit") or "icb22_code", time=d["time"],
                                   age=str(denominator))
        d["population"] = "population"
    return frame, d


def evaluate_kwargs(cfg: EvaluateConfig) -> dict[str, Any]:
    """Keyword arguments for :func:`evalint.evaluate` from ``[evaluation]``."""
    ev = dict(cfg.evaluation)
    kw: dict[str, Any] = {}
    if "intervention" in ev:
        kw["intervention"] = ev["intervention"]
    for k in ("treated", "outcomes", "designs", "alpha", "seed", "fast", "start", "end", "options"):
        if k in ev:
            kw[k] = ev[k]
    if "calendar" in ev:
        if not isinstance(ev["calendar"], bool):
            raise ConfigError(f"{cfg.source}: [evaluation] calendar must be true or false.")
        kw["calendar"] = None if ev["calendar"] else False
    return kw
