"""Residual-autocorrelation diagnostics and their flags; the policy-calendar hook; the ITS plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.stattools import durbin_watson as sm_dw

from evalint.data.panel import Panel
from evalint.diagnostics.autocorrelation import (
    acf_pacf_check, durbin_watson, ljung_box_check, residual_autocorrelation,
)
from evalint.estimators.its import segmented_regression


def _ar(phi, n=120, seed=0):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + rng.normal()
    return e


def test_durbin_watson_and_ljung_box_match_statsmodels():
    e = _ar(0.4)
    assert durbin_watson(e) == pytest.approx(sm_dw(e), rel=1e-12)
    c = ljung_box_check(e, lags=12)
    ref = acorr_ljungbox(e - e.mean(), lags=[12], return_df=True)
    assert c.statistic == pytest.approx(float(ref["lb_stat"].iloc[0]), rel=1e-12)
    assert c.p_value == pytest.approx(float(ref["lb_pvalue"].iloc[0]), rel=1e-10)


def test_strong_autocorrelation_is_flagged_with_severity_by_inference():
    e = _ar(0.8, seed=1)
    checks = residual_autocorrelation(e, period=12, robust="none")
    lb = next(c for c in checks if c.name == "ljung_box")
    assert lb.passed is False and lb.flags[0].severity == "high"
    hac = next(c for c in residual_autocorrelation(e, period=12, robust="hac") if c.name == "ljung_box")
    assert hac.flags[0].severity == "medium"
    table = acf_pacf_check(e, nlags=12).table
    assert list(table.columns) == ["lag", "acf", "pacf", "bound"] and table["acf"].iloc[0] > 0.6


def _series(phi, seed=2, n=96):
    e = _ar(phi, n=n, seed=seed)
    y = 10 + 0.05 * np.arange(n) - 2 * (np.arange(n) >= 60) + e
    df = pd.DataFrame({"month": pd.period_range("2016-04", periods=n, freq="M"), "y": y})
    return Panel.from_frame(df, time="month", outcome="y")


def test_ols_fit_flags_autocorrelation_and_ar_fit_removes_it():
    p = _series(0.85)
    ols = segmented_regression(p, "2021-04", errors="ols", calendar=False)
    assert any(f.source == "ljung_box" and f.severity == "high" for f in ols.flags)
    ar = segmented_regression(p, "2021-04", errors="ar", calendar=False)
    assert not any(f.source == "ljung_box" for f in ar.flags)
    names = {d.name for d in ar.diagnostics}
    assert {"durbin_watson", "ljung_box", "acf_pacf", "policy_calendar"} <= names


def test_calendar_check_runs_and_flags_reach_summary_frame_and_plot():
    """A national series around the July 2022 ICS go-live: the default calendar is consulted and its
    flags appear in summary(), flags_frame() and as shaded spans on the plot."""
    from evalint.datasets import simulate_series

    sim = simulate_series(seed=3, intervention="2022-07", effects={"emergency_admissions": -0.03,
                                                                   "length_of_stay": 0.0,
                                                                   "delayed_discharges": 0.0})
    r = segmented_regression(sim.panel.with_outcome("length_of_stay"), "2022-07-01", errors="ar")
    cal = next(d for d in r.diagnostics if d.name == "policy_calendar")
    assert cal.passed is not None
    conf = [f for f in r.flags if f.kind == "confounding"]
    assert conf, "the calendar holds events in 2016-2025 affecting length of stay"
    assert conf[0].message[:30] in str(r.summary())  # the summary table truncates long messages
    assert set(r.flags_frame()["kind"]) >= {"confounding"}
    fig = r.plot(flag_severity=("high", "medium", "low"))
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("Length of stay") and ax.get_xlabel() == "Month"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    labels += [t.get_text() for lg in fig.legends for t in [lg.get_title(), *lg.get_texts()]]  # the events' key
    assert "counterfactual (no intervention)" in labels and any("flagged policy events" in x.lower() for x in labels)
    assert len(ax.patches) >= 1


def test_calendar_false_says_so():
    r = segmented_regression(_series(0.0), "2021-04", calendar=False)
    d = next(d for d in r.diagnostics if d.name == "policy_calendar")
    assert d.passed is None and "calendar=False" in d.text


def test_plot_its_with_transition_and_two_interventions(tmp_path):
    r = segmented_regression(_series(0.2), {"first": "2019-01", "second": "2021-04"}, transition=2,
                             calendar=False)
    fig = r.plot()
    fig.savefig(tmp_path / "its.png")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "transition window" in labels and "fitted model" in labels
    assert (tmp_path / "its.png").stat().st_size > 10_000
    from evalint.errors import SpecificationError
    from evalint.plotting.its import plot_its
    import dataclasses

    with pytest.raises(SpecificationError, match="plot_its needs result.series"):
        plot_its(dataclasses.replace(r, series=None))


def test_acf_pacf_table_matches_statsmodels():
    from statsmodels.tsa.stattools import acf, pacf

    e = _ar(0.5, n=100, seed=9)
    table = acf_pacf_check(e, nlags=12).table
    np.testing.assert_allclose(table["acf"], acf(e, nlags=12, fft=False)[1:], atol=1e-12)
    np.testing.assert_allclose(table["pacf"], pacf(e, nlags=12, method="ywm")[1:], atol=1e-12)
