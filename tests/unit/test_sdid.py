"""Synthetic DiD (evalint.estimators.synth.sdid.estimator): solver, special cases, invariances, designs,
variance applicability and bad input.

Numbers asserted come from closed forms (DiD means, exact two-way data), an independent QP
solution (scipy SLSQP), simulations with a known effect, or invariance identities.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from evalint.data.panel import Panel
from evalint.errors import (
    DiagnosticWarning,
    EvalintError,
    InferenceError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
)
from evalint.estimators.synth.frank_wolfe import frank_wolfe_batch, simplex_weights_batch, sparsify
from evalint.estimators.synth.sdid.estimator import SyntheticDiD, synthetic_did
from evalint.estimators.synth.sdid.core import SdidSettings, block_regularisation, block_weights, fit_design


def _frame(n_units=14, n_treated=3, years=range(2000, 2014), start=2009, effect=-2.0, noise=1.0,
           seed=1, cohorts=None):
    """Long frame: unit level + common trend + idiosyncratic noise - effect after treatment."""
    rng = np.random.default_rng(seed)
    years = list(years)
    level = rng.normal(20, 4, n_units)
    trend = np.cumsum(rng.normal(0.5, 1.0, len(years)))
    slope = rng.normal(0, 0.2, n_units)
    rows = []
    for i in range(n_units):
        first = None
        if cohorts is not None:
            first = cohorts.get(i)
        elif i >= n_units - n_treated:
            first = start
        for t, y in enumerate(years):
            d = first is not None and y >= first
            rows.append({"unit": f"s{i:02d}", "year": y, "d": int(d), "cohort": first or 0,
                         "y": level[i] + trend[t] + slope[i] * t + noise * rng.normal() + effect * d})
    return pd.DataFrame(rows)


def _panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="year", outcome="y", treatment="d", **kw)


# ------------------------------------------------------------------------------ solver
def test_frank_wolfe_reaches_the_exact_simplex_qp_solution():
    # strongly convex problems (ridge), long run, tiny threshold: FW must reach the optimum that
    # an independent solver (SLSQP) finds.
    rng = np.random.default_rng(3)
    B, n, m = 4, 15, 8
    A = rng.normal(size=(B, n, m))
    b = rng.normal(size=(B, n))
    eta = 2.0
    x, _ = frank_wolfe_batch(A, b, np.full((B, m), 1 / m), eta, min_decrease=1e-12, max_iter=200_000)
    for k in range(B):
        obj = lambda w, k=k: eta * w @ w + np.sum((A[k] @ w - b[k]) ** 2)
        ref = minimize(obj, np.full(m, 1 / m), method="SLSQP", bounds=[(0, 1)] * m,
                       constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                       options={"ftol": 1e-14, "maxiter": 1000})
        assert np.max(np.abs(x[k] - ref.x)) < 1e-4
        assert obj(x[k]) <= ref.fun * (1 + 1e-5)  # FW converges sublinearly


def test_batch_solves_equal_one_at_a_time():
    rng = np.random.default_rng(4)
    Y = rng.normal(size=(5, 12, 7))
    together = simplex_weights_batch(Y, None, 0.1, intercept=True, min_decrease=1e-6, max_iter=3000)
    alone = np.vstack([simplex_weights_batch(Y[k:k + 1], None, 0.1, intercept=True, min_decrease=1e-6,
                                             max_iter=3000) for k in range(5)])
    np.testing.assert_allclose(together, alone, atol=1e-12)
    np.testing.assert_allclose(together.sum(axis=1), 1.0)
    assert (together >= 0).all()


@pytest.mark.parametrize("eta,masked", [(1e-12, False), (0.5, False), (1e-12, True)])
def test_single_problem_path_follows_the_batched_iterations(eta, masked):
    # One problem runs a scalar-recurrence loop (lazy scaling); it must take the same steps as
    # the batched solver: same iteration count (same stopping step), same weights to 1e-10,
    # including the long nearly unregularised runs that hit the 10,000-step cap on Prop 99.
    rng = np.random.default_rng(8)
    B, n, m = 6, 19, 24
    A, b = rng.normal(size=(B, n, m)), rng.normal(size=(B, n))
    mask = np.ones((B, m), dtype=bool)
    if masked:
        mask[:, -5:] = False
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"min_decrease": 1e-7, "max_iter": 10_000, "col_mask": mask if masked else None}
    xb, itb = frank_wolfe_batch(A, b, x0, eta, **kw)
    assert itb.max() == 10_000 or eta > 0.1
    for k in range(B):
        kw1 = dict(kw, col_mask=mask[k:k + 1] if masked else None)
        x1, it1 = frank_wolfe_batch(A[k:k + 1], b[k:k + 1], x0[k:k + 1], eta, **kw1)
        assert it1[0] == itb[k]
        np.testing.assert_allclose(x1[0], xb[k], atol=1e-10)
        assert np.all(x1[0][~mask[k]] == 0)


def test_sparsify_zeroes_weights_at_or_below_a_quarter_of_the_max():
    out = sparsify(np.array([[0.5, 0.125, 0.2, 0.175]]))
    np.testing.assert_allclose(out, [[0.5 / 0.875, 0, 0.2 / 0.875, 0.175 / 0.875]])


# ------------------------------------------------------------------------- special cases
def test_uniform_weights_give_the_closed_form_did():
    df = _frame()
    res = synthetic_did(_panel(df), method="did", calendar=False, reps=20)
    Y = df.pivot(index="unit", columns="year", values="y")
    tr = Y.index[-3:]
    post = Y.columns >= 2009
    closed = ((Y.loc[tr, post].mean(axis=1) - Y.loc[tr, ~post].mean(axis=1)).mean()
              - (Y.drop(index=tr).loc[:, post].mean(axis=1) - Y.drop(index=tr).loc[:, ~post].mean(axis=1)).mean())
    assert res.estimate == pytest.approx(closed, abs=1e-10)
    assert np.allclose(res.tables["unit_weights"]["weight"], 1 / 11)
    assert np.allclose(res.tables["time_weights"]["weight"], 1 / 9)


def test_sdid_with_uniform_weights_is_did_in_the_core():
    df = _frame()
    Y = df.pivot(index="unit", columns="year", values="y").to_numpy()
    start = np.array([14] * 11 + [9] * 3)
    did = fit_design(Y, start, SdidSettings("did"))
    from evalint.estimators.synth.sdid.core import block_tau

    uniform = block_tau(Y[None], 11, 9, np.full((1, 11), 1 / 11), np.full((1, 9), 1 / 9))[0]
    assert did.tau == pytest.approx(uniform, abs=1e-12)


@pytest.mark.parametrize("method", ["sdid", "did"])
def test_exact_two_way_data_recovers_the_effect_with_staggered_adoption(method):
    # Y = a_i + b_t + delta * D exactly: any weights on the simplex with an intercept give delta.
    rng = np.random.default_rng(5)
    a, bt = rng.normal(0, 5, 16), np.cumsum(rng.normal(0, 1, 15))
    cohorts = {12: 2006, 13: 2006, 14: 2010, 15: 2010}
    rows = [{"unit": f"u{i}", "year": 2000 + t, "y": a[i] + bt[t] + 3.0 * (i in cohorts and 2000 + t >= cohorts[i]),
             "d": int(i in cohorts and 2000 + t >= cohorts[i])} for i in range(16) for t in range(15)]
    res = synthetic_did(_panel(pd.DataFrame(rows)), method=method, calendar=False, variance="jackknife")
    assert res.estimate == pytest.approx(3.0, abs=1e-8)
    assert set(res.tables["cohort_estimates"]["cohort"]) == {"2006", "2010"}
    # staggered placebo: controls get the cohorts' dates; on exact two-way data every placebo
    # estimate is 0 and the (degenerate) interval is reported, never NaN
    plc = synthetic_did(_panel(pd.DataFrame(rows)), method=method, calendar=False, reps=20)
    assert np.allclose(plc.tables["placebo_estimates"]["estimate"], 0.0, atol=1e-8)
    assert np.all(np.isfinite(plc.ci))
    if plc.se == 0:
        assert any(f.kind == "inference" for f in plc.flags)


def test_staggered_is_the_cell_weighted_average_of_cohort_fits():
    df = _frame(n_units=16, cohorts={13: 2006, 14: 2010, 15: 2010}, seed=8)
    res = synthetic_did(_panel(df), calendar=False, variance="bootstrap", reps=30)
    controls = [f"s{i:02d}" for i in range(13)]
    parts = {}
    for cohort, units in ((2006, ["s13"]), (2010, ["s14", "s15"])):
        sub = _panel(df.loc[df.unit.isin(controls + units)])
        parts[cohort] = synthetic_did(sub, calendar=False, variance="placebo", reps=5).estimate
    w = np.array([1 * (2014 - 2006), 2 * (2014 - 2010)], dtype=float)
    assert res.estimate == pytest.approx((w[0] * parts[2006] + w[1] * parts[2010]) / w.sum(), abs=1e-10)


def test_block_with_several_treated_equals_their_average_as_one_unit():
    # the weights see the treated units only through their average (collapsed form); with the
    # same regularisation the estimate is that of one averaged treated unit.
    df = _frame()
    treated = ["s11", "s12", "s13"]
    avg = df.loc[df.unit.isin(treated)].groupby("year", as_index=False)[["y", "d"]].mean().assign(unit="avg")
    one = pd.concat([df.loc[~df.unit.isin(treated), ["unit", "year", "y", "d"]], avg], ignore_index=True)
    kw = {"calendar": False, "reps": 10, "eta_omega": 1.3}
    assert synthetic_did(_panel(df), **kw).estimate == pytest.approx(
        synthetic_did(_panel(one), **kw).estimate, abs=1e-10)


def test_covariate_residualising_removes_confounding():
    # X rises with treatment; Y depends on X. Without X the estimate is biased by beta * shift.
    rng = np.random.default_rng(9)
    df = _frame(noise=0.3, effect=-2.0, seed=9)
    df["x"] = rng.normal(0, 1, len(df)) + 2.0 * df["d"]
    df["y"] = df["y"] + 1.5 * df["x"]
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", treatment="d", covariates=["x"])
    plain = synthetic_did(p, calendar=False, reps=10).estimate
    adj = synthetic_did(p, covariates=["x"], calendar=False, reps=10)
    # the oracle removes the known covariate effect 1.5 * x before estimating
    oracle = synthetic_did(_panel(df.assign(y=df.y - 1.5 * df.x)), calendar=False, reps=10).estimate
    assert plain - oracle == pytest.approx(1.5 * 2.0, abs=0.6)  # confounded by beta * shift
    assert adj.estimate == pytest.approx(oracle, abs=0.05)
    assert adj.tables["covariate_coefficients"]["beta"].iloc[0] == pytest.approx(1.5, abs=0.05)


# ---------------------------------------------------------------------------- invariances
@pytest.fixture(scope="module")
def base():
    df = _frame(seed=11)
    return df, {m: synthetic_did(_panel(df), method=m, calendar=False, reps=30, seed=3) for m in ("sdid", "sc", "did")}


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_permuting_donors_leaves_the_estimate_unchanged(base, method):
    df, fits = base
    rename = {f"s{i:02d}": f"z{10 - i:02d}" for i in range(11)}  # reverses the donors' sort order
    res = synthetic_did(_panel(df.assign(unit=df.unit.replace(rename))), method=method, calendar=False,
                        reps=30, seed=3)
    assert res.estimate == pytest.approx(fits[method].estimate, abs=1e-8)


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_scaling_the_outcome_scales_estimate_and_se(base, method):
    df, fits = base
    res = synthetic_did(_panel(df.assign(y=df.y * 3.5)), method=method, calendar=False, reps=30, seed=3)
    assert res.estimate == pytest.approx(3.5 * fits[method].estimate, rel=1e-8)
    assert res.se == pytest.approx(3.5 * fits[method].se, rel=1e-6)


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_adding_a_constant_leaves_the_estimate_unchanged(base, method):
    df, fits = base
    res = synthetic_did(_panel(df.assign(y=df.y + 1000.0)), method=method, calendar=False, reps=30, seed=3)
    assert res.estimate == pytest.approx(fits[method].estimate, abs=1e-7)


@pytest.mark.parametrize("method", ["sdid", "did"])
def test_adding_unit_effects_leaves_the_estimate_unchanged(base, method):
    # SDID's unit weights have an intercept and the time weights sum to one, so a unit-specific
    # constant cancels (and sigma, from first differences over time, is unchanged); DiD likewise.
    # SC has no intercept and is not invariant to this.
    df, fits = base
    shift = {u: 7.0 * k - 40.0 for k, u in enumerate(sorted(df.unit.unique()))}
    res = synthetic_did(_panel(df.assign(y=df.y + df.unit.map(shift))), method=method, calendar=False,
                        reps=30, seed=3)
    assert res.estimate == pytest.approx(fits[method].estimate, abs=1e-7)
    assert res.se == pytest.approx(fits[method].se, rel=1e-6)


def test_results_identical_run_to_run_and_seed_matters(base):
    df, fits = base
    again = synthetic_did(_panel(df), calendar=False, reps=30, seed=3)
    assert again.se == fits["sdid"].se
    np.testing.assert_array_equal(again.tables["placebo_estimates"]["estimate"],
                                  fits["sdid"].tables["placebo_estimates"]["estimate"])
    other = synthetic_did(_panel(df), calendar=False, reps=30, seed=4)
    assert other.se != fits["sdid"].se


# ------------------------------------------------------------------------------ variance
def test_jackknife_did_matches_leave_one_out_by_hand():
    df = _frame(seed=12)
    res = synthetic_did(_panel(df), method="did", variance="jackknife", calendar=False)
    Y = df.pivot(index="unit", columns="year", values="y")
    post = Y.columns >= 2009
    treated = set(Y.index[-3:])

    def did(units):
        tr = [u for u in units if u in treated]
        co = [u for u in units if u not in treated]
        d = Y.loc[:, post].mean(axis=1) - Y.loc[:, ~post].mean(axis=1)
        return d[tr].mean() - d[co].mean()

    loo = np.array([did([u for u in Y.index if u != k]) for k in Y.index])
    n = len(loo)
    assert res.se == pytest.approx(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)), rel=1e-10)


def test_placebo_estimates_are_centred_and_se_is_their_sd(base):
    _, fits = base
    est = fits["did"].tables["placebo_estimates"]["estimate"].to_numpy()
    assert fits["did"].se == pytest.approx(np.std(est), rel=1e-12)
    assert len(est) == 30


def test_variance_applicability_is_an_error_not_nan():
    one = _panel(_frame(n_treated=1))
    with pytest.raises(InferenceError, match="more than one treated unit"):
        synthetic_did(one, variance="bootstrap", calendar=False)
    with pytest.raises(InferenceError, match="at least 2 treated units"):
        synthetic_did(one, variance="jackknife", calendar=False)
    many = _panel(_frame(n_units=8, n_treated=4))
    with pytest.raises(InferenceError, match="more control units than treated"):
        synthetic_did(many, variance="placebo", calendar=False)
    for variance in ("bootstrap", "jackknife"):
        assert np.isfinite(synthetic_did(many, variance=variance, reps=20, calendar=False).se)


def test_inference_specs_are_accepted_and_others_refused():
    from evalint.inference.specs import Bootstrap, Clustered, Placebo

    p = _panel(_frame())
    est = SyntheticDiD()
    r = est.fit(p, inference=Placebo(reps=15, seed=2), calendar=False)
    assert r.inference.reps == 15 and r.inference.seed == 2
    assert est.fit(p, inference=Bootstrap(reps=12, seed=1), calendar=False).inference.name == "bootstrap"
    with pytest.raises(SpecificationError, match="Placebo, Bootstrap, Jackknife"):
        est.fit(p, inference=Clustered(), calendar=False)


# ------------------------------------------------------------------------------ bad input
def test_missing_cells_are_listed_by_unit_and_period_not_filled():
    df = _frame()
    gone = ((df.unit == "s03") & df.year.isin([2003, 2004])) | ((df.unit == "s12") & (df.year == 2011))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = _panel(df.assign(y=df.y.where(~gone)), missing="drop")
    with pytest.raises(UnbalancedPanelError) as err:
        synthetic_did(p, calendar=False)
    msg = str(err.value)
    assert "'s03': 2003, 2004" in msg and "'s12': 2011" in msg and "never fills them with 0" in msg


def test_treatment_switching_off_is_an_error():
    df = _frame()
    df.loc[(df.unit == "s13") & (df.year == 2012), "d"] = 0
    with pytest.raises(TreatmentError, match="not absorbing"):
        _panel(df)


def test_treatment_after_data_end_and_unknown_units_are_errors():
    df = _frame().assign(d=0)
    p = _panel(df)
    with pytest.raises(TreatmentError, match="after the data end"):
        synthetic_did(p, treated={"s13": 2020}, calendar=False)
    with pytest.raises(TreatmentError, match="at or before the first period"):
        synthetic_did(p, treated={"s13": 2000}, calendar=False)
    with pytest.raises(SpecificationError, match="'Atlantis'"):
        synthetic_did(p, treated={"Atlantis": 2009}, calendar=False)
    ok = synthetic_did(p, treated={"s13": 2009, "s12": 2009}, calendar=False, reps=10)
    assert ok.info["n_treated"] == 2 and ok.info["n_control"] == 12


def test_too_few_controls_or_pre_periods():
    df = _frame(n_units=5, n_treated=4)
    with pytest.raises(SpecificationError, match="at least 2 never-treated control units"):
        synthetic_did(_panel(df), calendar=False, variance="jackknife")
    df = _frame(start=2001)
    with pytest.raises(SpecificationError, match="fewer than 2 pre-treatment periods"):
        synthetic_did(_panel(df), calendar=False)


def test_options_are_validated():
    for bad in ({"method": "abadie"}, {"variance": "wild"}, {"reps": 1}, {"eta_omega": -1.0}):
        with pytest.raises(EvalintError):
            SyntheticDiD(**bad)


# --------------------------------------------------------------------------------- result
def test_result_contract_tables_series_and_plot(base):
    import matplotlib

    matplotlib.use("Agg")
    res = base[1]["sdid"]
    assert res.term == "ATT" and res.plot_kind == "synth"
    assert {"time", "treated", "synthetic"} <= set(res.series.columns)
    assert {"unit_weights", "time_weights", "placebo_estimates"} <= set(res.tables)
    assert res.tables["unit_weights"]["weight"].sum() == pytest.approx(1.0)
    assert res.tables["time_weights"]["weight"].sum() == pytest.approx(1.0)
    frame = res.to_frame()
    assert frame.loc[0, "term"] == "ATT" and (frame["term"] == "ATT(t)").sum() == 5
    # the per-period effects average to the headline estimate; the series gap does too
    assert frame.loc[frame.term == "ATT(t)", "estimate"].mean() == pytest.approx(res.estimate, abs=1e-10)
    post = res.series.loc[res.series.post]
    assert (post.treated - post.synthetic).mean() == pytest.approx(res.estimate, abs=1e-10)
    assert "Synthetic DiD" in str(res.summary())
    res.plot()


def test_regularisation_defaults_follow_the_paper():
    df = _frame()
    Y = df.pivot(index="unit", columns="year", values="y").to_numpy()
    reg = block_regularisation(Y, 11, 9, SdidSettings())
    sigma = np.std(np.diff(Y[:11, :9], axis=1), ddof=1)
    assert reg.noise == pytest.approx(sigma)
    assert reg.zeta_omega == pytest.approx((3 * 5) ** 0.25 * sigma)
    assert reg.zeta_lambda == pytest.approx(1e-6 * sigma)
    assert block_regularisation(Y, 11, 9, SdidSettings("sc")).zeta_omega == pytest.approx(1e-6 * sigma)
    om, lam = block_weights(Y[None], 11, 9, SdidSettings("sc"), reg)
    assert np.all(lam == 0) and om.sum() == pytest.approx(1.0)


# ------------------------------------------------------------------- coverage (slow)
@pytest.mark.slow
@pytest.mark.parametrize("variance", ["placebo", "bootstrap"])
def test_interval_coverage_with_a_known_zero_effect(variance):
    # Block design, 30 controls / 5 treated, interactive fixed effects + iid noise, true effect 0.
    # 150 simulated panels; the 95% intervals must cover 0 at a rate inside the binomial band
    # 0.95 +/- 3 sd (sd = sqrt(.95 * .05 / 150) = 0.018), i.e. [0.897, 1].
    n_sims, covered = 150, 0
    for k in range(n_sims):
        rng = np.random.default_rng(1000 + k)
        n, t = 35, 20
        f = np.cumsum(rng.normal(size=(t, 2)), axis=0)
        load = rng.normal(1, 0.3, size=(n, 2))
        Y = rng.normal(0, 3, size=(n, 1)) + load @ f.T + rng.normal(0, 1, size=(n, t))
        rows = [{"unit": f"u{i:02d}", "year": 2000 + s, "y": Y[i, s], "d": int(i >= 30 and s >= 15)}
                for i in range(n) for s in range(t)]
        res = synthetic_did(_panel(pd.DataFrame(rows)), variance=variance, reps=100, seed=k,
                            calendar=False, max_iter=2000)
        covered += res.ci[0] <= 0 <= res.ci[1]
    assert covered / n_sims >= 0.897


def _few_controls(units: int, start: str) -> Panel:
    """simulate_nhs ICBs, 2 treated from 2023-01 (admissions -5%), to 2023-12."""
    from evalint.datasets import simulate_nhs

    names = list(pd.unique(simulate_nhs(seed=1).data["icb_code"]))[:units]
    sim = simulate_nhs(start=start, end="2023-12", seed=1, adoption=(names[:2], "2023-01"), units=names,
                       effects={"emergency_admissions": -0.05})
    return Panel.from_frame(sim.data, unit="icb_code", time="month", outcome="emergency_admissions",
                            treatment="treated")


def test_placebo_se_flagged_when_time_weights_interpolate_the_controls():
    """6 controls, 21 pre-periods: the time weights reproduce each control's post-period mean, so
    the placebo replications (warm-started from them, as synthdid's are) fit their placebo-treated
    units and the placebo SE collapses. Outside truth: the 15 possible placebo assignments fitted
    afresh spread 5x wider than that SE or more. The fit warns and carries a high inference flag."""
    from itertools import combinations

    from evalint.inference.specs import Jackknife

    panel = _few_controls(8, "2021-04")
    with pytest.warns(DiagnosticWarning, match="time weights reproduce every comparison unit"):
        res = synthetic_did(panel, calendar=False)
    assert any(f.source == "placebo_interpolation" and f.severity == "high" for f in res.flags)
    se = res.to_frame()["std_error"].iloc[0]
    controls = [u for u in panel.units if u not in set(panel.timing.treated_units)]
    data = panel.data.loc[panel.data["icb_code"].isin(controls)]
    post = data["month"] >= pd.Period("2023-01", "M")
    fresh = []
    for pair in combinations(controls, 2):
        d = data.assign(treated=(data["icb_code"].isin(pair) & post).astype(int))
        p = Panel.from_frame(d, unit="icb_code", time="month", outcome="emergency_admissions", treatment="treated")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh.append(synthetic_did(p, calendar=False, inference=Jackknife()).to_frame()["estimate"].iloc[0])
    assert len(fresh) == 15 and np.std(fresh, ddof=1) > 5 * se  # 78 vs 9.5 here
    # replicates fitted afresh (uniform start): the placebo SE is of the fresh refits' size, no flag
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=DiagnosticWarning)
        cold = synthetic_did(panel, calendar=False, replicate_start="uniform")
    cold_se = cold.to_frame()["std_error"].iloc[0]
    assert 0.5 < cold_se / np.std(fresh, ddof=1) < 2
    assert not any(f.source == "placebo_interpolation" for f in cold.flags)
    with pytest.raises(SpecificationError, match="replicate_start='cold' is not supported"):
        synthetic_did(panel, calendar=False, replicate_start="cold")


def test_placebo_se_not_flagged_with_many_controls():
    """40 controls for 18 pre-periods (the demo's design): no flag."""
    panel = _few_controls(42, "2021-07")
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=DiagnosticWarning)
        res = synthetic_did(panel, calendar=False)
    assert not any(f.source == "placebo_interpolation" for f in res.flags)
