"""The calibrated single-series calendar rule and the regressor re-estimate's placebo interval.

Known truths: (1) the OLS step of a window has standard deviation sigma * sqrt([(X'X)^-1]_step)
under iid noise (closed form), which the series' step noise must reproduce; (2) for a DiD of
means, a placebo that treats comparison unit j gives theta_j = n/(n-1) (Delta_j - mean Delta),
so the placebo variance equals the sample variance of the units' pre-to-post changes (closed
form); (3) the regressor interval covers the truth at its nominal level on NHS-shaped panels
with 1-5 treated units (binomial band; slow).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evalint import Panel
from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.calendar.intensity import IntensityTable
from evalint.calendar.series_noise import NATIONAL_STEP_NOISE, placebo_step, step_noise
from evalint.datasets.realdata import realdata_dir
from evalint.errors import SpecificationError
from evalint.evaluate.churn_sensitivity import _placebo_contrast_variance, churn_sensitivity

T0 = pd.Period("2023-04", "M")


def _did_of_means(panel: Panel):
    """A DiD of unit means (post minus pre), treated minus comparison, with a crude interval."""
    d = panel.data
    coh = panel.timing.cohort
    first = coh.dropna().min()
    post = d[panel.time] >= first
    change = (d.loc[post].groupby(panel.unit)[panel.outcome].mean()
              - d.loc[~post].groupby(panel.unit)[panel.outcome].mean())
    tr = change.index.isin(coh.index[coh.notna()])
    est = float(change[tr].mean() - change[~tr].mean())
    return SimpleNamespace(estimate=est, ci=(est - 1.0, est + 1.0))


def _panel(rng, n_units=20, n_treated=2, months=36, event=None, effect=0.0, sd=0.1):
    periods = pd.period_range("2021-04", periods=months, freq="M")
    units = [f"U{i:02d}" for i in range(n_units)]
    rows = []
    for i, u in enumerate(units):
        a = rng.normal(0, 1)
        e = rng.normal(0, sd, months)
        for k, m in enumerate(periods):
            post = m >= T0
            y = a + e[k] + (effect if (post and i < n_treated) else 0.0) + (
                event[u] if (post and event is not None) else 0.0)
            rows.append({"unit": u, "month": m.to_timestamp(), "y": y,
                         "cohort": "2023-04" if i < n_treated else None})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="y", cohort="cohort")


def test_placebo_variance_equals_sample_variance_of_unit_changes():
    rng = np.random.default_rng(4)
    p = _panel(rng)
    comparison = [str(u) for u in p.timing.cohort.index[p.timing.cohort.isna()]]
    var, n_used = _placebo_contrast_variance(_did_of_means, p, p.data, comparison, T0)
    d = p.data
    post = d["month"] >= T0
    change = (d.loc[post].groupby("unit")["y"].mean() - d.loc[~post].groupby("unit")["y"].mean())
    assert n_used == len(comparison)
    assert var == pytest.approx(float(change[comparison].var(ddof=1)), rel=1e-10)


def test_regressor_interval_options_and_refusal():
    rng = np.random.default_rng(5)
    units = [f"U{i:02d}" for i in range(20)]
    expo = pd.Series(np.linspace(0, 2, 20), index=units)
    p = _panel(rng, event=0.5 * expo)
    ev = PolicyEvent(id="fund", name="fund", start="2023-04-01", outcomes="emergency_admissions",
                     magnitude="large", source="simulated")
    cal = PolicyCalendar([ev]).with_intensity("fund", IntensityTable(name="a", values=expo, unit="x", source="s"))
    placebo = churn_sensitivity(_did_of_means, p, ["fund"], calendar=cal, checks=("regressor",)).table.iloc[0]
    widened = churn_sensitivity(_did_of_means, p, ["fund"], calendar=cal, checks=("regressor",),
                                regressor_interval="fit").table.iloc[0]
    assert placebo["estimate"] == pytest.approx(widened["estimate"])
    assert "placebo refits" in placebo["note"]
    # the crude +/-1 interval of the toy fit is far wider than the placebo one
    assert placebo["conf_high"] - placebo["conf_low"] < widened["conf_high"] - widened["conf_low"]
    with pytest.raises(SpecificationError, match="regressor_interval"):
        churn_sensitivity(_did_of_means, p, ["fund"], calendar=cal, regressor_interval="wild")


@pytest.mark.slow
def test_regressor_interval_covers_at_nominal_level():
    """300 panels: 20-40 units, 1-5 treated, a co-timed event 0.5 x exposure; coverage in the band."""
    rng = np.random.default_rng(20261205)
    hits = 0
    reps = 300
    for _ in range(reps):
        n_units = int(rng.integers(20, 41))
        k = int(rng.integers(1, 6))
        units = [f"U{i:02d}" for i in range(n_units)]
        expo = pd.Series(rng.uniform(0, 2, n_units), index=units)
        expo.iloc[:k] += 0.5  # treated units more exposed: the main DiD is biased
        p = _panel(rng, n_units=n_units, n_treated=k, event=0.3 * expo, effect=-0.2)
        ev = PolicyEvent(id="fund", name="fund", start="2023-04-01", outcomes="emergency_admissions",
                         magnitude="large", source="simulated")
        cal = PolicyCalendar([ev]).with_intensity("fund", IntensityTable(name="a", values=expo, unit="x",
                                                                        source="s"))
        r = churn_sensitivity(_did_of_means, p, ["fund"], calendar=cal, checks=("regressor",)).table.iloc[0]
        hits += int(r["conf_low"] <= -0.2 <= r["conf_high"])
    cover = hits / reps
    half = 2.576 * math.sqrt(0.95 * 0.05 / reps)
    assert 0.95 - half <= cover <= 0.95 + half


# ----------------------------------------------------------------------------- series noise
def test_step_noise_matches_closed_form_under_iid_noise():
    rng = np.random.default_rng(6)
    idx = pd.period_range("1950-01", periods=720, freq="M")
    sigma = 0.01
    y = pd.Series(np.exp(5 + 0.001 * np.arange(720) + rng.normal(0, sigma, 720)), index=idx)
    pre, post = 24, 12
    # closed form: sd of the OLS step with the window's design (trend, step, month of year)
    n = pre + post
    t = idx[pre]
    w = y.loc[t - pre: t + post - 1]
    months = np.array([p.month for p in w.index])
    x = np.column_stack([np.ones(n), np.arange(n), (w.index >= t).astype(float)]
                        + [(months == m).astype(float) for m in range(2, 13)])
    sd = sigma * math.sqrt(np.linalg.inv(x.T @ x)[2, 2])
    assert step_noise(y, pre, post) == pytest.approx(sd, rel=0.15)
    step, _ = placebo_step(y, t, pre, post)
    assert abs(step) < 6 * sd


def test_step_noise_refuses_short_or_nonpositive_series():
    idx = pd.period_range("2020-01", periods=20, freq="M")
    with pytest.raises(SpecificationError, match="at least 5 windows"):
        step_noise(pd.Series(np.ones(20), index=idx), 12, 6)
    with pytest.raises(SpecificationError, match="positive"):
        step_noise(pd.Series(np.r_[0.0, np.ones(59)], index=pd.period_range("2020-01", periods=60, freq="M")),
                   12, 6)


# ----------------------------------------------------------------------------- the rule
def _one_event(magnitude: str) -> PolicyCalendar:
    ev = PolicyEvent(id="e", name="an event", start="2019-04-01", outcomes="emergency_admissions",
                     magnitude=magnitude, source="simulated")
    return PolicyCalendar([ev])


@pytest.mark.parametrize("magnitude,noise,high", [("medium", 0.01, True), ("medium", 0.02, False),
                                                  ("large", 0.04, True), ("large", 0.06, False)])
def test_single_series_event_counts_only_when_large_against_noise(magnitude, noise, high):
    # sizes 0.03 (medium) and 0.10 (large) against twice the noise
    res = _one_event(magnitude).check("2019-04-01", outcome="emergency_admissions", pre=24, post=12,
                                      design="its", noise=noise)
    row = res.table.set_index("event_id").loc["e"]
    # no high threat -> not failed (None, not True: a one-event calendar does not cover the window)
    assert (row["severity"] == "high") is high and res.passed is (False if high else None)
    if not high:
        assert "step noise" in row["reason"]


def test_noise_rule_leaves_comparison_designs_alone_and_refuses_bad_noise():
    cal = _one_event("medium")
    res = cal.check("2019-04-01", outcome="emergency_admissions", pre=24, post=12, design="its", level="icb")
    assert res.table.set_index("event_id").at["e", "severity"] == "high"  # no scale known: no size rule
    with pytest.raises(SpecificationError, match="noise"):
        cal.check("2019-04-01", outcome="emergency_admissions", design="its", noise=-1.0)


@pytest.mark.skipif(realdata_dir() is None, reason="real-data folder not found")
def test_national_rule_on_real_emergency_admissions():
    """COVID's first wave (March 2020, -39% in April) fails; the 2016 BCF cycle (no measurable
    change, NAO 2017) and a quiet 2018 window pass; the shipped noise is the series' own."""
    folder = realdata_dir()
    ae = pd.read_csv(folder / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
    ae.index = pd.PeriodIndex(pd.to_datetime(ae["Period"]), freq="M")
    ea = ae["Emergency Admissions | Total Emergency Admissions"] / ae.index.days_in_month
    assert step_noise(ea, 24, 12) == pytest.approx(NATIONAL_STEP_NOISE["emergency_admissions"], abs=5e-5)
    cal = PolicyCalendar.default()

    def passed(t: str) -> bool:
        return cal.check(t, outcome="emergency_admissions", pre=24, post=12, design="its", level="national",
                         collection="ae_monthly").passed

    assert not passed("2020-03-01")
    assert passed("2016-04-01") and passed("2018-01-01")
