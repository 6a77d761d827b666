"""Settings that duplicated the inference spec still work for one release, mapped to the spec, with a
SettingDeprecationWarning naming the replacement; the seed reaches a fit only through the spec.

Each old call form is compared with the new one on the estimator's contract example: the same fit
by two routes (the mapping), not a stored number.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from evalint.errors import EvalintWarning, SettingDeprecationWarning
from evalint.inference.specs import Analytic, ARErrors, Bootstrap, Jackknife, NeweyWest, Placebo


def _same(a, b):
    assert a.estimate == b.estimate
    assert a.se == b.se or (np.isnan(a.se) and np.isnan(b.se))
    assert a.ci == b.ci and a.p_value == b.p_value
    assert a.inference.description == b.inference.description


def test_the_warning_is_a_typed_deprecation_warning():
    assert issubclass(SettingDeprecationWarning, DeprecationWarning)
    assert issubclass(SettingDeprecationWarning, EvalintWarning)


@pytest.mark.parametrize("cls_name, old, new", [
    ("SegmentedRegression", {"errors": "newey_west", "hac_lags": 3}, NeweyWest(lags=3)),
    ("SegmentedRegression", {"errors": "ols"}, Analytic()),
    ("SegmentedRegression", {"errors": "ar"}, ARErrors()),
    ("CountITS", {"errors": "model"}, Analytic()),
    ("CountITS", {"errors": "newey_west", "hac_lags": 2}, NeweyWest(lags=2)),
    ("ControlledITS", {"errors": "model"}, Analytic()),
    ("ControlledITS", {"hac_lags": 4}, NeweyWest(lags=4)),
])
def test_its_errors_and_hac_lags_map_to_the_spec(cls_name, old, new):
    import dataclasses

    import evalint.estimators.its as its

    cls = getattr(its, cls_name)
    est, panel, kwargs = cls.contract_example()
    fields = {f.name: getattr(est, f.name) for f in dataclasses.fields(est)}
    with pytest.warns(SettingDeprecationWarning, match=r"is deprecated .* use fit\(inference=") as rec:
        old_est = cls(**{**fields, **old})
    assert repr(new).split("(")[0] in str(rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SettingDeprecationWarning)  # the new form does not warn
        new_res = est.fit(panel, **{**kwargs, "inference": new})
    _same(old_est.fit(panel, **kwargs), new_res)


@pytest.mark.parametrize("old, new", [
    ({"variance": "bootstrap", "reps": 30, "seed": 4}, Bootstrap(reps=30, seed=4)),
    ({"variance": "jackknife"}, Jackknife()),
    ({"reps": 40, "seed": 9}, Placebo(reps=40, seed=9)),
])
def test_sdid_variance_reps_seed_map_to_the_spec(old, new):
    from evalint.estimators.synth.sdid.estimator import SyntheticDiD, synthetic_did

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SettingDeprecationWarning)
        _, panel, _ = SyntheticDiD.contract_example()
    with pytest.warns(SettingDeprecationWarning, match=type(new).__name__):
        old_est = SyntheticDiD(max_iter=2000, **old)
    _same(old_est.fit(panel, calendar=False), SyntheticDiD(max_iter=2000).fit(panel, inference=new, calendar=False))
    with pytest.warns(SettingDeprecationWarning, match=r"synthetic_did\(.*inference="):
        a = synthetic_did(panel, max_iter=2000, calendar=False, **old)
    _same(a, synthetic_did(panel, max_iter=2000, calendar=False, inference=new))


def test_scm_fit_seed_maps_to_placebo_seed():
    from evalint.estimators.synth.scm.estimator import SyntheticControl, synthetic_control

    est, panel, kwargs = SyntheticControl.contract_example()
    with pytest.warns(SettingDeprecationWarning, match=r"seed=5\) .* inference=Placebo\(reps=None, seed=5\)"):
        a = est.fit(panel, **kwargs, seed=5)
    b = est.fit(panel, **{**kwargs, "inference": Placebo(seed=5)})
    _same(a, b)
    assert a.provenance.seed == b.provenance.seed == 5
    with pytest.warns(SettingDeprecationWarning, match="synthetic_control"):
        synthetic_control(panel, **kwargs, seed=5)


def test_ascm_records_no_seed_and_warns_on_one():
    from evalint.estimators.synth.augmented.estimator import AugmentedSyntheticControl

    est, panel, kwargs = AugmentedSyntheticControl.contract_example()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SettingDeprecationWarning)
        r = est.fit(panel, **kwargs)
    assert r.provenance.seed is None and r.inference.seed is None
    with pytest.warns(SettingDeprecationWarning, match="draw nothing at random"):
        r2 = est.fit(panel, **kwargs, seed=3)
    _same(r, r2)
