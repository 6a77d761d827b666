"""Acceptance checks of results, summaries, tables and the report as users meet them:
what a result refuses to recompute, and what its summary and tidy table print, checked
against closed forms and hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint import Panel, evaluate, segmented_regression, synthetic_did
from evalint.errors import InferenceError
from evalint.results import EffectResult, InferenceInfo, make_result


def _result(ci: tuple[float, float] | None = None, p_value: float | None = None,
            name: str = "analytic", description: str = "normal reference", reps: int | None = None,
            **kwargs: object) -> EffectResult:
    return make_result(method="Hand result", estimand="ATT", term="ATT", outcome="admissions",
                       estimate=-15.7, se=3.0, ci=ci, p_value=p_value,
                       inference=InferenceInfo(name, description, reps=reps), **kwargs)


def test_with_alpha_recomputes_a_wald_interval_by_the_closed_form():
    r = _result().with_alpha(0.10)
    z = stats.norm.ppf(0.95)
    assert r.ci == pytest.approx((-15.7 - z * 3.0, -15.7 + z * 3.0), rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(15.7 / 3.0), rel=1e-9)


@pytest.mark.parametrize("ci, p", [
    ((-30.3, -1.01), 1 / 63),          # a placebo-rank interval and p-value (synthetic control)
    ((-np.inf, np.inf), 0.16),         # an unbounded wild cluster bootstrap test-inversion interval
])
def test_with_alpha_refuses_an_interval_that_is_not_wald(ci, p):
    """A placebo or bootstrap interval is not estimate +/- z x SE: rebuilding it as one would
    silently swap the method (a p-value of 1/63 became 1.7e-7, 2 * norm.sf(15.7 / 3))."""
    r = _result(ci=ci, p_value=p, name="placebo", description="in-space placebo test", reps=62)
    with pytest.raises(InferenceError, match=r"alpha=0\.1"):
        r.with_alpha(0.1)
    assert r.ci == ci and r.p_value == p  # unchanged


def test_with_alpha_keeps_a_log_scale_wald_rate_ratio():
    z = stats.norm.ppf(0.975)
    rr = make_result(method="Hand result", estimand="rate ratio", term="RR", outcome="admissions",
                     estimate=float(np.exp(-0.1)), se=0.05, scale="rate_ratio", p_value=0.045,
                     ci=(float(np.exp(-0.1 - z * 0.05)), float(np.exp(-0.1 + z * 0.05))),
                     inference=InferenceInfo("analytic", "normal reference"))
    z90 = stats.norm.ppf(0.95)
    assert rr.with_alpha(0.1).ci == pytest.approx((np.exp(-0.1 - z90 * 0.05), np.exp(-0.1 + z90 * 0.05)))
    skewed = make_result(method="Hand result", estimand="rate ratio", term="RR", outcome="admissions",
                         estimate=0.9, se=0.05, scale="rate_ratio", p_value=0.04, ci=(0.7, 0.95),
                         inference=InferenceInfo("bootstrap", "percentile bootstrap", reps=999))
    with pytest.raises(InferenceError):
        skewed.with_alpha(0.1)


def _count_frame(freq: str, periods: int, start: str, units: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    times = pd.period_range(start, periods=periods, freq=freq).to_timestamp()
    rows = [{"unit": f"U{u}", "when": t, "emergency_admissions": 300 + 5 * u + rng.poisson(20),
             "treated": int(u < 2 and i >= periods // 2)}
            for u in range(units) for i, t in enumerate(times)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("freq, periods, start, word", [
    ("Q", 24, "2016-01", "quarter"), ("Y", 16, "2004", "year"), ("D", 60, "2022-01-01", "day"),
    ("M", 36, "2019-01", "month"),
])
def test_count_labels_name_the_panels_own_period(freq, periods, start, word):
    """One row of a quarterly panel counts a quarter's admissions: labelling it 'per month' misstates
    every number shown with it (the ITS result's outcome label, its summary and plot axis)."""
    df = _count_frame(freq, periods, start)
    panel = Panel.from_frame(df, unit="unit", time="when", outcome="emergency_admissions", treatment="treated")
    assert panel.outcome_kinds["emergency_admissions"].unit_label == f"admissions per {word}"
    r = segmented_regression(panel, unit="U0")
    assert r.outcome_label == f"Emergency admissions (admissions per {word})"
    assert f"admissions per {word}" in str(r.summary())
    if word != "month":
        assert "per month" not in str(r.summary())


def test_period_numbers_are_labelled_per_period():
    df = _count_frame("M", 30, "2019-01").assign(when=lambda d: d.groupby("unit").cumcount() + 1)
    panel = Panel.from_frame(df, unit="unit", time="when", outcome="emergency_admissions", treatment="treated")
    assert panel.outcome_kinds["emergency_admissions"].unit_label == "admissions per period"


def _texts(fig) -> str:
    out = [t.get_text() for ax in fig.axes for t in (ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label)]
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    out += [t.get_text() for t in fig.texts]
    return "\n".join(out)


@pytest.fixture(scope="module")
def monthly_panel() -> Panel:
    df = _count_frame("M", 36, "2019-01", units=8)
    return Panel.from_frame(df, unit="unit", time="when", outcome="emergency_admissions", treatment="treated")


@pytest.mark.parametrize("alpha, level, wrong", [(0.025, "97.5%", "98%"), (0.005, "99.5%", "100%")])
def test_figures_name_the_confidence_level_without_rounding(monthly_panel, alpha, level, wrong):
    """1 - 0.025 is a 97.5% interval; rounding it to "98%" (or 0.995 to "100%") misstates it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    for r in (segmented_regression(monthly_panel, unit="U0", alpha=alpha),
              synthetic_did(monthly_panel, alpha=alpha, seed=1)):
        fig = r.plot()
        text = _texts(fig)
        plt.close(fig)
        assert f"{level} CI" in text, (r.method, text)
        assert f"{wrong} CI" not in text
        assert f"{level} CI" in str(r.summary())


def test_report_names_the_confidence_level_without_rounding(monthly_panel, tmp_path):
    ev = evaluate(monthly_panel, designs=["its", "synth"], alpha=0.025, fast=True, robustness=False, seed=1)
    md = ev.report(tmp_path / "r.md").read_text(encoding="utf-8")
    import re

    levels = set(re.findall(r"([0-9.]+)% (?:CI|interval|confidence)", md))
    assert levels == {"97.5"}, levels  # the results table, captions and legends all say 97.5%


def test_synthetic_control_key_of_long_names_stays_below_the_axes():
    """Twelve long unit names: the numbered key under the figure must not run over the tick labels
    of the gap panel or the donor-weight panel (measured on the drawn figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [f"Ünïcödé Hospitals NHS Foundation Trust — site {'x' * 60} {i}" for i in range(12)]
    df = _count_frame("M", 36, "2019-01", units=12)
    df["unit"] = df["unit"].map({f"U{i}": n for i, n in enumerate(names)})
    long_outcome = "Admissions — über lång name with spaces " + "y" * 60
    df = df.rename(columns={"emergency_admissions": long_outcome})
    panel = Panel.from_frame(df, unit="unit", time="when", outcome=long_outcome, treatment="treated")
    fig = synthetic_did(panel, seed=1).plot()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    keys = [t for t in fig.texts if t.get_text().startswith("Key:")]
    assert len(keys) == 1 and keys[0].get_text().count("[") >= 9
    key_box = keys[0].get_window_extent(renderer)
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert key_box.y1 <= box.y0 + 1, (ax.get_title(), key_box, box)
    assert key_box.y0 >= 0
    # the left panel's title stays left of the donor-weight panel's title
    left, right = fig.axes[0].title, fig.axes[2].title
    if not left.get_text():
        left, right = fig.axes[0]._left_title, fig.axes[2]._left_title
    assert left.get_window_extent(renderer).x1 <= right.get_window_extent(renderer).x0
    plt.close(fig)


@pytest.fixture(scope="module")
def small_evaluation(monthly_panel):
    return evaluate(monthly_panel, designs=["its"], fast=True, robustness=False, seed=1)


def test_report_path_with_a_tilde_is_in_the_home_folder(small_evaluation, tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    out = small_evaluation.report("~/r.html")
    assert out == home / "r.html" and out.is_file()
    assert not (cwd / "~").exists()  # not a folder literally named "~" in the working folder


@pytest.mark.parametrize("path", [None, 3, b"r.html"])
def test_report_path_that_is_not_a_path_is_refused_with_its_type(small_evaluation, path):
    from evalint.errors import SpecificationError

    with pytest.raises(SpecificationError, match=type(path).__name__):
        small_evaluation.report(path)


def test_config_paths_with_a_tilde_are_in_the_home_folder(tmp_path, monkeypatch):
    """`evalint evaluate`: [output] dir = "~/reports" and [data] path = "~/d.csv" mean the home
    folder (as a shell would), not a folder named "~" beside the configuration file."""
    from evalint.evaluate.config import load_config

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\npath = "~/d.csv"\nunit = "unit"\ntime = "month"\noutcomes = ["y"]\n'
                   '[output]\ndir = "~/reports"\n', encoding="utf-8")
    c = load_config(cfg)
    assert c.out_dir == (home / "reports").resolve()
    assert c.data["path"] == str((home / "d.csv").resolve())


def test_markdown_report_shows_names_with_angle_brackets_as_written(tmp_path):
    """A unit named "<script>alert(1)</script>" or "Trust <North>" is data, not HTML: the Markdown
    report escapes the "<" that would open a tag (Markdown viewers pass raw HTML through), as the
    HTML report and the result summaries already do; "<5 beds" opens no tag and is left alone."""
    df = _count_frame("M", 36, "2019-01", units=8)
    names = {"U0": "<script>alert(1)</script>", "U1": "Trust <North>", "U2": "Beds <5 unit"}
    df["unit"] = df["unit"].replace(names)
    panel = Panel.from_frame(df, unit="unit", time="when", outcome="emergency_admissions", treatment="treated")
    ev = evaluate(panel, designs=["synth"], fast=True, robustness=False, seed=1)
    md = ev.report(tmp_path / "r.md").read_text(encoding="utf-8")
    import re

    tags = set(re.findall(r"<(/?[A-Za-z]+)", md))
    assert tags <= {"details", "/details", "summary", "/summary"}, tags  # only the report's own
    assert "&lt;script>alert(1)&lt;/script>" in md
    assert "Trust &lt;North>" in md
    from evalint.report.markdown import _text

    assert _text("Beds <5 unit, A&E <= 4 h") == "Beds <5 unit, A&E <= 4 h"


def test_plot_kinds_a_result_cannot_draw_are_typed_errors(monthly_panel):
    """plot(kind=...) on a result without the figure's data: a SpecificationError naming what is
    missing, not a KeyError from pandas or an empty figure drawn without a word."""
    from evalint import callaway_santanna, synthetic_did
    from evalint.errors import SpecificationError

    sdid = synthetic_did(monthly_panel, seed=1)
    with pytest.raises(SpecificationError, match="bacon_decomposition"):
        sdid.plot(kind="bacon")
    cs = callaway_santanna(monthly_panel)  # the simple aggregation: no event times
    assert "rel_time" not in cs.effects.columns or cs.effects["rel_time"].isna().all()
    with pytest.raises(SpecificationError, match="rel_time"):
        cs.plot(kind="event_study")
    with pytest.raises(SpecificationError, match="'time'"):
        cs.plot(kind="effects_over_time")


def test_summary_shows_a_period_number_intervention_without_grouping():
    """On period numbers the intervention 1101 is a label: "1101", as the panel prints it, not "1,101"."""
    r = _result(intervention=1101)
    line = next(ln for ln in str(r.summary()).splitlines() if ln.startswith("Intervention"))
    assert line.split()[-1] == "1101"
    assert "| Intervention | 1101 |" in r.summary().as_markdown()


@pytest.mark.parametrize("outcome", ["admissions/ED", "a b: c?*", "x" * 300])
def test_markdown_report_figures_of_any_outcome_name_are_written_and_linked(tmp_path, outcome):
    """The figures' files carry the outcome's name: one with "/" went to a missing sub-folder
    (FileNotFoundError), 300 characters exceeded the file system's limit (OSError), and a link
    with spaces shows no image. Every link must name a PNG file that exists, without spaces."""
    import re

    df = _count_frame("M", 36, "2019-01", units=8).rename(columns={"emergency_admissions": outcome})
    panel = Panel.from_frame(df, unit="unit", time="when", outcome=outcome, treatment="treated")
    ev = evaluate(panel, designs=["its"], fast=True, robustness=False, seed=1)
    md = ev.report(tmp_path / "r.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]*)\)", md)
    assert len(links) >= 2
    for link in links:
        assert " " not in link and (tmp_path / link).is_file(), link
    assert {p.parent for p in (tmp_path / "r_figures").rglob("*.png")} == {tmp_path / "r_figures"}


def test_markdown_report_named_with_spaces_links_its_figures(small_evaluation, tmp_path):
    """'my report (v2).md' keeps its figures in 'my report (v2)_figures/'; a CommonMark renderer
    (markdown-it-py, the parser of the CommonMark reference tests) must find every image there."""
    markdown_it = pytest.importorskip("markdown_it")
    out = small_evaluation.report(tmp_path / "my report (v2).md")
    tokens = markdown_it.MarkdownIt("commonmark").parse(out.read_text(encoding="utf-8"))
    images = [c.attrs["src"] for t in tokens if t.type == "inline" for c in (t.children or []) if c.type == "image"]
    assert len(images) >= 2
    from urllib.parse import unquote

    for src in images:  # the renderer percent-encodes the destination, as a browser will decode it
        assert (tmp_path / unquote(str(src))).is_file(), src


@pytest.mark.parametrize("freq, start, periods",
                         [("W", "2021-01-04", 60), ("Q", "2016-01", 24), ("D", "2022-01-01", 60)])
def test_its_figure_draws_the_intervention_at_the_first_post_period_start(freq, start, periods):
    """Weekly panels: the ITS figure raised a TypeError (the week label parsed as a time-zone-aware
    timestamp) and drew the line 20 h 21 min into the week. The line must sit at the start of the
    first post period, computed here with pandas."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    from matplotlib import pyplot as plt

    df = _count_frame(freq, periods, start)
    panel = Panel.from_frame(df, unit="unit", time="when", outcome="emergency_admissions", treatment="treated")
    first_post = pd.period_range(start, periods=periods, freq=freq)[periods // 2].start_time
    r = segmented_regression(panel, unit="U0")
    fig = r.plot()
    lines = [ln.get_xdata()[0] for ln in fig.axes[0].get_lines()
             if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    plt.close(fig)
    assert lines, "no intervention line"
    assert mdates.date2num(first_post) == pytest.approx(mdates.date2num(pd.Timestamp(lines[0])), abs=1e-9)


def test_with_alpha_on_a_result_without_an_interval_or_at_its_own_level():
    # no SE and no interval (e.g. a failed variance): nothing to rebuild at any level, not an error
    r = make_result(method="Hand result", estimand="ATT", term="ATT", outcome="admissions",
                    estimate=-15.7, se=np.nan, ci=(np.nan, np.nan), p_value=np.nan,
                    inference=InferenceInfo("analytic", "normal reference"))
    out = r.with_alpha(0.1)
    assert out.alpha == 0.1 and np.isnan(out.ci).all() and np.isnan(out.p_value)
    # a placebo interval at its own level is returned as it is
    placebo = _result(ci=(-30.3, -1.01), p_value=1 / 63, name="placebo", description="placebo", reps=62)
    assert placebo.with_alpha(0.05) is placebo
