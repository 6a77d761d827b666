"""The report's words and numbers: one formatter, p-values bounded by their draws, the one-sentence
verdicts (including "no credible estimate"), and the summary of a real evaluation.

Expected strings come from closed forms (rounding to 3 significant figures; 1/(B+1) for B draws)
and from the constructed entries; no evalint estimate is asserted.
"""

from __future__ import annotations

import math
import warnings

import pytest

from evalint.diagnostics.base import CheckResult
from evalint.evaluate.scale import ScaledEffect
from evalint.evaluate.triangulate import Entry, verdict_for
from evalint.results.numbers import fmt, fmt_p


@pytest.mark.parametrize("x, expected", [
    (-41.336109, "-41.3"), (-2.8095, "-2.81"), (-104431.65, "-104,000"), (-3673.81, "-3,670"),
    (0.000999, "0.000999"), (9.996, "10.0"), (-0.4247, "-0.425"), (0.5, "0.500"), (0, "0"),
    (float("nan"), ""), (None, ""), (1.5e-6, "1.50e-06"),
])
def test_one_formatter_three_significant_figures(x, expected):
    assert fmt(x) == expected


def test_p_values_are_bounded_by_their_draws():
    # 30 placebo draws: nothing below 1/31 = 0.0323 can be resolved; the bound is rounded up
    assert fmt_p(2.58e-15, draws=30) == "p < 0.033 (1/31)"
    assert fmt_p(1 / 31, draws=30) == "p = 1/31 = 0.032, the smallest possible"
    assert fmt_p(1 / 1001, draws=1000) == "p = 1/1001 = 0.0010, the smallest possible"
    assert fmt_p(0.2, draws=199) == "p = 0.20 (199 draws)"
    assert fmt_p(8.95e-24) == "p < 0.0001" and fmt_p(0.0329) == "p = 0.033" and fmt_p(float("nan")) == ""


def _entry(design, est, lo, hi, failed=False):
    s = ScaledEffect(absolute=est, abs_low=lo, abs_high=hi, percent=est, pct_low=lo, pct_high=hi,
                     cumulative=math.nan, cum_low=math.nan, cum_high=math.nan, native="", conversion="")
    diag = (CheckResult(name="ljung_box", passed=False, text="Strong residual autocorrelation."),) if failed else ()
    return Entry(design=design, label={"its": "ITS", "did": "DiD", "scm": "SC"}[design], outcome="emergency_admissions",
                 scaled=s, diagnostics=diag)


def test_headlines_one_sentence_per_verdict():
    agree = verdict_for("emergency_admissions", [_entry("its", -4, -6, -2), _entry("did", -3, -5, -1)])
    assert agree.status == "agree"
    assert agree.headline == ("All 2 designs find a fall in emergency admissions of 3.00% to 4.00%, and their "
                              "95% intervals overlap and exclude zero.")
    apart = verdict_for("emergency_admissions", [_entry("its", -10, -12, -8), _entry("did", -3, -5, -1)])
    assert apart.headline.startswith("The 2 designs agree on a fall in emergency admissions but not on its size "
                                     "(3.00% to 10.0%)")
    sign = verdict_for("emergency_admissions", [_entry("its", 2, 1, 3), _entry("did", -3, -5, -1)])
    assert "disagree on the direction" in sign.headline
    null = verdict_for("emergency_admissions", [_entry("its", -1, -3, 1), _entry("did", 0.5, -1, 2)])
    assert null.status == "disagree_sign" or null.headline.startswith("No design detects")
    for v in (agree, apart, sign, null):
        assert v.headline.count(". ") == 0 and v.headline.endswith(".")  # one sentence


def test_only_design_failing_its_checks_gives_no_credible_estimate():
    v = verdict_for("emergency_admissions", [_entry("its", -4, -6, -2, failed=True)])
    assert v.status == "single_design"
    assert v.headline == ("No credible estimate for emergency admissions: the only design with an estimate (ITS) "
                          "fails its checks (ljung box).")
    assert not any(ch.isdigit() for ch in v.headline)  # no number leads
    ok = verdict_for("emergency_admissions", [_entry("its", -4, -6, -2)])
    assert ok.headline.startswith("Only one design (ITS) estimates emergency admissions: -4.00%")
    none = verdict_for("emergency_admissions", [])
    assert none.headline == "No credible estimate for emergency admissions: no design produced one."


