"""The report's figures as PNG bytes, each drawn once per evaluation and shared by the HTML and
Markdown reports (:meth:`evalint.Evaluation.figures` caches them): the forest plot of every
design (the summary's figure), then per outcome each design's figures (declared by the design
plug-in: the ITS counterfactual, the event study, synthetic vs actual); then one policy-calendar timeline of the events flagged on any outcome.

A figure that cannot be drawn is kept with its error message (the report says so).
"""

from __future__ import annotations

import io
from typing import Any

from evalint.evaluate.registry import list_designs
from evalint.report.content import FigureImage, outcome_words, post_period, truth_of

__all__ = ["build_figures", "DPI"]

DPI = 90


#: zlib level of the PNG encoder: the same pixels as the default (6) in ~30% less encoding time,
#: and files ~4% smaller on the demo's figures (levels 1-3 use zlib's fast strategy)
PNG_COMPRESS_LEVEL = 3


def _png(fig: Any) -> bytes:
    """PNG bytes at the figure's own layout (every evalint figure lays itself out with
    ``tight_layout``, so no second ``bbox_inches="tight"`` render is needed: ~20% faster)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    plt.close(fig)
    return buf.getvalue()


def _figure(slug: str, title: str, caption: str, draw: Any) -> FigureImage:
    import matplotlib

    try:
        # drawn at the PNG's resolution, so the text layouts computed for the layout are reused when saving
        with matplotlib.rc_context({"figure.dpi": DPI}):
            fig = draw()
        return FigureImage(slug, title, caption, png=_png(fig))
    except Exception as exc:  # noqa: BLE001 - the report shows why a figure is missing
        return FigureImage(slug, title, caption, error=f"{type(exc).__name__}: {exc}")


def _where(ev: Any) -> str:
    n = len(ev.assignment.treated_units)
    return f"the {n} treated unit{'s' if n != 1 else ''}"


def forest_figure(ev: Any) -> FigureImage:
    """Every design's estimate and interval on the common scale, one panel per outcome."""
    from evalint.plotting.forest import plot_forest

    truth, label = truth_of(ev)
    pct = round((1 - ev.alpha) * 100)
    caption = (f"Each design's effect per period in {_where(ev)}, averaged over {post_period(ev)}, with its {pct}% "
               "confidence interval, on the common absolute scale (% change on the right); grey line: no effect"
               + (f"; dashed line: the {label}." if truth else "."))
    table = ev.table()
    # the only design of an outcome failing its checks: no number drawn (the summary says so)
    no_credible = {o for o, v in ev.verdicts.items() if str(getattr(v, "headline", "")).startswith("No credible")}
    table["note"] = ["no credible estimate: fails its checks" if o in no_credible else ""
                     for o in table["outcome"]]
    return _figure("forest", "Forest plot: every design's estimate on the common scale", caption,
                   lambda: plot_forest(table, truth=truth, truth_label=label or "true effect",
                                       outcome_labels={o: outcome_words(ev, o) for o in ev.outcomes},
                                       alpha=ev.alpha))


def build_figures(ev: Any) -> list[FigureImage]:
    """Every figure of the report of evaluation ``ev`` (the forest plot first)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg",):
        matplotlib.use("Agg")
    from evalint.plotting.calendar import plot_calendar_timeline

    out: list[FigureImage] = [forest_figure(ev)]
    name = ev.assignment.name
    where = _where(ev)
    span = f"{ev.window[0]} to {ev.window[1]}"
    for o in ev.outcomes:
        words = outcome_words(ev, o)
        for design in list_designs():  # each design's own figures (evalint.evaluate.plugins)
            if design.figures is not None:
                out.extend(_figure(f.slug, f.title, f.caption, f.draw)
                           for f in design.figures(ev, o, words, where, span, name))
    if getattr(ev.panel, "is_ordinal", False):
        return out  # period numbers: no calendar events were placed, so there is no timeline to draw
    # one timeline for every outcome: the events flagged on any of them (one figure, not one per outcome)
    flags = [f for e in ev.entries.values() for f in e.flags]
    dates = [c.start_time for c in ev.assignment.cohorts]
    out.append(_figure("calendar", "Policy calendar: concurrent events flagged",
                       "The intervention date(s) (black line) and the calendar events flagged by any design on any "
                       "outcome, coloured by their most severe flag; dotted lines mark the analysis window. Which "
                       "outcome and design each flag concerns: Threats and flags.",
                       lambda: plot_calendar_timeline(
                           flags, intervention=dates, start=ev.window[0], end=ev.window[1],
                           title=f"Concurrent policies flagged around {name} ({span})")))
    return out
