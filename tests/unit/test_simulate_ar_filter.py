"""The simulator's AR(1) error recursion equals scipy.signal.lfilter bit for bit."""

import numpy as np
import pytest
from scipy.signal import lfilter

from evalint.datasets.simulate import _ar1_filter


@pytest.mark.parametrize("ar", [0.0, 0.3, 0.5, 0.71234, -0.4])
def test_ar1_filter_matches_lfilter(ar):
    x = np.random.default_rng(7).standard_normal((42, 120)) * 0.4
    assert np.array_equal(_ar1_filter(x, ar), lfilter([1.0], [1.0, -ar], x, axis=1))


def test_ar1_filter_empty_and_one_column():
    for shape in ((3, 0), (3, 1)):
        x = np.ones(shape)
        assert np.array_equal(_ar1_filter(x, 0.5), lfilter([1.0], [1.0, -0.5], x, axis=1))
