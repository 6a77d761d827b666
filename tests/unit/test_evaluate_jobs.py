"""evaluate(jobs=2): the fits and robustness checks shared with a forked helper give the same
evaluation, bit for bit, as one process."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint._forked import available
from evalint.demo import DEMO_START, OUTCOMES, demo_intervention, simulate_demo_panel
from evalint.errors import SpecificationError
from evalint.evaluate import evaluate


@pytest.fixture(scope="module")
def demo_panel():
    return simulate_demo_panel(2022).panel


@pytest.mark.skipif(not available(), reason="fork is unavailable here")
def test_two_processes_give_the_same_evaluation(demo_panel, monkeypatch):
    import pickle

    received = []  # results sent back by the helper (unpickled here)
    unpickle = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda data: received.append(1) or unpickle(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one, two = (evaluate(demo_panel, demo_intervention(), outcomes=list(OUTCOMES), start=DEMO_START,
                             seed=7, fast=True, jobs=j) for j in (1, 2))
    assert received  # the helper's fits and checks were used, not redone here
    pd.testing.assert_frame_equal(one.table(), two.table(), check_exact=True)
    pd.testing.assert_frame_equal(one.robustness(), two.robustness(), check_exact=True)
    pd.testing.assert_frame_equal(one.warnings, two.warnings, check_exact=True)
    pd.testing.assert_frame_equal(one.flags_frame(), two.flags_frame(), check_exact=True)
    assert {o: v.text for o, v in one.verdicts.items()} == {o: v.text for o, v in two.verdicts.items()}
    assert list(one.results) == list(two.results)
    assert set(one.runtimes) == set(two.runtimes)
    # what the report reads later came back from the helper
    churn = sorted(k for k in one._cache if isinstance(k, str) and k.startswith("churn:"))
    assert churn and churn == sorted(k for k in two._cache if isinstance(k, str) and k.startswith("churn:"))
    for k in churn:
        pd.testing.assert_frame_equal(one._cache[k].table, two._cache[k].table, check_exact=True)


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_jobs_must_be_a_positive_integer(demo_panel, jobs):
    with pytest.raises(SpecificationError, match="jobs must be a positive integer"):
        evaluate(demo_panel, demo_intervention(), outcomes=["emergency_admissions"], jobs=jobs)


@pytest.mark.parametrize("jobs", [0, 2.0, False])
def test_figures_jobs_must_be_a_positive_integer(demo_panel, jobs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(demo_panel, demo_intervention(), outcomes=["emergency_admissions"], designs=["its"],
                      start=DEMO_START, fast=True, robustness=False)
    with pytest.raises(SpecificationError, match="jobs must be a positive integer"):
        ev.figures(jobs=jobs)
