"""Fixed-effects solver and cluster-robust covariances.

Numbers come from: explicit dummy-variable least squares (numpy/statsmodels), linearmodels
PanelOLS (core dependency), pyfixest (peers), and a brute-force CR2/Satterthwaite computed from
the full N x N hat matrix. R clubSandwich is checked in tests/reference/test_twfe_few_clusters.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.errors import InferenceError, SpecificationError
from evalint.estimators.did.fe import FixedEffects, fe_lstsq
from evalint.inference import cluster as cluster_mod
from evalint.inference.cluster import cluster_vcov, small_sample_factor


def _panel(seed=0, n_units=30, n_periods=8, drop=0.15, n_clusters=10):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        a = rng.normal()
        start = None if i % 3 == 0 else int(rng.integers(2, n_periods))
        for t in range(n_periods):
            d = float(start is not None and t >= start)
            x = rng.normal()
            rows.append((i, t, i % n_clusters, d, x, a + 0.3 * t + 1.5 * d + 0.7 * x + rng.normal()))
    df = pd.DataFrame(rows, columns=["unit", "period", "cluster", "d", "x", "y"])
    if drop:
        df = df.loc[rng.uniform(size=len(df)) > drop].reset_index(drop=True)
    df["w"] = rng.uniform(0.5, 2.0, len(df))
    return df


def _dummies(df, cols):
    mats = [pd.get_dummies(df[c].astype(str)).to_numpy(float) for c in cols]
    return np.column_stack(mats)


def _dummy_ls(df, xcols, fecols, w=None):
    D = _dummies(df, fecols)
    X = np.column_stack([df[xcols].to_numpy(float), D])
    ww = np.ones(len(df)) if w is None else w
    sw = np.sqrt(ww)
    b = np.linalg.lstsq(X * sw[:, None], df["y"].to_numpy() * sw, rcond=None)[0]
    return b[: len(xcols)], df["y"].to_numpy() - X @ b, np.linalg.matrix_rank(D)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fecols", [["unit"], ["unit", "period"], ["unit", "period", "cluster_period"]])
def test_fe_solver_equals_dummy_regression(weighted, fecols):
    df = _panel(1)
    df["cluster_period"] = df["cluster"].astype(str) + "_" + df["period"].astype(str)
    w = df["w"].to_numpy() if weighted else None
    fe = FixedEffects.from_codes([df[c].to_numpy() for c in fecols], weights=w)
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), fe, names=["d", "x"], weights=w)
    b, resid, rank = _dummy_ls(df, ["d", "x"], fecols, w)
    np.testing.assert_allclose(fit.coef, b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fit.resid, resid, atol=1e-9)
    assert fit.n_absorbed == rank


def test_rank_counts_disconnected_components():
    # two groups of units observed in disjoint periods: unit + period dummies lose 2 ranks, not 1
    df = pd.DataFrame({"unit": [0, 0, 1, 1, 2, 2, 3, 3], "period": [0, 1, 0, 1, 2, 3, 2, 3]})
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    assert fe.rank == np.linalg.matrix_rank(_dummies(df, ["unit", "period"])) == 6


def test_covariate_collinear_with_fixed_effects_is_named():
    df = _panel(2)
    df["age_at_baseline"] = df["unit"] * 2.0 + 1  # constant within unit
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    with pytest.raises(SpecificationError, match="age_at_baseline.*fixed effects"):
        fe_lstsq(df["y"].to_numpy(), df[["d", "age_at_baseline"]].to_numpy(), fe, names=["d", "age_at_baseline"])
    df["x2"] = 2 * df["x"] + df["period"]
    with pytest.raises(SpecificationError, match="'x2'.*collinear"):
        fe_lstsq(df["y"].to_numpy(), df[["d", "x", "x2"]].to_numpy(), fe, names=["d", "x", "x2"])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("by", ["unit", "cluster"])
def test_cr1_matches_panelols(weighted, by):
    from linearmodels import PanelOLS

    df = _panel(3)
    w = df["w"].to_numpy() if weighted else None
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()], weights=w)
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), fe, names=["d", "x"], weights=w)
    cv = cluster_vcov(fit, df[by], small_sample="CR1S")  # = PanelOLS debiased + group_debias
    idx = df.set_index(["unit", "period"])
    mod = PanelOLS(idx["y"], idx[["d", "x"]], entity_effects=True, time_effects=True,
                   weights=idx["w"] if weighted else None)
    clusters = pd.DataFrame({"c": df[by].to_numpy()}, index=idx.index)
    res = mod.fit(cov_type="clustered", clusters=clusters, debiased=True, group_debias=True)
    np.testing.assert_allclose(fit.coef, res.params.to_numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cv.se, res.std_errors.to_numpy(), rtol=1e-8)


def test_cr1s_matches_statsmodels_dummy_regression():
    import statsmodels.api as sm

    df = _panel(4)
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), fe, names=["d", "x"])
    cv = cluster_vcov(fit, df["cluster"], small_sample="CR1S")
    D = _dummies(df, ["unit", "period"])[:, :-1]  # drop one period dummy: full rank
    X = np.column_stack([df[["d", "x"]].to_numpy(float), D])
    res = sm.OLS(df["y"].to_numpy(), X).fit(cov_type="cluster", cov_kwds={"groups": df["cluster"].to_numpy()})
    np.testing.assert_allclose(cv.se, res.bse[:2], rtol=1e-8)
    assert cv.df[0] == df["cluster"].nunique() - 1


@pytest.mark.peers
@pytest.mark.parametrize("rule,k_fixef", [("CR1S", "full"), ("nested", "nonnested")])
def test_cr1_matches_pyfixest(rule, k_fixef):
    pf = pytest.importorskip("pyfixest", reason="pyfixest (peers extra) not installed")
    df = _panel(5)
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), fe, names=["d", "x"])
    cv = cluster_vcov(fit, df["cluster"], small_sample=rule)
    m = pf.feols("y ~ d + x | unit + period", data=df, vcov={"CRV1": "cluster"},
                 ssc=pf.ssc(k_adj=True, k_fixef=k_fixef, G_adj=True))
    np.testing.assert_allclose(fit.coef, m.coef().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(cv.se, m.se().to_numpy(), rtol=1e-6)


def _brute_cr2(df, xcols, fecols, clusters, w=None, contrasts=()):
    """CR2 and Satterthwaite df from the full dummy-variable model and its N x N hat matrix.

    Returns the SEs and dfs of each coefficient in ``xcols``, followed by the dfs of each
    ``contrasts`` vector (over ``xcols``) when given."""
    ww = np.ones(len(df)) if w is None else w
    sw = np.sqrt(ww)
    X = np.column_stack([df[xcols].to_numpy(float), _dummies(df, fecols)]) * sw[:, None]
    y = df["y"].to_numpy() * sw
    M = np.linalg.pinv(X.T @ X)
    H = X @ M @ X.T
    e = y - H @ y
    ident = np.eye(len(df))
    groups = pd.factorize(clusters)[0]
    k = len(xcols)
    meat = np.zeros((X.shape[1], X.shape[1]))
    A = {}
    for g in np.unique(groups):
        r = np.where(groups == g)[0]
        vals, vecs = np.linalg.eigh(ident[np.ix_(r, r)] - H[np.ix_(r, r)])
        keep = vals > 1e-12
        A[g] = (vecs[:, keep] / np.sqrt(vals[keep])) @ vecs[:, keep].T
        s = X[r].T @ A[g] @ e[r]
        meat += np.outer(s, s)
    V = (M @ meat @ M)[:k, :k]
    dfs = []
    vectors = [np.eye(k)[j] for j in range(k)] + [np.asarray(v, dtype=float) for v in contrasts]
    for v in vectors:
        c = np.zeros(X.shape[1])
        c[:k] = v
        Q = []
        for g in np.unique(groups):
            r = np.where(groups == g)[0]
            gj = A[g] @ X[r] @ M @ c
            Q.append((ident - H)[:, r] @ gj)
        Q = np.column_stack(Q)
        G = Q.T @ Q
        dfs.append(np.trace(G) ** 2 / np.sum(G * G))
    return np.sqrt(np.diag(V)), np.array(dfs)


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_and_satterthwaite_match_brute_force(weighted):
    df = _panel(6, n_units=24, n_periods=6, n_clusters=8)
    w = df["w"].to_numpy() if weighted else None
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()], weights=w)
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), fe, names=["d", "x"], weights=w)
    cv = cluster_vcov(fit, df["cluster"], kind="CR2")
    se, dfs = _brute_cr2(df, ["d", "x"], ["unit", "period"], df["cluster"].to_numpy(), w)
    np.testing.assert_allclose(cv.se, se, rtol=1e-8)
    np.testing.assert_allclose(cv.df, dfs, rtol=1e-8)
    # a contrast: variance c'Vc, Satterthwaite df for that contrast (not the per-coefficient ones)
    var, dfc = cv.contrast(np.array([1.0, 1.0]))
    assert var == pytest.approx(cv.vcov.sum(), rel=1e-12)
    _, dfs_c = _brute_cr2(df, ["d", "x"], ["unit", "period"], df["cluster"].to_numpy(), w,
                          contrasts=[[1.0, 1.0]])
    assert dfc == pytest.approx(dfs_c[-1], rel=1e-8)


def test_cr2_without_fixed_effects_matches_brute_force():
    df = _panel(7, n_units=20, n_periods=5, n_clusters=7)
    fit = fe_lstsq(df["y"].to_numpy(), df[["d", "x"]].to_numpy(), None, names=["d", "x"])
    cv = cluster_vcov(fit, df["cluster"], kind="CR2")
    df2 = df.assign(const="c")
    se, dfs = _brute_cr2(df2, ["d", "x"], ["const"], df["cluster"].to_numpy())
    np.testing.assert_allclose(cv.se, se, rtol=1e-8)
    np.testing.assert_allclose(cv.df, dfs, rtol=1e-8)


def test_fewer_than_two_clusters_is_an_error():
    df = _panel(8)
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    fit = fe_lstsq(df["y"].to_numpy(), df[["d"]].to_numpy(), fe, names=["d"])
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        cluster_vcov(fit, np.zeros(len(df)))
    with pytest.raises(InferenceError, match="missing"):
        cluster_vcov(fit, pd.Series(df["cluster"].where(df.index > 3)))
    with pytest.raises(InferenceError, match="one label per row"):
        cluster_vcov(fit, df["cluster"].iloc[:-1])


def test_cr2_refuses_huge_clusters(monkeypatch):
    df = _panel(9)
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()])
    fit = fe_lstsq(df["y"].to_numpy(), df[["d"]].to_numpy(), fe, names=["d"])
    monkeypatch.setattr(cluster_mod, "MAX_CR2_CLUSTER_SIZE", 5)
    with pytest.raises(InferenceError, match="WildClusterBootstrap"):
        cluster_vcov(fit, df["cluster"], kind="CR2")


def test_small_sample_factors_closed_form():
    assert small_sample_factor("CR1", 100, 10, 5) == pytest.approx(5 / 4)
    assert small_sample_factor("CR1S", 100, 10, 5) == pytest.approx(5 / 4 * 99 / 90)
    assert small_sample_factor("nested", 100, 10, 5, 4) == pytest.approx(5 / 4 * 99 / 96)
    with pytest.raises(InferenceError, match="degrees of freedom"):
        small_sample_factor("CR1S", 10, 10, 5)
