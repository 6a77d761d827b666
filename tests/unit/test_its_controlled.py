"""Controlled ITS: the differential coefficients equal the segmented regression of the difference series
(closed-form identity of the fully interacted stacked OLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import SpecificationError
from evalint.estimators.its import ControlledITS, controlled_its
from evalint.inference.specs import Analytic, NeweyWest


def _panel(seed=0, eff=-4.0, n=60, start=36, cohort=False):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    common = 50 + 0.2 * t + rng.normal(0, 1, n)
    rows = []
    for unit, e in (("north", eff), ("south", 0.0)):
        y = common + (3 if unit == "north" else 0) + e * (t >= start) + rng.normal(0, 1, n)
        d = pd.DataFrame({"area": unit, "month": pd.period_range("2018-01", periods=n, freq="M"), "y": y,
                          "other": common + rng.normal(0, 1, n)})
        if cohort:
            d["cohort"] = "2021-01" if unit == "north" else "never"
        rows.append(d)
    df = pd.concat(rows, ignore_index=True)
    kw = {"cohort": "cohort"} if cohort else {}
    return Panel.from_frame(df, unit="area", time="month", outcome=["y", "other"], **kw)


def _X(n=60, start=36):
    t = np.arange(1, n + 1)
    return np.column_stack([np.ones(n), t, t >= start + 1, np.maximum(0, t - start)]).astype(float)


def test_differential_terms_equal_difference_series_ols():
    p = _panel()
    r = controlled_its(p, "2021-01", unit="north", comparison="south", outcome="y", calendar=False,
                       inference=Analytic())
    m = p.to_matrix("y")
    d = (m.loc["north"] - m.loc["south"]).to_numpy()
    b = np.linalg.lstsq(_X(), d, rcond=None)[0]
    coef = r.coefficients.set_index("term")["estimate"]
    np.testing.assert_allclose(coef[["treated:intercept", "treated:time", "treated:level_intervention",
                                     "treated:slope_intervention"]], b, rtol=1e-9)
    assert r.term == "treated:level_intervention" and r.estimate == pytest.approx(b[2], rel=1e-9)
    assert "differential level change" in r.estimand


def test_counterfactual_adds_the_comparison_change():
    """Treated counterfactual = treated fit minus the differential terms."""
    p = _panel(1)
    r = controlled_its(p, "2021-01", unit="north", comparison="south", outcome="y", errors="model",
                       calendar=False)
    c = r.coefficients.set_index("term")["estimate"]
    s = r.series
    t = np.arange(1, 61)
    post = t >= 37
    diff = c["treated:level_intervention"] * post + c["treated:slope_intervention"] * np.maximum(0, t - 36)
    np.testing.assert_allclose(s["fitted"] - s["counterfactual"], diff, atol=1e-9)
    assert len(r.effects) == 24


def test_units_from_cohorts_and_comparison_outcome():
    p = _panel(2, cohort=True)
    r = ControlledITS().fit(p, outcome="y", calendar=False)
    assert "'north' vs unit 'south'" in r.estimand and r.intervention == "intervention 2021-01"
    r2 = controlled_its(p, "2021-01", unit="north", comparison_outcome="other", calendar=False)
    assert "outcome 'other'" in r2.estimand


def test_count_controlled_its_gives_ratio_of_rate_ratios():
    rng = np.random.default_rng(3)
    n = 60
    t = np.arange(n)
    rows = []
    for unit, rr in (("a", 0.85), ("b", 1.0)):
        mu = 2000 * np.exp(0.004 * t) * np.where(t >= 36, rr * 0.95, 1.0)
        rows.append(pd.DataFrame({"area": unit, "month": pd.period_range("2018-01", periods=n, freq="M"),
                                  "emergency_admissions": rng.poisson(mu), "population": 1e6}))
    p = Panel.from_frame(pd.concat(rows), unit="area", time="month", outcome="emergency_admissions",
                         population="population")
    r = controlled_its(p, "2021-01", unit="a", comparison="b", impact="step", calendar=False,
                       inference=NeweyWest())
    assert r.scale == "rate_ratio" and r.method.startswith("Controlled ITS (quasi-Poisson")
    assert r.ci[0] < 0.85 < r.ci[1]
    # the default: the log rate-ratio contrast, reported as a ratio of rate ratios with its % change
    d = controlled_its(p, "2021-01", unit="a", comparison="b", impact="step", calendar=False)
    assert d.scale == "rate_ratio" and d.method.startswith("Controlled ITS (contrast series")
    assert d.ci[0] < 0.85 < d.ci[1] and d.ci[0] < d.estimate < d.ci[1]
    assert d.term.startswith("ratio of rate ratios") and "ratio of rate ratios" in d.estimand
    assert f"{100 * (d.estimate - 1):+.1f}%" in d.info["Headline"]
    head = d.to_frame("overall").iloc[0]
    assert head["term"].startswith("ratio of rate ratios") and head["estimate"] == d.estimate


def test_needs_a_comparison():
    df = pd.concat([pd.DataFrame({"area": a, "month": pd.period_range("2018-01", periods=40, freq="M"),
                                  "y": np.arange(40.0)}) for a in "abc"])
    p = Panel.from_frame(df, unit="area", time="month", outcome="y")
    with pytest.raises(SpecificationError, match="comparison"):
        controlled_its(p, "2020-01", unit="a", calendar=False)
