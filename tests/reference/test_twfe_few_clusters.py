"""TWFE with 42 clusters against R (lm + clubSandwich), reference kept with its script in
../shared/reference/twfe_few_clusters (make_data.py, r_reference.R, r_reference.csv).

R: lm(y ~ treated + factor(unit) + factor(period)); vcovCR(type="CR1S"|"CR2", cluster=cluster);
coef_test(test="naive-t"|"Satterthwaite"). CR1S = G/(G-1) (N-1)/(N-p) with p = every column of
the lm model matrix (intercept, treated, 125 unit and 35 period dummies = 162), which is
evalint's default small_sample="CR1S" (p = regressors + rank of the absorbed fixed effects).
Tolerances: estimate and SEs 1e-6 (absolute and relative), df 1e-4.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.did.fe import FixedEffects, fe_lstsq
from evalint.estimators.did.twfe import twfe
from evalint.inference.cluster import cluster_vcov
from evalint.inference.specs import Clustered


@pytest.fixture(scope="module")
def ref(shared_reference):
    folder = shared_reference / "twfe_few_clusters"
    if not (folder / "data.csv").exists():
        pytest.skip("twfe_few_clusters reference data not found")
    data = pd.read_csv(folder / "data.csv")
    r = pd.read_csv(folder / "r_reference.csv").set_index("model_id")
    return data, r


def _panel(data):
    d = data.copy()
    d["month"] = pd.Period("2019-01", "M") + (d["period"] - 1)
    return Panel.from_frame(d, unit="unit", time="month", outcome="y", treatment="treated")


def test_solver_matches_r_cr1s_and_cr2(ref):
    data, r = ref
    fe = FixedEffects.from_codes([data["unit"].to_numpy(), data["period"].to_numpy()])
    fit = fe_lstsq(data["y"].to_numpy(), data[["treated"]].to_numpy(), fe, names=["treated"])
    assert fit.n_params == 162  # the p of R's lm model matrix
    cr1 = cluster_vcov(fit, data["cluster"], kind="CR1", small_sample="CR1S")
    cr2 = cluster_vcov(fit, data["cluster"], kind="CR2")
    for got, want in ((fit.coef[0], r.loc["twfe_CR1S", "estimate"]), (cr1.se[0], r.loc["twfe_CR1S", "std_error"]),
                      (cr2.se[0], r.loc["twfe_CR2", "std_error"])):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert cr1.df[0] == r.loc["twfe_CR1S", "df"]
    assert cr2.df[0] == pytest.approx(r.loc["twfe_CR2", "df"], abs=1e-4)
    assert cr1.frame()["p_value"].iloc[0] == pytest.approx(r.loc["twfe_CR1S", "p_value"], rel=1e-5)
    assert cr2.frame()["p_value"].iloc[0] == pytest.approx(r.loc["twfe_CR2", "p_value"], rel=1e-5)


@pytest.mark.parametrize("kind,model", [("CR1", "twfe_CR1S"), ("CR2", "twfe_CR2")])
def test_estimator_matches_r(ref, kind, model):
    data, r = ref
    panel = _panel(data)
    clusters = data.groupby("unit")["cluster"].first()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = twfe(panel, clusters=clusters, inference=Clustered(by="icb", kind=kind, small_sample="CR1S"),
                   calendar=False)
    assert res.estimate == pytest.approx(r.loc[model, "estimate"], rel=1e-6, abs=1e-6)
    assert res.se == pytest.approx(r.loc[model, "std_error"], rel=1e-6, abs=1e-6)
    assert res.inference.df == pytest.approx(r.loc[model, "df"], abs=1e-4)
    assert res.p_value == pytest.approx(r.loc[model, "p_value"], rel=1e-5)
    assert res.inference.clusters == 42


def test_default_inference_with_42_clusters_is_wild_bootstrap(ref):
    data, r = ref
    panel = _panel(data)
    clusters = data.groupby("unit")["cluster"].first()
    res = twfe(panel, clusters=clusters, calendar=False)
    assert res.inference.name == "WildClusterBootstrap"
    assert "fewer than 50" in str(res.summary()).lower() or "< 50" in str(res.summary())
    # SE shown is CR1 with the default nested rule: R's CR1S (p = 162 parameters) with the 126 unit
    # effects, nested in the clusters, counted as one (p = 37), as fixest: a closed-form rescaling
    n = len(data)
    assert res.se == pytest.approx(r.loc["twfe_CR1S", "std_error"] * np.sqrt((n - 162) / (n - 37)), rel=1e-6)
    lo, hi = res.ci
    assert lo < res.estimate < hi
    assert 0.5 < (hi - lo) / (2 * 1.96 * res.se) < 2.0
    assert np.isfinite(res.p_value) and res.p_value < 0.01
