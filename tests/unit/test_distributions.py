"""evalint._distributions equals scipy.stats bit for bit, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evalint import _distributions as d

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

X = np.array([-np.inf, -1e300, -40.0, -8.5, -3.0, -1.959963984540054, -1.0, -0.5, -1e-300, -0.0, 0.0,
              1e-300, 1e-12, 0.3, 0.5, 1.0, 1.6448536269514722, 2.0, 3.7, 8.5, 40.0, 1e300, np.inf, np.nan])
Q = np.array([-0.1, 0.0, 1e-300, 1e-16, 1e-6, 0.001, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975,
              0.999, 1 - 1e-12, 1.0, 1.1, np.nan])
DF = [0.5, 1.0, 2.0, 3.0, 4.5, 7.0, 30.0, 1e6, 1e20, np.inf, 0.0, -1.0, np.nan]


def _same(ours: object, theirs: object) -> None:
    assert type(ours) is type(theirs)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", ["cdf", "sf", "ppf", "pdf"])
def test_normal(name: str) -> None:
    grid = Q if name == "ppf" else X
    ours, theirs = getattr(d, f"norm_{name}"), getattr(stats.norm, name)
    _same(ours(grid), theirs(grid))
    _same(ours(grid.reshape(4, -1)), theirs(grid.reshape(4, -1)))
    for v in grid:
        _same(ours(v), theirs(v))
        _same(ours(float(v)), theirs(float(v)))
    _same(ours([1, 2, 3]), theirs([1, 2, 3]))
    _same(ours(np.array([], dtype=float)), theirs(np.array([], dtype=float)))


@pytest.mark.parametrize(("dist", "name"), [("t", "cdf"), ("t", "sf"), ("t", "ppf"), ("chi2", "sf"),
                                            ("chi2", "ppf")])
def test_one_shape(dist: str, name: str) -> None:
    grid = Q if name == "ppf" else X
    ours, theirs = getattr(d, f"{dist}_{name}"), getattr(getattr(stats, dist), name)
    for df in DF:
        _same(ours(grid, df), theirs(grid, df))
        for v in grid:
            _same(ours(v, df), theirs(v, df))
    # vector df broadcast against a column of arguments
    g, f = grid[:, None], np.array(DF)[None, :]
    _same(ours(g, f), theirs(g, f))
    _same(ours(0.975, np.array(DF)), theirs(0.975, np.array(DF)))
    _same(ours(2, 5), theirs(2, 5))


@pytest.mark.parametrize("name", ["sf", "ppf"])
def test_f(name: str) -> None:
    grid = Q if name == "ppf" else X
    ours, theirs = getattr(d, f"f_{name}"), getattr(stats.f, name)
    dfs = [0.5, 1.0, 2.0, 3.0, 10.0, 57.0, 1e6, np.inf, 0.0, -2.0, np.nan]
    for dfn in dfs:
        for dfd in dfs:
            _same(ours(grid, dfn, dfd), theirs(grid, dfn, dfd))
    a, b = np.array(dfs)[:, None, None], np.array(dfs)[None, :, None]
    _same(ours(grid[None, None, :], a, b), theirs(grid[None, None, :], a, b))
    for v in grid:
        _same(ours(v, 3, 40), theirs(v, 3, 40))


def test_random_grid() -> None:
    rng = np.random.default_rng(17)
    x = rng.standard_normal(2000) * rng.choice([0.1, 1.0, 5.0], 2000)
    q = rng.uniform(size=2000)
    df = rng.choice([1.0, 2.0, 5.0, 11.0, 29.0, 120.0, np.inf], 2000)
    _same(d.norm_cdf(x), stats.norm.cdf(x))
    _same(d.norm_sf(x), stats.norm.sf(x))
    _same(d.norm_ppf(q), stats.norm.ppf(q))
    _same(d.t_sf(np.abs(x), df), stats.t.sf(np.abs(x), df))
    _same(d.t_ppf(q, df), stats.t.ppf(q, df))
    _same(d.chi2_sf(x**2, df), stats.chi2.sf(x**2, df))
    _same(d.chi2_ppf(q, df), stats.chi2.ppf(q, df))
    _same(d.f_sf(x**2, df, df[::-1]), stats.f.sf(x**2, df, df[::-1]))
    _same(d.f_ppf(q, df, df[::-1]), stats.f.ppf(q, df, df[::-1]))


@pytest.mark.parametrize("name", ["cdf", "sf"])
def test_noncentral_t(name: str) -> None:
    ours, theirs = getattr(d, f"nct_{name}"), getattr(stats.nct, name)
    for df in [0.5, 1.0, 3.0, 12.0, 57.0, 1e6, np.inf, 0.0, -1.0, np.nan]:
        for nc in [-40.0, -3.0, -0.5, 0.0, 0.7, 2.8, 10.0, 38.0, np.nan]:
            _same(ours(X, df, nc), theirs(X, df, nc))
            _same(ours(2.01, df, nc), theirs(2.01, df, nc))
    a, b = np.array([1.0, 4.0, 30.0])[:, None, None], np.array([-1.0, 0.0, 2.5, 9.0])[None, :, None]
    _same(ours(X[None, None, :], a, b), theirs(X[None, None, :], a, b))


def test_noncentral_chi2_sf() -> None:
    for df in [0.5, 1.0, 3.0, 12.0, 57.0, np.inf, 0.0, -1.0, np.nan]:
        for nc in [-1.0, 0.0, 1e-9, 0.7, 2.8, 10.0, 38.0, 120.0, np.inf, np.nan]:
            _same(d.ncx2_sf(X, df, nc), stats.ncx2.sf(X, df, nc))
            _same(d.ncx2_sf(3.84, df, nc), stats.ncx2.sf(3.84, df, nc))
    a, b = np.array([1.0, 4.0, 30.0])[:, None, None], np.array([0.0, 2.5, 9.0, 0.0])[None, :, None]
    _same(d.ncx2_sf(X[None, None, :], a, b), stats.ncx2.sf(X[None, None, :], a, b))
    # Boost's overflow far in the lower tail is raised by both alike
    with pytest.raises(OverflowError):
        stats.ncx2.sf(1e-12, 3.0, 500.0)
    with pytest.raises(OverflowError):
        d.ncx2_sf(1e-12, 3.0, 500.0)
