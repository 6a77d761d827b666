"""``[data] source = "<name>"`` in an ``evalint evaluate`` configuration: a registered reader.

Instead of ``path``, the ``[data]`` table may name a real-data source of
:func:`evalint.io.list_sources`, e.g.::

    [data]
    source = "healthyr_icb_criteria_to_reside"   # read, checked (sha256), defects handled
    denominator = "all"                          # ONS population (evalint.geography)
    # outcomes, unit, time default to the source's headline measure, "org_code", "period"

Daily sources are made monthly (stocks: mean over the days reported; flows: sum over complete
months), so every source gives organisation x month rows; months a reader dropped (copied
months) become missing cells (``missing`` defaults to ``"drop"`` here, so they are reported as
missing cells of the Panel). ``geography = "icb2022"`` (trust
sources) and ``denominator`` then work as for a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["SOURCE_OUTCOMES", "build_source_panel", "source_frame"]

#: source -> (headline outcome, daily stocks, daily flows); stocks/flows empty for monthly sources.
SOURCE_OUTCOMES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "healthyr_icb_criteria_to_reside": ("do_not_meet_criteria_to_reside", ("do_not_meet_criteria_to_reside",), ()),
    "healthyr_trust_criteria_to_reside": ("do_not_meet_criteria_to_reside", ("do_not_meet_criteria_to_reside",), ()),
    "healthyr_icb_discharged": ("discharged_total", (), ("discharged_total",)),
    "healthyr_trust_discharged": ("discharged_total", (), ("discharged_total",)),
    "healthyr_icb_ae": ("total_emergency_admissions", (), ()),
    "healthyr_trust_ae": ("total_emergency_admissions", (), ()),
    "healthyr_trust_beds": ("general_acute_beds_occupied", (), ()),
    "ae_england_timeseries": ("emergency_admissions_total", (), ()),
    "discharge_sitrep_webfiles": ("nctr_patients", (), ()),
    "discharge_sitrep_timeseries": ("nctr_patients", (), ()),
    "dtoc_england": ("delayed_days", (), ()),
    "kh03_beds": ("beds_occupied", (), ()),
    "ae_provider_workbooks": ("emergency_admissions_total", (), ()),
    "ae_icb_workbook": ("emergency_admissions_total", (), ()),
    "uec_beds_sitrep": ("ga_beds_occupied", (), ()),
}


def source_frame(config: Path | str, data: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Organisation x month rows of ``data["source"]`` and the ``[data]`` table with the
    defaults filled in (``unit``, ``time``, ``outcomes``).

    Raises
    ------
    evalint.errors.SpecificationError
        Unknown or non-panel source (ONS, BCF), or ``path`` given as well.
    """
    import evalint.io as eio

    name = data["source"]
    if "path" in data:
        raise SpecificationError(f"{config}: [data] give path or source, not both.")
    if name not in SOURCE_OUTCOMES:
        known = sorted(SOURCE_OUTCOMES)
        extra = (" (a cross-section or population table, not an outcome panel)"
                 if name in set(eio.list_sources()["name"]) else "")
        raise SpecificationError(f"{config}: [data] source = {name!r}{extra}; panel sources: {', '.join(known)}.")
    outcome, stocks, flows = SOURCE_OUTCOMES[name]
    if name == "discharge_sitrep_webfiles":
        frame = eio.aggregate_to_month(eio.read_source(name, level="icb"))
        frame = frame.rename(columns={"level": "org_level"})
    elif name == "discharge_sitrep_timeseries":
        frame = eio.aggregate_to_month(eio.read_source(name))
    elif stocks or flows:
        frame = eio.to_monthly(eio.read_source(name), stocks=stocks, flows=flows)
    else:
        frame = eio.read_source(name)
    # months a reader dropped (copied months) come back as NaN rows: missing cells, not gaps
    months = pd.date_range(frame["period"].min(), frame["period"].max(), freq="MS")
    grid = pd.MultiIndex.from_product([sorted(frame["org_code"].unique()), months], names=["org_code", "period"])
    frame = frame.set_index(["org_code", "period"]).reindex(grid).reset_index()
    d = dict(data)
    d.pop("source")
    d.setdefault("time", "period")
    d.setdefault("unit", "org_code" if frame["org_code"].nunique() > 1 else None)
    if "outcomes" not in d and "outcome" not in d:
        d["outcomes"] = [outcome]
    if d["unit"] is None:
        frame = frame.drop(columns=["org_code"])
    frame.attrs = {}
    return frame, d


def build_source_panel(cfg: Any, apply_geography: Callable[..., tuple[pd.DataFrame, dict[str, Any]]]) -> Any:
    """The Panel of a configuration whose ``[data]`` names a source (see :func:`source_frame`);
    ``apply_geography`` is the configuration's geography/denominator step."""
    from evalint.data.panel import Panel

    frame, d = source_frame(cfg.source, cfg.data)
    outcomes = d.get("outcomes", d.get("outcome"))
    frame, d = apply_geography(cfg, frame, d, outcomes)
    return Panel.from_frame(
        frame, unit=d.get("unit"), time=d["time"], outcome=outcomes, treatment=d.get("treatment"),
        cohort=d.get("cohort"), population=d.get("population"), weights=d.get("weights"),
        covariates=d.get("covariates", ()), freq=d.get("freq"), missing=d.get("missing", "drop"),
    )
