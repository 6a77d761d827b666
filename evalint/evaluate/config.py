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

    # or, instead of path: [data.simulate] with simulate_nhs() arguments (seed, adoption, effects, ...)

    [evaluation]
    intervention = "ics_golive_2022"  # a preset, a date, or a table [evaluation.intervention] unit = date
    # treated = ["QHG"], outcomes = [...], designs = "auto" | ["its", "did", "synth"],
    # alpha = 0.05, seed = 0, fast = false, calendar = true, start = "2020-09", end = "2025-03"

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["EvaluateConfig", "load_config", "build_panel"]

_DATA_KEYS = {"path", "unit", "time", "outcomes", "outcome", "population", "weights", "covariates", "cohort",
              "treatment", "missing", "freq", "simulate", "cluster"}
_EVAL_KEYS = {"intervention", "treated", "outcomes", "designs", "alpha", "seed", "fast", "calendar", "start", "end",
              "options"}
_OUT_KEYS = {"dir", "formats", "name"}


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


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecificationError(
            f"{path}: unknown key(s) {unknown} in [{where}]; allowed: {', '.join(sorted(allowed))}."
        )


def load_config(path: str | Path) -> EvaluateConfig:
    """Read and check a configuration file.

    Raises
    ------
    SpecificationError
        Missing file, invalid TOML, unknown or missing keys, bad formats.
    """
    p = Path(path).resolve()
    if not p.is_file():
        raise SpecificationError(f"configuration file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"{p}: not valid TOML ({exc}). See `evalint evaluate --help` for an example.") from None
    _check_keys(raw, {"data", "evaluation", "output"}, "top level", p)
    data = dict(raw.get("data", {}))
    if not data:
        raise SpecificationError(f"{p}: the [data] table is missing; it needs path (or simulate), unit, time, outcomes.")
    _check_keys(data, _DATA_KEYS, "data", p)
    if "simulate" not in data:
        missing = [k for k in ("path", "time") if k not in data]
        if "outcomes" not in data and "outcome" not in data:
            missing.append("outcomes")
        if missing:
            raise SpecificationError(f"{p}: [data] needs {', '.join(missing)} (or a [data.simulate] table).")
        data["path"] = str((p.parent / data["path"]).resolve())
    ev = dict(raw.get("evaluation", {}))
    _check_keys(ev, _EVAL_KEYS, "evaluation", p)
    out = dict(raw.get("output", {}))
    _check_keys(out, _OUT_KEYS, "output", p)
    formats = out.get("formats", ["html", "md"])
    if isinstance(formats, str):
        formats = [formats]
    bad = [f for f in formats if f not in ("html", "md")]
    if bad or not formats:
        raise SpecificationError(f"{p}: [output] formats {formats!r}; use a list of 'html' and/or 'md'.")
    out_dir = (p.parent / out.get("dir", "evalint-report")).resolve()
    return EvaluateConfig(source=p, data=data, evaluation=ev, out_dir=out_dir, formats=tuple(formats),
                          name=str(out.get("name", "report")), raw=raw)


def build_panel(cfg: EvaluateConfig) -> Any:
    """The Panel the configuration describes (read from its file, or simulated)."""
    from evalint.data.panel import Panel

    d = cfg.data
    if "simulate" in d:
        from evalint.datasets import simulate_nhs

        return simulate_nhs(**dict(d["simulate"])).panel
    path = Path(d["path"])
    if not path.is_file():
        raise SpecificationError(f"{cfg.source}: [data] path {str(path)!r} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif path.suffix.lower() in (".csv", ".txt", ".gz"):
        frame = pd.read_csv(path)
    else:
        raise SpecificationError(f"{cfg.source}: [data] path {str(path)!r}: use a .csv or .parquet file.")
    outcomes = d.get("outcomes", d.get("outcome"))
    return Panel.from_frame(
        frame, unit=d.get("unit"), time=d["time"], outcome=outcomes, treatment=d.get("treatment"),
        cohort=d.get("cohort"), population=d.get("population"), weights=d.get("weights"),
        covariates=d.get("covariates", ()), freq=d.get("freq"), missing=d.get("missing", "error"),
        cluster=d.get("cluster"),
    )


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
            raise SpecificationError(f"{cfg.source}: [evaluation] calendar must be true or false.")
        kw["calendar"] = None if ev["calendar"] else False
    return kw
