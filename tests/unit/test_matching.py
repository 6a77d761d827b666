"""match_comparisons: SMDs by hand, nearest neighbours by brute force, calipers, errors, no mutation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

import evalint
from evalint.errors import (
    ColumnNotFoundError,
    MissingValuesError,
    SpecificationError,
    TreatmentError,
)
from evalint.matching import match_comparisons

pytestmark = pytest.mark.filterwarnings("ignore::evalint.errors.EvalintWarning")


def _frame(n_units=8, n_periods=12, seed=0, treated=("u0", "u1")):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        lvl, slope = rng.normal(50, 5), rng.normal(0.5, 0.3)
        for t in range(n_periods):
            rows.append({"unit": f"u{i}", "month": pd.Period("2021-01", "M") + t,
                         "y": lvl + slope * t + rng.normal(0, 1), "x": rng.normal(i, 1.0)})
    df = pd.DataFrame(rows)
    df["cohort"] = df["unit"].map({u: pd.Period("2021-09", "M") for u in treated})
    return df


def _panel(df):
    return evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort", covariates=["x"])


def _hand_features(df):
    pre = df[df["month"] < pd.Period("2021-09", "M")]
    out = {}
    for u, g in pre.groupby("unit"):
        t = np.array([p.ordinal for p in g["month"]], dtype=float)
        slope = np.polyfit(t, g["y"].to_numpy(), 1)[0]
        out[u] = {"level": g["y"].mean(), "trend": slope, "x": g["x"].mean()}
    return pd.DataFrame(out).T


def test_features_and_smd_equal_hand_computation():
    df = _frame()
    m = match_comparisons(_panel(df), on=("level", "trend", "x"))
    hand = _hand_features(df)
    f = m.to_frame("features")
    for col in ["level", "trend", "x"]:
        np.testing.assert_allclose(f[col].to_numpy(), hand.loc[f.index, col].to_numpy(), rtol=1e-10)
    tr, cand = ["u0", "u1"], [f"u{i}" for i in range(2, 8)]
    pairs = m.to_frame("pairs")
    for _, row in m.to_frame("balance").iterrows():
        v = hand[row["feature"]]
        sd = np.std(v.loc[tr + cand].to_numpy(), ddof=1)
        assert row["smd_before"] == pytest.approx((v.loc[tr].mean() - v.loc[cand].mean()) / sd, rel=1e-10)
        after_c = v.loc[pairs["control"]].mean()  # 1:1 without replacement: plain mean of matches
        assert row["smd_after"] == pytest.approx((v.loc[tr].mean() - after_c) / sd, rel=1e-10)


def _hand_mahalanobis(hand, tr, cand):
    xt, xc = hand.loc[tr].to_numpy(float), hand.loc[cand].to_numpy(float)
    s = ((len(xt) - 1) * np.cov(xt, rowvar=False) + (len(xc) - 1) * np.cov(xc, rowvar=False)) / (len(xt) + len(xc) - 2)
    vi = np.linalg.inv(s)
    return {(a, b): scipy_mahalanobis(hand.loc[a], hand.loc[b], vi) for a in tr for b in cand}


def test_mahalanobis_with_replacement_equals_brute_force():
    df = _frame(n_units=9, seed=4)
    m = match_comparisons(_panel(df), on=("level", "trend"), replace=True, ratio=2)
    hand = _hand_features(df)[["level", "trend"]]
    tr, cand = ["u0", "u1"], [f"u{i}" for i in range(2, 9)]
    dist = _hand_mahalanobis(hand, tr, cand)
    pairs = m.to_frame("pairs")
    for t in tr:
        want = sorted(cand, key=lambda c: dist[(t, c)])[:2]
        got = pairs.loc[pairs["treated"] == t].sort_values("round")
        assert list(got["control"]) == want
        np.testing.assert_allclose(got["distance"], [dist[(t, c)] for c in want], rtol=1e-9)


def test_optimal_without_replacement_equals_enumeration():
    df = _frame(n_units=7, seed=11)
    m = match_comparisons(_panel(df), on=("level", "trend"), algorithm="optimal")
    hand = _hand_features(df)[["level", "trend"]]
    tr, cand = ["u0", "u1"], [f"u{i}" for i in range(2, 7)]
    dist = _hand_mahalanobis(hand, tr, cand)
    best = min(itertools.permutations(cand, 2), key=lambda cs: sum(dist[(t, c)] for t, c in zip(tr, cs)))
    pairs = m.to_frame("pairs").set_index("treated")
    assert [pairs.loc[t, "control"] for t in tr] == list(best)


def test_greedy_without_replacement_takes_nearest_available_in_order():
    df = _frame(n_units=8, seed=2)
    m = match_comparisons(_panel(df), on=("level", "trend"))
    hand = _hand_features(df)[["level", "trend"]]
    tr, cand = ["u0", "u1"], [f"u{i}" for i in range(2, 8)]
    dist = _hand_mahalanobis(hand, tr, cand)
    first = min(cand, key=lambda c: dist[("u0", c)])
    second = min([c for c in cand if c != first], key=lambda c: dist[("u1", c)])
    assert list(m.to_frame("pairs")["control"]) == [first, second]
    assert sorted(m.panel.units) == sorted(["u0", "u1", first, second])


def test_caliper_excludes_as_stated():
    df = _frame(n_units=8, seed=2)
    hand = _hand_features(df)[["level", "trend"]]
    tr, cand = ["u0", "u1"], [f"u{i}" for i in range(2, 8)]
    dist = _hand_mahalanobis(hand, tr, cand)
    near = {t: min(dist[(t, c)] for c in cand) for t in tr}
    lo, hi = sorted(near.values())
    cal = (lo + hi) / 2  # one treated unit has a candidate within it, the other none
    m = match_comparisons(_panel(df), on=("level", "trend"), caliper=cal, replace=True, ratio=3)
    far = max(near, key=near.get)
    assert m.unmatched == [far]
    assert (m.to_frame("pairs")["distance"] <= cal).all()
    assert far not in set(m.panel.units)
    want = sorted(c for c in cand if dist[(min(near, key=near.get), c)] <= cal)[:3]
    assert sorted(m.to_frame("pairs")["control"]) == sorted(want) or len(want) > 3
    assert "left out" in m.summary()
    with pytest.raises(SpecificationError, match="Widen the caliper"):
        match_comparisons(_panel(df), on=("level", "trend"), caliper=lo / 2)


def test_propensity_logit_equals_statsmodels_without_penalty():
    sm = pytest.importorskip("statsmodels.api")
    tr = ["u0", "u3", "u6", "u9", "u12"]
    df = _frame(n_units=14, seed=8, treated=tr)
    m = match_comparisons(_panel(df), on=("level", "x"), method="propensity", penalty=0.0, caliper=0.2,
                          replace=True)
    hand = _hand_features(df)[["level", "x"]]
    units = tr + [f"u{i}" for i in range(14) if f"u{i}" not in tr]
    y = np.r_[np.ones(5), np.zeros(9)]
    fit = sm.Logit(y, sm.add_constant(hand.loc[units].to_numpy(float))).fit(disp=0)
    lin = fit.fittedvalues if hasattr(fit, "fittedvalues") else None
    np.testing.assert_allclose(m.features.loc[units, "logit_propensity"].to_numpy(), np.asarray(lin), rtol=1e-6)
    cal = 0.2 * np.std(np.asarray(lin), ddof=1)
    assert m.info["caliper_distance"] == pytest.approx(cal, rel=1e-6)
    assert (m.to_frame("pairs")["distance"] <= cal + 1e-12).all()


def test_input_not_mutated_and_plot():
    df = _frame()
    before = df.copy()
    panel = _panel(df)
    data_before = panel.data.copy()
    m = match_comparisons(panel, on=("level", "trend", "x"), ratio=2, replace=True)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(panel.data, data_before)
    assert m.weights.sum() == pytest.approx(2.0)
    fig = m.plot()
    assert len(fig.axes) == 1 and len(fig.axes[0].collections) == 2
    # any DiD runs on the matched panel
    res = evalint.twfe(m.panel, calendar=False, inference=evalint.Clustered())
    assert np.isfinite(res.estimate)


def test_typed_errors_name_unit_and_column():
    df = _frame()
    panel = _panel(df)
    with pytest.raises(TreatmentError, match="'nope'"):
        match_comparisons(panel, treated="nope")
    with pytest.raises(ColumnNotFoundError, match="'ghost'"):
        match_comparisons(panel, on=("level", "ghost"))
    with pytest.raises(SpecificationError, match="ratio=0"):
        match_comparisons(panel, ratio=0)
    with pytest.raises(SpecificationError, match="need 12 candidates"):
        match_comparisons(panel, ratio=6)
    with pytest.raises(SpecificationError, match="method='nearest'"):
        match_comparisons(panel, method="nearest")
    const = df.assign(c=1.0)
    pc = evalint.Panel.from_frame(const, unit="unit", time="month", outcome="y", cohort="cohort",
                                  covariates=["x", "c"])
    with pytest.raises(SpecificationError, match="'c'"):
        match_comparisons(pc, on=("level", "c"))


def test_unit_without_pre_period_data_is_named():
    df = _frame()
    df.loc[(df["unit"] == "u5") & (df["month"] < pd.Period("2021-09", "M")), "y"] = np.nan
    with pytest.warns(Warning):
        panel = evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort",
                                         covariates=["x"], missing="drop")
    with pytest.raises(MissingValuesError, match="'u5'"):
        match_comparisons(panel, on=("level", "trend"))
