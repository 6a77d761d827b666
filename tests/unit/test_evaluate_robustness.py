"""evaluate()'s "How robust is this?" section: table, fragility rule, report, fast mode.

Known truths (simulated panels, 6 treated and 30 comparison units, monthly 2021-04 to 2024-03,
intervention 2023-04, noise sd 0.1):

* confounded: no intervention effect (truth 0) and a co-timed national fund whose effect is
  0.8 x the unit's allocation, with treated units more exposed (mean 1.8 vs 1.0). The DiD is
  biased by 0.8 x 0.8 = 0.64 (closed form) and significant; controlling for the fund (the event
  regressor) moves it back to the truth, it loses significance, and the verdict becomes fragile.
* clean: a true effect of -1 and the same fund hitting both groups alike: every re-estimate keeps
  the sign and significance and the verdict is not fragile.
* ITS: one series with a level shift of +2 at a pre-period event (2022-10) and a true step of
  -1 at 2023-04; the event as a second interruption recovers -1.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint import Panel, evaluate
from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.calendar.intensity import IntensityTable
from evalint.evaluate.robustness import ROBUSTNESS_COLUMNS, RobustnessSettings
from evalint.outcomes import OutcomeKind

GAMMA = 0.8
T0 = "2023-04"
TREATED = [f"T{i}" for i in range(6)]
COMPARISON = [f"C{i:02d}" for i in range(30)]
KIND = OutcomeKind(name="emergency_admissions", label="Emergency admissions", measure="continuous",
                   unit_label="index points", default_its_model="gls_ar", reporting_scale="absolute")


def _intensities(differential: bool) -> pd.Series:
    comp = np.linspace(0.0, 2.0, len(COMPARISON))
    treat = np.linspace(1.6, 2.0, len(TREATED)) if differential else np.linspace(0.0, 2.0, len(TREATED))
    return pd.Series(np.r_[treat, comp], index=TREATED + COMPARISON)


def _panel(intensity: pd.Series, effect: float, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2021-04", "2024-03", freq="M")
    t0 = pd.Period(T0, "M")
    rows = []
    for u in TREATED + COMPARISON:
        a = rng.normal(10, 1)
        for m in months:
            post = m >= t0
            y = (a + 0.02 * (m - months[0]).n + 0.3 * np.sin(2 * np.pi * m.month / 12)
                 + (effect if (post and u in TREATED) else 0.0)
                 + (GAMMA * intensity[u] if post else 0.0) + rng.normal(0, 0.1))
            rows.append({"unit": u, "month": m.to_timestamp(), "emergency_admissions": y})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                            outcome_kind={"emergency_admissions": KIND})


def _calendar(intensity: pd.Series) -> PolicyCalendar:
    ev = PolicyEvent(id="fund_x", name="National fund X", start="2023-04-01",
                     outcomes="emergency_admissions", direction="emergency_admissions:down",
                     magnitude="large", source="simulated for the test")
    table = IntensityTable(name="fund_x_alloc", values=intensity, unit="GBP per head",
                           source="simulated allocation")
    return PolicyCalendar([ev]).with_intensity("fund_x", table)


def _evaluate(differential: bool, effect: float, seed: int, **kw):
    intensity = _intensities(differential)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(_panel(intensity, effect, seed), T0, treated=TREATED, designs=["did"], fast=True,
                        calendar=_calendar(intensity), **kw)


@pytest.fixture(scope="module")
def confounded():
    return _evaluate(True, 0.0, seed=3)


@pytest.fixture(scope="module")
def clean():
    return _evaluate(False, -1.0, seed=4)


def test_planted_confounder_makes_the_verdict_fragile(confounded):
    o = "emergency_admissions"
    main = confounded.result("did", o)
    bias = GAMMA * (_intensities(True)[TREATED].mean() - _intensities(True)[COMPARISON].mean())
    assert main.estimate == pytest.approx(0.0 + bias, abs=0.05)   # closed-form bias, truth 0
    assert main.ci[0] > 0                                           # wrongly significant
    t = confounded.robustness(o)
    reg = t.loc[(t["check"] == "churn_regressor") & (t["variant"] == "fund_x")].iloc[0]
    assert abs(reg["estimate"] - 0.0) < abs(main.estimate - 0.0)    # moves toward the truth
    assert reg["estimate"] == pytest.approx(0.0, abs=0.05)
    assert reg["conf_low"] <= 0.0 <= reg["conf_high"] and bool(reg["against"])
    v = confounded.verdicts[o]
    assert v.status == "fragile" and v.status_before_robustness == "single_design"
    assert "Fragile" in v.headline and "fund_x" in v.headline


def test_clean_panel_keeps_its_verdict(clean):
    o = "emergency_admissions"
    t = clean.robustness(o)
    reg = t.loc[t["check"] == "churn_regressor"].iloc[0]
    assert reg["estimate"] == pytest.approx(-1.0, abs=0.05)
    assert reg["reading"] == "keeps its sign and significance"
    assert not t["against"].any()
    assert clean.verdicts[o].status == "single_design"


def test_table_schema_and_switch_off(clean):
    t = clean.robustness()
    assert tuple(t.columns) == ROBUSTNESS_COLUMNS
    assert set(t["check"]) >= {"churn_donut", "churn_regressor", "churn_drop_exposed", "placebo_in_time",
                               "leave_one_out", "honest_did", "pretrend_power"}
    assert t["against"].dtype == bool
    hd = t.loc[t["check"] == "honest_did"].iloc[0]
    assert hd["estimate"] > 0          # a significant effect of 10 SE survives some violation
    off = _evaluate(False, -1.0, seed=4, robustness=False)
    assert "robustness" not in off._cache and off.verdicts["emergency_admissions"].status == "single_design"
    assert "How robust is this?" not in off.summary()


def test_fast_mode_is_cheaper(clean):
    fast = RobustnessSettings.make(True, fast=True, seed=0, alpha=0.05)
    full = RobustnessSettings.make(True, fast=False, seed=0, alpha=0.05)
    for f in ("churn_threats", "placebo_dates", "loo_units", "honest_grid", "power_draws", "event_pre"):
        assert getattr(fast, f) < getattr(full, f)
    t = clean.robustness()
    n_dates = int(t.loc[t["check"] == "placebo_in_time", "variant"].iloc[0].split()[0])
    assert n_dates <= fast.placebo_dates
    assert clean._cache["robustness_settings"].fast


def test_bad_robustness_option_names_the_key():
    from evalint.errors import SpecificationError

    with pytest.raises(SpecificationError, match="unknown key"):
        RobustnessSettings.make({"chekcs": ["churn"]}, fast=True, seed=0, alpha=0.05)
    with pytest.raises(SpecificationError, match="not known"):
        RobustnessSettings.make({"checks": ["placebo"]}, fast=True, seed=0, alpha=0.05)


def test_section_in_html_markdown_and_summary(clean, tmp_path):
    html = clean.report(tmp_path / "r.html").read_text()
    assert "How robust is this?" in html
    i = html.index("How robust is this?")
    assert "<details" in html[i:] and html.index("Summary") < i
    md = clean.report(tmp_path / "r.md").read_text()
    assert "## How robust is this?" in md and "Robustness: " in md
    text = clean.summary()
    assert "How robust is this?" in text and "Calendar threat: controlled for" in text


def test_negative_control_declared_by_the_user():
    intensity = _intensities(False)
    panel = _panel(intensity, -1.0, seed=5)
    d = panel.data
    rng = np.random.default_rng(9)
    d["nc"] = 5 + rng.normal(0, 0.1, len(d))            # nothing happens to it: truth 0
    d["month"] = d["month"].dt.to_timestamp()
    p2 = Panel.from_frame(d, unit="unit", time="month", outcome=["emergency_admissions", "nc"],
                          outcome_kind={"emergency_admissions": KIND, "nc": "continuous"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(p2, T0, treated=TREATED, designs=["did"], fast=True, outcomes=["emergency_admissions"],
                      calendar=_calendar(intensity), robustness={"negative_controls": ["nc"],
                                                                 "checks": ["negative_control"]})
    t = ev.robustness()
    row = t.loc[t["check"] == "negative_control"].iloc[0]
    assert row["variant"] == "nc" and row["conf_low"] <= 0.0 <= row["conf_high"]
    assert not row["against"]


def test_its_event_as_second_interruption_recovers_the_step():
    from evalint.evaluate.churn_designs import its_churn
    from evalint.evaluate.refits import design_refit

    rng = np.random.default_rng(11)
    months = pd.period_range("2020-04", "2024-03", freq="M")
    rows = []
    for u in ["A", "B"]:
        for m in months:
            y = (20 + 0.01 * (m - months[0]).n + (2.0 if m >= pd.Period("2022-10", "M") else 0.0)
                 + (-1.0 if m >= pd.Period(T0, "M") else 0.0) + rng.normal(0, 0.1))
            rows.append({"unit": u, "month": m.to_timestamp(), "emergency_admissions": y})
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                             outcome_kind={"emergency_admissions": KIND})
    ev_y = PolicyEvent(id="shift_y", name="Shift Y", start="2022-10-01", outcomes="emergency_admissions",
                       direction="emergency_admissions:up", magnitude="large", source="simulated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(panel, T0, designs=["its"], fast=True, calendar=False, robustness=False,
                      options={"its": {"seasonality": None, "impact": "step"}})
        refit = design_refit(ev, "its", "emergency_admissions")
        cs = its_churn(refit, ["shift_y"], calendar=PolicyCalendar([ev_y]))
    reg = cs.table.set_index("check").loc["regressor"]
    assert reg["estimate"] == pytest.approx(-1.0, abs=0.1)       # the second interruption separates it
    assert reg["conf_low"] <= -1.0 <= reg["conf_high"]
    # the shift left in the errors of the one-interruption fit: modelling it narrows the interval
    assert reg["conf_high"] - reg["conf_low"] < cs.main_ci[1] - cs.main_ci[0]


def test_negative_control_named_by_the_outcome_kind():
    import dataclasses

    kind = dataclasses.replace(KIND, negative_controls=("nc",))
    intensity = _intensities(False)
    panel = _panel(intensity, -1.0, seed=6)
    d = panel.data
    d["nc"] = 5 + np.random.default_rng(10).normal(0, 0.1, len(d))
    d["month"] = d["month"].dt.to_timestamp()
    p2 = Panel.from_frame(d, unit="unit", time="month", outcome=["emergency_admissions", "nc"],
                          outcome_kind={"emergency_admissions": kind, "nc": "continuous"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(p2, T0, treated=TREATED, designs=["did"], fast=True, outcomes=["emergency_admissions"],
                      calendar=False, robustness={"checks": ["negative_control"]})
    assert list(ev.robustness()["variant"]) == ["nc"]
