"""The AR(p) fits' starting values: ``pacf_ols`` against statsmodels' ``pacf(method="ols")``."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.stattools import pacf

from evalint.estimators.its.backends import pacf_ols


@pytest.mark.parametrize("n,p", [(24, 1), (36, 3), (72, 2), (120, 6), (11, 5)])
def test_equals_statsmodels_bit_for_bit(n, p):
    rng = np.random.default_rng(n * 10 + p)
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = 0.6 * x[t - 1] + e[t]
    x = x + 3.0 + 0.05 * np.arange(n)
    np.testing.assert_array_equal(pacf_ols(x, p), pacf(x, nlags=p, method="ols"))


def test_too_many_lags_is_the_same_error():
    x = np.arange(10.0)
    with pytest.raises(ValueError):
        pacf(x, nlags=6, method="ols")
    with pytest.raises(ValueError, match="nobs // 2"):
        pacf_ols(x, 6)
