"""The policy-calendar timeline: the intervention and the flagged events, by severity.

One horizontal bar per flagged calendar event (from its start to its end; a short bar for
one-day events), coloured by the flag's severity (Okabe–Ito), named in words in a label column
left of the plot (so labels never overlap bars or each other), with the intervention date(s)
drawn as vertical lines (a shaded span from the first to the last date for staggered
roll-outs).
Consumes :class:`~evalint.diagnostics.Flag` objects or a flags frame, never estimator
internals; matplotlib is imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalint.plotting.base import fix_date_ticks, new_axes
from evalint.plotting.style import SEVERITY_COLOURS
from evalint.plotting.style import drawable, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_calendar_timeline", "timeline_frame"]

_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
#: months shown either side of the analysis window
VIEW_MARGIN_MONTHS = 6


def _timestamp(value: Any, end: bool = False) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Period):
        return value.end_time.normalize() if end else value.start_time
    text = str(value)
    if not text or text.lower() in ("nan", "nat", "none"):
        return None
    try:
        p = pd.Period(text)
        return p.end_time.normalize() if end else p.start_time
    except (ValueError, TypeError):
        return pd.Timestamp(text)


def timeline_frame(flags: Any) -> pd.DataFrame:
    """Confounding flags as one row per event (most severe kept): event_id, name, severity, start, end, message.

    ``name`` is the event's name in words, read from the flag message ("Name (event_id): ...").
    """
    if isinstance(flags, pd.DataFrame):
        rows = flags.to_dict("records")
    else:
        rows = [f.as_dict() if hasattr(f, "as_dict") else dict(f) for f in (flags or ())]
    keep: dict[str, dict[str, Any]] = {}
    seen: dict[tuple[Any, bool], pd.Timestamp | None] = {}  # many flags share a few dates: each parsed once

    def stamp(value: Any, end: bool = False) -> pd.Timestamp | None:
        try:
            return seen[(value, end)]
        except KeyError:
            seen[(value, end)] = out = _timestamp(value, end)
            return out
        except TypeError:  # unhashable
            return _timestamp(value, end)

    for r in rows:
        if r.get("kind") != "confounding":
            continue
        start = stamp(r.get("start"))
        if start is None:
            continue
        end = stamp(r.get("end"), end=True) or start
        eid = str(r.get("event_id") or r.get("message", "")[:30])
        msg = str(r.get("message", ""))
        name = msg.split(f" ({eid}):", 1)[0].strip() if f" ({eid}):" in msg else eid
        row = {"event_id": eid, "name": name, "severity": r.get("severity", "info"), "start": start,
               "end": max(end, start), "message": msg}
        old = keep.get(eid)
        if old is None or _ORDER.get(row["severity"], 9) < _ORDER.get(old["severity"], 9):
            keep[eid] = row
    out = pd.DataFrame(list(keep.values()), columns=["event_id", "name", "severity", "start", "end", "message"])
    return out.sort_values(["start", "event_id"]).reset_index(drop=True)


def _label(name: str, limit: int = 46) -> str:
    name = drawable(" ".join(str(name).split()))
    return name if len(name) <= limit else name[: limit - 1].rstrip(" ,;:(") + "…"


@styled
def plot_calendar_timeline(
    flags: Iterable[Any] | pd.DataFrame,
    *,
    intervention: Any = None,
    start: Any = None,
    end: Any = None,
    ax: Any = None,
    max_events: int = 30,
    title: str | None = None,
) -> Figure:
    """Draw the flagged calendar events and the intervention on one time axis.

    Parameters
    ----------
    flags : iterable of Flag or DataFrame
        Flags (only ``kind == "confounding"`` with a start date are drawn), or a frame with
        the columns of :func:`evalint.diagnostics.base.flags_frame`.
    intervention : date-like or sequence of date-likes, optional
        Intervention date(s): vertical lines; several dates (staggered roll-out) also shade
        the span from the first to the last.
    start, end : date-like, optional
        The analysis window, drawn as dotted lines; the view is the window plus 6 months either
        side (events that began earlier are cut at the left edge, labelled with their start).
    ax : matplotlib Axes, optional
    max_events : int
        At most this many events are drawn (most severe first, then earliest); the title says
        how many were left out.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    The events and their sources come from the packaged policy calendar
    (:class:`evalint.calendar.PolicyCalendar`); see ``methods/policy_churn.md``.
    """
    import matplotlib.patches as mpatches

    frame = timeline_frame(flags)
    dropped = 0
    if len(frame) > max_events:
        ranked = frame.assign(_o=frame["severity"].map(_ORDER).fillna(9)).sort_values(["_o", "start"])
        dropped = len(frame) - max_events
        frame = ranked.head(max_events).drop(columns="_o").sort_values("start").reset_index(drop=True)
    height = max(2.6, 0.28 * len(frame) + 1.4)
    fig, ax = new_axes(ax, figsize=(10, height))
    # the view: the analysis window with a margin (events that began long before it are cut at
    # the left edge and labelled there), else everything
    w0, w1 = _timestamp(start), _timestamp(end, end=True)
    left = w0 - pd.DateOffset(months=VIEW_MARGIN_MONTHS) if w0 is not None else None
    right = w1 + pd.DateOffset(months=VIEW_MARGIN_MONTHS) if w1 is not None else None
    ticks = []
    for r in frame.itertuples(index=False):
        cut = left is not None and r.start < left
        ticks.append(_label(r.name) + (f" (from {r.start:%Y-%m})" if cut else ""))
    if len(frame):  # one bar per event, in one call (one container)
        widths = [max((b - a).days, 20) for a, b in zip(frame["start"], frame["end"])]
        ax.barh(range(len(frame)), widths, left=list(frame["start"]), height=0.6, alpha=0.9,
                color=[SEVERITY_COLOURS.get(v, "#999999") for v in frame["severity"]])
    dates: Sequence[Any]
    if intervention is None:
        dates = []
    elif isinstance(intervention, (str, pd.Period, pd.Timestamp)) or not isinstance(intervention, Iterable):
        dates = [intervention]
    else:
        dates = list(intervention)
    stamps = sorted({t for t in (_timestamp(d) for d in dates) if t is not None})
    for t in stamps:
        ax.axvline(t, color="black", lw=1.6 if len(stamps) == 1 else 0.6)
    if len(stamps) > 1:
        ax.axvspan(stamps[0], stamps[-1], color="black", alpha=0.06, lw=0)
    for w in (start, end):
        t = _timestamp(w, end=w is end)
        if t is not None:
            ax.axvline(t, color="grey", lw=0.8, ls=":")
    lo_all = min([*frame["start"], *stamps]) if len(frame) or stamps else None
    hi_all = max([*frame["end"], *stamps]) if len(frame) or stamps else None
    if left is not None or right is not None:
        ax.set_xlim(left if left is not None else lo_all, right if right is not None else hi_all)
    ax.set_yticks(range(len(frame)), ticks, fontsize=7.5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.8, max(len(frame), 1) - 0.2)
    ax.invert_yaxis()
    fix_date_ticks(ax.xaxis)
    handles = [mpatches.Patch(color=SEVERITY_COLOURS[s], label=s) for s in ("high", "medium", "low", "info")
               if s in set(frame["severity"])]
    handles.append(mpatches.Patch(color="black", label="intervention"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.5 / max(height - 1.0, 1.0)),
              fontsize=7.5, frameon=False, ncol=len(handles), title="severity")
    head = title or "Policy calendar: intervention and flagged events"
    if dropped:
        head += f" ({dropped} less severe event(s) not drawn)"
    if frame.empty:
        ax.text(0.5, 0.5, "no dated confounding flags", transform=ax.transAxes, ha="center", va="center")
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(drawable(head), 64)), fontsize=10, loc="left")
    fig.tight_layout()
    return fig
