"""evaluate() DiD with a few treated units: Conley-Taber permutation inference.

Numbers asserted come from outside evalint: the closed-form simple Callaway-Sant'Anna ATT is
checked against the full C-S fit (1e-10), placebo assignments against combinatorics, and the
intervals' coverage against simulate_nhs's known effects inside a binomial band around the
nominal 95% (never against one draw's interval).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.datasets import simulate_nhs
from evalint.errors import InferenceError, SpecificationError
from evalint.estimators.did.cs.estimator import callaway_santanna
from evalint.estimators.did.cs.cells import outcome_matrix
from evalint.evaluate import evaluate
from evalint.estimators.did.permutation import cs_simple_att
from evalint.evaluate.pilot import placebo_few_treated
from evalint.inference.permutation import n_placebo_assignments, placebo_assignments
from evalint.inference.specs import Analytic

EFFECTS = {"emergency_admissions": -0.05, "length_of_stay": -0.3, "delayed_discharges": -0.10}
TRUTH = {"emergency_admissions": math.log(0.95), "length_of_stay": -0.3, "delayed_discharges": math.log(0.90)}
THREE = ("QHG", "QUE", "QM7")
FIVE = ("QHG", "QUE", "QM7", "QH8", "QJG")


def _log_rate_panel(adoption, seed=0, outcome="emergency_admissions"):
    """The panel evaluate()'s DiD fits: log admissions per 100,000, the assignment's cohorts."""
    from evalint.evaluate.core import _Context
    from evalint.evaluate.designs import resolve_assignment

    sim = simulate_nhs(seed=seed, adoption=adoption, effects=EFFECTS)
    work = sim.panel.subset(start="2021-07")
    ctx = _Context(panel=work, assignment=resolve_assignment(work, adoption, None), alpha=0.05, seed=0,
                   fast=True, calendar=False, options={})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ctx.transformed("log_rate").with_outcome(outcome)


def _cohort_ordinals(panel, units):
    cohort = panel.timing.cohort.reindex(units)
    return np.array([np.nan if pd.isna(c) else c.ordinal for c in cohort], dtype=float)


pytestmark = pytest.mark.filterwarnings("ignore:Cohort .* has a single unit")


# ----------------------------------------------------------------------------- closed form = full C-S fit
@pytest.mark.parametrize("kw", [{}, {"anticipation": 1}, {"max_e": 5}, {"anticipation": 2, "max_e": 3}])
def test_closed_form_simple_att_equals_full_cs_fit(kw):
    panel = _log_rate_panel({"QHG": "2023-04", "QUE": "2023-04", "QM7": "2022-10"})
    y, units, per = outcome_matrix(panel, panel.outcome)
    full = callaway_santanna(panel, inference=Analytic(), calendar=False, **kw).estimate
    closed = cs_simple_att(y, per, _cohort_ordinals(panel, units), **kw)
    assert closed == pytest.approx(full, abs=1e-10)
    assert abs(full) > 1e-3  # a real number, not two zeros


def test_closed_form_placebos_equal_cs_refits():
    """The same placebo assignments (same seed) through the closed form and through full C-S refits."""
    panel = _log_rate_panel({"QHG": "2023-04", "QUE": "2023-04", "QM7": "2022-10"}, seed=3)
    res = callaway_santanna(panel, inference=Analytic(), calendar=False)

    def refit(p):
        return callaway_santanna(p, inference=Analytic(), calendar=False).estimate

    _, closed = placebo_few_treated(res, panel, 0.05, reps=12, seed=7)
    _, refits = placebo_few_treated(res, panel, 0.05, reps=12, seed=7, fit_one=refit)
    assert closed.shape == (12,)
    np.testing.assert_allclose(closed, refits, rtol=0, atol=1e-10)
    assert np.std(closed) > 1e-3


# ----------------------------------------------------------------------------- placebo assignments
def test_placebo_assignments_enumerate_when_few():
    # one date: all C(10, 2) = 45 unordered pairs, each once
    draws = placebo_assignments(10, ["2023-04"] * 2, reps=199, seed=0)
    assert n_placebo_assignments(10, ["2023-04"] * 2) == 45 == math.comb(10, 2)
    assert draws.shape == (45, 2) and len({frozenset(r) for r in draws}) == 45
    # two dates: the pair is ordered (who gets which date), 10 * 9 = 90
    two = placebo_assignments(10, ["2023-04", "2022-10"], reps=199, seed=0)
    assert n_placebo_assignments(10, ["2023-04", "2022-10"]) == 90
    assert two.shape == (90, 2) and len({tuple(r) for r in two}) == 90
    # three units, dates (a, b, a): C(8, 2) * 6 = 168 distinct assignments
    assert n_placebo_assignments(8, ["a", "b", "a"]) == math.comb(8, 2) * 6
    three = placebo_assignments(8, ["a", "b", "a"], reps=500, seed=0)
    assert len({(frozenset(r[[0, 2]]), r[1]) for r in three}) == 168 == three.shape[0]
    assert all(len(set(r)) == 3 for r in three)
    # one treated unit among 41: every comparison unit once
    assert sorted(placebo_assignments(41, ["x"], reps=199, seed=0)[:, 0]) == list(range(41))
    with pytest.raises(InferenceError, match="more comparison units"):
        placebo_assignments(3, ["a"] * 3, reps=10, seed=0)


def test_placebo_assignments_random_are_seeded_and_uniform():
    n0, k, reps = 38, 4, 5000
    a = placebo_assignments(n0, ["d"] * k, reps=reps, seed=11)
    assert a.shape == (reps, k) and all(len(set(r)) == k for r in a[:200])
    np.testing.assert_array_equal(a, placebo_assignments(n0, ["d"] * k, reps=reps, seed=11))
    assert not np.array_equal(a, placebo_assignments(n0, ["d"] * k, reps=reps, seed=12))
    # each comparison unit is drawn with probability k / n0 per assignment (99.9% binomial band,
    # Bonferroni over the 38 units)
    counts = np.bincount(a.ravel(), minlength=n0)
    lo, hi = stats.binom.ppf([0.001 / n0 / 2, 1 - 0.001 / n0 / 2], reps, k / n0)
    assert np.all((counts >= lo) & (counts <= hi)), (counts, lo, hi)


@pytest.mark.parametrize("m", [41, 199])
def test_rank_interval_covers_exchangeable_draws(m):
    """Estimate error and m placebo errors i.i.d. (exchangeable by construction): the interval
    covers zero error with probability (u - l) / (m + 1) >= 0.95, inside a 99.8% binomial band
    over 4000 draws; interpolated quantiles (np.quantile) fall short with 41 placebos."""
    from evalint.inference.permutation import conley_taber_interval, permutation_ranks

    rng = np.random.default_rng(20261124)
    draws = rng.standard_t(4, size=(4000, m + 1))
    hit = np.array([conley_taber_interval(d[0], d[1:], 0.05)[0] <= 0 <= conley_taber_interval(d[0], d[1:], 0.05)[1]
                    for d in draws])
    lo_r, hi_r = permutation_ranks(m, 0.05)
    target = (hi_r - lo_r) / (m + 1)
    assert target >= 0.95
    band = stats.binom.ppf([0.001, 0.999], hit.size, target) / hit.size
    assert band[0] <= hit.mean() <= band[1], (hit.mean(), band)
    if m == 41:
        q = np.quantile(draws[:, 1:], [0.025, 0.975], axis=1)
        interp = np.mean((draws[:, 0] >= q[0]) & (draws[:, 0] <= q[1]))
        assert interp < stats.binom.ppf(0.001, hit.size, 0.95) / hit.size     # about 0.905


# ----------------------------------------------------------------------------- evaluate()
@pytest.fixture(scope="module")
def three_treated():
    pilot = dict.fromkeys(THREE, "2023-04")
    sim = simulate_nhs(seed=5, adoption=pilot, effects=EFFECTS)
    return sim, pilot, evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False)


def test_evaluate_uses_permutation_with_few_treated(three_treated):
    sim, pilot, ev = three_treated
    for o in TRUTH:
        r = ev.result("did", o)
        assert r.inference.name == "placebo_permutation" and r.inference.reps == 199   # fast: 199 draws
        assert "3 of the 39 comparison units" in r.inference.description
        assert r.ci[0] < r.estimate < r.ci[1]
        assert any(f.source == "placebo_permutation" for f in r.flags)
    again = evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False)
    other = evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False, seed=1)
    a, b, c = (e.result("did", "emergency_admissions") for e in (ev, again, other))
    assert a.ci == b.ci and a.p_value == b.p_value          # bit for bit with the same seed
    assert a.ci != c.ci and a.estimate == c.estimate        # another seed, other placebo draws


def test_evaluate_few_treated_options(three_treated):
    sim, pilot, _ev = three_treated
    boot = evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False,
                    outcomes=["emergency_admissions"], options={"did": {"few_treated": "bootstrap"}})
    welch = evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False,
                     outcomes=["emergency_admissions"], options={"did": {"few_treated": "welch_t"}})
    rb, rw = boot.result("did", "emergency_admissions"), welch.result("did", "emergency_admissions")
    assert rb.inference.name == "MultiplierBootstrap" and rb.inference.df is None
    assert rw.inference.df is not None and rw.inference.df < 10
    crit = stats.t.ppf(0.975, rw.inference.df)
    assert rw.ci == pytest.approx((rw.estimate - crit * rw.se, rw.estimate + crit * rw.se))
    with pytest.raises(SpecificationError, match="few_treated='t' is not supported"):  # a setting: refused
        evaluate(sim.panel, pilot, start="2021-07", fast=True, designs=["did"], calendar=False,
                 outcomes=["emergency_admissions"], options={"did": {"few_treated": "t"}})
    one = {"QHG": "2023-04"}
    sim1 = simulate_nhs(seed=5, adoption=one, effects=EFFECTS)
    ev1 = evaluate(sim1.panel, one, start="2021-07", fast=True, designs=["did"], calendar=False,
                   outcomes=["emergency_admissions"], options={"did": {"few_treated": "welch_t"}})
    fail = ev1.failures[("did", "emergency_admissions")]
    assert fail.error_type == "SpecificationError" and "at least 2 treated" in fail.message
    # more than five treated units: Welch t (the permutation is for a few treated units)
    six = dict.fromkeys(FIVE + ("QMM",), "2023-04")
    sim6 = simulate_nhs(seed=5, adoption=six, effects=EFFECTS)
    r6 = evaluate(sim6.panel, six, start="2021-07", fast=True, designs=["did"], calendar=False,
                  outcomes=["emergency_admissions"]).result("did", "emergency_admissions")
    assert r6.inference.df is not None and "Welch" in r6.inference.description


# ----------------------------------------------------------------------------- coverage (simulated truth)
def _coverage(treated, seeds, methods=("permutation",)):
    pilot = dict.fromkeys(treated, "2023-04")
    hits = {m: [] for m in methods}
    for seed in seeds:
        sim = simulate_nhs(seed=seed, adoption=pilot, effects=EFFECTS)
        for m in methods:
            ev = evaluate(sim.panel, pilot, start="2021-07", seed=seed, fast=True, designs=["did"], robustness=False,
                          calendar=False, options={"did": {"few_treated": m}})
            hits[m] += [ev.result("did", o).ci[0] <= t <= ev.result("did", o).ci[1] for o, t in TRUTH.items()]
    return {m: np.asarray(h) for m, h in hits.items()}


def _band(n, level=0.998, p=0.95):
    """Central binomial band for the number of covering intervals out of n at nominal p."""
    lo, hi = stats.binom.ppf([(1 - level) / 2, 1 - (1 - level) / 2], n, p)
    return lo / n, hi / n


def test_permutation_coverage_three_treated():
    """3 treated ICBs x 3 outcomes x 30 simulated panels = 90 intervals: coverage of the known
    effects inside the 99.8% binomial band around 95% (about 0.87 to 1 for n = 90)."""
    cov = _coverage(THREE, range(2000, 2030))["permutation"]
    lo, hi = _band(cov.size)
    assert lo <= cov.mean() <= hi, (cov.mean(), lo, hi)


@pytest.mark.slow
@pytest.mark.parametrize("treated", [THREE, FIVE], ids=["3_treated", "5_treated"])
def test_permutation_coverage_slow(treated):
    """200 simulated panels x 3 outcomes = 600 intervals per method: the permutation interval's
    coverage is inside the 99.8% binomial band around 95%; the multiplier interval's is below it
    (the problem the permutation fixes, so the band can fail)."""
    cov = _coverage(treated, range(1000, 1200), methods=("permutation", "bootstrap"))
    lo, hi = _band(cov["permutation"].size)
    assert lo <= cov["permutation"].mean() <= hi, (cov["permutation"].mean(), lo, hi)
    assert cov["bootstrap"].mean() < lo


EIGHT = ("QE1", "QF7", "QGH", "QH8", "QHG", "QHL", "QHM", "QJ2")


@pytest.mark.slow
def test_default_above_five_treated_covers_slow():
    """8 treated ICBs: the default (``few_treated="permutation"``) reads the multiplier SE on a
    Welch t reference above 5 treated units; over 600 intervals its coverage is inside the 99.8%
    binomial band around 95%."""
    cov = _coverage(EIGHT, range(1000, 1200))["permutation"]
    lo, hi = _band(cov.size)
    assert lo <= cov.mean() <= hi, (cov.mean(), lo, hi)
