"""wald() evaluates its p-values with scipy.special: the same numbers as scipy.stats, bit for bit."""

import numpy as np
import pytest
from scipy import stats

from evalint.inference.normal import critical_value, wald


@pytest.mark.parametrize("df", [None, 3.0, 37.5, 1000.0, float("inf")])
def test_wald_p_values_equal_scipy_stats(df):
    rng = np.random.default_rng(0)
    est = np.concatenate([rng.standard_normal(20000) * s for s in (0.01, 1, 5, 40)] + [np.array([0.0, np.nan, 1.0])])
    se = np.concatenate([np.abs(rng.standard_normal(80000)) + 0.1, np.array([1.0, 1.0, 0.0])])
    stat, p, lo, hi = wald(est, se, 0.05, df)
    z = np.abs(stat)
    ref = 2 * (stats.norm.sf(z) if df is None or not np.isfinite(df) else stats.t.sf(z, df))
    assert np.array_equal(p, ref, equal_nan=True)
    crit = stats.norm.ppf(0.975) if df is None or not np.isfinite(df) else stats.t.ppf(0.975, df)
    assert critical_value(0.05, df) == float(crit)
    assert np.array_equal(lo, np.where(se > 0, est - float(crit) * se, np.nan), equal_nan=True)
    s1 = wald(1.3, 0.7, 0.1, df)
    assert s1[1] == float(2 * (stats.norm.sf(1.3 / 0.7) if df is None or not np.isfinite(df)
                               else stats.t.sf(1.3 / 0.7, df)))
