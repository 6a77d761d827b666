"""ITS results build their tables and checks on first access, and behave as plain EffectResults."""

import copy
import dataclasses
import pickle

import numpy as np
import pandas as pd

from evalint import Panel
from evalint.estimators.its import CountITS, SegmentedRegression
from evalint.estimators.its.lazy_result import LazyEffectResult
from evalint.results.effect import EffectResult


def _panel():
    rng = np.random.default_rng(3)
    months = pd.period_range("2017-01", periods=72, freq="M")
    rows = []
    for u in ("A", "B", "C"):
        pop = np.full(72, 300_000.0)
        mu = pop * 3e-3 * np.exp(0.002 * np.arange(72) - 0.08 * (np.arange(72) >= 48))
        rows.append(pd.DataFrame({"unit": u, "month": months, "emergency_admissions": rng.poisson(mu),
                                  "length_of_stay": 7 + rng.normal(0, 0.2, 72), "population": pop}))
    return Panel.from_frame(pd.concat(rows, ignore_index=True), unit="unit", time="month",
                            outcome=["emergency_admissions", "length_of_stay"], population="population")


def _fits(panel):
    count = CountITS(interventions="2021-01", impact="step_slope", errors="newey_west")
    seg = SegmentedRegression(interventions="2021-01", impact="step")
    return (count.fit(panel, unit="B", outcome="emergency_admissions", calendar=False),
            seg.fit(panel, unit="C", outcome="length_of_stay", calendar=False))


def test_deferred_fields_are_built_once_and_survive_pickle_copy_replace():
    panel = _panel()
    for r in _fits(panel):
        assert isinstance(r, EffectResult) and isinstance(r, LazyEffectResult)
        assert "effects" not in r.__dict__ and "flags" not in r.__dict__  # nothing built yet
        eff = r.effects
        assert r.effects is eff and "series" in r.__dict__ and "flags" not in r.__dict__
        flags = r.flags
        assert r.flags is flags and len(r.diagnostics) >= 3
        r2 = pickle.loads(pickle.dumps(r))
        pd.testing.assert_frame_equal(r2.effects, r.effects)
        assert r2.flags == r.flags and r2.estimate == r.estimate
        r3 = dataclasses.replace(r, estimate=1.0)
        assert r3.estimate == 1.0
        pd.testing.assert_frame_equal(r3.tables["counterfactual"], r.tables["counterfactual"])
        r4 = copy.deepcopy(_fits(panel)[0])
        assert len(r4.to_frame()) == len(r4.effects) + 1


def test_series_extracted_from_the_grouped_panel_equal_a_direct_selection():
    panel = _panel()
    r = _fits(panel)[0]
    d = panel.data
    y = d.loc[d["unit"] == "B", "emergency_admissions"].to_numpy(dtype=float)
    assert np.array_equal(r.series["observed"].to_numpy(), y)
    assert list(r.series["time"].astype(str)) == [str(p) for p in pd.period_range("2017-01", periods=72, freq="M")]
