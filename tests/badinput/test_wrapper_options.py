"""Convenience wrappers refuse unknown keyword options and list-valued unit ids with typed errors."""

from __future__ import annotations

import pytest

import evalint
from evalint.errors import SpecificationError


@pytest.fixture(scope="module")
def panel():
    return evalint.simulate_nhs(seed=1).panel


@pytest.mark.parametrize("function, kwargs, words", [
    ("segmented_regression", {"bogus": 1}, ["segmented_regression got unknown option(s) 'bogus'", "Options:"]),
    ("count_its", {"seasonalty": "fourier"}, ["unknown option(s) 'seasonalty'", "did you mean 'seasonality'?"]),
    ("controlled_its", {"treated": "QF7"}, ["controlled_its got unknown option(s) 'treated'", "comparison"]),
    ("synthetic_did", {"intervention": "2023-04"}, ["synthetic_did got unknown option(s) 'intervention'"]),
])
def test_unknown_option_is_named(panel, function, kwargs, words):
    with pytest.raises(SpecificationError) as exc:
        getattr(evalint, function)(panel, **kwargs)
    for w in words:
        assert w in str(exc.value)


def test_controlled_its_comparison_list_is_refused(panel):
    units = list(panel.units)[:3]
    with pytest.raises(SpecificationError, match="several units.*one unit id.*aggregate"):
        evalint.controlled_its(panel, intervention="2023-04", outcome=panel.outcomes[0], unit=units[0],
                               comparison=[units[1], units[2]])
