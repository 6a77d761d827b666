"""The cohort form of the Callaway-Sant'Anna influence functions and cell bootstrap.

The dense units x cells influence matrix is built here independently, cell by cell, from
the closed form of the difference-in-means 2x2 estimator (psi_i = n w_i (dY_i - m_G) / W_G
for the cell's treated units, -n w_i (dY_i - m_C) / W_C for its comparison units, 0 else),
and every quantity the cohort form computes without that matrix (multiplier draws with the
same seed, cluster sums, analytic SEs, psi @ W, cross products, the sup-t band) must equal
the dense computation to rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.did.cs.cells import CohortInfluence, estimate_group_time
from evalint.inference.multiplier import influence_se, multiplier_bootstrap


def _frame(n_units=41, n_years=8, seed=0, late_cohort=True):
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + n_years)
    cohort = rng.choice([0, 2013, 2015] + ([2016] if late_cohort else []), size=n_units)
    cohort[:3] = [0, 2013, 2015]
    u, t = np.meshgrid(np.arange(n_units), years, indexing="ij")
    g = cohort[u]
    y = rng.normal(size=n_units)[u] + 0.1 * (t - 2010) + ((g > 0) & (t >= g)) * (1 + 0.2 * (t - g)) \
        + rng.normal(0, 0.5, u.shape)
    w = rng.uniform(0.5, 2.0, size=n_units)[u]
    icb = (np.arange(n_units) % 7)[u]
    return pd.DataFrame({"unit": u.ravel(), "year": t.ravel(), "y": y.ravel(), "cohort": g.ravel(),
                         "w": w.ravel(), "icb": icb.ravel()})


def _cells(df, control="never_treated", weights=False, base_period="varying"):
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort",
                         weights="w" if weights else None)
    cells, _ = estimate_group_time(p, outcome="y", control=control, method="dr", covariates=(),
                                   anticipation=0, base_period=base_period, unbalanced="error", weights=weights)
    return p, cells


def _dense_by_hand(df, cells, control, weights):
    """units x cells influence matrix from the closed form, one cell at a time."""
    wide = df.pivot(index="unit", columns="year", values="y").loc[list(cells.units)]
    coh = df.groupby("unit")["cohort"].first().loc[list(cells.units)].to_numpy()
    w = (df.groupby("unit")["w"].first().loc[list(cells.units)].to_numpy() if weights
         else np.ones(len(cells.units)))
    n = len(w)
    years = {str(c): c for c in wide.columns}
    out = np.zeros((n, len(cells.att)))
    for k in range(len(cells.att)):
        g = int(str(cells.period(cells.group[k])))
        t, b = years[str(cells.period(cells.time[k]))], years[str(cells.period(cells.base[k]))]
        dy = wide[t].to_numpy() - wide[b].to_numpy()
        treated = coh == g
        comp = coh == 0
        if control == "not_yet_treated":
            comp |= (coh > max(t, b)) & (coh != g)
        m_g = np.sum(w[treated] * dy[treated]) / np.sum(w[treated])
        m_c = np.sum(w[comp] * dy[comp]) / np.sum(w[comp])
        assert cells.att[k] == pytest.approx(m_g - m_c, abs=1e-12)
        out[treated, k] = n * w[treated] * (dy[treated] - m_g) / np.sum(w[treated])
        out[comp, k] = -n * w[comp] * (dy[comp] - m_c) / np.sum(w[comp])
    return out


@pytest.mark.parametrize("control,weights,base", [("never_treated", False, "varying"),
                                                  ("not_yet_treated", True, "varying"),
                                                  ("never_treated", True, "universal")])
def test_cohort_form_equals_dense_closed_form(control, weights, base):
    df = _frame()
    p, cells = _cells(df, control, weights, base)
    op = cells.influence
    assert isinstance(op, CohortInfluence) and op.shape == (41, len(cells.att))
    dense = _dense_by_hand(df, cells, control, weights)
    np.testing.assert_allclose(np.asarray(op), dense, rtol=0, atol=1e-11)

    # analytic SEs, by unit and by cluster (ICB)
    codes = df.groupby("unit")["icb"].first().loc[list(cells.units)].to_numpy()
    np.testing.assert_allclose(influence_se(op), influence_se(dense), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(influence_se(op, codes), influence_se(dense, codes), rtol=1e-12, equal_nan=True)
    # psi @ W (aggregations) and psi' psi over a subset of cells (pre-trend Wald)
    wmat = np.random.default_rng(1).normal(size=(len(cells.att), 3))
    np.testing.assert_allclose(op @ wmat, dense @ wmat, rtol=0, atol=1e-10)
    cols = np.flatnonzero(cells.time < cells.group)
    np.testing.assert_allclose(op.cross_product(cols), dense[:, cols].T @ dense[:, cols], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(op.by_cluster(codes, 7).dense(),
                               np.vstack([dense[codes == c].sum(axis=0) for c in range(7)]), atol=1e-10)


@pytest.mark.parametrize("cluster,kind", [(False, "rademacher"), (True, "rademacher"), (False, "mammen")])
def test_cell_bootstrap_in_cohort_form_equals_dense_bootstrap(cluster, kind):
    df = _frame(n_units=57, seed=3)
    p, cells = _cells(df, "not_yet_treated", weights=True)
    dense = _dense_by_hand(df, cells, "not_yet_treated", True)
    codes = df.groupby("unit")["icb"].first().loc[list(cells.units)].to_numpy() if cluster else None
    a = multiplier_bootstrap(cells.influence, reps=399, seed=11, cluster=codes, weights=kind)
    b = multiplier_bootstrap(dense, reps=399, seed=11, cluster=codes, weights=kind)
    # same multipliers (same seed, same stream): same draws, SEs and simultaneous band
    np.testing.assert_allclose(a.draws, b.draws, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12, equal_nan=True)
    assert a.crit_value == pytest.approx(b.crit_value, rel=1e-12)
    # and the draws are U @ psi / n for the seed's Rademacher/Mammen multipliers: a direct check
    if not cluster and kind == "rademacher":
        rng = np.random.default_rng(11)
        n = dense.shape[0]
        raw = rng.integers(0, 256, size=(399, (n + 7) // 8), dtype=np.uint8)
        u = 2.0 * np.unpackbits(raw, axis=1, count=n) - 1.0
        np.testing.assert_allclose(a.draws, u @ dense / n, rtol=0, atol=1e-12)


def test_fit_with_cell_bootstrap_matches_dense_band():
    """The fitted ATT(g,t) table's bootstrap SEs and band equal a dense bootstrap of the same draws."""
    from evalint.estimators.did.cs.estimator import CallawaySantAnna
    from evalint.inference import MultiplierBootstrap

    df = _frame(n_units=50, seed=5)
    p, cells = _cells(df)
    dense = _dense_by_hand(df, cells, "never_treated", False)
    res = CallawaySantAnna(bootstrap_cells=True).fit(p, inference=MultiplierBootstrap(reps=299, seed=4),
                                                     calendar=False)
    tab = res.tables["att_gt"]
    bd = multiplier_bootstrap(dense, reps=299, seed=5)   # the cell bootstrap uses seed + 1
    np.testing.assert_allclose(tab["std_error"].to_numpy(), bd.se, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(tab["band_high"].to_numpy() - tab["estimate"].to_numpy(), bd.crit_value * bd.se,
                               rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(np.asarray(res.influence), dense, atol=1e-11)


def test_large_panel_stacked_blocks_keep_the_same_draws():
    """With > 32,768 units the multiplier blocks are small and the cohort form stacks them;
    the draws still equal U @ psi with the seed's multipliers (dense product)."""
    rng = np.random.default_rng(2)
    n, n_t = 40_000, 10
    y = rng.normal(size=(n, n_t))
    w = np.ones(n)
    row = rng.integers(0, 3, size=n)                 # rows: cohort 0, cohort 1, never treated
    jk = np.r_[np.arange(1, n_t), np.arange(1, n_t)]
    bk = np.r_[np.arange(0, n_t - 1), np.arange(0, n_t - 1)]
    scale = np.zeros((3, len(jk)))
    scale[0, :n_t - 1], scale[1, n_t - 1:], scale[2] = 2.0, 3.0, -1.5
    centre = rng.normal(size=(3, len(jk))) * (scale != 0)
    op = CohortInfluence(y, w, row, jk, bk, scale, centre)
    dense = np.asarray(op)
    for r in range(3):  # the closed form of each cohort's block
        at = row == r
        np.testing.assert_allclose(dense[at], scale[r] * (y[at][:, jk] - y[at][:, bk] - centre[r]), atol=1e-12)
    a = multiplier_bootstrap(op, reps=300, seed=9)
    b = multiplier_bootstrap(dense, reps=300, seed=9)
    np.testing.assert_allclose(a.draws, b.draws, rtol=0, atol=1e-13)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_byte_table_draws_equal_the_plain_product(k):
    """Few columns (the byte-table path, built in slices of bytes): the draws are the plain
    Rademacher product U @ psi / n with U = 2B - 1 from the same random bytes (closed form)."""
    from evalint.inference.multiplier import _BLOCK_BYTES, multiplier_bootstrap

    rng = np.random.default_rng(5)
    n, reps = 5003, 40                      # 626 bytes per draw: several slices of the table
    psi = rng.normal(size=(n, k))
    got = multiplier_bootstrap(psi, reps=reps, seed=11).draws
    gen = np.random.default_rng(11)
    block = max(1, min(reps, _BLOCK_BYTES // (8 * n)))
    raw = np.concatenate([gen.integers(0, 256, size=(min(block, reps - s), (n + 7) // 8), dtype=np.uint8)
                          for s in range(0, reps, block)])
    u = 2.0 * np.unpackbits(raw, axis=1, count=n).astype(float) - 1.0
    np.testing.assert_allclose(got, u @ psi / n, rtol=1e-12, atol=1e-14)
