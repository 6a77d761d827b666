"""SCM inference in one piece: the interval inverts the placebo rank test that gives the p-value
(Firpo & Possebom 2018); convex-hull and V-search diagnostics in the direct call.

Outside checks: the closed-form interval against a brute-force inversion (refit with the
hypothesised effect removed from the treated unit's post-period outcome, over a grid); the
interval and p-value agree on every simulated draw; a synthetic-control coverage run with known
truth (exchangeable treated unit, where the rank test is exact) within the binomial band.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.inference.placebo_rank import inverted_rank_interval
from evalint.estimators.synth.matrices import Predictor
from evalint.estimators.synth.scm.estimator import synthetic_control
from evalint.estimators.synth.scm.weights import fit_scm_weights

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage_its_synth.py"
_spec = importlib.util.spec_from_file_location("evalint_bench_coverage_its_synth", _BENCH)
cov = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cov  # dataclasses look their module up by name
_spec.loader.exec_module(cov)


def _frame(seed: int, effect: float, n_units: int = 16) -> pd.DataFrame:
    return cov.scm_frame(np.random.default_rng(seed), effect, n_units=n_units, pre=30, post=8)


def _panel(df: pd.DataFrame) -> Panel:
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated")


def _fit(df: pd.DataFrame, alpha: float = 0.1):
    return synthetic_control(_panel(df), calendar=False, leave_one_out=False, alpha=alpha)


def test_interval_is_the_brute_force_inversion_of_the_rank_test():
    df = _frame(3, -4.0)
    res = _fit(df)
    lo, hi = res.ci
    assert np.isfinite(lo) and np.isfinite(hi) and lo < res.estimate < hi
    post = df["treated"].to_numpy() == 1
    for tau in np.r_[np.linspace(lo - 1.0, hi + 1.0, 9), lo - 1e-3, lo + 1e-3, hi - 1e-3, hi + 1e-3]:
        d = df.copy()
        d.loc[post, "y"] = d.loc[post, "y"] - tau     # H0: effect = tau  <=>  no effect in the shifted data
        p = _fit(d).p_value
        assert (p > 0.1) == (lo <= tau <= hi), (tau, p, lo, hi)


@pytest.mark.parametrize("seed", range(6))
def test_interval_and_p_value_cannot_disagree(seed):
    res = _fit(_frame(100 + seed, -1.5 * seed), alpha=0.1)
    zero_inside = res.ci[0] <= 0 <= res.ci[1]
    assert zero_inside == (res.p_value > 0.1)


def test_closed_form_edge_cases():
    g = [np.array([1.0, 2.0, 3.0])]
    # 9 placebo ratios: at alpha = 0.05 the smallest p is 0.1 > alpha -> unbounded interval
    (lo, hi), p, pmin = inverted_rank_interval(g, [1.0], np.arange(1.0, 10.0), 0.05)
    assert np.isinf(lo) and np.isinf(hi) and pmin == pytest.approx(0.1)
    # at alpha = 0.1 the treated stat must not exceed the largest placebo: (2 - tau)^2 + 2/3 <= 9
    (lo, hi), p, _ = inverted_rank_interval(g, [1.0], np.arange(1.0, 10.0), 0.1)
    half = np.sqrt(9 - 2 / 3)
    assert (lo, hi) == pytest.approx((2 - half, 2 + half))
    # p(0): stat(0) = 4 + 2/3 -> placebos >= 4.67 are 5..9 (5 of them): p = 6/10
    assert p == pytest.approx(0.6)
    # gaps that vary more than any constant effect allows -> empty set
    (lo, hi), _, _ = inverted_rank_interval([np.array([-30.0, 30.0])], [1.0], np.arange(1.0, 10.0), 0.1)
    assert np.isnan(lo) and np.isnan(hi)
    # several treated units: centred on the mean of their ATTs (the headline)
    (lo, hi), _, _ = inverted_rank_interval([np.array([1.0, 3.0]), np.array([5.0, 7.0])], [1.0, 3.0],
                                            np.arange(1.0, 40.0), 0.1)
    assert (lo + hi) / 2 == pytest.approx(4.0)


def test_treated_unit_outside_the_hull_is_flagged_in_the_direct_call():
    df = _frame(5, 0.0)
    t = df["unit"] == "icb00"
    df.loc[t, "y"] = df.loc[t, "y"] + 40 + 3 * np.sin(np.arange(t.sum()))   # far above every donor
    res = _fit(df)
    check = next(c for c in res.diagnostics if c.name == "scm_convex_hull")
    assert check.passed is False
    assert any(f.source == "scm_convex_hull" for f in res.flags)
    ok = _fit(_frame(5, 0.0))
    assert all(c.passed for c in ok.diagnostics if c.name == "scm_convex_hull")


def test_v_search_keeps_the_best_start_and_flags_a_dominant_predictor():
    rng = np.random.default_rng(2)
    J, K, T = 20, 4, 15
    X0 = rng.normal(size=(K, J))
    X1 = X0[:, :3].mean(axis=1) + rng.normal(scale=0.05, size=K)
    X1[1:] += 4.0       # the other predictors cannot be matched: weight on them only spoils the fit
    Z0 = 10 * X0[0][None, :] + rng.normal(scale=0.1, size=(T, J))   # the outcome follows predictor 0 only
    Z1 = 10 * X1[0] + rng.normal(scale=0.1, size=T)
    rep: dict[str, float] = {}
    w, v, loss = fit_scm_weights(X1, X0, Z1, Z0, report=rep)
    assert loss <= min(rep["equal"], rep["regression"], rep["nelder_mead_equal"]) + 1e-12
    assert rep["final"] == pytest.approx(loss)
    # through the estimator: the V search is reported and a V concentrated on one predictor flagged
    units = [f"u{j}" for j in range(J + 1)]
    Xall = np.column_stack([X1, X0])
    Zall = np.column_stack([Z1, Z0])
    rows = []
    for i, u in enumerate(units):
        for t in range(T + 4):
            y = Zall[t, i] if t < T else Zall[T - 1, i]
            rows.append({"unit": u, "time": 2000 + t, "y": y, "d": int(i == 0 and t >= T),
                         **{f"x{k}": Xall[k, i] for k in range(K)}})
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="time", outcome="y", treatment="d",
                             covariates=[f"x{k}" for k in range(K)])
    preds = [Predictor(f"x{k}", 2000, 2014) for k in range(K)]
    res = synthetic_control(panel, predictors=preds, calendar=False, leave_one_out=False)
    check = next(c for c in res.diagnostics if c.name == "scm_v_search")
    assert "by start" in check.text and "final" in check.text
    top = float(res.tables["predictor_balance"]["v_weight"].max())
    assert top > 0.9 and check.passed is False   # V piles on the predictor the outcome follows
    assert any(f.source == "scm_v_concentrated" for f in res.flags)


def test_scm_coverage_within_binomial_band():
    """Exchangeable treated unit, 20 units: the inverted rank test covers with probability 19/20."""
    reps = 30
    out = cov.run_scm(reps, 7, n_units=20, pre=24, post=6)
    lo, hi = cov.binomial_band(reps)
    assert (out["consistent"] == 1.0).all()
    cov_row = out.loc[out["dgp"].str.contains("effect -5")].iloc[0]
    size_row = out.loc[out["dgp"].str.contains("size")].iloc[0]
    assert lo <= cov_row["coverage"] <= hi
    assert size_row["size"] <= 1 - lo


@pytest.mark.slow
def test_scm_coverage_within_binomial_band_42_units():
    """Exchangeable treated unit, 42 units: the inverted rank test covers with probability 40/42."""
    reps = 200
    out = cov.run_scm(reps, 7, n_units=42)
    lo, hi = cov.binomial_band(reps)
    assert (out["consistent"] == 1.0).all()
    cov_row = out.loc[out["dgp"].str.contains("effect -5")].iloc[0]
    size_row = out.loc[out["dgp"].str.contains("size")].iloc[0]
    assert lo <= cov_row["coverage"] <= hi
    assert size_row["size"] <= 1 - lo


def test_several_treated_units_interval_contains_the_headline_and_agrees_with_p():
    rng = np.random.default_rng(9)
    df = cov.scm_frame(rng, -3.0, n_units=16, pre=30, post=8)
    df.loc[df["unit"] == "icb01", "treated"] = df.loc[df["unit"] == "icb00", "treated"].to_numpy()
    t1 = (df["unit"] == "icb01") & (df["treated"] == 1)
    df.loc[t1, "y"] -= 6.0
    res = synthetic_control(_panel(df), calendar=False, leave_one_out=False, alpha=0.1)
    lo, hi = res.ci
    assert lo <= res.estimate <= hi
    assert (lo <= 0 <= hi) == (res.p_value > 0.1)
