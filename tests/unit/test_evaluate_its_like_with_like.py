"""evaluate(): the pooled per-unit ITS is shown apart from the verdict; seasonal terms only for
sub-annual data (annual panels used to fail ITS every time)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evalint import evaluate
from evalint.data.panel import Panel
from evalint.evaluate.core import DesignFailure
from evalint.evaluate.triangulate import Entry, verdict_for


class _S:
    def __init__(self, a, lo, hi):
        self.absolute, self.abs_low, self.abs_high = a, lo, hi
        self.percent, self.pct_low, self.pct_high = a, lo, hi


def _entry(design, a, lo, hi):
    return Entry(design, design.upper(), "y", scaled=_S(a, lo, hi))


def test_per_unit_its_is_shown_apart_and_left_out_of_the_verdict():
    # the per-unit ITS disagrees in sign with the DiD; the verdict still reads the DiD alone
    v = verdict_for("y", [_entry("its_units", 5, 3, 7), _entry("did", -4, -6, -1)])
    assert v.status == "single_design" and v.designs == ("did",)
    assert "Not in the verdict: ITS_UNITS" in v.text and "average post-period effect" in v.text
    v = verdict_for("y", [_entry("its_units", 5, 3, 7), _entry("did", -4, -6, -1), _entry("scm", -3, -5, -1)])
    assert v.status == "agree"


def _annual_panel(freq_periods: pd.PeriodIndex) -> Panel:
    rng = np.random.default_rng(4)
    rows = []
    for i in range(8):
        for t, p in enumerate(freq_periods):
            mu = 2000 * (1 + 0.05 * i) * np.exp(0.01 * t) * (0.9 if (i == 0 and t >= 14) else 1.0)
            rows.append({"unit": f"u{i}", "year": p, "emergency_admissions": rng.poisson(mu),
                         "population": 100_000})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="year", outcome="emergency_admissions",
                            population="population")


def test_annual_panel_runs_its_without_seasonal_terms():
    panel = _annual_panel(pd.period_range("2000", periods=20, freq="Y"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(panel, "2014", treated=["u0"], designs=["its"], fast=True, calendar=False)
    res = ev.results[("its", "emergency_admissions")]
    assert not isinstance(res, DesignFailure), res
    assert res.info["Seasonality"] == "none"


def test_apart_note_with_a_magnitude_disagreement():
    v = verdict_for("y", [_entry("its_units", 5, 3, 7), _entry("did", -4, -5, -3), _entry("scm", -1, -2, -0.5)])
    assert v.status == "disagree_magnitude" and "Not in the verdict" in v.text
