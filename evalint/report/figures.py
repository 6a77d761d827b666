"""The report's figures as PNG bytes: ITS counterfactual, event study, synthetic vs actual,
and the policy-calendar timeline, per outcome.

A figure that cannot be drawn is kept with its error message (the report says so).
"""

from __future__ import annotations

import io
from typing import Any

from evalint.report.content import FigureImage

__all__ = ["build_figures", "DPI"]

DPI = 90


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _figure(slug: str, title: str, caption: str, draw: Any) -> FigureImage:
    try:
        return FigureImage(slug, title, caption, png=_png(draw()))
    except Exception as exc:  # noqa: BLE001 - the report shows why a figure is missing
        return FigureImage(slug, title, caption, error=f"{type(exc).__name__}: {exc}")


def build_figures(ev: Any) -> list[FigureImage]:
    """Every figure of the report of evaluation ``ev``."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg",):
        matplotlib.use("Agg")
    from evalint.plotting.calendar import plot_calendar_timeline

    out: list[FigureImage] = []
    res = ev.results
    for o in ev.outcomes:
        its = res.get(("its", o))
        if its is not None and hasattr(its, "plot"):
            out.append(_figure(f"its_{o}", f"ITS counterfactual: {o}",
                               "Observed series of the treated units, fitted model and the no-intervention "
                               "counterfactual with its pointwise band; high-severity calendar events shaded.",
                               its.plot))
        unit_fit = ev.extras.get(("its_units", o), {}).get("by_unit")
        if unit_fit is not None and len(unit_fit.results):
            first = next(iter(unit_fit.results.values()))
            out.append(_figure(f"its_unit_{o}", f"ITS counterfactual, first treated unit: {o}",
                               f"One unit's ITS ({first.info.get('Unit', '')}) of the {len(unit_fit.results)} "
                               "pooled; every unit's estimate is in the pooled result's 'units' table.", first.plot))
        es = ev.extras.get(("did", o), {}).get("event_study")
        if es is not None:
            scale = "log rate (x100 ~ % change)" if ev.panel.outcome_kinds[o].is_count else "outcome units"
            out.append(_figure(f"event_study_{o}", f"Event study (Callaway-Sant'Anna, dynamic): {o}",
                               f"ATT by months since adoption on the {scale} scale, pointwise intervals and "
                               "simultaneous bands.", es.plot))
        for key, name in (("sdid", "Synthetic DiD"), ("scm", "Synthetic control")):
            r = res.get((key, o))
            if r is not None and hasattr(r, "plot"):
                out.append(_figure(f"{key}_{o}", f"{name}: treated vs synthetic, {o}",
                                   "Treated units against their synthetic comparison (rates per 100,000 or log "
                                   "rates for counts).", r.plot))
                break
        flags = [f for e in ev.entries.values() if e.outcome == o for f in e.flags]
        dates = [c.start_time for c in ev.assignment.cohorts]
        out.append(_figure(f"calendar_{o}", f"Policy calendar: {o}",
                           "Intervention date(s) (black) and the calendar events flagged by any design, coloured "
                           "by severity; dotted lines mark the analysis window.",
                           lambda flags=flags, dates=dates: plot_calendar_timeline(
                               flags, intervention=dates, start=ev.window[0], end=ev.window[1],
                               title=f"Policy calendar: {ev.assignment.name} and events flagged on {o}")))
    return out
