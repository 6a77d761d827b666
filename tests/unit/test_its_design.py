"""The ITS design-matrix builder: closed-form columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.errors import SpecificationError
from evalint.estimators.its.design import DesignSpec, build_design, resolve_interventions

PER = pd.period_range("2002-01", periods=59, freq="M")


def test_step_slope_matches_the_tutorial_coding():
    """Lopez Bernal et al. (2017): smokban = 1 from time 37 (Jan 2005), post_time = max(0, time - 36)."""
    d = build_design(PER, resolve_interventions({"ban": "2005-01-01"}, "M", PER), DesignSpec(), "M")
    time = np.arange(1, 60)
    assert d.columns == ["intercept", "time", "level_ban", "slope_ban"]
    np.testing.assert_array_equal(d.X["time"], time)
    np.testing.assert_array_equal(d.X["level_ban"], (time >= 37).astype(float))
    np.testing.assert_array_equal(d.X["slope_ban"], np.maximum(0, time - 36))
    assert d.include.all()
    assert list(d.phase[:36]) == ["pre"] * 36 and list(d.phase[36:]) == ["post"] * 23


def test_fourier_terms_are_tsmodel_harmonics():
    """sin/cos(2 pi k month / 12), k = 1, 2 (tsModel::harmonic(month, 2, 12))."""
    d = build_design(PER, resolve_interventions("2005-01", "M", PER),
                     DesignSpec(impact="step", seasonality="fourier", harmonics=2), "M")
    m = np.asarray(PER.month, dtype=float)
    for k in (1, 2):
        np.testing.assert_allclose(d.X[f"sin{k}"], np.sin(2 * np.pi * k * m / 12), atol=1e-15)
        np.testing.assert_allclose(d.X[f"cos{k}"], np.cos(2 * np.pi * k * m / 12), atol=1e-15)
    assert d.seasonal_terms == ("sin1", "cos1", "sin2", "cos2")


def test_month_dummies_have_january_as_reference():
    d = build_design(PER, resolve_interventions("2005-01", "M", PER), DesignSpec(seasonality="month"), "M")
    assert [c for c in d.columns if c.startswith("season_")] == [f"season_{k}" for k in range(2, 13)]
    np.testing.assert_array_equal(d.X["season_3"], (np.asarray(PER.month) == 3).astype(float))


def test_lag_and_excluded_transition():
    d = build_design(PER, resolve_interventions("2005-01", "M", PER),
                     DesignSpec(impact="step_slope", lag=1, transition=3), "M")
    # effect starts at row 36 + 1 (lag); window rows 37, 38, 39 excluded; terms start at row 40
    assert not d.include[37:40].any() and d.include[:37].all() and d.include[40:].all()
    assert d.X["level_intervention"].iloc[39] == 0 and d.X["level_intervention"].iloc[40] == 1
    assert d.X["slope_intervention"].iloc[40] == 1 and d.X["slope_intervention"].iloc[45] == 6
    assert list(d.phase[37:40]) == ["transition"] * 3


def test_ramp_phases_in_over_the_window():
    d = build_design(PER, resolve_interventions("2005-01", "M", PER), DesignSpec(impact="ramp", transition=4), "M")
    np.testing.assert_allclose(d.X["ramp_intervention"].iloc[35:42], [0, 0.25, 0.5, 0.75, 1, 1, 1])
    assert d.include.all()


def test_transition_mode_ramp_replaces_step():
    d = build_design(PER, resolve_interventions("2005-01", "M", PER),
                     DesignSpec(impact="step", transition=2, transition_mode="ramp"), "M")
    assert "ramp_intervention" in d.columns and "level_intervention" not in d.columns


def test_two_interruptions_and_counterfactual():
    dates = resolve_interventions({"ics": "2004-01", "fund": "2005-06"}, "M", PER)
    d = build_design(PER, dates, DesignSpec(), "M")
    assert d.terms == {"ics": ("level_ics", "slope_ics"), "fund": ("level_fund", "slope_fund")}
    cf = d.counterfactual(["fund"])
    assert (cf["level_fund"] == 0).all() and (cf["level_ics"] == d.X["level_ics"]).all()


@pytest.mark.parametrize("bad,match", [
    ("2001-06", "starts at 2002-01"), ("2002-01", "starts at 2002-01"), ("2007-03", "after the series ends"),
])
def test_interventions_outside_the_data_are_rejected(bad, match):
    with pytest.raises(SpecificationError, match=match):
        resolve_interventions(bad, "M", PER)


def test_interventions_out_of_order_rejected():
    with pytest.raises(SpecificationError, match="date order"):
        resolve_interventions({"b": "2005-01", "a": "2004-01"}, "M", PER)


def test_spec_validation():
    with pytest.raises(SpecificationError, match="impact"):
        DesignSpec(impact="jump")
    with pytest.raises(SpecificationError, match="transition"):
        DesignSpec(impact="ramp")
    with pytest.raises(SpecificationError, match="harmonics"):
        build_design(PER, resolve_interventions("2005-01", "M", PER),
                     DesignSpec(seasonality="fourier", harmonics=7), "M")