@pytest.fixture(scope="module")
def evaluation():
    from evalint.datasets import simulate_nhs
    from evalint.evaluate import evaluate

    pilot = {"QHG": "2023-04", "QUE": "2023-04"}
    sim = simulate_nhs(seed=3, adoption=pilot, effects={"emergency_admissions": -0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(sim.panel, pilot, outcomes=["emergency_admissions"], start="2021-07", fast=True, seed=3,
                        designs=["its", "did"])


def test_summary_first_and_tables_with_units(evaluation):
    from evalint.report.content import _top_threats, build_report, results_table

    title, secs = build_report(evaluation, figures=[])
    assert [s.title for s in secs][:3] == ["Summary", "How robust is this?", "Question"]
    cards = next(b.value for b in secs[0].blocks if b.kind == "cards")
    assert [c.title for c in cards] == ["Emergency admissions"]
    assert cards[0].blocks[0].kind == "verdict" and cards[0].blocks[0].value == \
        evaluation.verdicts["emergency_admissions"].headline
    t = results_table(evaluation, "emergency_admissions")
    heads = list(t.columns)
    assert any("admissions per month per 100,000 population" in h for h in heads)
    assert any(h.startswith("% change") and "2023-04 to " in h and "months" in h for h in heads)
    assert any(h.startswith("Cumulative") and "2023-04 to " in h for h in heads)
    threats = _top_threats(evaluation, "emergency_admissions")
    assert list(threats.columns)[:6] == ["rank", "event_id", "name", "score", "reason", "source"]
    assert len(threats) <= 5 and list(threats["rank"]) == list(range(1, len(threats) + 1))
    assert threats["score"].is_monotonic_decreasing


def test_html_has_no_empty_header_rows_and_outcomes_in_words(evaluation):
    from evalint.report.html import render_html

    html = render_html(evaluation, figures=[])
    assert "<th></th>" not in html and "<th> </th>" not in html
    assert "emergency_admissions (emergency_admissions)" not in html
    assert "<details>" in html and "<details open" not in html


def test_no_credible_estimate_leads_the_summary_without_numbers():
    """ITS alone on a panel where its residual checks fail: the summary says so, numbers stay in the tables."""
    from evalint.datasets import simulate_nhs
    from evalint.evaluate import evaluate
    from evalint.report.content import build_report
    from evalint.report.figures import forest_figure

    pilot = {"QHG": "2023-04", "QUE": "2023-04"}
    sim = simulate_nhs(seed=3, adoption=pilot, effects={"emergency_admissions": -0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, pilot, outcomes=["emergency_admissions"], start="2021-07", fast=True, seed=3,
                      designs=["its"])
    e = ev.entries[("its", "emergency_admissions")]
    v = ev.verdicts["emergency_admissions"]
    assert v.status == "single_design"
    if not e.failed_diagnostics:
        pytest.skip("ITS passed every check on this draw: nothing to withhold")
    _, secs = build_report(ev, figures=[])
    card = next(b.value for b in secs[0].blocks if b.kind == "cards")[0]
    assert card.blocks[0].value.startswith("No credible estimate for emergency admissions")
    can = next(b.value for b in card.blocks if b.kind == "list")
    assert can[0].startswith("Nothing about the effect")
    import matplotlib.pyplot as plt
    from evalint.plotting.forest import plot_forest

    t = ev.table().assign(note="no credible estimate: fails its checks")
    fig = plot_forest(t)
    ax = fig.axes[0]
    assert "no credible estimate: fails its checks" in [x.get_text() for x in ax.texts]
    assert not [ln for ln in ax.lines if ln.get_marker() == "o" and len(ln.get_xdata())]  # no dot drawn
    plt.close(fig)
    assert forest_figure(ev).png is not None


def test_threats_table_one_row_per_distinct_flag_with_its_designs():
    """A flag carried by several designs is one row naming them in order, once each; rows keep the
    order first flagged within a severity, high first; another outcome's flags are left out."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from evalint.report.content import threats_table

    nan = np.nan
    flags = pd.DataFrame([
        # outcome, design, event_id, source, kind, severity, message
        ("a", "its", "fund", "calendar", "calendar", "low", "fund co-timed"),
        ("a", "did", "strike", "calendar", "calendar", "high", "strike co-timed"),
        ("a", "did", "fund", "calendar", "calendar", "low", "fund co-timed"),
        ("a", "its", nan, "pretrend", "diagnostic", "medium", "pre-trends differ"),
        ("a", "sdid", "strike", "calendar", "calendar", "high", "strike co-timed"),
        ("a", "its", "fund", "calendar", "calendar", "low", "fund co-timed"),   # the same design again
        ("b", "its", "covid", "calendar", "calendar", "high", "covid co-timed"),
        ("a", "scm", "fund", "calendar", "calendar", "low", "fund: a different message"),
    ], columns=["outcome", "design", "event_id", "source", "kind", "severity", "message"])
    plans = [SimpleNamespace(key=k, label=v) for k, v in
             (("its", "ITS"), ("did", "DiD"), ("sdid", "Synthetic DiD"))]   # scm has no plan: its key shown
    ev = SimpleNamespace(_cache={"flags_frame": flags}, plans=plans)
    table = threats_table(ev, "a")
    assert table.columns.tolist() == ["Severity", "Kind", "Event / check", "Designs", "Message"]
    assert table.to_dict("records") == [
        {"Severity": "high", "Kind": "calendar", "Event / check": "strike", "Designs": "DiD, Synthetic DiD",
         "Message": "strike co-timed"},
        {"Severity": "medium", "Kind": "diagnostic", "Event / check": "pretrend", "Designs": "ITS",
         "Message": "pre-trends differ"},
        {"Severity": "low", "Kind": "calendar", "Event / check": "fund", "Designs": "ITS, DiD",
         "Message": "fund co-timed"},
        {"Severity": "low", "Kind": "calendar", "Event / check": "fund", "Designs": "scm",
         "Message": "fund: a different message"},
    ]
    assert threats_table(ev, "c").empty
    # a flag without a message has no row (as a group by its key drops it); none left: an empty table
    missing = flags.assign(message=flags["message"].where(flags["message"] == "none of them"))
    empty = threats_table(SimpleNamespace(_cache={"flags_frame": missing}, plans=plans), "a")
    assert empty.empty and empty.columns.tolist() == table.columns.tolist()
    partly = flags.copy()
    partly.loc[3, "message"] = None
    assert threats_table(SimpleNamespace(_cache={"flags_frame": partly}, plans=plans), "a")[
        "Event / check"].tolist() == ["strike", "fund", "fund"]
