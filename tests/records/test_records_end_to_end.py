"""End to end: synthetic HES episodes -> DuckDB panel -> TWFE recovers the injected effect.

The generator keeps each emergency spell of the treated ICBs from the effect date with
probability 0.9, so the expected log emergency admissions fall by log(0.9) = -0.105 there and
nowhere else: the truth is known in closed form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint import twfe
from evalint.data.panel import Panel
from evalint.records import episodes_to_frame, simulate_episodes


def _did_panel(sim, rf) -> Panel:
    f = rf.frame.copy()
    f["log_emergency_admissions"] = np.log(f["emergency_admissions"])
    treated = f["icb"].isin(sim.treated_icbs) & (f["month"] >= pd.Timestamp(sim.effect_date))
    f["treated"] = treated.astype(int)
    return Panel.from_frame(f, unit="icb", time="month", outcome="log_emergency_admissions",
                            treatment="treated", freq="M")


def _fit(seed: int, path, n: int = 250_000):
    sim = simulate_episodes(n, seed=seed, path=path, months=24, effect_date="2020-01-01",
                            effect=-0.10)
    rf = episodes_to_frame(sim.path, engine="duckdb")
    return twfe(_did_panel(sim, rf))


def test_injected_effect_recovered(tmp_path):
    truth = np.log(0.9)
    res = _fit(7, tmp_path / "e2e")
    est, se = float(res.estimate), float(res.se)
    # one draw: the estimate lies within 3.5 standard errors of the truth, and the standard
    # error is small enough that a null effect would be rejected
    assert abs(est - truth) < 3.5 * se
    assert abs(truth) > 3 * se


@pytest.mark.slow
def test_injected_effect_coverage(tmp_path):
    """40 replications: 95% CIs cover log(0.9) in the binomial band, mean bias within MC error."""
    truth = np.log(0.9)
    ests, covered = [], []
    for rep in range(40):
        r = _fit(1000 + rep, tmp_path / f"r{rep}", n=150_000)
        ests.append(float(r.estimate))
        covered.append(r.ci[0] <= truth <= r.ci[1])
    ests = np.array(ests)
    assert abs(ests.mean() - truth) < 3 * ests.std(ddof=1) / np.sqrt(len(ests))
    assert np.mean(covered) >= 0.80  # 95% nominal; 40 draws: P(cover < 0.8) < 0.001
