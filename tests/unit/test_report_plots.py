"""The figures through matplotlib's objects (titles, axis labels, legends, ticks), not pixels.

Expected values are the constructed inputs: the unit names, the truth passed in, the number of
placebos built with a poor pre-period fit, the rule's multiple (5, Abadie et al. 2010) and the
glyph coverage of the fonts installed. No evalint estimate is asserted.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.synth.scm.estimator import synthetic_control
from evalint.plotting.base import effect_label
from evalint.plotting.forest import plot_forest
from evalint.plotting.style import OKABE_ITO, drawable, short_labels

LONG = "Bedfordshire, Luton and Milton Keynes Integrated Care Board"
NON_LATIN = ("東京都 医療圏", "Θεσσαλονίκη", "Москва", "🏥 Hospital at home")


def _texts(fig) -> list[str]:
    """Every string matplotlib will draw in ``fig``."""
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in out if t]


def _frame(names, T=24, start=16, seed=0, effect=-4.0):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(T, 2)), axis=0)
    rows = []
    for i, u in enumerate(names):
        load = rng.uniform(0.5, 1.5, size=2)
        for t in range(T):
            d = int(i == 0 and t >= start)
            rows.append({"unit": u, "time": 1990 + t, "y": 30 + f[t] @ load + rng.normal(scale=0.5) + effect * d,
                         "d": d})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def scm_named():
    """A synthetic control whose treated unit has a long name and whose donors have non-Latin names."""
    names = [LONG, *NON_LATIN, *[f"Donor area number {i} with a rather long official name" for i in range(5)]]
    panel = Panel.from_frame(_frame(names), unit="unit", time="time", outcome="y", treatment="d")
    return synthetic_control(panel, calendar=False, leave_one_out=False)


# ----------------------------------------------------------------------------- labels and fonts
def test_drawable_replaces_what_no_installed_font_can_draw():
    from evalint.plotting.style import _charmaps

    maps = _charmaps()
    covered = lambda ch: any(ord(ch) in m for m in maps)  # noqa: E731
    for name in NON_LATIN:
        out = drawable(name)
        assert all(ord(ch) < 128 or covered(ch) for ch in out), out
        # characters a font can draw are kept as they are
        assert [ch for ch in name if covered(ch) and not ch.isspace()] == \
            [ch for ch in out if covered(ch) and not ch.isspace() and ch != "?"]
    assert drawable("Θεσσαλονίκη") == "Θεσσαλονίκη"  # Greek is in DejaVu Sans
    # emoji dropped unless a font has it
    assert drawable("🏥 Hospital at home") in ("🏥 Hospital at home", "Hospital at home")


def test_short_labels_wrap_and_key_long_names():
    labels, key = short_labels([LONG, "QHG"], width=18)
    assert labels[1] == "QHG" and len(key) == 1
    assert labels[0].startswith("[1] ") and all(len(line) <= 18 for line in labels[0].split("\n"))
    assert labels[0].count("\n") == 1 and key[0] == f"[1] {LONG}"


def test_effect_axis_label_matches_the_scale():
    log = SimpleNamespace(outcome_label="log delayed discharges per 100,000", outcome="dd", scale="absolute")
    assert "(absolute)" not in effect_label(log)
    assert effect_label(log).startswith("Difference in log delayed discharges per 100,000")
    assert "% change" in effect_label(log)
    rr = SimpleNamespace(outcome_label="Emergency admissions", outcome="ea", scale="rate_ratio")
    assert effect_label(rr) == "Rate ratio of Emergency admissions (1 = no effect)"
    plain = SimpleNamespace(outcome_label="Length of stay", outcome="los", scale="absolute")
    assert effect_label(plain) == "Effect on Length of stay"


# ----------------------------------------------------------------------------- synthetic control
def test_synth_panel_with_long_and_non_latin_names_has_a_key_and_no_missing_glyphs(scm_named):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warns at draw time: none may
        fig = scm_named.plot()
        fig.canvas.draw()
    a0, a1, a2 = fig.axes[:3]
    treated_label = a0.get_legend().get_texts()[0].get_text()
    # the long treated name fits two wrapped lines of 30: kept whole
    assert treated_label.replace("\n", " ") == LONG and all(len(x) <= 30 for x in treated_label.split("\n"))
    ticks = [t.get_text() for t in a2.get_yticklabels()]
    assert ticks and all(len(line) <= 18 for t in ticks for line in t.split("\n"))
    key = [t for t in _texts(fig) if t.startswith("Key: ")]
    assert len(key) == 1 and "Donor area number" in key[0]  # names cut on the weights' axis are keyed in full
    # every numbered label is in the key with its number
    for t in ticks:
        if t.startswith("["):
            assert t.split(" ")[0] in key[0]
    # the title says what, where and when in words; no internal term name
    title = a0.get_title(loc="left").replace("\n", " ")
    assert "vs its synthetic comparison" in title and "1990 to 2013" in title
    assert "att =" not in " ".join(_texts(fig))
    assert a2.get_xlabel() == "Donor weight"
    plt.close(fig)


def test_placebo_panel_drops_poor_prefits_and_is_scaled_to_the_treated_gap(scm_named):
    res = scm_named
    summ = res.tables["placebo_summary"]
    gaps = res.tables["placebo_gaps"]
    own = float(summ.loc[~summ["placebo"], "pre_mspe"].iloc[0])
    n_placebo = int(summ["placebo"].sum())
    # add one placebo that its donors fit badly (pre-MSPE 100x the treated unit's) with huge gaps
    bad_gaps = gaps.loc[gaps["unit"] == gaps.loc[gaps["placebo"], "unit"].iloc[0]].assign(
        unit="BAD", gap=lambda d: d["gap"] * 0 + 500.0)
    bad_summ = summ.loc[summ["placebo"]].iloc[[0]].assign(unit="BAD", pre_mspe=100 * own)
    res2 = dataclasses.replace(res, tables={**res.tables, "placebo_gaps": pd.concat([gaps, bad_gaps]),
                                            "placebo_summary": pd.concat([summ, bad_summ])})
    poor = int((summ.loc[summ["placebo"], "pre_mspe"] > 5 * own).sum())  # the data's own poor fits
    fig = res2.plot()
    a1 = fig.axes[1]
    grey = [ln for ln in a1.lines if ln.get_color() == "0.7" and len(ln.get_xdata())]
    assert len(grey) == n_placebo - poor  # BAD and the poorly fitted ones left out
    legend = " ".join(t.get_text() for t in a1.get_legend().get_texts())
    assert f"{poor + 1} with pre-period MSPE > 5x the treated unit's left out" in legend
    assert "Abadie et al. 2010" in legend
    plt.close(fig)
    fig = res2.plot(max_pre_mspe_ratio=None)  # keep all: BAD's gap of 500 would set the scale
    a1 = fig.axes[1]
    treated_gap = np.abs(res.series["treated"] - res.series["synthetic"]).max()
    lo, hi = a1.get_ylim()
    assert hi == pytest.approx(1.6 * treated_gap, rel=1e-6) and lo == pytest.approx(-hi)
    assert "axis scaled to the treated gap" in " ".join(t.get_text() for t in a1.get_legend().get_texts())
    plt.close(fig)


def test_placebo_p_value_in_the_title_is_bounded_by_its_draws(scm_named):
    # one treated unit, 9 donors: the rank p-value's resolution is 1/10
    assert scm_named.inference.draws == 9
    fig = scm_named.plot()
    title = fig.axes[1].get_title(loc="left")
    p = scm_named.p_value
    if p <= 0.1 + 1e-12:
        assert "p = 1/10 = 0.10, the smallest possible" in title
    else:
        assert f"({9} draws)" in title
    assert "e-" not in title
    plt.close(fig)


# ----------------------------------------------------------------------------- forest plot
def _table():
    rows = []
    for o, unit in (("emergency_admissions", "admissions per month per 100,000 population"),
                    ("length_of_stay", "days (mean per spell)")):
        for d, lab, est in (("its", "ITS", -4.0), ("did", "DiD (Callaway-Sant'Anna)", -3.0),
                            ("scm", "Synthetic control", math.nan)):
            ok = math.isfinite(est)
            rows.append({"outcome": o, "design": d, "label": lab, "status": "ok" if ok else "failed",
                         "absolute": est, "abs_low": est - 1, "abs_high": est + 1, "abs_label": unit,
                         "percent": est, "pct_low": est - 1, "pct_high": est + 1})
    return pd.DataFrame(rows)


def test_forest_plot_panels_labels_truth_and_failed_designs():
    fig = plot_forest(_table(), truth={"emergency_admissions": -3.5}, truth_label="simulated truth",
                      outcome_labels={"emergency_admissions": "Emergency admissions",
                                      "length_of_stay": "Length of stay"})
    axes = [a for a in fig.axes if a.get_title(loc="left")]
    assert [a.get_title(loc="left") for a in axes] == ["Emergency admissions", "Length of stay"]
    assert "admissions per month per 100,000" in axes[0].get_xlabel().replace("\n", " ")
    assert axes[1].get_xlabel().replace("\n", " ") == "Effect, days (mean per spell)"
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["ITS", "DiD (Callaway-Sant'Anna)", "Synthetic control"]
    legend = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "simulated truth" in legend and any("95% CI" in t for t in legend)
    dashed = [ln for ln in axes[0].lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == -3.5
    assert not [ln for ln in axes[1].lines if ln.get_linestyle() == "--"]  # no truth given for length of stay
    assert "no estimate (failed)" in [t.get_text() for t in axes[0].texts]
    colours = {c.get_color() for c in axes[0].get_children() if hasattr(c, "get_color") and
               isinstance(c, matplotlib.lines.Line2D) and c.get_marker() == "o"}
    assert {OKABE_ITO["blue"], OKABE_ITO["orange"]} <= {matplotlib.colors.to_hex(c).upper() for c in colours}
    plt.close(fig)


def test_the_glyph_check_can_fail():
    fig, ax = plt.subplots()
    ax.set_title("東京都")  # not passed through drawable(): DejaVu Sans has no CJK
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    if not any("missing from font" in str(w.message) for w in caught):
        pytest.skip("an installed font draws CJK: nothing to replace on this machine")
    plt.close(fig)
