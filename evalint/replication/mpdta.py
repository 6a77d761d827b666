"""Replication runner for the mpdta target (R ``did``'s published Callaway-Sant'Anna output).

``reference_data/mpdta/target.toml`` lists the published numbers; quantity names are
``<spec>.<published quantity>`` (estimate) and ``<spec>.se.<published quantity>``
(bootstrap SE), where ``<spec>`` is a table of the target's ``[specs]`` (estimation method,
covariates, comparison group). Published quantities: ``ATT(g,t)``, ``pretest_pvalue``,
``ATT_simple_overall``, ``ATT_dynamic_overall``, ``ATT_dynamic[e]``,
``ATT_dynamic_balance_e1_overall``/``[e]``, ``ATT_group_overall``/``[g]``,
``ATT_calendar_overall``/``[t]``.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from evalint.data.panel import Panel
from evalint.datasets import load
from evalint.errors import ReplicationError
from evalint.estimators.did.cs.aggregate import aggregate_att
from evalint.estimators.did.cs.estimator import CallawaySantAnna
from evalint.inference import MultiplierBootstrap

__all__ = ["run_mpdta", "mpdta_panel"]

_AGG = re.compile(r"^ATT_(simple|dynamic|group|calendar)(_balance_e(\d+))?(?:_overall|\[(-?\w+)\])$")


def mpdta_panel(frame: pd.DataFrame | None = None) -> Panel:
    """The mpdta Panel: unit countyreal, time year, outcome lemp, cohort first.treat (0 = never), covariate lpop."""
    if frame is None:
        frame = load("mpdta")
    return Panel.from_frame(frame, unit="countyreal", time="year", outcome="lemp", cohort="first.treat",
                            covariates=["lpop"])


def _row_value(res: Any, label: str, kind: str) -> tuple[float, float]:
    eff = res.effects
    if kind == "dynamic":
        m = eff["rel_time"].to_numpy(dtype=float) == float(label)
    else:
        m = eff["group" if kind == "group" else "time"].astype(str).to_numpy() == label
    if m.sum() != 1:
        raise ReplicationError(f"aggregation {kind} has no single row labelled {label!r}.")
    row = eff.loc[m].iloc[0]
    return float(row["estimate"]), float(row["std_error"])


def run_mpdta(target: dict) -> dict[str, float]:
    """Reproduce every quantity of the mpdta target; returns quantity -> value."""
    panel = mpdta_panel()
    specs = target.get("specs", {})
    reps = int(target.get("bootstrap_reps", 20000))
    seed = int(target.get("bootstrap_seed", 0))
    boot = MultiplierBootstrap(reps=reps, seed=seed)
    wanted: dict[str, set[str]] = {}
    for q in target.get("quantities", []):
        spec, _, rest = q["quantity"].partition(".")
        wanted.setdefault(spec, set()).add(rest)
    out: dict[str, float] = {}
    for spec, names in wanted.items():
        if spec not in specs:
            raise ReplicationError(f"mpdta target: quantity prefix {spec!r} has no [specs.{spec}] table.")
        opts = specs[spec]
        est = CallawaySantAnna(control=opts.get("control", "never_treated"),
                               estimation=opts.get("estimation", "dr"),
                               covariates=tuple(opts.get("covariates", ())), bootstrap_cells=True,
                               pretrend="wald")  # R did's att_gt pre-test
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = est.fit(panel, inference=boot, calendar=False)
        cells = fit.tables["att_gt"].set_index("term")
        aggs: dict[tuple[str, int | None], Any] = {}
        for short in names:
            name = f"{spec}.{short}"
            is_se = short.startswith("se.")
            q = short[3:] if is_se else short
            if q == "pretest_pvalue":
                p = next(d.p_value for d in fit.diagnostics if d.name == "pre_trend_wald")
                out[name] = float("nan") if p is None else float(p)
                continue
            if q.startswith("ATT("):
                if q not in cells.index:
                    raise ReplicationError(f"mpdta: no cell {q} in the fit.")
                out[name] = float(cells.loc[q, "std_error" if is_se else "estimate"])
                continue
            m = _AGG.match(q)
            if not m:
                raise ReplicationError(f"mpdta: quantity {q!r} is not understood by the runner.")
            kind, bal = m.group(1), (int(m.group(3)) if m.group(3) else None)
            key = (kind, bal)
            if key not in aggs:
                aggs[key] = fit if (kind == "simple" and bal is None) else aggregate_att(fit, kind, balance_e=bal)
            res = aggs[key]
            if m.group(4) is None:
                out[name] = float(res.se if is_se else res.estimate)
            else:
                e, s = _row_value(res, m.group(4), kind)
                out[name] = s if is_se else e
    return {k: float(v) if v is not None and np.isfinite(v) else float("nan") for k, v in out.items()}
