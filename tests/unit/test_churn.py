"""Differential exposure, the ranked list and churn sensitivity on simulated panels.

Known truth: a DiD panel (6 treated, 30 comparison units, monthly) with a true effect of -1.0
from the intervention month, and a co-timed national event whose effect is 0.8 x the unit's
intensity. When treated units are more exposed, the main DiD is biased by
0.8 x (mean treated - mean comparison intensity) (closed form); the regressor re-estimate
removes it. An event with the same intensity distribution in both groups must not be flagged
as differential.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint import Panel
from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.calendar.exposure import DIFFERENTIAL_SMD, standardised_difference
from evalint.calendar.intensity import IntensityTable, read_intensity_csv
from evalint.calendar.ranking import combine_threats
from evalint.errors import ColumnNotFoundError, NonNumericError
from evalint.estimators.did.twfe import twfe
from evalint.evaluate.churn_sensitivity import churn_sensitivity

TRUE = -1.0
GAMMA = 0.8
T0 = pd.Period("2023-04", "M")
TREATED = [f"T{i}" for i in range(6)]
COMPARISON = [f"C{i:02d}" for i in range(30)]


def _intensities(differential: bool) -> pd.Series:
    # comparison: evenly spread 0..2 (mean 1); treated: 1.6..2.0 (mean 1.8) or the same
    # spread as the comparison units (mean 1)
    comp = np.linspace(0.0, 2.0, len(COMPARISON))
    treat = np.linspace(1.6, 2.0, len(TREATED)) if differential else np.linspace(0.0, 2.0, len(TREATED))
    return pd.Series(np.r_[treat, comp], index=TREATED + COMPARISON)


def _panel(intensity: pd.Series, seed: int = 1) -> Panel:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2021-04", "2024-03", freq="M")
    rows = []
    for u in TREATED + COMPARISON:
        a = rng.normal(10, 1)
        for m in months:
            post = m >= T0
            y = (a + 0.02 * (m - months[0]).n + 0.3 * np.sin(2 * np.pi * m.month / 12)
                 + (TRUE if (post and u in TREATED) else 0.0)
                 + (GAMMA * intensity[u] if post else 0.0) + rng.normal(0, 0.1))
            rows.append({"unit": u, "month": m.to_timestamp(), "y": y,
                         "cohort": "2023-04" if u in TREATED else None})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="y",
                            cohort="cohort")


def _calendar(intensity: pd.Series) -> PolicyCalendar:
    ev = PolicyEvent(id="fund_x", name="National fund X", start="2023-04-01",
                     outcomes="emergency_admissions", direction="emergency_admissions:down",
                     magnitude="large", source="simulated for the test")
    cal = PolicyCalendar([ev])
    table = IntensityTable(name="fund_x_alloc", values=intensity, unit="GBP per head",
                           source="simulated allocation")
    return cal.with_intensity("fund_x", table)


def test_standardised_difference_closed_form():
    assert standardised_difference([1, 3], [0, 2]) == pytest.approx(1 / np.sqrt(2))
    assert standardised_difference([1.0], [1.0, 1.0]) == 0.0
    assert standardised_difference([2.0], [1.0, 1.0]) == np.inf
    assert np.isnan(standardised_difference([], [1.0]))


@pytest.mark.parametrize("differential", [True, False])
def test_co_timed_event_flagged_only_when_exposure_differs(differential):
    intensity = _intensities(differential)
    cal = _calendar(intensity)
    res = cal.check("2023-04-01", outcome="emergency_admissions", pre=24, post=12,
                    treated_units=TREATED, comparison_units=COMPARISON, design="did")
    row = res.table.set_index("event_id").loc["fund_x"]
    d = standardised_difference(intensity[TREATED], intensity[COMPARISON])
    assert row["smd"] == pytest.approx(d)
    if differential:
        assert abs(d) >= DIFFERENTIAL_SMD
        assert row["differential"] is True and row["severity"] == "high" and not res.passed
        top = res.ranked_threats()
        assert top.at[0, "event_id"] == "fund_x" and top.at[0, "rank"] == 1
        assert "exposure differs" in top.at[0, "reason"] and top.at[0, "source"]
    else:
        assert abs(d) < DIFFERENTIAL_SMD
        # no high threat (the one-event calendar does not cover the window: passed None, not True)
        assert row["differential"] is False and row["severity"] == "medium" and res.passed is None
    # a single series cannot difference anything out: co-timed and acting on the outcome
    its = cal.check("2023-04-01", outcome="emergency_admissions", pre=24, post=12, design="its")
    assert its.table.set_index("event_id").at["fund_x", "severity"] == "high"


def _fit(panel: Panel):
    return twfe(panel, calendar=False)


def test_regressor_recovers_the_effect_of_a_differential_co_timed_event():
    intensity = _intensities(True)
    panel = _panel(intensity)
    cal = _calendar(intensity)
    bias = GAMMA * (intensity[TREATED].mean() - intensity[COMPARISON].mean())  # 0.8 x 0.8
    main = _fit(panel)
    assert main.estimate == pytest.approx(TRUE + bias, abs=0.05)
    assert not (main.ci[0] <= TRUE <= main.ci[1])  # the main interval misses the truth
    sens = churn_sensitivity(_fit, panel, ["fund_x"], calendar=cal)
    tab = sens.table.set_index("check")
    reg = tab.loc["regressor"]
    assert reg["estimate"] == pytest.approx(TRUE, abs=0.05)
    assert reg["conf_low"] <= TRUE <= reg["conf_high"]
    assert reg["change"] == pytest.approx(-bias, abs=0.05)
    # dropping the comparison units least like the treated ones moves towards the truth
    assert abs(tab.at["drop_exposed", "estimate"] - TRUE) < abs(main.estimate - TRUE)
    # the event acts for the whole post-period: a donut cannot remove it, and says so
    assert "not possible" in tab.at["donut", "note"] or np.isfinite(tab.at["donut", "estimate"])
    frame = sens.to_frame()
    assert frame.iloc[0]["check"] == "main" and list(frame.columns)[:3] == ["event_id", "check",
                                                                             "estimate"]


def test_alike_event_leaves_estimate_and_regressor_agree():
    intensity = _intensities(False)
    panel = _panel(intensity, seed=2)
    main = _fit(panel)
    assert main.estimate == pytest.approx(TRUE, abs=0.05)
    sens = churn_sensitivity(_fit, panel, ["fund_x"], calendar=_calendar(intensity),
                             alternative_dates=["2023-01-01"])
    tab = sens.table.set_index("check")
    assert tab.at["regressor", "estimate"] == pytest.approx(TRUE, abs=0.05)
    # moving the date three months early (2023-01) dilutes the step: 3 of the 15 "post" months
    # have no effect, so the static DiD is TRUE x 12/15 (closed form)
    assert tab.at["alternative_date", "estimate"] == pytest.approx(TRUE * 12 / 15, abs=0.05)


def test_intensity_csv_format(tmp_path):
    p = tmp_path / "alloc.csv"
    p.write_text("area_code,intensity,unit,source\nQHG,1.5,GBP per head,annex D\n"
                 "QUE,2.5,GBP per head,annex D\n", encoding="utf-8")
    t = read_intensity_csv(p)
    assert t.values.to_dict() == {"QHG": 1.5, "QUE": 2.5} and t.unit == "GBP per head"
    assert list(t.to_frame().columns) == ["area_code", "intensity", "unit", "source"]
    p.write_text("area_code,intensity,unit\nQHG,1.5,x\n", encoding="utf-8")
    with pytest.raises(ColumnNotFoundError, match="source"):
        read_intensity_csv(p)
    p.write_text("area_code,intensity,unit,source\nQHG,lots,x,y\n", encoding="utf-8")
    with pytest.raises(NonNumericError, match="QHG"):
        read_intensity_csv(p)


def test_demo_fund_ranks_first_and_no_ics_waves():
    """The demo's pilot (4 East of England ICBs, April 2023): the national 2023-25 discharge
    fund, co-timed, ranks first across designs and outcomes; 2017-21 ICS waves never appear."""
    from evalint.calendar import load_icbs
    from evalint.demo import PILOT_ICBS, demo_intervention

    cal = PolicyCalendar.default()
    comp = [u for u in load_icbs()["icb_ods_code"] if u not in PILOT_ICBS]
    checks = []
    for outcome in ("emergency_admissions", "length_of_stay", "delayed_discharges"):
        checks.append(cal.check(demo_intervention(), outcome=outcome, pre=21, post=24,
                                design="its", treated_units=list(PILOT_ICBS)))
        checks.append(cal.check(demo_intervention(), outcome=outcome, pre=21, post=24,
                                design="did", comparison_units=comp))
    for c in checks:
        assert len(c.ranked_threats()) <= 5
        assert not any(e.startswith("ics_wave") for e in c.table["event_id"])
    top = combine_threats(checks)
    assert top.at[0, "event_id"] == "asc_discharge_fund_2023_25"
    assert len(top) <= 5


def test_donut_removes_a_one_month_co_timed_shock():
    """A 2-day strike-like shock in the intervention month hits treated units only (+3.0):
    the main DiD is biased by 3.0/12 (one of 12 post months, closed form); the donut that
    drops that month recovers the effect."""
    rng = np.random.default_rng(5)
    months = pd.period_range("2022-04", "2024-03", freq="M")
    rows = []
    for u in TREATED + COMPARISON:
        a = rng.normal(10, 1)
        for m in months:
            y = (a + 0.02 * (m - months[0]).n + (TRUE if (m >= T0 and u in TREATED) else 0.0)
                 + (3.0 if (m == T0 and u in TREATED) else 0.0) + rng.normal(0, 0.05))
            rows.append({"unit": u, "month": m.to_timestamp(), "y": y,
                         "cohort": "2023-04" if u in TREATED else None})
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="y",
                             cohort="cohort")
    ev = PolicyEvent(id="strike_x", name="Strike X", start="2023-04-12", end="2023-04-13",
                     scope="subset", units=tuple(TREATED), outcomes="emergency_admissions",
                     source="simulated")
    cal = PolicyCalendar([ev])
    res = cal.check("2023-04-01", outcome="emergency_admissions", pre=12, post=12,
                    treated_units=TREATED, comparison_units=COMPARISON)
    row = res.table.set_index("event_id").loc["strike_x"]
    assert row["differential"] is True and row["weight"] == pytest.approx(2 / 30.44)
    assert row["severity"] == "medium"  # high, one step lower: a blip in a monthly series
    main = _fit(panel)
    assert main.estimate == pytest.approx(TRUE + 3.0 / 12, abs=0.03)
    sens = churn_sensitivity(_fit, panel, ["strike_x"], calendar=cal, checks=("donut",))
    donut = sens.table.set_index("check").loc["donut"]
    assert donut["estimate"] == pytest.approx(TRUE, abs=0.03)
    assert donut["conf_low"] <= TRUE <= donut["conf_high"]


def test_evaluation_exposes_ranked_threats_and_churn_table():
    import warnings

    from evalint import evaluate
    from evalint.demo import DEMO_START, demo_intervention, simulate_demo_panel

    sim = simulate_demo_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, demo_intervention(), outcomes=["delayed_discharges"],
                      start=DEMO_START, fast=True, designs=["did"])
    top = ev.ranked_threats()
    assert top.at[0, "event_id"] == "asc_discharge_fund_2023_25" and len(top) <= 5
    assert {"rank", "event_id", "name", "score", "reason", "source"} <= set(top.columns)
    cs = ev.churn_sensitivity("delayed_discharges")
    frame = cs.to_frame()
    assert frame.at[0, "check"] == "main"
    assert frame.at[0, "estimate"] == pytest.approx(ev.result("did", "delayed_discharges").estimate)
    assert set(frame["check"]) >= {"main", "donut", "regressor", "drop_exposed"}
