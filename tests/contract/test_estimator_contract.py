"""One suite over every registered estimator (ARCHITECTURE.md section 5).

Each estimator class registered with ``register_estimator`` provides
``contract_example() -> (estimator, panel, fit_kwargs)``. The suite checks that fitting
returns an EffectResult with the fixed tidy schema, that summary/plot render, that
neither the estimator nor the panel is mutated, that fits are reproducible, and that
unsupported inference is refused with an EvalintError.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import evalint.estimators
from evalint.errors import EvalintError
from evalint.estimators.base import ESTIMATORS
from evalint.results import TIDY_COLUMNS, EffectResult

for mod in pkgutil.walk_packages(evalint.estimators.__path__, "evalint.estimators."):
    importlib.import_module(mod.name)

NAMES = sorted(ESTIMATORS)


class _Unsupported:
    """An inference declaration no estimator supports."""

    description = "unsupported"


def test_estimators_are_registered():
    # the three families each register at least one estimator
    assert len(NAMES) >= 1


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    cls = ESTIMATORS[request.param]
    est, panel, kwargs = cls.contract_example()
    data_before = panel.data.copy(deep=True)
    est_before = copy.deepcopy(est)
    result = est.fit(panel, **kwargs)
    return request.param, est, est_before, panel, data_before, kwargs, result


def test_returns_effect_result_with_schema(fitted):
    name, est, _, panel, _, kwargs, r = fitted
    assert isinstance(r, EffectResult)
    f = r.to_frame()
    assert list(f.columns)[: len(TIDY_COLUMNS)] == TIDY_COLUMNS
    assert np.isfinite(r.estimate)
    assert r.ci[0] <= r.estimate <= r.ci[1] or not np.isfinite(r.se)
    assert r.provenance.data_fingerprint == panel.fingerprint


def test_summary_and_plot_render(fitted):
    *_, r = fitted
    from matplotlib.figure import Figure

    text = str(r.summary())
    assert r.method in text and "Provenance" in text
    assert "<table>" in r.summary().as_html()
    fig = r.plot()
    assert isinstance(fig, Figure)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_no_mutation(fitted):
    _, est, est_before, panel, data_before, _, _ = fitted
    pd.testing.assert_frame_equal(panel.data, data_before)
    assert est == est_before


def test_reproducible(fitted):
    _, est, _, panel, _, kwargs, r = fitted
    r2 = est.fit(panel, **kwargs)
    assert r2.estimate == r.estimate and (r2.se == r.se or (np.isnan(r.se) and np.isnan(r2.se)))
    pd.testing.assert_frame_equal(r2.to_frame(), r.to_frame())


def test_unsupported_inference_is_refused(fitted):
    _, est, _, panel, _, kwargs, _ = fitted
    kw = dict(kwargs)
    kw["inference"] = _Unsupported()
    with pytest.raises(EvalintError):
        est.fit(panel, **kw)


@pytest.mark.parametrize("name", NAMES)
def test_inference_is_declared(name):
    """Every estimator declares the specs it supports and its default (evalint.inference.dispatch)."""
    from evalint.inference.dispatch import SupportsInference

    cls = ESTIMATORS[name]
    assert cls.supported_inference and all(isinstance(t, type) for t in cls.supported_inference)
    est, _, _ = cls.contract_example()
    assert isinstance(est, SupportsInference)
    default = est.default_inference()
    assert default is None or isinstance(default, cls.supported_inference)


def test_unsupported_inference_names_the_estimator(fitted):
    _, est, _, panel, _, kwargs, _ = fitted
    import re

    from evalint.inference.dispatch import _label

    kw = dict(kwargs)
    kw["inference"] = _Unsupported()
    with pytest.raises(EvalintError,
                       match=f"^{re.escape(_label(est))} does not support inference=_Unsupported; supported: "):
        est.fit(panel, **kw)
