"""TWFE / 2x2 DiD and the dose form: peers (linearmodels PanelOLS, pyfixest), closed forms,
simulations with a known truth, and every bad input the issue lists."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import (
    ColumnNotFoundError, DroppedRowsWarning, FewClustersWarning, InferenceError, SpecificationError, TreatmentError,
    UnbalancedPanelWarning,
)
from evalint.estimators.did.dose import DoseResponse, dose_response
from evalint.estimators.did.twfe import TWFE, twfe
from evalint.inference.specs import Clustered, NeweyWest, WildClusterBootstrap


def sim(seed=0, n_units=60, n_periods=12, cohorts=(4, 7, 9), never=20, effect=1.0, dynamic=0.0, per_cluster=1,
        start="2019-01"):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        g = None if i < never else cohorts[i % len(cohorts)]
        a = rng.normal(0, 2)
        dose = 0.0 if g is None else float(rng.uniform(1, 4))
        for t in range(n_periods):
            d = g is not None and t >= g
            e = (t - g) if d else 0
            x = rng.normal() + 0.05 * t
            y = a + 0.3 * t + (effect + dynamic * e) * d + 0.8 * x + rng.normal()
            rows.append((f"u{i:03d}", pd.Period(start, "M") + t, f"c{i // per_cluster:03d}", int(d), x, y, dose,
                         float(rng.integers(5_000, 20_000))))
    return pd.DataFrame(rows, columns=["unit", "month", "cluster", "treated", "x", "y", "dose", "pop"])


def make_panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated", **kw)


def panelols(df, cols, weights=None):
    from linearmodels import PanelOLS

    d = df.assign(t=df["month"].map(lambda p: p.ordinal)).set_index(["unit", "t"])
    mod = PanelOLS(d["y"], d[cols], entity_effects=True, time_effects=True,
                   weights=None if weights is None else d[weights])
    return mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True)


@pytest.mark.parametrize("covariates", [(), ("x",)])
def test_equals_panelols(covariates):
    df = sim(1)
    res = twfe(make_panel(df, covariates=list(covariates)), inference=Clustered(small_sample="CR1S"), calendar=False)
    ref = panelols(df, ["treated", *covariates])
    assert res.estimate == pytest.approx(ref.params["treated"], rel=1e-8, abs=1e-10)
    assert res.se == pytest.approx(ref.std_errors["treated"], rel=1e-8)
    coefs = res.coefficients.set_index("term")
    for c in covariates:  # time-varying covariates are fine for TWFE
        assert coefs.loc[c, "estimate"] == pytest.approx(ref.params[c], rel=1e-8)


def test_weighted_equals_panelols():
    df = sim(2)
    df["w"] = np.random.default_rng(0).uniform(0.5, 2, len(df))
    res = twfe(make_panel(df, weights="w"), inference=Clustered(small_sample="CR1S"), calendar=False)
    ref = panelols(df, ["treated"], weights="w")
    assert res.estimate == pytest.approx(ref.params["treated"], rel=1e-8)
    assert res.se == pytest.approx(ref.std_errors["treated"], rel=1e-8)


@pytest.mark.peers
def test_equals_pyfixest_clustered_by_coarser_level():
    pf = pytest.importorskip("pyfixest", reason="pyfixest (peers extra) not installed")
    df = sim(3, per_cluster=3)
    clusters = df.groupby("unit")["cluster"].first()
    for kind in ("CR1",):
        res = twfe(make_panel(df, covariates=["x"]), inference=Clustered(by="cluster", kind=kind, small_sample="CR1S"),
                   clusters=clusters, calendar=False)
        d = df.assign(t=df["month"].map(lambda p: p.ordinal))
        m = pf.feols("y ~ treated + x | unit + t", data=d, vcov={"CRV1": "cluster"},
                     ssc=pf.ssc(k_adj=True, k_fixef="full", G_adj=True))
        assert res.estimate == pytest.approx(m.coef()["treated"], rel=1e-8)
        assert res.se == pytest.approx(m.se()["treated"], rel=1e-6)


def test_two_by_two_is_the_difference_in_mean_changes():
    df = sim(4, n_periods=2, cohorts=(1,), never=30)
    res = twfe(make_panel(df), inference=Clustered(small_sample="CR1S"), calendar=False)
    tr = df["unit"].isin(df.loc[df["treated"] == 1, "unit"])
    m = df.groupby([tr, df["month"]])["y"].mean()
    periods = sorted(df["month"].unique())
    closed = (m[(True, periods[1])] - m[(True, periods[0])]) - (m[(False, periods[1])] - m[(False, periods[0])])
    assert res.estimate == pytest.approx(closed, rel=1e-10)
    assert res.method == "2x2 difference-in-differences"


def test_unbalanced_panel_warns_with_count_and_uses_observed_cells():
    df = sim(5)
    drop = df.sample(25, random_state=1).index
    df.loc[drop, "y"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="25 row"):
        panel = make_panel(df, missing="drop")
    df = df.dropna(subset=["y"]).reset_index(drop=True)
    with pytest.warns(UnbalancedPanelWarning, match="25 of 720"):
        res = twfe(panel, inference=Clustered(small_sample="CR1S"), calendar=False)
    ref = panelols(df, ["treated"])
    assert res.estimate == pytest.approx(ref.params["treated"], rel=1e-8)
    assert res.se == pytest.approx(ref.std_errors["treated"], rel=1e-8)
    assert res.info["missing_cells"] == 25 and "observed" in res.info["cells_used"]


def test_rate_per_population():
    df = sim(6)
    res = twfe(make_panel(df, population="pop"), per_population=1000, inference=Clustered(small_sample="CR1S"),
               calendar=False)
    ref = panelols(df.assign(y=df["y"] / df["pop"] * 1000), ["treated"])
    assert res.estimate == pytest.approx(ref.params["treated"], rel=1e-8)
    assert "rate per 1000" in res.scale


def test_default_inference_switches_to_wild_bootstrap_below_50_clusters():
    df = sim(7, n_units=40, never=14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        res = twfe(make_panel(df), calendar=False)
    assert res.inference.name == "WildClusterBootstrap" and res.inference.clusters == 40
    assert "(< 50)" in res.inference.note and "wild cluster bootstrap" in str(res.summary())
    big = twfe(make_panel(sim(8, n_units=60)), calendar=False)
    assert big.inference.name == "Clustered" and big.inference.df == 59


def test_few_clusters_warning_rule():
    df = sim(9, n_units=30, never=10, per_cluster=2)  # 15 clusters < 20
    clusters = df.groupby("unit")["cluster"].first()
    with pytest.warns(FewClustersWarning, match="15 clusters"):
        res = twfe(make_panel(df), clusters=clusters, inference=WildClusterBootstrap(by="cluster", reps=199),
                   calendar=False)
    assert any(f.kind == "inference" for f in res.flags)


def test_policy_calendar_check_runs_for_did():
    df = sim(10, start="2021-01", n_periods=24, cohorts=(10, 18))
    res = twfe(make_panel(df), inference=Clustered(small_sample="CR1S"))
    check = [d for d in res.diagnostics if d.name == "policy_calendar"]
    assert check and check[0].passed in (True, False)
    assert all(f.source for f in res.flags if f.kind == "confounding")
    off = twfe(make_panel(df), inference=Clustered(small_sample="CR1S"), calendar=False)
    assert [d for d in off.diagnostics if d.name == "policy_calendar"][0].passed is None


# ------------------------------------------------------------------ bad input
def test_all_units_treated_at_once_is_an_error():
    df = sim(11, cohorts=(5,), never=0)
    with pytest.raises(TreatmentError, match="every unit is treated at once"):
        twfe(make_panel(df), calendar=False)


def test_treatment_in_first_period_leaving_no_treated_units_is_an_error():
    df = sim(12, cohorts=(0,), never=20)
    with pytest.warns(DroppedRowsWarning, match="already treated in their first"):
        panel = make_panel(df)
    with pytest.raises(TreatmentError, match="no treated units.*dropped"):
        twfe(panel, calendar=False)


def test_covariate_collinear_with_fixed_effects_is_named():
    df = sim(13)
    df["baseline_size"] = df["unit"].str[1:].astype(float)
    with pytest.raises(SpecificationError, match="'baseline_size'.*fixed effects"):
        twfe(make_panel(df, covariates=["x", "baseline_size"]), calendar=False)


def test_fewer_than_two_clusters_is_an_error():
    df = sim(14)
    one = pd.Series("all", index=df["unit"].unique())
    with pytest.raises(InferenceError, match="at least 2"):
        twfe(make_panel(df), clusters=one, calendar=False)


def test_unsupported_inference_and_missing_treatment():
    df = sim(15)
    with pytest.raises(SpecificationError, match="supported: Clustered, WildClusterBootstrap"):
        twfe(make_panel(df), inference=NeweyWest(), calendar=False)
    with pytest.raises(SpecificationError, match="treatment= or cohort="):
        twfe(Panel.from_frame(df, unit="unit", time="month", outcome="y"), calendar=False)
    with pytest.raises(SpecificationError, match="per_population"):
        TWFE(per_population=-1)


# ------------------------------------------------------------------ simulations (known truth)
def test_unbiased_with_constant_effects_and_biased_with_growing_effects():
    """Theory (Goodman-Bacon 2021): with a constant effect TWFE is unbiased; when effects grow
    with time since treatment, already-treated controls bias it below the ATT."""
    const, dyn, truth_dyn = [], [], []
    for s in range(20):
        df = sim(100 + s, effect=1.0, never=0, cohorts=(3, 6, 9))
        const.append(twfe(make_panel(df), inference=Clustered(small_sample="CR1S"), calendar=False).estimate)
        df2 = sim(200 + s, effect=1.0, dynamic=0.5, never=0, cohorts=(3, 6, 9))
        dyn.append(twfe(make_panel(df2), inference=Clustered(small_sample="CR1S"), calendar=False).estimate)
        g = df2.groupby("unit")["treated"].transform(lambda s_: s_.idxmax())
        rel = df2.index - g
        truth_dyn.append(float((1.0 + 0.5 * rel[df2["treated"] == 1]).mean()))
    assert abs(np.mean(const) - 1.0) < 4 * np.std(const) / np.sqrt(20) + 0.02
    assert np.mean(dyn) < np.mean(truth_dyn) - 1.0


# ------------------------------------------------------------------ dose
def test_dose_twfe_equals_panelols_and_carries_the_caveat():
    df = sim(16)
    df["dose_d"] = df["dose"] * df["treated"]
    panel = make_panel(df, covariates=["dose"])
    res = dose_response(panel, "dose", inference=Clustered(small_sample="CR1S"), calendar=False)
    ref = panelols(df, ["dose_d"])
    assert res.estimate == pytest.approx(ref.params["dose_d"], rel=1e-8)
    assert res.se == pytest.approx(ref.std_errors["dose_d"], rel=1e-8)
    assert any("strong parallel trends" in f.message for f in res.flags)
    both = dose_response(panel, "dose", extensive_margin=True, inference=Clustered(small_sample="CR1S"), calendar=False)
    ref2 = panelols(df, ["dose_d", "treated"])
    assert both.estimate == pytest.approx(ref2.params["dose_d"], rel=1e-8)


def test_dose_event_study_equals_panelols():
    df = sim(17)
    panel = make_panel(df, covariates=["dose"])
    res = DoseResponse(dose="dose", form="event_study", leads=3, lags=3).fit(
        panel, inference=Clustered(small_sample="CR1S"), calendar=False)
    g = df.loc[df["treated"] == 1].groupby("unit")["month"].min().map(lambda p: p.ordinal)
    rel = (df["month"].map(lambda p: p.ordinal) - df["unit"].map(g)).clip(-3, 3)
    cols = []
    for e in range(-3, 4):
        if e != -1:
            df[f"r{e + 3}"] = (rel == e).astype(float) * df["dose"]
            cols.append(f"r{e + 3}")
    ref = panelols(df, cols)
    est = res.effects.set_index("rel_time")
    for e in range(-3, 4):
        if e != -1:
            assert est.loc[float(e), "estimate"] == pytest.approx(ref.params[f"r{e + 3}"], rel=1e-8, abs=1e-10)
    assert res.info["reference_period"] == -1


def test_dose_bad_input():
    df = sim(18)
    with pytest.raises(ColumnNotFoundError, match="dose column 'fund_per_head'"):
        dose_response(make_panel(df), "fund_per_head", calendar=False)
    df["dose"] = 0.0
    with pytest.raises(SpecificationError, match="zero in every treated period"):
        dose_response(make_panel(df, covariates=["dose"]), "dose", calendar=False)
    with pytest.raises(SpecificationError, match="form"):
        DoseResponse(dose="dose", form="spline")
