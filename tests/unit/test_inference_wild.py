"""Restricted wild cluster bootstrap: exactness against brute-force refits, reproducibility,
test inversion, and size under a known null (simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.errors import InferenceError, SpecificationError
from evalint.estimators.did.fe import FixedEffects, fe_lstsq
from evalint.inference.cluster import cluster_vcov
from evalint.inference.wild import draw_weights, wild_cluster_bootstrap


def _data(seed=0, n_clusters=12, per=3, n_periods=10, effect=0.0, drop=0.1):
    rng = np.random.default_rng(seed)
    rows = []
    shock = rng.normal(0, 1, (n_clusters, n_periods))
    for c in range(n_clusters):
        start = int(rng.integers(3, n_periods)) if c % 2 else None
        for u in range(per):
            a = rng.normal()
            for t in range(n_periods):
                d = float(start is not None and t >= start)
                x = rng.normal()
                rows.append((f"c{c}_{u}", t, f"c{c}", d, x, a + 0.2 * t + effect * d + 0.5 * x + shock[c, t]
                             + rng.normal()))
    df = pd.DataFrame(rows, columns=["unit", "period", "cluster", "d", "x", "y"])
    df = df.loc[rng.uniform(size=len(df)) > drop].reset_index(drop=True)
    df["w"] = rng.uniform(0.5, 2, len(df))
    return df


def _fit(df, y=None, cols=("d", "x"), w=None):
    fe = FixedEffects.from_codes([df["unit"].to_numpy(), df["period"].to_numpy()], weights=w)
    yy = df["y"].to_numpy() if y is None else y
    return fe_lstsq(yy, df[list(cols)].to_numpy(), fe, names=list(cols), weights=w)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["webb", "rademacher"])
def test_matches_brute_force_refits(weighted, kind):
    df = _data(1, n_clusters=14)
    w = df["w"].to_numpy() if weighted else None
    fit = _fit(df, w=w)
    null, reps, seed = 0.3, 199, 11
    res = wild_cluster_bootstrap(fit, df["cluster"], "d", null=null, reps=reps, weights=kind, seed=seed)
    # brute force: impose the null, rebuild y* cluster by cluster, refit everything, CR1 t
    codes = pd.factorize(df["cluster"], sort=True)[0]
    v, _ = draw_weights(14, reps, kind, seed)
    restricted = _fit(df, y=df["y"].to_numpy() - null * df["d"].to_numpy(), cols=("x",), w=w)
    fitted = df["y"].to_numpy() - restricted.resid
    t_obs = (fit.coef[0] - null) / cluster_vcov(fit, df["cluster"]).se[0]
    tstar = []
    for b in range(reps):
        fb = _fit(df, y=fitted + restricted.resid * v[codes, b], w=w)
        tstar.append((fb.coef[0] - null) / cluster_vcov(fb, df["cluster"]).se[0])
    assert res.statistic == pytest.approx(t_obs, rel=1e-10)
    assert res.p_value == pytest.approx(np.mean(np.abs(tstar) >= abs(t_obs)), abs=1e-12)


def test_contrast_vector_matches_brute_force():
    df = _data(2)
    fit = _fit(df)
    c = np.array([1.0, -2.0])
    res = wild_cluster_bootstrap(fit, df["cluster"], c, null=0.0, reps=99, weights="webb", seed=3)
    # restricted estimate under c'b = 0 by reparametrisation: b_d = 2 b_x -> y on (2d + x)
    codes = pd.factorize(df["cluster"], sort=True)[0]
    v, _ = draw_weights(12, 99, "webb", 3)
    z = (2 * df["d"] + df["x"]).to_numpy()
    restricted = fe_lstsq(df["y"].to_numpy(), z[:, None], fit.fe, names=["z"])
    fitted = df["y"].to_numpy() - restricted.resid
    cv = cluster_vcov(fit, df["cluster"])
    t_obs = (c @ fit.coef) / np.sqrt(c @ cv.vcov @ c)
    tstar = []
    for b in range(99):
        fb = _fit(df, y=fitted + restricted.resid * v[codes, b])
        vb = cluster_vcov(fb, df["cluster"])
        tstar.append((c @ fb.coef) / np.sqrt(c @ vb.vcov @ c))
    assert res.p_value == pytest.approx(np.mean(np.abs(tstar) >= abs(t_obs)), abs=1e-12)


def test_reproducible_and_seed_dependent():
    df = _data(3)
    fit = _fit(df)
    a = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, seed=5)
    b = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, seed=5)
    c = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, seed=6)
    assert (a.p_value, a.ci) == (b.p_value, b.ci)
    assert a.ci != c.ci


def test_rademacher_enumerates_small_g():
    df = _data(4, n_clusters=8)
    res = wild_cluster_bootstrap(df.pipe(_fit), df["cluster"], "d", reps=999, weights="rademacher")
    assert res.enumerated and res.reps == 2 ** 8
    v, full = draw_weights(8, 999, "rademacher", 0)
    assert full and len({tuple(col) for col in v.T}) == 256


def test_ci_is_the_set_of_nulls_not_rejected():
    df = _data(5, effect=1.0)
    fit = _fit(df)
    res = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, seed=1, alpha=0.1)
    lo, hi = res.ci
    assert lo < res.estimate < hi
    eps = 1e-4 * res.se
    for bound, inside in ((lo, lo + 10 * eps), (hi, hi - 10 * eps)):
        outside = bound + (bound - inside)
        p_in = wild_cluster_bootstrap(fit, df["cluster"], "d", null=inside, reps=999, seed=1).p_value
        p_out = wild_cluster_bootstrap(fit, df["cluster"], "d", null=outside, reps=999, seed=1).p_value
        assert p_in >= 0.1 > p_out


@pytest.mark.parametrize("seed", range(6))
def test_two_clusters_never_reject(seed):
    """Closed form: the two constant sign vectors (+1, +1) and (-1, -1) rebuild +-1 times the
    restricted residuals, so their |t*| equals |t| at every null and the enumerated p-value is at
    least 2/4. No null is rejected at 5%: the interval is unbounded on both sides. Before, sides
    ended at 518 to 8e14 (up to 1e10 standard errors) where rounding first "rejected"."""
    df = _data(seed, n_clusters=2, per=4)
    fit = _fit(df)
    res = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, weights="rademacher")
    assert res.reps == 4 and res.ci == (-np.inf, np.inf)
    for k in (1.0, 1e3, 1e9, 1e14):
        for null in (res.estimate - k * res.se, res.estimate + k * res.se):
            p = wild_cluster_bootstrap(fit, df["cluster"], "d", null=null, weights="rademacher").p_value
            assert p >= 0.5


def test_five_clusters_enumerated_floor_is_two_in_thirty_two():
    """With G = 5 enumerated the p-value is at least 2/32 = 0.0625: unbounded at 5%, while at
    alpha = 0.1 the interval can be finite and is then the set of nulls not rejected."""
    df = _data(3, n_clusters=5, per=3)
    fit = _fit(df)
    five = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, weights="rademacher", alpha=0.05)
    assert five.reps == 32 and five.ci == (-np.inf, np.inf) and five.p_value >= 2 / 32
    ten = wild_cluster_bootstrap(fit, df["cluster"], "d", reps=999, weights="rademacher", alpha=0.1)
    for bound in ten.ci:
        if np.isfinite(bound):
            step = 1e-6 * abs(bound - ten.estimate)
            toward = np.sign(bound - ten.estimate)
            p_in = wild_cluster_bootstrap(fit, df["cluster"], "d", null=bound - toward * step,
                                          weights="rademacher").p_value
            p_out = wild_cluster_bootstrap(fit, df["cluster"], "d", null=bound + toward * step,
                                           weights="rademacher").p_value
            assert p_in >= 0.1 > p_out


def test_size_under_the_null_is_close_to_nominal():
    """Known truth: no effect, 12 clusters with correlated shocks. Rejection rate at 5% over 200
    simulated data sets must fall in the binomial 99.9% band around 0.05 ([0.01, 0.11])."""
    rejections = 0
    n_sim = 200
    for s in range(n_sim):
        df = _data(100 + s, n_clusters=12, per=2, n_periods=8, effect=0.0, drop=0.0)
        res = wild_cluster_bootstrap(_fit(df), df["cluster"], "d", reps=199, seed=s, weights="webb")
        rejections += res.p_value < 0.05
    assert 0.01 <= rejections / n_sim <= 0.11


def test_bad_input():
    df = _data(6)
    fit = _fit(df)
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        wild_cluster_bootstrap(fit, np.ones(len(df)), "d")
    with pytest.raises(SpecificationError, match="not a coefficient"):
        wild_cluster_bootstrap(fit, df["cluster"], "treated")
    with pytest.raises(SpecificationError, match="reps"):
        wild_cluster_bootstrap(fit, df["cluster"], "d", reps=10)
    with pytest.raises(SpecificationError, match="weights"):
        wild_cluster_bootstrap(fit, df["cluster"], "d", weights="mammen")
