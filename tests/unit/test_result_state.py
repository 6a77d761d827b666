"""Each family's result exposes a typed state, read through attributes (evalint.results.state).

The checks are on types and on identities the states must satisfy from their definitions
(simplex weights sum to one; the effective number of controls is 1 / sum(w^2) of the unit
weights; the C-S influence functions have one row per unit), not on recorded numbers.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.errors import SpecificationError
from evalint.estimators.base import get_estimator
from evalint.estimators.did.cs.aggregate import CSState, aggregate_att
from evalint.estimators.did.cs.cells import GroupTimeCells
from evalint.estimators.did.state import EventTimeState
from evalint.estimators.its.state import ITSState
from evalint.estimators.synth.state import SCMState, SDIDState
from evalint.results import EffectResult, FamilyState

#: registry name -> the state type its results carry
FAMILY_STATE = {
    "its_segmented": ITSState,
    "its_count": ITSState,
    "its_controlled": ITSState,
    "event_study": EventTimeState,
    "sun_abraham": EventTimeState,
    "imputation": EventTimeState,
    "callaway_santanna": CSState,
    "synthetic_control": SCMState,
    "synthetic_did": SDIDState,
}


def _fit(name: str, **extra) -> EffectResult:
    est, panel, kwargs = get_estimator(name).contract_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(panel, **{**kwargs, **extra})


@pytest.fixture(scope="module")
def results() -> dict[str, EffectResult]:
    return {name: _fit(name) for name in FAMILY_STATE}


@pytest.mark.parametrize("name", sorted(FAMILY_STATE))
def test_result_carries_its_family_state(results, name):
    r = results[name]
    kind = FAMILY_STATE[name]
    assert isinstance(r.state, kind) and isinstance(r.state, FamilyState)
    assert r.state_as(kind) is r.state
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(r.state, dataclasses.fields(r.state)[0].name, None)
    # display details are strings or plain numbers, never state objects
    for key, value in r.info.items():
        assert not isinstance(value, (FamilyState, np.ndarray)), key


def test_state_as_names_the_method_of_another_family(results):
    with pytest.raises(SpecificationError, match="SDIDState.*Segmented"):
        results["its_segmented"].state_as(SDIDState)


def test_its_state(results):
    for name in ("its_segmented", "its_count", "its_controlled"):
        s = results[name].state
        assert isinstance(s.unit, str) and isinstance(s.model, str)
        assert all(isinstance(v, float) for v in s.ar_coefficients)
        assert s.pearson_dispersion is None or s.pearson_dispersion > 0
    count = results["its_count"].state
    if count.model in ("quasi_poisson", "poisson", "quasi_poisson_ar"):
        assert isinstance(count.pearson_dispersion, float)


def test_event_time_state(results):
    es = results["event_study"].state
    leads, lags = -es.window[0], es.window[1]
    assert leads >= 0 and lags >= 0 and isinstance(es.bin_endpoints, bool)
    assert es.reference_label() == es.reference_period
    # the reference event time is a zero row of the effects, as documented
    row = results["event_study"].effects.set_index("rel_time").loc[float(es.reference_period)]
    assert float(np.atleast_1d(row["estimate"])[0]) == 0.0
    for name in ("sun_abraham", "imputation"):
        assert isinstance(results[name].state.reference_period, str)


def test_cs_state_and_reaggregation(results):
    r = results["callaway_santanna"]
    s = r.state
    assert isinstance(s.cells, GroupTimeCells) and s.aggregation == s.spec["aggregation"]
    assert s.cells.influence.shape[0] == s.cells.n_units == len(s.cells.units)
    assert isinstance(s.covariates, tuple) and isinstance(s.reference_period, str)
    grp = aggregate_att(r, "group")
    assert grp.state.aggregation == "group" and grp.state.cells is s.cells
    with pytest.raises(SpecificationError, match="Callaway-Sant'Anna result"):
        aggregate_att(results["event_study"], "dynamic")


def test_scm_state(results):
    s = results["synthetic_control"].state
    assert set(s.weights) == set(s.v) == set(s.pre_mspe)
    for unit, w in s.weights.items():
        assert isinstance(w, pd.Series) and (w >= -1e-12).all()
        assert w.sum() == pytest.approx(1.0, abs=1e-8)
        v = s.v[unit]
        assert v is None or (isinstance(v, pd.Series) and (v >= 0).all())
        assert s.pre_mspe[unit] >= 0


def test_sdid_state(results):
    s = results["synthetic_did"].state
    assert s.method == "sdid"
    w = s.unit_weights["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0, abs=1e-8)
    assert s.effective_controls == pytest.approx(1.0 / np.sum(w**2), rel=1e-12)
    lam = s.time_weights["weight"].to_numpy()
    assert s.effective_pre_periods == pytest.approx(1.0 / np.sum(lam**2), rel=1e-12)


# the Conley-Taber placebo estimates are on ``result.inference.placebo_estimates``: checked against
# by-hand TWFE refits in tests/unit/test_did_conley_taber.py


def test_one_provenance_type_for_results_and_evaluations(results):
    """Results and evaluations carry one Provenance type, the version from evalint._version."""
    from evalint._version import __version__
    from evalint.evaluate.core import Evaluation
    from evalint.results import Provenance

    r = results["its_segmented"]
    assert isinstance(r.provenance, Provenance) and r.provenance.evalint_version == __version__
    hints = Evaluation.__dataclass_fields__["provenance"].type
    assert hints in (Provenance, "Provenance")
    p = Provenance.build(None, seed=3, alpha=0.05, fast=True, replications={"did": 9},
                         environment={"numpy": "x"})
    assert [k for k, _ in p.facts()] == ["evalint_version", "data_fingerprint", "seed", "alpha",
                                         "fast", "replications", "created", "numpy"]


def test_plot_works_in_a_fresh_process_that_imports_only_evalint():
    """results does not import plotting: EffectResult.plot() finds the function plotting registered
    (evalint.results.plots) because ``import evalint`` imports evalint.plotting."""
    import subprocess
    import sys

    code = (
        "import sys, matplotlib; matplotlib.use('Agg'); import evalint\n"
        "from evalint.estimators.base import get_estimator\n"
        "est, panel, kw = get_estimator('its_segmented').contract_example()\n"
        "fig = est.fit(panel, **kw).plot()\n"
        "print(type(fig).__name__, 'evalint.plotting' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split() == ["Figure", "True"]


def test_result_plotter_missing_is_a_clear_error(monkeypatch):
    from evalint.results import plots

    monkeypatch.setattr(plots, "_REGISTERED", [])
    with pytest.raises(SpecificationError, match="import evalint.plotting"):
        plots.result_plotter()
