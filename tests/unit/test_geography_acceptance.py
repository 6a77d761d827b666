"""rate_per_100k with the inputs users pass: lists, arrays, Series from two frames.

Expected rates are hand arithmetic (100,000 x count / population).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.errors import InvalidValueError, NonNumericError
from evalint.geography import rate_per_100k


def test_lists_give_the_hand_rate():
    # before: TypeError (a list multiplied by a float)
    assert rate_per_100k([150, 30], [300_000, 60_000]).tolist() == [50.0, 50.0]


def test_series_with_different_indexes_are_refused_not_matched_by_label():
    counts = pd.Series([150.0, 30.0], index=[10, 11])
    pops = pd.Series([300_000.0, 60_000.0])          # a fresh 0..n index, e.g. after a merge
    # before: a Series of four NaN (labels 0, 1, 10, 11), no error
    with pytest.raises(InvalidValueError, match="different indexes"):
        rate_per_100k(counts, pops)
    out = rate_per_100k(counts, pops.to_numpy())
    assert out.index.tolist() == [10, 11] and out.tolist() == [50.0, 50.0]


def test_lengths_that_differ_and_text_are_refused():
    with pytest.raises(InvalidValueError, match="do not match; give one population per count"):
        rate_per_100k([1, 2, 3], [100_000, 200_000])
    with pytest.raises(NonNumericError):
        rate_per_100k([1], ["one hundred thousand"])
    with pytest.raises(InvalidValueError, match="> 0"):
        rate_per_100k(np.array([1.0]), np.array([0.0]))


def test_frames_and_broadcasting_keep_their_shape():
    # a DataFrame of counts gives a DataFrame (index and columns kept), as before today's checks;
    # one population for every count, or one per column of a 2-D array, broadcasts
    counts = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=["x", "y"])
    out = rate_per_100k(counts, 1000.0)
    pd.testing.assert_frame_equal(out, counts * 100.0)
    grid = rate_per_100k(np.ones((2, 2)), np.array([10.0, 20.0]))
    assert grid.tolist() == [[10_000.0, 5_000.0], [10_000.0, 5_000.0]]
    assert rate_per_100k([1.0, 2.0], [100_000.0]).tolist() == [1.0, 2.0]


def test_to_icb_code_of_nothing_is_a_typed_error():
    from evalint.geography import UnknownCodeError, to_icb_code

    # before: TypeError: 'NoneType' object is not iterable
    for bad in (None, 5):
        with pytest.raises(UnknownCodeError, match="not an ICB code"):
            to_icb_code(bad)
    assert to_icb_code([" qop", "E54000008"]) == ["E54000057", "E54000008"]
