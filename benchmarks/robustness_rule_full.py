"""The whole fragility rule (churn re-estimates, leave-one-out, negative controls), simulated.

Same NHS-shaped DiD panels as ``robustness_rule.py`` (42 units nested in 7 regions with a regional
random effect and regional monthly shocks, 4 treated, monthly 2020-04 to 2024-03, intervention
2023-04, annual seasonality, AR(1) 0.3 noise, unit levels and trends; a national fund from the
intervention month whose effect is 0.8 x the unit's allocation, in the calendar with its per-unit
allocation). Every panel also carries a negative-control outcome ``nc``: same kind of series, which
the intervention does not move, declared with ``robustness={"negative_controls": ...}``.

Scenarios (truth = the effect on the outcome):

``clean``         true effect -1.0; fund alike in treated and comparison units; nothing else.
``clean_weak``    as clean with a true effect of -0.6 (near the noise: the rule's parts are most
                  likely to misfire when the estimate is only just significant).
``confounded``    no effect; fund allocations largest in the treated units (DiD bias ~0.64).
``influential``   no effect; one comparison unit (U04) drops by 8 from the intervention month (a
                  local shock not in the calendar): that unit alone drives the DiD to ~ +0.21.
``nc_confounded`` no effect; a local shock not in the calendar raises the treated units' outcome
                  and their negative-control outcome by 0.6 from the intervention month.

For each replication ``evaluate(designs=["did"], fast=True, robustness={"checks": ["churn",
"leave_one_out", "negative_control"], "negative_controls": {...}})``; recorded: whether the main DiD
interval excludes 0, whether the verdict is fragile, and which rule parts fired (``against`` rows
per check).

Usage: ``nice -n 10 python benchmarks/robustness_rule_full.py START N OUT.csv [scenario ...]``
(replications START..START+N-1; each replication has its own random stream);
``... table A.csv B.csv ...`` prints the table; ``... nc-size N OUT.csv`` the size of the DiD
negative-control test on clean panels, analytic (before) against placebo refits (now).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from evalint import Panel, evaluate
from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.calendar.intensity import IntensityTable
from evalint.outcomes import OutcomeKind

GAMMA = 0.8
T0 = "2023-04"
UNITS = [f"U{i:02d}" for i in range(42)]
TREATED = UNITS[:4]
COMPARISON = UNITS[4:]
OUTCOME = "emergency_admissions"
KIND = OutcomeKind(name=OUTCOME, label="Emergency admissions", measure="continuous",
                   unit_label="index points", default_its_model="gls_ar", reporting_scale="absolute")
NC_KIND = OutcomeKind(name="nc", label="Negative control", measure="continuous", unit_label="index points",
                      default_its_model="gls_ar", reporting_scale="absolute")
SCENARIOS = ("clean", "clean_weak", "confounded", "influential", "nc_confounded")
TRUTH = {"clean": -1.0, "clean_weak": -0.6, "confounded": 0.0, "influential": 0.0, "nc_confounded": 0.0}


def intensities(differential: bool) -> pd.Series:
    comp = np.linspace(0.0, 2.0, len(COMPARISON))
    treat = np.linspace(1.6, 2.0, len(TREATED)) if differential else np.linspace(0.2, 1.8, len(TREATED))
    return pd.Series(np.r_[treat, comp], index=TREATED + COMPARISON)


def _series(rng: np.random.Generator, n: int) -> np.ndarray:
    e = np.zeros(n)
    innov = rng.normal(0, 0.1, n)
    for k in range(n):
        e[k] = (0.3 * e[k - 1] if k else 0.0) + innov[k]
    return e


def panel(scenario: str, intensity: pd.Series, rng: np.random.Generator) -> Panel:
    months = pd.period_range("2020-04", "2024-03", freq="M")
    post = np.asarray(months >= pd.Period(T0, "M"))
    n = len(months)
    k = np.arange(n)
    season = 0.3 * np.sin(2 * np.pi * months.month.to_numpy() / 12)
    region = {u: i % 7 for i, u in enumerate(UNITS)}
    reg_fx = rng.normal(0, 0.3, 7)
    reg_shock = rng.normal(0, 0.05, (7, n))
    rows = []
    for u in UNITS:
        r = region[u]
        a, b = rng.normal(10, 1) + reg_fx[r], rng.normal(0.02, 0.005)
        base = a + b * k + season + reg_shock[r] + GAMMA * intensity[u] * post
        y = base + _series(rng, n) + (TRUTH[scenario] * post if u in TREATED else 0.0)
        nc = a + b * k + season + reg_shock[r] + _series(rng, n)
        if scenario == "influential" and u == "U04":
            y = y - 8.0 * post
        if scenario == "nc_confounded" and u in TREATED:
            y = y + 0.6 * post
            nc = nc + 0.6 * post
        rows.append(pd.DataFrame({"unit": u, "month": months.to_timestamp(), OUTCOME: y, "nc": nc}))
    return Panel.from_frame(pd.concat(rows, ignore_index=True), unit="unit", time="month",
                            outcome=[OUTCOME, "nc"], outcome_kind={OUTCOME: KIND, "nc": NC_KIND})


def calendar(intensity: pd.Series) -> PolicyCalendar:
    ev = PolicyEvent(id="fund_x", name="National fund X", start="2023-04-01", outcomes=OUTCOME,
                     direction=f"{OUTCOME}:down", magnitude="large", source="simulated")
    table = IntensityTable(name="fund_x_alloc", values=intensity, unit="GBP per head", source="simulated")
    return PolicyCalendar([ev]).with_intensity("fund_x", table)


def one(scenario: str, rep: int) -> dict:
    rng = np.random.default_rng([20261205, rep, SCENARIOS.index(scenario), 7])
    intensity = intensities(scenario == "confounded")
    p = panel(scenario, intensity, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(p, T0, outcomes=[OUTCOME], treated=TREATED, designs=["did"], fast=True,
                      calendar=calendar(intensity), seed=rep,
                      robustness={"checks": ["churn", "leave_one_out", "negative_control"],
                                  "negative_controls": {OUTCOME: ["nc"]}})
    res = ev.result("did", OUTCOME)
    t = ev.robustness()
    t = t.loc[t["outcome"] == OUTCOME]
    fired = {c: bool(t.loc[t["check"].str.startswith(c), "against"].any())
             for c in ("churn", "leave_one_out", "negative_control")}
    loo = t.loc[t["check"] == "leave_one_out"]
    ncr = t.loc[t["check"] == "negative_control"]
    return {"scenario": scenario, "rep": rep, "truth": TRUTH[scenario], "estimate": res.estimate,
            "conf_low": res.ci[0], "conf_high": res.ci[1], "significant": not (res.ci[0] <= 0 <= res.ci[1]),
            "fragile": ev.verdicts[OUTCOME].status == "fragile",
            "fired_churn": fired["churn"], "fired_loo": fired["leave_one_out"], "fired_nc": fired["negative_control"],
            "loo_estimate": float(loo["estimate"].iloc[0]) if len(loo) else np.nan,
            "loo_dropped": str(loo["variant"].iloc[0]) if len(loo) else "",
            "nc_p": float(ncr["p_value"].iloc[0]) if len(ncr) else np.nan}


def table(df: pd.DataFrame) -> str:
    """Markdown table: per scenario, significance, fragile rate (Wilson-free normal band) and parts."""
    def band(x: pd.Series) -> str:
        p, n = float(x.mean()), len(x)
        if p == 0:
            return f"0.000 [0, {3 / n:.3f}] (rule of three)"
        h = 1.96 * np.sqrt(p * (1 - p) / n)
        return f"{p:.3f} [{max(p - h, 0):.3f}, {min(p + h, 1):.3f}]"

    lines = ["| scenario | truth | reps | main interval excludes 0 | fragile (95% band) | fragile among significant | "
             "fired: churn | fired: leave-one-out | fired: negative control |", "|---|---|---|---|---|---|---|---|---|"]
    for sc in SCENARIOS:
        g = df.loc[df["scenario"] == sc]
        if g.empty:
            continue
        s = g.loc[g["significant"]]
        lines.append(f"| {sc} | {g['truth'].iloc[0]:g} | {len(g)} | "
                     f"{g['significant'].mean():.3f} | {band(g['fragile'])} | "
                     f"{s['fragile'].mean() if len(s) else float('nan'):.3f} ({int(s['fragile'].sum())} of {len(s)}) | "
                     f"{g['fired_churn'].mean():.3f} | {g['fired_loo'].mean():.3f} | {g['fired_nc'].mean():.3f} |")
    return "\n".join(lines)


def nc_size(reps: int, out: str, start: int = 0) -> None:
    """Size of the DiD negative-control test on ``clean`` panels' ``nc`` outcome (no effect on it):
    the refit's analytic p-value (before) and the placebo p-value (12 refits, the fast setting)."""
    from scipy.stats import t as t_dist

    from evalint.estimators.did.cs.estimator import callaway_santanna
    from evalint.evaluate.churn_sensitivity import FAST_PLACEBO, _placebo_contrast_variance
    from evalint.inference.specs import Analytic

    rows = []
    for rep in range(start, start + reps):
        rng = np.random.default_rng([99, rep])
        d = panel("clean", intensities(False), rng).data.copy()
        d["cohort"] = np.where(d["unit"].isin(TREATED), T0, None)
        q = Panel.from_frame(d, unit="unit", time="month", outcome="nc", cohort="cohort")

        def fit(x: Panel) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return callaway_santanna(x, outcome="nc", inference=Analytic(), calendar=False,
                                         control="never_treated")
        res = fit(q)
        s2, n_pl = _placebo_contrast_variance(fit, q, q.data, COMPARISON, pd.Period(T0, "M"), max_placebo=FAST_PLACEBO)
        se = np.sqrt(s2 * (1 / len(TREATED) + 1 / len(COMPARISON)))
        rows.append({"rep": rep, "estimate": res.estimate, "p_analytic": res.p_value,
                     "p_placebo": float(2 * t_dist.sf(abs(res.estimate) / se, n_pl - 1))})
        pd.DataFrame(rows).to_csv(out, index=False)
    df = pd.DataFrame(rows)
    print(f"{len(df)} panels: analytic rejects {(df['p_analytic'] < 0.05).mean():.3f}, "
          f"placebo rejects {(df['p_placebo'] < 0.05).mean():.3f} at 5%")


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1] == "nc-size":
        nc_size(int(argv[2]), argv[3], int(argv[4]) if len(argv) > 4 else 0)
        return
    if len(argv) > 1 and argv[1] == "table":
        print(table(pd.concat([pd.read_csv(f) for f in argv[2:]], ignore_index=True)))
        return
    start, reps = int(argv[1]), int(argv[2])
    out = argv[3]
    scenarios = argv[4:] or list(SCENARIOS)
    rows = []
    t0 = time.time()
    for r in range(start, start + reps):
        for sc in scenarios:
            rows.append(one(sc, r))
        pd.DataFrame(rows).to_csv(out, index=False)  # every replication: a stopped run keeps its rows
        print(f"{r - start + 1}/{reps} {time.time() - t0:.0f}s", flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(out, index=False)
    print(table(df))


if __name__ == "__main__":
    main(sys.argv)
