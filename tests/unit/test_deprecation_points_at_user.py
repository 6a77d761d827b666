"""A SettingDeprecationWarning from an old setting points at the user's line, through any wrapper.

Each old call form is made on a line of this file; the warning's ``filename`` must be this file
(not evalint's wrapper, the dataclass-generated ``__init__`` or the fit template), and the line
the one that made the call.
"""

from __future__ import annotations

import inspect
import warnings

import pytest

import evalint
from evalint.errors import SettingDeprecationWarning
from evalint.estimators.its import ControlledITS, CountITS, SegmentedRegression
from evalint.estimators.synth import (
    AugmentedSyntheticControl, SyntheticControl, SyntheticDiD, augmented_synthetic_control, synthetic_control,
    synthetic_did,
)


def _caught(call):
    """Run ``call`` recording warnings; return (the deprecation warnings, the line that called)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        call()
    return [w for w in rec if issubclass(w.category, SettingDeprecationWarning)], line


@pytest.fixture(scope="module")
def its_panel():
    return SegmentedRegression.contract_example()[1]


@pytest.fixture(scope="module")
def sdid_panel():
    return SyntheticDiD.contract_example()[1]


@pytest.fixture(scope="module")
def sc_panel():
    return SyntheticControl.contract_example()[1]


def _check(found):
    assert found, "no SettingDeprecationWarning was raised"
    for w in found:
        assert w.filename == __file__, f"{w.message} points at {w.filename}:{w.lineno}"


def test_its_constructors_point_at_the_caller():
    _check(_caught(lambda: SegmentedRegression(errors="newey_west", hac_lags=2))[0])
    _check(_caught(lambda: CountITS(errors="model"))[0])
    _check(_caught(lambda: ControlledITS(hac_lags=3))[0])


def test_its_wrappers_point_at_the_caller(its_panel):
    _check(_caught(lambda: evalint.its(its_panel, "2021-01-01", calendar=False, errors="newey_west",
                                       hac_lags=2))[0])
    _check(_caught(lambda: evalint.segmented_regression(its_panel, "2021-01-01", calendar=False,
                                                        errors="ols"))[0])


def test_its_default_raises_no_deprecation(its_panel):
    # evalint.its on a continuous outcome used to set the deprecated errors="ar" itself
    found, _ = _caught(lambda: evalint.its(its_panel, "2021-01-01", calendar=False))
    assert found == []


def test_sdid_settings_point_at_the_caller(sdid_panel):
    _check(_caught(lambda: SyntheticDiD(variance="jackknife"))[0])
    _check(_caught(lambda: synthetic_did(sdid_panel, reps=20, seed=1, calendar=False, max_iter=500))[0])


def test_synthetic_control_seed_points_at_the_caller(sc_panel):
    est = SyntheticControl(leave_one_out=False)
    _check(_caught(lambda: est.fit(sc_panel, seed=4, calendar=False))[0])
    _check(_caught(lambda: synthetic_control(sc_panel, seed=4, calendar=False, leave_one_out=False))[0])


def test_ascm_seed_points_at_the_caller(sc_panel):
    est = AugmentedSyntheticControl(lambda_=1.0)
    conf = evalint.Conformal(per_period=False, grid_size=10)
    _check(_caught(lambda: est.fit(sc_panel, seed=4, calendar=False, inference=conf))[0])
    _check(_caught(lambda: augmented_synthetic_control(sc_panel, seed=4, calendar=False, lambda_=1.0,
                                                       inference=conf))[0])


def test_the_line_is_the_callers():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        SegmentedRegression(errors="ols")
    found = [w for w in rec if issubclass(w.category, SettingDeprecationWarning)]
    assert found and found[0].filename == __file__ and found[0].lineno == line


def test_sdid_provenance_names_the_spec_run(sdid_panel):
    from evalint.inference.specs import Jackknife, Placebo

    est = SyntheticDiD(max_iter=500)
    res = est.fit(sdid_panel, inference=Placebo(reps=30, seed=2), calendar=False)
    assert res.provenance.spec["inference"] == "Placebo(reps=30, seed=2)"
    assert not {"variance", "reps", "seed", "variance_used"} & set(res.provenance.spec)
    # Placebo(reps=None) records the number of replications actually drawn
    assert est.fit(sdid_panel, inference=Placebo(seed=2), calendar=False).provenance.spec["inference"] == \
        "Placebo(reps=200, seed=2)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SettingDeprecationWarning)
        old = SyntheticDiD(variance="jackknife", max_iter=500)
    assert old.fit(sdid_panel, calendar=False).provenance.spec["inference"] == repr(Jackknife())
