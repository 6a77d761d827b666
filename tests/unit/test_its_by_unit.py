"""ITS per unit of a panel, the pooled estimate, and the national series from panel.aggregate()."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from evalint.datasets import simulate_nhs
from evalint.errors import DroppedRowsWarning
from evalint.estimators.its import SegmentedRegression, count_its, its_by_unit, pool_its


@pytest.fixture(scope="module")
def sim():
    from evalint.geography.icbs import load_icbs

    codes = list(load_icbs()["icb_ods_code"][:6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate_nhs(seed=5, units=codes, adoption="ics_golive_2022", covid=False, days_in_month=False,
                            effects={"emergency_admissions": -0.05, "length_of_stay": 0.0,
                                     "delayed_discharges": 0.0})


def test_each_unit_and_pooled(sim):
    res = its_by_unit(sim.panel, impact="step", seasonality="fourier", harmonics=1, calendar=False)
    assert len(res) == 6 and res.pooled is not None
    for r in res.results.values():
        assert r.scale == "rate_ratio" and r.n_units == 1
    frame = res.to_frame()
    assert list(frame["group"])[-1] == "pooled" and len(frame) == 7
    lo, hi = res.pooled.ci
    assert lo < 0.95 < hi          # seeded draw; coverage itself is checked in test_its_coverage.py
    assert res.pooled.info["Units pooled"] == 6


def test_pooling_closed_form_for_equal_estimates(sim):
    """Identical per-unit estimates: tau^2 = 0 and the pooled SE is se / sqrt(k)."""
    r = count_its(sim.panel.aggregate("England"), "2022-07", outcome="emergency_admissions", impact="step",
                  calendar=False)
    pooled = pool_its({i: r for i in range(4)})
    assert pooled.estimate == pytest.approx(r.estimate, rel=1e-12)
    se_log = r.se / r.estimate
    assert np.log(pooled.ci[1]) - np.log(pooled.estimate) == pytest.approx(1.959964 * se_log / 2, rel=1e-5)
    assert pooled.info["tau^2"] == 0.0


def test_national_series_from_aggregate(sim):
    nat = sim.panel.aggregate("England")
    r = count_its(nat, "2022-07-01", outcome="emergency_admissions", impact="step", seasonality="fourier",
                  harmonics=1, calendar=False)
    assert r.info["Unit"] == "England" and r.ci[0] < 0.95 < r.ci[1]


def test_cohort_dates_and_never_treated_skipped(sim):
    from evalint.data.panel import Panel

    df = sim.panel.data
    first = df[sim.panel.unit].iloc[0]
    df["cohort"] = np.where(df[sim.panel.unit] == first, "never", "2022-07")
    p = Panel.from_frame(df.drop(columns=["treated"], errors="ignore"), unit=sim.panel.unit, time=sim.panel.time,
                         outcome="length_of_stay", cohort="cohort")
    with pytest.warns(DroppedRowsWarning, match="Skipped 1 unit"):
        res = its_by_unit(p, estimator=SegmentedRegression(errors="ar"), calendar=False)
    assert len(res) == 5 and first not in res.results


def test_skip_failures(sim):
    with pytest.warns(DroppedRowsWarning, match="failed for 6 unit"):
        res = its_by_unit(sim.panel, "2016-06", on_error="skip", calendar=False)
    assert len(res.failed) == 6 and res.pooled is None
    with pytest.raises(Exception, match="unit '"):
        its_by_unit(sim.panel, "2016-06", calendar=False)


def test_calendar_presets_as_interventions(sim):
    """A preset gives the date and names the interruption; the calendar check then excludes the
    intervention's own events (here the ICB go-live itself)."""
    from evalint.calendar import resolve_preset

    nat = sim.panel.aggregate("England")
    r = count_its(nat, "ics_golive_2022", outcome="emergency_admissions", impact="step")
    assert r.term == "level_ics_golive_2022" and r.intervention == "ics_golive_2022 2022-07"
    own = set(resolve_preset("ics_golive_2022").event_ids)
    assert not own & {f.event_id for f in r.flags}
    plain = count_its(nat, "2022-07-01", outcome="emergency_admissions", impact="step")
    assert own & {f.event_id for f in plain.flags}      # with a bare date the go-live is reported
    assert r.estimate == pytest.approx(plain.estimate, rel=1e-12)
