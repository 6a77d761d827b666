"""TWFE event study: peers (PanelOLS, pyfixest) with hand-built binned dummies, the averaged
post effect and pre-trend Wald from the peer covariance, reference period reporting, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.data.panel import Panel
from evalint.errors import DroppedRowsWarning, FewClustersWarning, SpecificationError, TreatmentError
from evalint.estimators.did.event_study import EventStudy, event_study
from evalint.inference.specs import Clustered


def sim(seed=0, n_units=60, n_periods=16, cohorts=(5, 8, 11), never=20, effect=1.0, pre_trend=0.0, per_cluster=1):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        g = None if i < never else cohorts[i % len(cohorts)]
        a = rng.normal(0, 2)
        for t in range(n_periods):
            d = g is not None and t >= g
            drift = pre_trend * (t - g) if (g is not None and t < g) else 0.0
            x = rng.normal()
            y = a + 0.3 * t + effect * d + drift + 0.5 * x + rng.normal()
            rows.append((f"u{i:03d}", pd.Period("2018-04", "M") + t, f"c{i // per_cluster:03d}", int(d), x, y))
    return pd.DataFrame(rows, columns=["unit", "month", "cluster", "treated", "x", "y"])


def make_panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated", **kw)


def dummies(df, leads, lags, refs=(-1,), bin_endpoints=True):
    t = df["month"].map(lambda p: p.ordinal)
    g = df.loc[df["treated"] == 1].groupby("unit")["month"].min().map(lambda p: p.ordinal)
    rel = t - df["unit"].map(g)
    if bin_endpoints:
        rel = rel.clip(-leads, lags)
    out = df.copy()
    cols = []
    for e in range(-leads, lags + 1):
        if e in refs:
            continue
        name = f"e{e + 100}"
        out[name] = (rel == e).astype(float)
        if out[name].sum() > 0:
            cols.append(name)
    keep = rel.isna() | ((rel >= -leads) & (rel <= lags))
    return out, cols, keep


def panelols(df, cols, clusters=None):
    from linearmodels import PanelOLS

    d = df.assign(t=df["month"].map(lambda p: p.ordinal)).set_index(["unit", "t"])
    mod = PanelOLS(d["y"], d[cols], entity_effects=True, time_effects=True)
    if clusters is None:
        return mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True)
    return mod.fit(cov_type="clustered", clusters=pd.DataFrame({"c": d[clusters].to_numpy()}, index=d.index),
                   debiased=True, group_debias=True)


@pytest.mark.parametrize("reference", [-1, -2])
def test_coefficients_average_and_pretest_equal_panelols(reference):
    df = sim(1)
    res = event_study(make_panel(df), leads=4, lags=5, reference=reference, inference=Clustered(small_sample="CR1S"),
                      calendar=False, pretrend="wald")
    d, cols, _ = dummies(df, 4, 5, refs=(reference,))
    ref = panelols(d, cols)
    eff = res.effects.set_index("rel_time")
    for c in cols:
        e = float(int(c[1:]) - 100)
        assert eff.loc[e, "estimate"] == pytest.approx(ref.params[c], rel=1e-8, abs=1e-10)
        assert eff.loc[e, "std_error"] == pytest.approx(ref.std_errors[c], rel=1e-8)
    assert eff.loc[float(reference), "estimate"] == 0 and bool(eff.loc[float(reference), "reference"])
    # averaged post-period effect e = 0..lags-1 (the binned >= lags end point left out), SE = sqrt(c'Vc)
    post = [f"e{e + 100}" for e in range(0, 5)]
    cvec = pd.Series(0.0, index=ref.params.index)
    cvec[post] = 1 / len(post)
    assert res.estimate == pytest.approx(float(cvec @ ref.params), rel=1e-8)
    assert res.se == pytest.approx(float(np.sqrt(cvec @ ref.cov @ cvec)), rel=1e-8)
    assert res.inference.df == 59
    # joint pre-trend Wald from the PanelOLS covariance, F(q, G - 1)
    pre = [c for c in cols if int(c[1:]) - 100 < 0]
    b = ref.params[pre].to_numpy()
    v = ref.cov.loc[pre, pre].to_numpy()
    f = float(b @ np.linalg.solve(v, b)) / len(pre)
    check = next(dg for dg in res.diagnostics if dg.name == "pre_trend_wald")
    assert check.statistic == pytest.approx(f, rel=1e-8)
    assert check.p_value == pytest.approx(stats.f.sf(f, len(pre), 59), rel=1e-8)
    assert res.info["reference_period"] == reference
    assert f"relative to period {reference} (reference)" in str(res.summary())


@pytest.mark.peers
def test_equals_pyfixest_with_coarse_clusters():
    pf = pytest.importorskip("pyfixest", reason="pyfixest (peers extra) not installed")
    df = sim(2, per_cluster=2)
    clusters = df.groupby("unit")["cluster"].first()
    res = event_study(make_panel(df, covariates=["x"]), leads=3, lags=4,
                      inference=Clustered(by="cluster", small_sample="CR1S"), clusters=clusters, calendar=False)
    d, cols, _ = dummies(df, 3, 4)
    d["t"] = d["month"].map(lambda p: p.ordinal)
    m = pf.feols("y ~ " + " + ".join(cols) + " + x | unit + t", data=d, vcov={"CRV1": "cluster"},
                 ssc=pf.ssc(k_adj=True, k_fixef="full", G_adj=True))
    got = res.coefficients.set_index("term")
    for c in cols:
        name = f"rel_{int(c[1:]) - 100}"
        assert got.loc[name, "estimate"] == pytest.approx(m.coef()[c], rel=1e-8, abs=1e-10)
        assert got.loc[name, "std_error"] == pytest.approx(m.se()[c], rel=1e-6)
    assert got.loc["x", "estimate"] == pytest.approx(m.coef()["x"], rel=1e-8)


def test_drop_instead_of_bin_warns_and_equals_panelols_on_kept_rows():
    df = sim(3)
    with pytest.warns(DroppedRowsWarning, match=r"Dropped \d+ row"):
        res = event_study(make_panel(df), leads=2, lags=2, bin_endpoints=False,
                          inference=Clustered(small_sample="CR1S"), calendar=False)
    d, cols, keep = dummies(df, 2, 2, bin_endpoints=False)
    ref = panelols(d.loc[keep].reset_index(drop=True), cols)
    eff = res.effects.set_index("rel_time")
    for c in cols:
        assert eff.loc[float(int(c[1:]) - 100), "estimate"] == pytest.approx(ref.params[c], rel=1e-8, abs=1e-10)
    assert res.n_obs == int(keep.sum())
    # unbinned: the headline averages 0..lags
    assert res.info["averaged_event_times"] == (0, 2)


def test_pretrend_test_detects_a_violation_and_flags_it():
    df = sim(4, pre_trend=0.4)
    res = event_study(make_panel(df), leads=4, lags=3, inference=Clustered(small_sample="CR1S"), calendar=False,
                      pretrend="wald")
    check = next(dg for dg in res.diagnostics if dg.name == "pre_trend_wald")
    assert check.passed is False and check.p_value < 0.001
    assert any(f.source == "pre_trend_wald" and f.severity == "high" for f in res.flags)



def test_pretrend_test_size_under_parallel_trends():
    """No pre-trend: over 60 simulated panels the 5% Wald test rejects no more often than the
    99.9% quantile of Binomial(60, 0.05) allows (9 of 60)."""
    p_values = []
    for seed in range(100, 160):
        res = event_study(make_panel(sim(seed)), leads=4, lags=3, inference=Clustered(small_sample="CR1S"),
                          calendar=False, pretrend="wald")
        p_values.append(next(dg for dg in res.diagnostics if dg.name == "pre_trend_wald").p_value)
    p_values = np.asarray(p_values)
    assert np.all((p_values >= 0) & (p_values <= 1))
    assert np.sum(p_values < 0.05) <= stats.binom.ppf(0.999, 60, 0.05)


def test_cr2_and_wild_bootstrap_for_the_average():
    df = sim(6, n_units=36, never=12, per_cluster=2)  # 18 clusters
    clusters = df.groupby("unit")["cluster"].first()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        cr2 = event_study(make_panel(df), leads=3, lags=3, inference=Clustered(by="cluster", kind="CR2"),
                          clusters=clusters, calendar=False)
        wild = event_study(make_panel(df), leads=3, lags=3, clusters=clusters, calendar=False)
    # CR2 SE and Satterthwaite df of the averaged post contrast against the brute-force
    # dummy-variable computation (N x N hat matrix, Bell-McCaffrey adjustment per cluster)
    from test_inference_cluster import _brute_cr2

    d, cols, keep = dummies(df, 3, 3)
    d = d.loc[keep].assign(month_code=lambda x: x["month"].astype(str))
    lo_e, hi_e = cr2.info["averaged_event_times"]
    post = [c for c in cols if lo_e <= int(c[1:]) - 100 <= hi_e]
    contrast = [1.0 / len(post) if c in post else 0.0 for c in cols]
    se_brute, df_brute = _brute_cr2(d, cols, ["unit", "month_code"], d["cluster"].to_numpy(), contrasts=[contrast])
    assert cr2.inference.df == pytest.approx(df_brute[-1], rel=1e-6)
    eff = cr2.effects.set_index("rel_time")
    for c, se in zip(cols, se_brute):
        assert eff.loc[float(int(c[1:]) - 100), "std_error"] == pytest.approx(se, rel=1e-6)
    assert wild.inference.name == "WildClusterBootstrap" and wild.inference.reps == 9999
    lo, hi = wild.ci
    assert lo < wild.estimate < hi


def test_plot_and_tidy_frame():
    import matplotlib

    matplotlib.use("Agg")
    res = event_study(make_panel(sim(7)), leads=3, lags=3, inference=Clustered(small_sample="CR1S"), calendar=False)
    fig = res.plot()
    assert "reference: -1" in fig.axes[0].get_xlabel()
    frame = res.to_frame()
    assert frame.loc[0, "term"] == "avg_post" and frame["rel_time"].notna().sum() == 7


def test_bad_input():
    with pytest.raises(SpecificationError, match="reference"):
        EventStudy(leads=3, lags=3, reference=-5)
    with pytest.raises(SpecificationError, match="leads"):
        EventStudy(leads=0)
    with pytest.raises(SpecificationError, match="average_post"):
        EventStudy(leads=3, lags=3, average_post=(2, 5))
    with pytest.raises(TreatmentError, match="every unit is treated at once"):
        event_study(make_panel(sim(8, cohorts=(6,), never=0)), leads=3, lags=3, calendar=False)
    with pytest.raises(SpecificationError, match="post-period"):
        event_study(make_panel(sim(9, cohorts=(15,))), leads=2, lags=3, average_post=(2, 3), calendar=False)
