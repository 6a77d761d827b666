"""Ridge augmented SCM: closed forms, known-truth coverage, never-silent intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import SpecificationError
from evalint.estimators.synth.augmented.estimator import AugmentedSyntheticControl, augmented_synthetic_control
from evalint.inference.conformal import Conformal
from evalint.estimators.synth.augmented.weights import ridge_ascm_weights
from evalint.estimators.synth.simplex import simplex_least_squares


def frame(n_units=15, T=36, start=28, effect=-2.0, seed=0, outside=0.0, treated=("u0",), starts=None):
    rng = np.random.default_rng(seed)
    f1, f2 = np.cumsum(rng.normal(size=T)), np.sin(np.arange(T) / 3)
    l1, l2 = rng.uniform(0.5, 1.5, n_units), rng.uniform(-1, 1, n_units)
    rows = []
    for i in range(n_units):
        u = f"u{i}"
        a, b = (l1.max() + outside, l2.mean()) if u in treated else (l1[i], l2[i])
        s = (starts or {}).get(u, start)
        for t in range(T):
            d = int(u in treated and t >= s)
            rows.append({"unit": u, "time": pd.Period("2015-01", "M") + t,
                         "y": 20 + a * f1[t] + b * f2[t] + rng.normal(scale=0.3) + effect * d, "d": d})
    return pd.DataFrame(rows)


def panel_of(df):
    return Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="d")


def test_large_lambda_is_synthetic_control():
    rng = np.random.default_rng(1)
    X0, X1 = rng.normal(size=(12, 8)), rng.normal(size=8)
    gamma, _w = ridge_ascm_weights(X0, X1, lam=1e12)
    np.testing.assert_allclose(gamma, simplex_least_squares(X0.T, X1).weights, atol=1e-8)


def test_zero_lambda_fits_pre_period_exactly_and_sums_to_one():
    rng = np.random.default_rng(2)
    X0, X1 = rng.normal(size=(20, 6)), rng.normal(size=6) * 3  # far outside the hull
    gamma, _ = ridge_ascm_weights(X0, X1, lam=0.0)
    np.testing.assert_allclose(X0.T @ gamma, X1, atol=1e-9)
    assert gamma.sum() == pytest.approx(1.0)


def test_equals_sc_plus_ridge_regression_bias_correction():
    # BFR (2021) eq. (5): Y1(0)_hat = w'Y0 + (X1 - X0'w)' eta_ridge, eta from a ridge
    # regression (with intercept) of donors' post outcome on their pre outcomes.
    rng = np.random.default_rng(3)
    X0, X1, y0post = rng.normal(size=(25, 7)), rng.normal(size=7), rng.normal(size=25)
    lam = 2.5
    gamma, w = ridge_ascm_weights(X0, X1, lam)
    Xc = X0 - X0.mean(axis=0)
    eta = np.linalg.solve(Xc.T @ Xc + lam * np.eye(7), Xc.T @ (y0post - y0post.mean()))
    assert gamma @ y0post == pytest.approx(w @ y0post + (X1 - X0.T @ w) @ eta, rel=1e-10)


def test_removes_bias_outside_convex_hull_better_than_sc():
    from evalint.estimators.synth.scm.estimator import synthetic_control

    df = frame(outside=0.8, seed=4)
    asc = augmented_synthetic_control(panel_of(df), calendar=False)
    sc = synthetic_control(panel_of(df), calendar=False, leave_one_out=False)
    assert abs(asc.estimate + 2.0) < abs(sc.estimate + 2.0)
    assert abs(asc.estimate + 2.0) < 0.5
    assert any(f.source == "scm_prefit" for f in sc.flags)


def test_conformal_interval_covers_truth_in_simulation():
    # known truth -2; 30 replications; 95% intervals: expect about 28.5 covering; a binomial
    # band (p=0.95, n=30) puts >= 25 covering with probability > 0.99.
    # An unbounded side (the test does not reject far-away effects) is allowed but must be flagged.
    covered = bounded = 0
    for s in range(30):
        r = augmented_synthetic_control(panel_of(frame(seed=100 + s)), calendar=False,
                                        inference=Conformal(per_period=False))
        assert not np.isnan(r.ci[0]) and not np.isnan(r.ci[1])
        if np.isfinite(r.ci[0]) and np.isfinite(r.ci[1]):
            bounded += 1
        else:
            assert any(f.source == "ascm_conformal" and "unbounded" in f.message for f in r.flags)
        covered += r.ci[0] <= -2.0 <= r.ci[1]
    assert covered >= 25
    assert bounded >= 20


def test_per_period_intervals_cover_and_agree_with_p_values():
    r = augmented_synthetic_control(panel_of(frame(seed=7)), calendar=False)
    eff = r.effects
    assert len(eff) == 8 and eff["conf_low"].notna().all() and eff["conf_high"].notna().all()
    # a p-value above alpha at 0 means 0 is inside the interval (intervals are convex hulls
    # of the accepted set), and the headline interval obeys the same rule
    for row in eff.itertuples():
        if row.p_value > 0.05:
            assert row.conf_low <= 0 <= row.conf_high
    if r.p_value > 0.05:
        assert r.ci[0] <= 0 <= r.ci[1]
    # the true per-period effect (-2) is inside most per-period intervals
    assert ((eff["conf_low"] <= -2) & (-2 <= eff["conf_high"])).mean() >= 0.75


def test_interval_unbounded_is_flagged_not_nan():
    r = augmented_synthetic_control(panel_of(frame(T=15, start=10)), calendar=False)
    assert r.ci == (-np.inf, np.inf)
    assert any(f.kind == "inference" and "1/15" in f.message for f in r.flags)
    assert not np.isnan(r.ci[0])


def test_staggered_starts_flag_no_interval():
    df = frame(treated=("u0", "u1"), starts={"u0": 26, "u1": 30})
    r = augmented_synthetic_control(panel_of(df), calendar=False)
    assert any(f.source == "ascm_conformal" and "common treatment start" in f.message for f in r.flags)
    assert np.isfinite(r.estimate) and set(r.info["att_by_unit"]) == {"u0", "u1"}


def test_reproducible_and_plot_renders():
    import matplotlib

    matplotlib.use("Agg")
    p = panel_of(frame())
    a, b = augmented_synthetic_control(p, calendar=False), augmented_synthetic_control(p, calendar=False)
    assert a.estimate == b.estimate and a.ci == b.ci
    fig = a.plot()
    assert len(fig.axes) == 3


def test_bad_options():
    with pytest.raises(SpecificationError):
        AugmentedSyntheticControl(lambda_=-1.0)
    with pytest.raises(SpecificationError):
        AugmentedSyntheticControl(lambda_="auto")


def test_lambda_cv_matches_direct_refits():
    from evalint.estimators.synth.augmented.weights import _lambda_grid, choose_lambda

    rng = np.random.default_rng(0)
    X0, X1 = rng.normal(size=(14, 12)), rng.normal(size=12)
    lam, cv = choose_lambda(X0, X1)
    grid = _lambda_grid(X0)
    errs = np.empty((grid.size, 11))
    for i in range(1, 12):
        for k, g in enumerate(grid):
            gamma, _ = ridge_ascm_weights(X0[:, :i], X1[:i], g)
            errs[k, i - 1] = (X1[i] - X0[:, i] @ gamma) ** 2
    np.testing.assert_allclose(cv["cv_error"].to_numpy(), errs.mean(axis=1), rtol=1e-10)
    best = int(np.argmin(errs.mean(axis=1)))
    se = errs.std(axis=1, ddof=1) / np.sqrt(11)
    assert lam == grid[np.flatnonzero(errs.mean(axis=1) <= errs.mean(axis=1)[best] + se[best]).max()]


# ----------------------------------------------------------------------------- audit (issue 5)
@pytest.fixture(scope="module")
def ascm_base():
    df = frame(seed=9)
    return df, augmented_synthetic_control(panel_of(df), calendar=False, inference=Conformal(per_period=False))


def test_affine_outcome_change(ascm_base):
    # gamma sums to one and the ridge works on donor-centred outcomes; the CV grid scales with
    # lambda_max (a^2), so y -> a y + c scales the estimate and the interval by a and the
    # constant cancels.
    df, base = ascm_base
    conf = Conformal(per_period=False)
    scaled = augmented_synthetic_control(panel_of(df.assign(y=3.0 * df["y"])), calendar=False, inference=conf)
    assert scaled.estimate == pytest.approx(3.0 * base.estimate, rel=1e-8)
    assert scaled.info["lambda"]["u0"] == pytest.approx(9.0 * base.info["lambda"]["u0"], rel=1e-8)
    np.testing.assert_allclose(scaled.ci, 3.0 * np.asarray(base.ci), rtol=1e-6)
    shifted = augmented_synthetic_control(panel_of(df.assign(y=df["y"] + 500.0)), calendar=False, inference=conf)
    assert shifted.estimate == pytest.approx(base.estimate, abs=1e-8)
    np.testing.assert_allclose(shifted.ci, base.ci, atol=1e-6)


def test_permuting_donor_order(ascm_base):
    df, base = ascm_base
    donors = sorted(u for u in df["unit"].unique() if u != "u0")
    rename = {u: f"z{len(donors) - k:03d}" for k, u in enumerate(donors)}
    res = augmented_synthetic_control(panel_of(df.assign(unit=df["unit"].replace(rename))), calendar=False,
                                      inference=Conformal(per_period=False))
    assert res.estimate == pytest.approx(base.estimate, abs=1e-9)
    g0 = base.tables["donor_weights"].set_index("unit")["weight"].rename(index=rename)
    g1 = res.tables["donor_weights"].set_index("unit")["weight"].reindex(g0.index)
    np.testing.assert_allclose(g1.to_numpy(), g0.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(res.ci, base.ci, atol=1e-6)


def test_bad_input_is_caught_as_for_scm():
    from evalint.errors import DroppedRowsWarning, TreatmentError, UnbalancedPanelError

    df = frame()
    with pytest.raises(SpecificationError, match="'Atlantis'.*not in the panel"):
        augmented_synthetic_control(panel_of(df), treated="Atlantis", intervention="2017-05", calendar=False)
    gone = (df["unit"] == "u4") & (df["time"] == pd.Period("2015-03", "M"))
    with pytest.warns(DroppedRowsWarning):
        holed = Panel.from_frame(df.assign(y=df["y"].where(~gone)), unit="unit", time="time", outcome="y",
                                 treatment="d", missing="drop")
    with pytest.raises(UnbalancedPanelError, match="'u4' at 2015-03"):
        augmented_synthetic_control(holed, calendar=False)
    plain = Panel.from_frame(df.drop(columns="d"), unit="unit", time="time", outcome="y")
    with pytest.raises(TreatmentError, match="after the data end"):
        augmented_synthetic_control(plain, treated="u0", intervention="2030-01", calendar=False)
    with pytest.raises(SpecificationError, match="at least 2 donor"):
        augmented_synthetic_control(plain, treated="u0", intervention="2017-05", donors=["u1"], calendar=False)
    twin = df.loc[df["unit"] == "u0"].assign(unit="twin", d=0)
    res = augmented_synthetic_control(panel_of(pd.concat([df, twin])), calendar=False,
                                      inference=Conformal(per_period=False))
    assert any(f.source == "scm_identical_donor" and "twin" in f.message for f in res.flags)


# ----------------------------------------------------------------------------- jackknife+
def test_jackknife_plus_matches_leave_one_period_out_refits_by_hand():
    from evalint.inference.conformal import JackknifePlus

    df = frame(seed=3)
    lam = 40.0
    res = augmented_synthetic_control(panel_of(df), calendar=False, lambda_=lam, inference=JackknifePlus(),
                                      alpha=0.1)
    Y = df.pivot(index="unit", columns="time", values="y")
    y1, Y0 = Y.loc["u0"].to_numpy(), Y.drop(index="u0").to_numpy()
    n = 28
    R, P = np.empty(n), np.empty((n, 8))
    for s in range(n):
        keep = [t for t in range(n) if t != s]
        w = simplex_least_squares(Y0[:, keep].T, y1[keep]).weights
        Xc = Y0[:, keep] - Y0[:, keep].mean(axis=0)
        gamma = w + Xc @ np.linalg.solve(Xc.T @ Xc + lam * np.eye(n - 1), y1[keep] - Y0[:, keep].T @ w)
        R[s] = y1[s] - Y0[:, s] @ gamma
        P[s] = Y0[:, 28:].T @ gamma
    # Barber et al. (2021): k-th order statistics, k = ceil((1 - a)(n + 1)), per-side level a = alpha/2
    k = int(np.ceil(0.95 * (n + 1)))
    y_bar, p_bar = y1[28:].mean(), P.mean(axis=1)
    upper_cf = np.sort(p_bar + np.abs(R))[k - 1]
    lower_cf = np.sort(p_bar - np.abs(R))[n - k]
    assert res.ci == pytest.approx((y_bar - upper_cf, y_bar - lower_cf), abs=1e-9)
    eff = res.effects
    for j in range(8):
        assert eff["conf_low"].iloc[j] == pytest.approx(y1[28 + j] - np.sort(P[:, j] + np.abs(R))[k - 1], abs=1e-9)
        assert eff["conf_high"].iloc[j] == pytest.approx(y1[28 + j] - np.sort(P[:, j] - np.abs(R))[n - k], abs=1e-9)
    assert res.inference.name == "jackknife+"


def test_jackknife_plus_p_value_inverts_the_intervals():
    from evalint.inference.conformal import JackknifePlus

    p = panel_of(frame(seed=5, effect=-0.4))
    base = augmented_synthetic_control(p, calendar=False, inference=JackknifePlus(), alpha=0.2)
    for alpha in (0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.45):
        r = augmented_synthetic_control(p, calendar=False, inference=JackknifePlus(), alpha=alpha)
        assert r.p_value == base.p_value
        inside = r.ci[0] <= 0 <= r.ci[1]
        assert inside == (r.p_value > alpha)


def test_jackknife_plus_coverage_and_power_in_simulation():
    # Known effect -2, 28 pre-periods, alpha = 0.1: Barber et al.'s guarantee with per-side
    # level alpha/2 is coverage >= 0.9 (exchangeable periods). 40 replications: P(fewer than 32
    # covering | coverage 0.9) = 0.015. The intervals must also be informative: 0 (an effect
    # of 0 against noise sd 0.3) excluded in at least 30 of 40.
    from evalint.inference.conformal import JackknifePlus

    covered = excludes_zero = 0
    for s in range(40):
        r = augmented_synthetic_control(panel_of(frame(seed=300 + s)), calendar=False, inference=JackknifePlus(),
                                        alpha=0.1)
        assert np.isfinite(r.ci[0]) and np.isfinite(r.ci[1])
        covered += r.ci[0] <= -2.0 <= r.ci[1]
        excludes_zero += not (r.ci[0] <= 0 <= r.ci[1])
    assert covered >= 32
    assert excludes_zero >= 30


def test_jackknife_plus_unbounded_and_staggered_are_flagged_not_nan():
    from evalint.inference.conformal import JackknifePlus

    r = augmented_synthetic_control(panel_of(frame()), calendar=False, inference=JackknifePlus())  # alpha .05
    assert r.ci == (-np.inf, np.inf)
    assert any(f.source == "ascm_jackknife_plus" and "needs at least 39" in f.message for f in r.flags)
    df = frame(treated=("u0", "u1"), starts={"u0": 26, "u1": 30})
    r = augmented_synthetic_control(panel_of(df), calendar=False, inference=JackknifePlus(), alpha=0.1)
    assert any(f.source == "ascm_jackknife_plus" and "common treatment start" in f.message for f in r.flags)
    assert not np.isnan(r.ci[0])
    from evalint.inference.specs import Placebo

    with pytest.raises(SpecificationError, match="Conformal, JackknifePlus"):
        augmented_synthetic_control(panel_of(frame()), calendar=False, inference=Placebo())


def test_jackknife_plus_several_treated_units_average_their_refits():
    from evalint.inference.conformal import JackknifePlus

    df = frame(treated=("u0", "u1"), seed=6)
    r = augmented_synthetic_control(panel_of(df), calendar=False, inference=JackknifePlus(), alpha=0.1,
                                    lambda_=30.0)
    assert np.isfinite(r.ci[0]) and r.ci[0] <= r.estimate <= r.ci[1]
    assert len(r.effects) == 16 and r.effects["conf_low"].notna().all()
