"""The fast settings' shortcuts of the robustness section give the numbers of the long way.

``evaluate(fast=True)``'s robustness section fits synthetic-control placebo dates for the point
estimate only and reuses the design's refit as leave-one-out's all-units fit. Each shortcut is
checked against the full computation it replaces (an identity, not a stored number).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="module")
def ev():
    from evalint.datasets import simulate_nhs
    from evalint.evaluate import evaluate

    pilot = {"QHG": "2023-04", "QUE": "2023-04"}
    sim = simulate_nhs(seed=5, adoption=pilot, effects={"emergency_admissions": -0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(sim.panel, pilot, outcomes=["emergency_admissions"], start="2021-07", fast=True, seed=5,
                        designs=["synth"], robustness={"checks": ["placebo_in_time", "leave_one_out"]})


def test_point_only_synthetic_control_is_the_full_fits_estimate(ev):
    from evalint.evaluate.refits import design_refit
    from evalint.sensitivity.evaluation_checks import _scm_point
    from evalint.sensitivity.refit import retime

    refit = design_refit(ev, "scm", "emergency_admissions")
    point = _scm_point(ev, "emergency_admissions")
    assert point is not None
    periods = refit.panel.periods
    for k in (8, 14):  # two placebo windows, re-timed as placebo_in_time does
        sub = retime(refit.panel.subset(start=periods[k - 6], end=periods[k + 5]), ev.assignment.treated_units,
                     periods[k])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = refit.fit(sub)
        p = point(sub)
        assert p.estimate == full.estimate
        assert np.isnan(p.se) and all(np.isnan(p.ci))


def test_leave_one_out_all_units_fit_is_the_refit_of_the_design_panel(ev):
    from evalint.evaluate.refits import design_refit
    from evalint.sensitivity.evaluation_checks import _same_panel
    from evalint.sensitivity.refit import retime

    refit = design_refit(ev, "scm", "emergency_admissions")
    base = retime(refit.panel, ev.assignment.treated_units, refit.start)  # leave_one_out's all-units panel
    assert _same_panel(base, refit.panel)
    drop = [u for u in base.units if u not in set(ev.assignment.treated_units)][0]
    assert not _same_panel(base.subset(units=[u for u in base.units if u != drop]), refit.panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert refit.fit(base).estimate == refit.fit(refit.panel).estimate


def test_fast_rows_are_there_and_say_how_many_dates(ev):
    t = ev.robustness()
    row = t.loc[t["check"] == "placebo_in_time"].iloc[0]
    assert row["variant"].endswith("dates") and np.isfinite(row["p_value"])
    assert np.isfinite(t.loc[t["check"] == "leave_one_out", "estimate"]).all()


@pytest.mark.parametrize("options", [{}, {"control": "not_yet_treated"}, {"aggregation": "dynamic", "max_e": 6},
                                     {"aggregation": "group", "base_period": "universal"}])
def test_point_only_callaway_santanna_is_the_full_fits_estimate(options):
    from evalint.datasets import simulate_nhs
    from evalint.estimators.did.cs.estimator import CallawaySantAnna
    from evalint.inference.specs import Analytic

    sim = simulate_nhs(seed=3, adoption={"QHG": "2023-04", "QUE": "2022-10", "QM7": "2023-04"},
                       effects={"emergency_admissions": -0.05})
    panel = sim.panel.subset(start="2021-07")
    est = CallawaySantAnna(outcome="emergency_admissions", **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = est.fit(panel, inference=Analytic(), calendar=False)
    assert est.point_estimate(panel, inference=Analytic()) == full.estimate


def test_did_refit_estimate_only_path_is_the_refits_estimate():
    from evalint.datasets import simulate_nhs
    from evalint.evaluate import evaluate
    from evalint.evaluate.refits import design_refit
    from evalint.sensitivity.refit import retime

    pilot = {"QHG": "2023-04", "QUE": "2023-04"}
    sim = simulate_nhs(seed=5, adoption=pilot, effects={"emergency_admissions": -0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, pilot, outcomes=["emergency_admissions"], start="2021-07", fast=True, seed=5,
                      designs=["did"], robustness=False)
        refit = design_refit(ev, "did", "emergency_admissions")
        periods = refit.panel.periods
        sub = retime(refit.panel.subset(start=periods[2], end=periods[20]), ev.assignment.treated_units, periods[14])
        p = refit.estimate(sub)
        assert p.estimate == refit.fit(sub).estimate
        assert np.isnan(p.se) and all(np.isnan(p.ci))
        assert refit.fit(refit.panel) is refit.fit(refit.panel)  # the design's own panel is fitted once


@pytest.mark.parametrize("inference", ["analytic", "clustered", "bootstrap"])
def test_callaway_santanna_headline_is_the_full_fits_headline(inference):
    from evalint.data.panel import Panel
    from evalint.datasets import simulate_nhs
    from evalint.estimators.did.cs.estimator import CallawaySantAnna
    from evalint.inference.specs import Analytic, Clustered, MultiplierBootstrap

    sim = simulate_nhs(seed=4, adoption={"QHG": "2023-04", "QUE": "2022-10", "QM7": "2023-04", "QOP": "2022-10"},
                       effects={"length_of_stay": -0.3})
    d = sim.data.loc[sim.data["month"] >= "2021-07"]
    panel = Panel.from_frame(d, unit="icb_code", time="month", outcome="length_of_stay", cohort="cohort",
                             cluster="region" if inference == "clustered" else None)
    spec = {"analytic": Analytic(), "clustered": Clustered(by="region"),
            "bootstrap": MultiplierBootstrap(reps=99, seed=2)}[inference]
    for options in ({}, {"aggregation": "dynamic"}):
        est = CallawaySantAnna(outcome="length_of_stay", **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = est.fit(panel, inference=spec, calendar=False, alpha=0.1)
            e, se, ci, p = est.headline(panel, inference=spec, alpha=0.1)
        assert (e, se, ci, p) == (full.estimate, full.se, tuple(full.ci), full.p_value)
        assert np.isfinite(se) and se > 0


@pytest.mark.parametrize("treated", [("QHG",), ("QHG", "QUE", "QM7")])
def test_synthetic_control_headline_is_the_full_fits_headline(treated):
    from evalint.datasets import simulate_nhs
    from evalint.estimators.synth.scm.estimator import SyntheticControl
    from evalint.inference.specs import Placebo

    sim = simulate_nhs(seed=6, adoption={u: "2023-04" for u in treated}, effects={"emergency_admissions": -0.05})
    panel = sim.panel.subset(start="2021-07")
    est = SyntheticControl(leave_one_out=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = est.fit(panel, outcome="emergency_admissions", inference=Placebo(seed=3, reps=200), calendar=False)
        e, se, ci, p = est.headline(panel, outcome="emergency_admissions", inference=Placebo(seed=3, reps=200))
    assert (e, se, ci, p) == (full.estimate, full.se, tuple(full.ci), full.p_value)
    assert np.isfinite(se) and 0 < p <= 1
