"""How often does evaluate()'s fragility rule fire, with and without a co-timed confounder?

NHS-shaped DiD panels: 42 units nested in 7 regions (a regional random effect), 4 treated, monthly
2020-04 to 2024-03 (intervention 2023-04), annual seasonality, AR(1) noise (rho 0.3, sd 0.1),
unit levels and trends; a national fund from the intervention month whose effect is
GAMMA x the unit's allocation.

Scenario ``clean``: true effect -1.0, allocations spread alike in treated and comparison units.
Scenario ``confounded``: no effect (truth 0), treated units get the largest allocations
(mean 1.8 vs 1.0 in the comparison units), so the DiD is biased by about GAMMA x 0.8.

For each replication: ``evaluate(designs=["did"], fast=True, robustness={"checks": ["churn"]})``
with the fund in the calendar (its per-unit allocation attached), and record whether the main
DiD interval excludes 0 and whether the verdict is "fragile".

Usage: ``nice -n 10 python benchmarks/robustness_rule.py REPS OUT.csv``
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
KIND = OutcomeKind(name="emergency_admissions", label="Emergency admissions", measure="continuous",
                   unit_label="index points", default_its_model="gls_ar", reporting_scale="absolute")


def intensities(differential: bool) -> pd.Series:
    comp = np.linspace(0.0, 2.0, len(COMPARISON))
    treat = np.linspace(1.6, 2.0, len(TREATED)) if differential else np.linspace(0.2, 1.8, len(TREATED))
    return pd.Series(np.r_[treat, comp], index=TREATED + COMPARISON)


def panel(intensity: pd.Series, effect: float, rng: np.random.Generator) -> Panel:
    months = pd.period_range("2020-04", "2024-03", freq="M")
    t0 = pd.Period(T0, "M")
    region = {u: i % 7 for i, u in enumerate(UNITS)}
    reg_fx = rng.normal(0, 0.3, 7)
    reg_shock = rng.normal(0, 0.05, (7, len(months)))
    rows = []
    for u in UNITS:
        a, b = rng.normal(10, 1) + reg_fx[region[u]], rng.normal(0.02, 0.005)
        e = 0.0
        for k, m in enumerate(months):
            e = 0.3 * e + rng.normal(0, 0.1)
            post = m >= t0
            y = (a + b * k + 0.3 * np.sin(2 * np.pi * m.month / 12) + reg_shock[region[u], k] + e
                 + (effect if (post and u in TREATED) else 0.0) + (GAMMA * intensity[u] if post else 0.0))
            rows.append({"unit": u, "month": m.to_timestamp(), "emergency_admissions": y})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                            outcome_kind={"emergency_admissions": KIND})


def calendar(intensity: pd.Series) -> PolicyCalendar:
    ev = PolicyEvent(id="fund_x", name="National fund X", start="2023-04-01", outcomes="emergency_admissions",
                     direction="emergency_admissions:down", magnitude="large", source="simulated")
    table = IntensityTable(name="fund_x_alloc", values=intensity, unit="GBP per head", source="simulated")
    return PolicyCalendar([ev]).with_intensity("fund_x", table)


def one(scenario: str, rep: int) -> dict:
    rng = np.random.default_rng([20261205, rep, scenario == "confounded"])
    differential = scenario == "confounded"
    intensity = intensities(differential)
    p = panel(intensity, 0.0 if differential else -1.0, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(p, T0, treated=TREATED, designs=["did"], fast=True, calendar=calendar(intensity), seed=rep,
                      robustness={"checks": ["churn"]})
    res = ev.result("did", "emergency_admissions")
    t = ev.robustness()
    reg = t.loc[t["check"] == "churn_regressor"]
    return {"scenario": scenario, "rep": rep, "estimate": res.estimate, "conf_low": res.ci[0],
            "conf_high": res.ci[1], "significant": not (res.ci[0] <= 0 <= res.ci[1]),
            "regressor": float(reg["estimate"].iloc[0]) if len(reg) else np.nan,
            "fragile": ev.verdicts["emergency_admissions"].status == "fragile"}


def main(argv: list[str]) -> None:
    reps = int(argv[1]) if len(argv) > 1 else 500
    out = argv[2] if len(argv) > 2 else "benchmarks/robustness_rule.csv"
    rows = []
    t0 = time.time()
    for r in range(reps):
        for sc in ("clean", "confounded"):
            rows.append(one(sc, r))
        if r % 25 == 0:
            pd.DataFrame(rows).to_csv(out, index=False)
            print(f"{r + 1}/{reps} {time.time() - t0:.0f}s", flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(out, index=False)
    summ = df.groupby("scenario").agg(reps=("rep", "size"), significant=("significant", "mean"),
                                      fragile=("fragile", "mean"), mean_estimate=("estimate", "mean"),
                                      mean_regressor=("regressor", "mean"))
    print(summ.to_string())


if __name__ == "__main__":
    main(sys.argv)
