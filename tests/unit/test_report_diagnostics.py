"""The diagnostics the evaluation report leads with: the one-line key diagnostic per design and
the small-sample reading of Callaway-Sant'Anna's joint pre-trend test.

Numbers come from scipy's F distribution (closed form) and from simulations with exactly
parallel trends (simulate_nhs: unit and month effects multiplicative, so log rates are parallel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from evalint.datasets import simulate_nhs
from evalint.diagnostics.base import CheckResult, Flag
from evalint.evaluate import evaluate
from evalint.evaluate.core import _small_sample_pretrend
from evalint.evaluate.triangulate import key_diagnostic


@dataclass(frozen=True)
class _Result:
    diagnostics: tuple
    flags: tuple


def _wald(k: int, w: float) -> CheckResult:
    p = float(stats.chi2.sf(w, k))
    text = (f"Joint Wald pre-test of parallel trends over {k} pre-treatment ATT(g,t): W = {w:.3f}, df = {k}, "
            f"p = {p:.4f} - pre-treatment effects differ from zero at the 0.05 level")
    return CheckResult("pre_trend_wald", p >= 0.05, text, statistic=w, p_value=p,
                       flags=(Flag("diagnostic", "medium", text, source="pre_trend_wald"),))


def test_key_diagnostic_lines():
    lb = CheckResult("ljung_box", False, "x", statistic=30.0, p_value=0.0021)
    dw = CheckResult("durbin_watson", True, "y", statistic=1.9)
    assert key_diagnostic("its", [dw, lb]) == "ljung_box FAILED, p = 0.0021; durbin_watson passed"
    units = [CheckResult("scm_prefit", ok, "z") for ok in (True, False, True, None)]
    assert key_diagnostic("scm", units) == "scm_prefit FAILED in 1 of 3 units"
    assert key_diagnostic("scm", units[:1] * 4) == "scm_prefit passed in 4 of 4 units"
    rmspe = CheckResult("pre_fit_rmspe", None, "informational", statistic=0.01431)
    assert key_diagnostic("sdid", [rmspe]) == "pre_fit_rmspe = 0.0143 (informational)"
    assert key_diagnostic("did", [CheckResult("pre_trend_wald", None, "n/a")]) == "pre_trend_wald not run"
    assert key_diagnostic("did", []) == "none reported"


def test_pretrend_hotelling_form_closed_form():
    old = _wald(5, 20.0)
    other = Flag("confounding", "high", "winter", event_id="w")
    new = _small_sample_pretrend(_Result((old,), (other, *old.flags)), n_treated=21, alpha=0.05)
    d = new.diagnostics[0]
    f = 20.0 * (21 - 5) / (5 * (21 - 1))
    assert d.statistic == pytest.approx(f) and f == pytest.approx(3.2)
    assert d.p_value == pytest.approx(stats.f.sf(3.2, 5, 16))
    assert d.passed is False and "F(5, 16) = 3.200" in d.text and "W = 20.000" in d.text
    assert [fl.source for fl in new.flags] == [other.source, "pre_trend_wald"] and new.flags[0] is other
    # a smaller W passes, and its flag goes
    ok = _small_sample_pretrend(_Result((_wald(5, 12.0),), _wald(5, 12.0).flags), n_treated=21, alpha=0.05)
    assert ok.diagnostics[0].passed is True and ok.flags == ()
    assert ok.diagnostics[0].p_value == pytest.approx(stats.f.sf(12.0 * 16 / 100, 5, 16))


def test_pretrend_not_interpretable_with_fewer_treated_units_than_cells():
    old = _wald(20, 208.4)
    new = _small_sample_pretrend(_Result((old,), old.flags), n_treated=4, alpha=0.05)
    d = new.diagnostics[0]
    assert d.passed is None and d.p_value is None and d.statistic == 208.4
    assert "Not interpretable" in d.text and "only 4 treated unit(s)" in d.text and "W = 208.400" in d.text
    assert [(f.severity, f.source) for f in new.flags] == [("low", "pre_trend_wald")]
    # anything else passes through untouched
    other = CheckResult("policy_calendar", False, "calendar")
    same = _small_sample_pretrend(_Result((other,), ()), n_treated=4, alpha=0.05)
    assert same.diagnostics == (other,)


def test_pretrend_size_under_exact_parallel_trends():
    """21 treated ICBs, 11 pre-period cells, no effect anywhere: the chi-squared reading rejects
    in most draws; the small-sample reading at about the nominal rate or below."""
    from evalint.calendar.icbs import load_icbs

    codes = sorted(load_icbs()["icb_ods_code"])[:21]
    adoption = {u: "2023-04" for u in codes}
    raw, corrected = [], []
    for seed in range(8):
        sim = simulate_nhs(seed=seed, adoption=adoption)
        ev = evaluate(sim.panel, adoption, outcomes=["emergency_admissions"], designs=["did"], fast=True,
                      start="2022-04", calendar=False, seed=seed)
        d = next(c for c in ev.result("did", "emergency_admissions").diagnostics if c.name == "pre_trend_wald")
        assert "F(11, 10)" in d.text
        w = float(d.text.split("W = ")[1].split(",")[0])
        raw.append(stats.chi2.sf(w, 11) < 0.05)
        corrected.append(d.passed is False)
    assert np.mean(raw) >= 0.5        # the uncorrected test: 5% nominal, far more in fact
    assert np.sum(corrected) <= 1     # the corrected one: at most 1 of 8 draws (nominal 5%)
