"""EffectResult, its tidy schema, summary renderings and plot, built with a toy
closed-form estimator (a 2x2 difference in means) that lives only in this test."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint import Panel
from evalint.diagnostics import CheckResult, Flag
from evalint.errors import SpecificationError
from evalint.inference.specs import Analytic
from evalint.results import TIDY_COLUMNS, EffectResult, InferenceInfo, make_result, tidy


def toy_two_by_two(panel: Panel, alpha: float = 0.05) -> EffectResult:
    """2x2 DiD as a difference of mean changes between treated and never-treated units;
    SE from the two-sample (Welch) formula on unit-level changes."""
    d = panel.data
    rel = panel.relative_time()
    post = rel.fillna(-1) >= 0
    d = d.assign(post=(d[panel.time] >= min(panel.timing.cohorts)).astype(int), treated_unit=rel.notna())
    change = d.pivot_table(index=[panel.unit, "treated_unit"], columns="post", values=panel.outcome)
    delta = (change[1] - change[0]).reset_index()
    t = delta.loc[delta.treated_unit, 0]
    c = delta.loc[~delta.treated_unit, 0]
    est = t.mean() - c.mean()
    se = np.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    effects = tidy(pd.DataFrame({"term": ["treated mean change", "comparison mean change"],
                                 "estimate": [t.mean(), c.mean()]}))
    assert not post.empty
    return make_result(
        method="Toy 2x2 DiD", estimand="ATT (difference in mean changes)", term="ATT",
        outcome=panel.outcome, estimate=est, se=se, alpha=alpha,
        inference=InferenceInfo("welch", Analytic().description), panel=panel, seed=None,
        effects=effects, intervention=min(panel.timing.cohorts),
        diagnostics=(CheckResult("toy_check", True, "nothing to see"),),
        flags=(Flag("confounding", "high", "A strike in the post window", source="BMA press release",
                    event_id="strike", start=pd.Period("2020-05", "M"), end=pd.Period("2020-06", "M")),),
        references=("Card, D. & Krueger, A. (1994). AER 84(4).",),
    )


@pytest.fixture(scope="module")
def panel() -> Panel:
    rng = np.random.default_rng(3)
    rows = []
    for u in range(20):
        treated = u < 8
        base = rng.normal(100, 5)
        for m, month in enumerate(pd.period_range("2020-01", periods=6, freq="M")):
            post = m >= 3
            y = base + 2 * m + (10 if treated and post else 0) + rng.normal(0, 1)
            rows.append((f"u{u:02d}", str(month), y, int(treated and post)))
    df = pd.DataFrame(rows, columns=["unit", "month", "outcome", "d"])
    return Panel.from_frame(df, unit="unit", time="month", outcome="outcome", treatment="d")


def test_headline_matches_closed_form(panel):
    r = toy_two_by_two(panel)
    z = stats.norm.ppf(0.975)
    assert r.ci == pytest.approx((r.estimate - z * r.se, r.estimate + z * r.se), rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.estimate / r.se)), rel=1e-12)
    # the toy design has a true effect of 10 with small noise
    assert abs(r.estimate - 10) < 3 * r.se


def test_to_frame_fixed_schema(panel):
    r = toy_two_by_two(panel)
    f = r.to_frame()
    assert list(f.columns) == TIDY_COLUMNS
    assert f.loc[0, "term"] == "ATT" and f.loc[0, "estimate"] == r.estimate
    assert len(f) == 3
    assert list(r.to_frame("overall").columns) == TIDY_COLUMNS
    allf = r.to_frame("all")
    assert set(allf["table"]) == {"overall", "effects"}
    with pytest.raises(SpecificationError):
        r.to_frame("nonsense")


def test_result_is_frozen(panel):
    r = toy_two_by_two(panel)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.estimate = 0.0  # type: ignore[misc]


def test_with_alpha_recomputes_interval(panel):
    r = toy_two_by_two(panel).with_alpha(0.1)
    z = stats.norm.ppf(0.95)
    assert r.ci[1] - r.ci[0] == pytest.approx(2 * z * r.se, rel=1e-12)


def test_summary_text_markdown_html_share_content(panel):
    r = toy_two_by_two(panel)
    s = r.summary()
    text, md, html = str(s), s.as_markdown(), s.as_html()
    for needle in ("Toy 2x2 DiD", "ATT", "A strike in the post window", "BMA press release", panel.fingerprint,
                   "Card, D."):
        assert needle in text and needle in md and needle in html
    assert "<table>" in html and "| Method |" in md
    assert r._repr_html_() == html


def test_flags_and_diagnostics_frames(panel):
    r = toy_two_by_two(panel)
    ff = r.flags_frame()
    assert list(ff.columns) == ["kind", "severity", "message", "source", "event_id", "start", "end"]
    assert ff.loc[0, "start"] == "2020-05"
    assert r.diagnostics_frame().loc[0, "passed"]


def test_provenance(panel):
    r = toy_two_by_two(panel)
    import evalint

    assert r.provenance.evalint_version == evalint.__version__
    assert r.provenance.data_fingerprint == panel.fingerprint


def test_plot_returns_figure(panel):
    from matplotlib.figure import Figure

    r = toy_two_by_two(panel)
    fig = r.plot()
    assert isinstance(fig, Figure) and fig.axes[0].get_ylabel().startswith("Effect on outcome")
    with pytest.raises(SpecificationError, match="plot kind"):
        r.plot(kind="nonsense")


def test_event_study_plot_from_tidy_effects(panel):
    from matplotlib.figure import Figure

    r = toy_two_by_two(panel)
    es = pd.DataFrame({"term": [f"e{e}" for e in range(-3, 3)], "rel_time": range(-3, 3),
                       "estimate": [0, 0.1, 0, 1, 2, 3], "conf_low": [-1] * 6, "conf_high": [4] * 6})
    from evalint.estimators.did.state import EventTimeState

    r2 = dataclasses.replace(r, effects=tidy(es), plot_kind="event_study",
                             state=EventTimeState(reference_period=-1))
    fig = r2.plot()
    assert isinstance(fig, Figure) and "reference: -1" in fig.axes[0].get_xlabel()


def test_with_alpha_keeps_rate_ratio_intervals_on_the_log_scale(panel):
    # closed form: a rate ratio of exp(-0.1) with log-scale SE 0.05
    from scipy import stats

    r = toy_two_by_two(panel)
    z95, z90 = stats.norm.ppf(0.975), stats.norm.ppf(0.95)
    rr = dataclasses.replace(r, estimate=float(np.exp(-0.1)), scale="rate_ratio",
                             ci=(float(np.exp(-0.1 - z95 * 0.05)), float(np.exp(-0.1 + z95 * 0.05))))
    r90 = rr.with_alpha(0.10)
    assert r90.ci == pytest.approx((np.exp(-0.1 - z90 * 0.05), np.exp(-0.1 + z90 * 0.05)), rel=1e-12)


def test_summary_bounds_a_placebo_p_value_by_its_draws(panel):
    """30 placebo draws cannot support p below 1/31 (Phipson & Smyth 2010); the summary says so."""
    r = toy_two_by_two(panel)
    placebo = dataclasses.replace(
        r, p_value=1e-12, inference=InferenceInfo(name="placebo", description="in-space placebo test", reps=30))
    assert "< 0.033 (1/31)" in str(placebo.summary())
    assert "1e-12" not in str(placebo.summary())
    analytic = dataclasses.replace(r, p_value=0.0123)
    assert "0.012" in str(analytic.summary())
