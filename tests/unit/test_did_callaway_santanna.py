"""Callaway-Sant'Anna: closed-form checks, known-truth simulation, invariances and bad input.

Every asserted number is computed here independently (pandas group means, numpy least
squares, closed-form variances) or is a simulation truth; peer-package and published
checks live in tests/unit/test_cs_peers.py and tests/replication/test_mpdta.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.data.panel import Panel
from evalint.errors import (
    DiagnosticWarning,
    DroppedRowsWarning,
    EvalintError,
    InferenceError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
    UnbalancedPanelWarning,
)
from evalint.estimators.did.cs.aggregate import aggregate_att, aggregate_cells
from evalint.estimators.did.cs.estimator import CallawaySantAnna, callaway_santanna
from evalint.inference import Analytic, Clustered, MultiplierBootstrap
from evalint.inference.multiplier import cluster_codes, influence_se, multiplier_bootstrap

AN = Analytic()


def simulate(n_units=60, years=range(2010, 2018), cohorts=(2013, 2015), shares=(0.3, 0.3), effect=1.0,
             noise=0.3, seed=0, dynamic=0.0, x_effect=0.0):
    """Staggered panel: y = a_i + 0.1 t + x_effect * x_i * t + effect(+dynamic*e) after adoption + noise."""
    rng = np.random.default_rng(seed)
    years = np.array(list(years))
    u = np.arange(n_units)
    cut = np.cumsum(np.array(shares) * n_units).astype(int)
    cohort = np.zeros(n_units, dtype=int)
    lo = 0
    for c, hi in zip(cohorts, cut):
        cohort[lo:hi] = c
        lo = hi
    x = rng.normal(size=n_units)
    a = rng.normal(size=n_units)
    uu, tt = np.meshgrid(u, years, indexing="ij")
    g = cohort[uu]
    post = (g > 0) & (tt >= g)
    y = (a[uu] + 0.1 * (tt - years[0]) + x_effect * x[uu] * (tt - years[0])
         + post * (effect + dynamic * (tt - g)) + rng.normal(0, noise, uu.shape))
    return pd.DataFrame({"unit": uu.ravel(), "year": tt.ravel(), "y": y.ravel(), "cohort": g.ravel(),
                         "x": x[uu].ravel()})


def panel_of(df, covariates=()):
    return Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", covariates=list(covariates))


def manual_att(df, g, t, base, control="never"):
    """ATT(g,t) by pandas group means of y_t - y_base (independent of evalint)."""
    wide = df.pivot(index="unit", columns="year", values="y")
    coh = df.groupby("unit")["cohort"].first()
    dy = wide[t] - wide[base]
    treated = coh == g
    if control == "never":
        ctrl = coh == 0
    else:
        ctrl = (coh == 0) | ((coh > max(t, base)) & (coh != g))
    return dy[treated].mean() - dy[ctrl].mean(), dy[treated], dy[ctrl]


# ----------------------------------------------------------------------------- closed forms
def test_att_gt_equals_difference_of_group_means_with_varying_base():
    df = simulate()
    res = callaway_santanna(panel_of(df), inference=AN, calendar=False)
    tab = res.tables["att_gt"]
    assert len(tab) == 2 * 7
    for _, row in tab.iterrows():
        g, t = int(row["group"]), int(row["time"])
        base = g - 1 if t >= g else t - 1
        att, dyt, dyc = manual_att(df, g, t, base)
        assert row["estimate"] == pytest.approx(att, abs=1e-12)
        # analytic SE = sqrt(var_G/n_G + var_C/n_C) with 1/n variances (R did's IF-based SE)
        se = np.sqrt(dyt.var(ddof=0) / len(dyt) + dyc.var(ddof=0) / len(dyc))
        assert row["std_error"] == pytest.approx(se, rel=1e-10)
        assert row["base_period"] == str(base)


def test_universal_base_and_anticipation_use_long_differences():
    df = simulate(seed=1)
    res = callaway_santanna(panel_of(df), inference=AN, calendar=False, base_period="universal", anticipation=1)
    tab = res.tables["att_gt"].set_index("term")
    for g in (2013, 2015):
        base = g - 2  # g - 1 - anticipation
        assert tab.loc[f"ATT({g},{base})", "estimate"] == 0.0
        assert np.isnan(tab.loc[f"ATT({g},{base})", "std_error"])
        for t in (2010, 2012, 2016):
            if t == base:
                continue
            att, _, _ = manual_att(df, g, t, base)
            assert tab.loc[f"ATT({g},{t})", "estimate"] == pytest.approx(att, abs=1e-12)


def test_not_yet_treated_comparison_group():
    df = simulate(seed=2)
    res = callaway_santanna(panel_of(df), control="not_yet_treated", inference=AN, calendar=False)
    tab = res.tables["att_gt"].set_index("term")
    for g, t in [(2013, 2013), (2013, 2014), (2013, 2016), (2015, 2012)]:
        base = g - 1 if t >= g else t - 1
        att, _, dyc = manual_att(df, g, t, base, control="nyt")
        assert tab.loc[f"ATT({g},{t})", "estimate"] == pytest.approx(att, abs=1e-12)
        assert tab.loc[f"ATT({g},{t})", "n_control"] == len(dyc)


def test_outcome_regression_with_covariate_matches_least_squares():
    df = simulate(seed=3, x_effect=0.5)
    res = callaway_santanna(panel_of(df, ["x"]), estimation="reg", inference=AN, calendar=False)
    tab = res.tables["att_gt"].set_index("term")
    wide = df.pivot(index="unit", columns="year", values="y")
    coh = df.groupby("unit")["cohort"].first()
    x = df.groupby("unit")["x"].first()
    dy = wide[2016] - wide[2014]
    X = np.column_stack([np.ones(len(x)), x])
    c = (coh == 0).to_numpy()
    beta = np.linalg.lstsq(X[c], dy.to_numpy()[c], rcond=None)[0]
    tr = (coh == 2015).to_numpy()
    expected = dy.to_numpy()[tr].mean() - (X[tr] @ beta).mean()
    assert tab.loc["ATT(2015,2016)", "estimate"] == pytest.approx(expected, abs=1e-10)


def test_dr_ipw_reg_recover_truth_with_covariate_driven_trends():
    # trends depend on x and x differs by cohort only through noise; all three estimators are
    # consistent; with noise 0 and effect 1 every post ATT(g,t) equals 1 up to the x-trend fit
    df = simulate(n_units=400, seed=4, x_effect=0.5, noise=0.0, effect=1.0)
    for method in ("reg", "ipw", "dr"):
        res = callaway_santanna(panel_of(df, ["x"]), estimation=method, inference=AN, calendar=False)
        post = res.tables["att_gt"].query("rel_time >= 0")
        if method == "ipw":  # IPW balances x only in expectation
            assert np.allclose(post["estimate"], 1.0, atol=0.15)
        else:  # linear x-trend is modelled exactly
            assert np.allclose(post["estimate"], 1.0, atol=1e-8)


def test_aggregations_closed_form_weights():
    df = simulate(seed=5, dynamic=0.2)
    res = callaway_santanna(panel_of(df), inference=AN, calendar=False)
    tab = res.tables["att_gt"]
    tab = tab.assign(g=tab["group"].astype(int), t=tab["time"].astype(int))
    sizes = df.groupby("unit")["cohort"].first().value_counts()
    post = tab[tab.t >= tab.g]
    w = post.g.map(sizes)
    assert res.estimate == pytest.approx((post.estimate * w).sum() / w.sum(), abs=1e-12)
    grp = aggregate_att(res, "group")
    by_g = post.groupby("g")["estimate"].mean()
    assert grp.effects["estimate"].to_numpy() == pytest.approx(by_g.to_numpy(), abs=1e-12)
    sz = by_g.index.map(sizes).to_numpy(dtype=float)
    assert grp.estimate == pytest.approx((by_g.to_numpy() * sz).sum() / sz.sum(), abs=1e-12)
    dyn = aggregate_att(res, "dynamic", min_e=-2, max_e=2)
    assert list(dyn.effects["rel_time"]) == [-2, -1, 0, 1, 2]
    e1 = tab[tab.t - tab.g == 1]
    w1 = e1.g.map(sizes)
    assert dyn.effects.set_index("rel_time").loc[1.0, "estimate"] == pytest.approx(
        (e1.estimate * w1).sum() / w1.sum(), abs=1e-12)
    assert dyn.plot_kind == "event_study"
    cal = aggregate_att(res, "calendar")
    assert cal.estimate == pytest.approx(cal.effects["estimate"].mean(), abs=1e-12)
    bal = aggregate_att(res, "dynamic", balance_e=2)
    assert bal.effects["rel_time"].max() == 2


def test_reaggregation_equals_refit_and_keeps_influence():
    df = simulate(seed=6)
    p = panel_of(df)
    a = callaway_santanna(p, inference=AN, calendar=False)
    b = callaway_santanna(p, inference=AN, calendar=False, aggregation="dynamic")
    c = aggregate_att(a, "dynamic")
    assert c.estimate == pytest.approx(b.estimate, abs=1e-14) and c.se == pytest.approx(b.se, abs=1e-14)
    assert a.influence.shape == (60, len(a.tables["att_gt"]))
    assert list(a.influence_index) == list(p.units)
    # influence functions reproduce the analytic SEs of the table
    assert influence_se(a.influence) == pytest.approx(a.tables["att_gt"]["std_error"].to_numpy(), nan_ok=True)


def test_simple_aggregate_se_includes_weight_estimation_term():
    df = simulate(seed=7, dynamic=0.5)
    res = callaway_santanna(panel_of(df), inference=AN, calendar=False)
    cells = res.state.cells
    agg = aggregate_cells(cells, "simple")
    post = cells.time >= cells.group
    sizes = np.array([np.sum(cells.unit_cohort == g) for g in cells.group[post]], dtype=float)
    naive = cells.influence[:, post] @ (sizes / sizes.sum())
    # with heterogeneous effects across cohorts the weight term is not zero
    assert not np.allclose(agg.overall_influence, naive)
    assert np.mean(agg.overall_influence) == pytest.approx(0.0, abs=1e-10)


# ----------------------------------------------------------------------------- invariances
def test_unit_permutation_and_affine_outcome_invariance():
    df = simulate(seed=8)
    base = callaway_santanna(panel_of(df), inference=AN, calendar=False)
    rng = np.random.default_rng(0)
    relabel = dict(zip(range(60), rng.permutation(60) + 1000))
    perm = df.assign(unit=df["unit"].map(relabel)).sample(frac=1, random_state=1)
    r2 = callaway_santanna(panel_of(perm), inference=AN, calendar=False)
    assert r2.estimate == pytest.approx(base.estimate, abs=1e-12) and r2.se == pytest.approx(base.se, rel=1e-10)
    r3 = callaway_santanna(panel_of(df.assign(y=-3 * df["y"] + 7)), inference=AN, calendar=False)
    assert r3.estimate == pytest.approx(-3 * base.estimate, abs=1e-10)
    assert r3.se == pytest.approx(3 * base.se, rel=1e-10)


# ----------------------------------------------------------------------------- inference
def test_bootstrap_is_seeded_and_close_to_analytic():
    df = simulate(n_units=300, seed=9)
    p = panel_of(df)
    a = callaway_santanna(p, calendar=False, inference=MultiplierBootstrap(reps=4000, seed=5), aggregation="dynamic")
    b = callaway_santanna(p, calendar=False, inference=MultiplierBootstrap(reps=4000, seed=5), aggregation="dynamic")
    assert a.se == b.se and a.effects["band_low"].equals(b.effects["band_low"])
    an = aggregate_att(callaway_santanna(p, calendar=False, inference=AN), "dynamic")
    assert a.se == pytest.approx(an.se, rel=0.06)
    # sup-t critical value of the simultaneous band: above the pointwise 1.96 and at most the
    # Bonferroni value for the K event times (plus Monte Carlo slack for 4,000 draws)
    crit = a.info["critical_value_band"]
    k = len(a.effects)
    assert stats.norm.ppf(0.975) < crit <= stats.norm.ppf(1 - 0.025 / k) + 0.05
    width = a.effects["band_high"] - a.effects["band_low"]
    assert np.all(width > a.effects["conf_high"] - a.effects["conf_low"])


@pytest.mark.parametrize("weights", ["rademacher", "mammen"])
def test_multiplier_bootstrap_se_converges_to_influence_se(weights):
    rng = np.random.default_rng(0)
    psi = rng.standard_normal((500, 3)) * [1.0, 2.0, 0.5]
    bd = multiplier_bootstrap(psi, reps=20000, seed=1, weights=weights)
    assert bd.se == pytest.approx(influence_se(psi), rel=0.03)
    # sup-t over 3 independent normals: P(max|Z| <= c) = 0.95 -> c = Phi^-1((1+0.95^(1/3))/2) = 2.387
    assert bd.crit_value == pytest.approx(2.387, abs=0.06)


def test_clustered_influence_se_closed_form():
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(40)
    codes, g = cluster_codes(np.repeat(np.arange(8), 5), 40)
    sums = psi.reshape(8, 5).sum(axis=1)
    assert g == 8
    assert influence_se(psi, codes) == pytest.approx(np.sqrt((sums**2).sum()) / 40, rel=1e-12)


def test_coverage_of_analytic_interval_simulated_truth():
    # 150 replications, true simple ATT = 1: the 95% interval should cover ~95% (binomial sd 1.8%)
    cover = 0
    for s in range(150):
        df = simulate(n_units=80, seed=100 + s, noise=0.5)
        r = callaway_santanna(panel_of(df), inference=AN, calendar=False)
        cover += r.ci[0] <= 1.0 <= r.ci[1]
    assert 0.89 <= cover / 150 <= 0.99


def test_clustered_inference_and_few_clusters():
    df = simulate(n_units=60, seed=10)
    df["region"] = df["unit"] % 12
    with pytest.raises(InferenceError, match="not in the panel"):
        callaway_santanna(panel_of(df), calendar=False, inference=Clustered(by="region"))
    p = panel_of(df, ["region"])  # declared so the Panel keeps it; used for clustering only
    with pytest.warns(Warning, match="12 clusters"):
        r = callaway_santanna(p, calendar=False, inference=Clustered(by="region"))
    assert r.inference.clusters == 12 and r.provenance.spec["covariates"] == []
    assert r.estimate == pytest.approx(callaway_santanna(p, covariates=(), inference=AN, calendar=False).estimate)
    with pytest.warns(Warning, match="12 clusters"):
        rb = callaway_santanna(p, calendar=False, inference=MultiplierBootstrap(reps=999, cluster="region"))
    assert rb.se == pytest.approx(r.se, rel=0.25)
    df["one"] = 1
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        callaway_santanna(panel_of(df, ["one"]), calendar=False, inference=Clustered(by="one"))


# ----------------------------------------------------------------------------- what users trip over
def test_time_varying_covariate_is_refused_with_explanation():
    df = simulate(seed=11)
    df["xt"] = df["x"] + 0.1 * (df["year"] - 2010)
    with pytest.raises(SpecificationError, match="varies over time within") as ei:
        callaway_santanna(panel_of(df, ["xt"]), inference=AN, calendar=False)
    assert "base period" in str(ei.value) and "baseline" in str(ei.value)


def test_singleton_cohort_warns_se_not_identified():
    df = simulate(seed=12)
    df.loc[df["unit"] == 59, "cohort"] = 2016
    with pytest.warns(DiagnosticWarning, match="single unit"):
        r = callaway_santanna(panel_of(df), inference=AN, calendar=False)
    assert any(f.source == "singleton_cohort" for f in r.flags)


def test_unbalanced_panel_counted_warning_and_same_answer_as_balanced_subpanel():
    df = simulate(seed=13)
    drop = (df["unit"].isin([3, 40])) & (df["year"] == 2017)
    unb = df.loc[~drop]
    with pytest.warns(UnbalancedPanelWarning, match="2 of 60 unit") as rec:
        r = callaway_santanna(panel_of(unb), inference=AN, calendar=False)
    assert "2 unit-period cell" in str(rec[0].message)
    bal = callaway_santanna(panel_of(df[~df["unit"].isin([3, 40])]), inference=AN, calendar=False)
    assert r.estimate == pytest.approx(bal.estimate, abs=1e-14) and r.se == pytest.approx(bal.se, abs=1e-14)
    with pytest.raises(UnbalancedPanelError):
        callaway_santanna(panel_of(unb), inference=AN, calendar=False, unbalanced="error")


def test_no_never_treated_errors_and_suggests_not_yet_treated():
    df = simulate(seed=14, shares=(0.5, 0.5))
    with pytest.raises(SpecificationError, match="not_yet_treated"):
        callaway_santanna(panel_of(df), inference=AN, calendar=False)
    with pytest.warns(DroppedRowsWarning, match="latest cohort"):
        r = callaway_santanna(panel_of(df), control="not_yet_treated", inference=AN, calendar=False)
    tab = r.tables["att_gt"]
    assert set(tab["group"]) == {"2013"} and tab["time"].max() == "2014"
    att, _, _ = manual_att(df, 2013, 2014, 2012, control="nyt")
    assert tab.set_index("term").loc["ATT(2013,2014)", "estimate"] == pytest.approx(att, abs=1e-12)


def test_all_units_treated_at_once_errors():
    df = simulate(seed=15, cohorts=(2013,), shares=(1.0,))
    for ctrl in ("never_treated", "not_yet_treated"):
        with pytest.raises(SpecificationError, match="comparison"):
            callaway_santanna(panel_of(df), control=ctrl, inference=AN, calendar=False)


def test_treated_in_first_period_dropped_by_panel_then_estimator_errors():
    df = simulate(seed=16, cohorts=(2010,), shares=(0.5,))
    with pytest.warns(DroppedRowsWarning, match="already treated"):
        p = panel_of(df)
    with pytest.raises(TreatmentError, match="No treated units"):
        callaway_santanna(p, inference=AN, calendar=False)


def test_collinear_covariates_error_names_them():
    df = simulate(seed=17)
    df["x2"] = 2 * df["x"] + 1
    with pytest.raises(SpecificationError, match="collinear") as ei:
        callaway_santanna(panel_of(df, ["x", "x2"]), inference=AN, calendar=False)
    assert "'x'" in str(ei.value) and "'x2'" in str(ei.value)


def test_bad_options_are_specification_errors():
    for kw in ({"control": "all"}, {"estimation": "ols"}, {"base_period": "fixed"}, {"anticipation": -1},
               {"aggregation": "total"}, {"min_e": 3, "max_e": 1}):
        with pytest.raises(EvalintError):
            CallawaySantAnna(**kw)
    p = panel_of(simulate())
    with pytest.raises(SpecificationError, match="does not support"):
        callaway_santanna(p, inference=object(), calendar=False)
    with pytest.raises(SpecificationError, match="balance_e"):
        aggregate_att(callaway_santanna(p, inference=AN, calendar=False), "group", balance_e=1)


# ----------------------------------------------------------------------------- result type
def test_result_schema_summary_plot():
    import matplotlib

    matplotlib.use("Agg")
    est, panel, kw = CallawaySantAnna.contract_example()
    r = est.fit(panel, **kw)
    f = r.to_frame()
    assert f.loc[0, "term"] == "ATT (dynamic, e>=0)"
    assert f["band_low"].iloc[1:].notna().all()
    assert "Callaway-Sant'Anna" in str(r.summary())
    assert any(d.name == "pre_trend" for d in r.diagnostics)  # the default (linear trend) check
    import dataclasses

    r = dataclasses.replace(est, pretrend="wald").fit(panel, **kw)
    pre = next(d for d in r.diagnostics if d.name == "pre_trend_wald")
    cells = r.tables["att_gt"]
    # the Wald statistic's df is the number of pre-treatment cells with a variance, and its
    # p-value the chi-squared tail at that df
    n_pre = int(((cells["time"] < cells["group"]) & (cells["std_error"] > 0)).sum())
    assert pre.df == n_pre and pre.p_value == pytest.approx(stats.chi2.sf(pre.statistic, n_pre), rel=1e-12)
    assert any(d.name == "policy_calendar" and d.passed is None for d in r.diagnostics)
    fig = r.plot()
    assert fig is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.data  # input panel untouched
    assert r.estimate == pytest.approx(1.0, abs=0.2)


def test_sampling_weights_give_weighted_means_and_must_be_time_invariant():
    df = simulate(seed=18)
    rng = np.random.default_rng(3)
    wu = pd.Series(rng.uniform(0.5, 3.0, 60))
    df["w"] = df["unit"].map(wu)
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", weights="w")
    r = callaway_santanna(p, weights=True, inference=AN, calendar=False)
    wide = df.pivot(index="unit", columns="year", values="y")
    coh = df.groupby("unit")["cohort"].first()
    dy = wide[2016] - wide[2012]
    t, c = coh == 2013, coh == 0
    expected = np.average(dy[t], weights=wu[t.to_numpy()]) - np.average(dy[c], weights=wu[c.to_numpy()])
    assert r.tables["att_gt"].set_index("term").loc["ATT(2013,2016)", "estimate"] == pytest.approx(expected, abs=1e-12)
    df["w"] = df["w"] + 0.01 * df["year"]
    p2 = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", weights="w")
    with pytest.raises(SpecificationError, match="varies over time"):
        callaway_santanna(p2, weights=True, inference=AN, calendar=False)


def test_aggregate_alias_uses_r_argument_name():
    from evalint.estimators.did.cs.aggregate import aggregate

    r = callaway_santanna(panel_of(simulate(seed=19)), inference=AN, calendar=False)
    assert aggregate(r, type="group").estimate == aggregate_att(r, "group").estimate
    with pytest.raises(SpecificationError, match="Callaway-Sant'Anna result"):
        aggregate_att(r.__class__(**{**r.__dict__, "state": None}), "group")


def test_policy_calendar_check_runs_on_staggered_icb_panel():
    pytest.importorskip("evalint.calendar")
    from evalint.datasets import simulate_nhs

    sim = simulate_nhs(adoption="ics_waves", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = callaway_santanna(sim.panel, outcome="emergency_admissions", control="not_yet_treated", inference=AN,
                              aggregation="dynamic")
    cal = next(d for d in r.diagnostics if d.name == "policy_calendar")
    assert cal.passed is not None
    assert all(f.kind == "confounding" for f in cal.flags)
    assert set(cal.flags) <= set(r.flags)
