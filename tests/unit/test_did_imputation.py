"""Imputation estimator (Borusyak, Jaravel & Spiess 2024).

Numbers asserted here come from closed forms computed in the test with pandas/numpy
(noise-free panels; a single post period where imputation reduces to a DiD against the
mean of all pre-periods) or from simulations with a known truth (bias and coverage).
Peer cross-checks (diff-diff, pyfixest) are in test_did_a2_peers.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.data.panel import Panel
from evalint.errors import (
    DroppedRowsWarning,
    EvalintError,
    FewClustersWarning,
    SpecificationError,
    UnbalancedPanelWarning,
)
from evalint.estimators.did.imputation.estimator import ImputationDiD, imputation_did
from evalint.estimators.did.staggered import example_staggered_panel


def _frame(seed=0, starts=(3, 5), n_per=5, n_never=6, T=8, effect=lambda g, e: 1.0 + 0.5 * e, noise=0.4):
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2020-01", periods=T, freq="M")
    b = rng.normal(0, 1, T)
    rows = []
    coh = [s for s in starts for _ in range(n_per)] + [-1] * n_never
    for i, g in enumerate(coh):
        a = rng.normal(0, 1)
        for t in range(T):
            tau = effect(g, t - g) if g >= 0 and t >= g else 0.0
            rows.append({"unit": f"u{i:02d}", "month": periods[t], "y": a + b[t] + tau + rng.normal(0, noise),
                         "cohort": periods[g] if g >= 0 else None, "g": g, "t": t})
    return pd.DataFrame(rows)


def _panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort", **kw)


def test_noise_free_additive_panel_recovers_every_effect_exactly():
    df = _frame(noise=0.0)
    r = imputation_did(_panel(df), calendar=False)
    treated = df[(df.g >= 0) & (df.t >= df.g)]
    truth = (1.0 + 0.5 * (treated.t - treated.g)).mean()
    assert r.estimate == pytest.approx(truth, abs=1e-10)
    for _, row in r.effects[r.effects.kind == "imputation"].iterrows():
        assert row.estimate == pytest.approx(1.0 + 0.5 * row.rel_time, abs=1e-10)


def test_single_post_period_equals_did_against_mean_of_pre_periods():
    # one cohort treated in the last period only: tau_hat = mean_i[(Y_iT - mean_pre Y_i)]
    # - mean_never[(Y_jT - mean_pre Y_j)]  (closed form of the imputation estimator)
    df = _frame(seed=4, starts=(7,), n_per=6, n_never=7, T=8)
    r = imputation_did(_panel(df), calendar=False)
    w = df.pivot(index="unit", columns="t", values="y")
    change = w[7] - w.loc[:, :6].mean(axis=1)
    g = df.groupby("unit")["g"].first()
    expected = change[g == 7].mean() - change[g < 0].mean()
    assert r.estimate == pytest.approx(expected, abs=1e-10)


def test_affine_outcome_transform_scales_estimate_and_se():
    df = _frame(seed=2)
    r1 = imputation_did(_panel(df), calendar=False)
    df2 = df.assign(y=3.0 * df.y - 7.0)
    r2 = imputation_did(_panel(df2), calendar=False)
    assert r2.estimate == pytest.approx(3 * r1.estimate, rel=1e-10)
    assert r2.se == pytest.approx(3 * r1.se, rel=1e-8)


def test_influence_sums_to_variance_and_overall_is_cell_weighted_mean_of_horizons():
    r = imputation_did(example_staggered_panel(seed=7), calendar=False)
    assert np.sum(r.influence ** 2) == pytest.approx(r.se ** 2, rel=1e-12)
    eff = r.effects[r.effects.rel_time >= 0]
    assert np.average(eff.estimate, weights=eff.n_cells) == pytest.approx(r.estimate, abs=1e-10)
    assert r.info["reference_period"].startswith("none")
    # per-cohort ATTs: cell-weighted means of the imputed effects; the cells add up
    cells = r.tables["imputed_effects"]
    assert cells.loc[cells.rel_time >= 0, "tau_hat"].mean() == pytest.approx(r.estimate, abs=1e-12)
    coh = r.effects[r.effects.kind == "cohort"]
    assert np.average(coh.estimate, weights=coh.n_cells) == pytest.approx(r.estimate, abs=1e-10)
    assert r.plot_kind == "event_study"


def test_leave_one_out_changes_only_the_variance_and_enlarges_it():
    # BJS App. A.9: leaving each unit out of its own tau_tilde removes the over-fit of the
    # auxiliary averages, so the variance grows; the point estimate is untouched
    p = example_staggered_panel(seed=11)
    plain = ImputationDiD(leave_one_out=False).fit(p, calendar=False)
    loo = ImputationDiD(leave_one_out=True).fit(p, calendar=False)
    assert loo.estimate == plain.estimate
    assert loo.se > plain.se


def test_anticipation_excludes_cells_from_the_fit_and_reports_them():
    df = _frame(seed=3, noise=0.0, effect=lambda g, e: 2.0)
    # an anticipation effect one period before adoption
    df.loc[(df.g >= 0) & (df.t == df.g - 1), "y"] += 0.7
    naive = imputation_did(_panel(df), calendar=False)
    ant = imputation_did(_panel(df), anticipation=1, calendar=False)
    assert ant.estimate == pytest.approx(2.0, abs=1e-10)
    assert naive.estimate != pytest.approx(2.0, abs=1e-3)
    row = ant.effects.set_index("rel_time").loc[-1.0]
    assert row.estimate == pytest.approx(0.7, abs=1e-10) and row.kind == "anticipation"


def test_time_varying_covariate_is_used_and_time_invariant_one_refused():
    rng = np.random.default_rng(5)
    df = _frame(seed=5, noise=0.0, effect=lambda g, e: 1.5)
    df["x"] = rng.normal(size=len(df))
    df["y"] = df["y"] + 2.0 * df["x"]
    r = imputation_did(_panel(df, covariates=["x"]), calendar=False)
    assert r.estimate == pytest.approx(1.5, abs=1e-10)
    assert r.coefficients.set_index("term").loc["x", "estimate"] == pytest.approx(2.0, abs=1e-10)
    assert "time-varying" in r.info["covariates"]
    df["z"] = df.groupby("unit")["x"].transform("mean")
    with pytest.raises(SpecificationError, match="'z'.*absorbed by the unit fixed effects"):
        imputation_did(_panel(df, covariates=["x", "z"]), calendar=False)


def test_no_never_treated_drops_unimputable_cells_with_a_count():
    df = _frame(seed=6, starts=(3, 5), n_never=0)
    # the last cohort adopts in period 5: periods 5, 6, 7 have no untreated cell, so all
    # 10 units' cells there (30) cannot be imputed; cohort 3's periods 3-4 remain
    with pytest.warns(DroppedRowsWarning, match=r"^30 treated cell\(s\) cannot be imputed"):
        r = imputation_did(_panel(df), calendar=False)
    assert r.info["treated cells not imputable"] == 30
    assert set(r.effects.rel_time.dropna()) == {0.0, 1.0}
    assert list(r.effects.loc[r.effects.kind == "cohort", "group"]) == ["2020-04"]
    assert any(f.kind == "data" and "cannot be imputed" in f.message for f in r.flags)


def test_all_units_treated_at_once_is_an_error():
    df = _frame(seed=6, starts=(4,), n_never=0)
    with pytest.raises(EvalintError, match="No treated cell can be imputed"), \
            pytest.warns(DroppedRowsWarning, match="20 treated cell"):
        imputation_did(_panel(df), calendar=False)


def test_one_unit_cohort_warns_that_its_se_is_not_identified():
    df = _frame(seed=8, starts=(3, 5), n_per=1)
    df = df[~((df.g == 3) & (df.unit != "u00"))]
    with pytest.warns(FewClustersWarning, match="single unit"):
        r = imputation_did(_panel(df), calendar=False)
    assert any(f.kind == "inference" and "not identified" in f.message for f in r.flags)


def test_unbalanced_panel_uses_observed_cells_with_counted_warning():
    df = _frame(seed=9)
    # Panel forbids interior gaps, so remove first/last periods of some units
    dfu = df[~((df.unit.isin(["u00", "u07"])) & (df.t == 0)) & ~((df.unit == "u12") & (df.t == 7))]
    with pytest.warns(UnbalancedPanelWarning, match=r"3 missing unit-period cell"):
        r = imputation_did(_panel(dfu), calendar=False)
    assert "unbalanced" in r.info["unbalanced panel"]
    assert np.isfinite(r.estimate) and np.isfinite(r.se)


def test_panel_without_timing_and_bad_options_raise():
    df = _frame()
    p = Panel.from_frame(df, unit="unit", time="month", outcome="y")
    with pytest.raises(SpecificationError, match="treatment timing"):
        imputation_did(p, calendar=False)
    with pytest.raises(SpecificationError):
        ImputationDiD(aux_partition="unit")
    with pytest.raises(SpecificationError):
        ImputationDiD(anticipation=-1)
    from evalint.inference.specs import Clustered

    with pytest.raises(SpecificationError, match="Theorem 3"):
        ImputationDiD().fit(_panel(df), inference=Clustered(kind="CR2"), calendar=False)


def test_pretrend_test_has_nominal_size_and_power():
    # BJS Test 1 under parallel trends (size) and with a linear pre-trend for treated units
    rej_null, rej_alt = 0, 0
    reps = 60
    for s in range(reps):
        df = _frame(seed=100 + s, starts=(4, 6), n_per=8, n_never=10, T=9)
        r = ImputationDiD(pretrends=3, pretrend_test="wald").fit(_panel(df), calendar=False)
        chk = next(d for d in r.diagnostics if d.name == "bjs_pretrend_test")
        rej_null += chk.p_value < 0.05
        df2 = df.copy()
        lead = (df2.g >= 0) & (df2.t < df2.g)
        df2.loc[lead, "y"] += 0.5 * (df2.t - df2.g)[lead]
        r2 = ImputationDiD(pretrends=3, pretrend_test="wald").fit(_panel(df2), calendar=False)
        chk2 = next(d for d in r2.diagnostics if d.name == "bjs_pretrend_test")
        rej_alt += chk2.p_value < 0.05
    # size: binomial(60, 0.05) upper 99.9% quantile
    assert rej_null <= stats.binom.ppf(0.999, reps, 0.05)
    assert rej_alt >= 0.8 * reps
    assert set(r.effects.loc[r.effects.kind == "pretrend", "rel_time"]) == {-1.0, -2.0, -3.0}


def _staggered_truth(effect, starts=(4, 7, 9), n_per=6, T=12):
    return float(np.mean([effect(g, e) for g in starts for _ in range(n_per) for e in range(T - g)]))


def test_simulation_unbiased_with_nominal_coverage_while_twfe_is_biased():
    # dynamic heterogeneous effects growing with time since adoption: TWFE puts weight on
    # comparisons with already-treated controls and is biased down (Goodman-Bacon 2021)
    from evalint.estimators.did.bacon import BaconDecomposition

    effect = lambda g, e: 0.5 + 0.4 * e
    truth = _staggered_truth(effect)
    est, cover, twfe = [], [], []
    reps = 100
    for s in range(reps):
        p = example_staggered_panel(seed=2000 + s, effect=effect)
        r = ImputationDiD().fit(p, calendar=False)
        est.append(r.estimate)
        cover.append(r.ci[0] <= truth <= r.ci[1])
        if s < 40:
            twfe.append(BaconDecomposition().fit(p, calendar=False).estimate)
    est = np.array(est)
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - truth) < 3 * mc_se
    lo, hi = stats.binom.ppf([0.001, 0.999], reps, 0.95)
    assert lo <= sum(cover) <= hi
    twfe = np.array(twfe)
    assert twfe.mean() - truth < -10 * twfe.std(ddof=1) / np.sqrt(len(twfe))


@pytest.mark.slow
def test_simulation_coverage_large():
    effect = lambda g, e: 0.5 + 0.4 * e if g != 9 else 2.0 - 0.1 * e
    truth = _staggered_truth(effect)
    reps = 1000
    cover = 0
    for s in range(reps):
        r = ImputationDiD().fit(example_staggered_panel(seed=5000 + s, effect=effect), calendar=False)
        cover += r.ci[0] <= truth <= r.ci[1]
    lo, hi = stats.binom.ppf([0.001, 0.999], reps, 0.95)
    assert lo <= cover <= hi


def test_summary_and_plot_render():
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ImputationDiD(pretrends=2).fit(example_staggered_panel(seed=1), calendar=False)
    text = str(r.summary())
    assert "reference_period" in text and "BJS (2024) Test 1" in text
    fig = r.plot()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_collinear_covariates_are_refused():
    rng = np.random.default_rng(12)
    df = _frame(seed=12)
    df["x"] = rng.normal(size=len(df))
    df["x2"] = 2 * df["x"] + 1
    with pytest.raises(SpecificationError, match="rank deficient"):
        imputation_did(_panel(df, covariates=["x", "x2"]), calendar=False)


def test_ics_waves_on_simulated_icbs_recovers_truth_and_raises_calendar_flags():
    # the 42 ICBs adopting in their ICS waves (2017-2021), no never-treated ICB; length of
    # stay falls by 0.1 day per month since go-live up to -0.4 (known truth from simulate_nhs)
    from evalint.datasets import simulate_nhs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_nhs(seed=1, adoption="ics_waves", covid=False,
                           effects={"length_of_stay": {"path": [0.0, -0.1, -0.2, -0.3, -0.4]}})
    panel = sim.panel.with_outcome("length_of_stay")
    with pytest.warns(DroppedRowsWarning, match="cannot be imputed"):
        r = imputation_did(panel)  # default policy calendar
    t = sim.truth
    last = panel.timing.cohorts[-1]
    truth = t.loc[(t.outcome == "length_of_stay") & (t.treated == 1) & (t.month < last), "effect"].mean()
    assert abs(r.estimate - truth) < 4 * r.se
    assert any(d.name == "policy_calendar" for d in r.diagnostics)
    assert any(f.kind == "confounding" for f in r.flags)
