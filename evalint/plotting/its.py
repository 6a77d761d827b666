"""The interrupted-time-series figure: observed, fitted, counterfactual with its band.

Consumes ``EffectResult.series`` (columns ``time, observed, fitted, counterfactual, cf_low,
cf_high, phase``) and the result's flags; never estimator internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.base import fix_date_ticks, mark_threats, new_axes, tight_layout_above, to_plot_x
from evalint.plotting.style import OKABE_ITO, drawable, styled
from evalint.results.numbers import fmt_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_its"]

_NEEDED = ("time", "observed", "fitted", "counterfactual", "cf_low", "cf_high", "phase")


@styled
def plot_its(result: EffectResult, ax: Any = None, *, show_flags: bool = True,
             flag_severity: tuple[str, ...] = ("high",), title: str | None = None, **_: Any) -> Figure:
    """Plot an ITS result.

    Observed values (points), the fitted model (solid line), the no-intervention
    counterfactual after the interruption (dashed) with its pointwise confidence band, the
    intervention date(s) (vertical lines, labelled above the plot), the transition window
    (hatched) and, in a strip above the plot, the few most relevant confounding policy events
    flagged by the calendar check (numbered, named in a key below; nothing shades the data).

    Parameters
    ----------
    result : EffectResult
        A result with ``plot_kind == "its"``.
    ax : matplotlib Axes, optional
        Draw into this axes; otherwise a new figure is made.
    show_flags : bool
        Mark flagged events in the strip.
    flag_severity : tuple of str
        Severities of confounding flags to mark (default: high only, at most four, nearest the
        intervention first; all flags stay in ``result.flags`` and the summary).
    title : str, optional
        Default: the outcome, the dates and the estimate in words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    s = result.series
    if s is None or any(c not in s.columns for c in _NEEDED):
        raise SpecificationError(
            "plot_its needs result.series with columns " + ", ".join(_NEEDED) + "; this result has "
            + ("none" if s is None else ", ".join(map(str, s.columns))) + ". Use result.plot() on an ITS result."
        )
    fig, ax = new_axes(ax)
    x = to_plot_x(s["time"])
    phase = s["phase"].astype(str).to_numpy()
    post = phase != "pre"
    ax.plot(x, s["observed"].to_numpy(float), "o", ms=3.5, color="0.3", label="observed", zorder=3)
    spec = result.provenance.spec or {}
    inter = spec.get("interventions") if isinstance(spec, dict) else None
    inter = inter if isinstance(inter, dict) else {}
    times = [str(t) for t in s["time"]]
    breaks = {times.index(str(p)) for p in inter.values() if str(p) in times}
    breaks |= {i for i in range(1, len(phase)) if phase[i] != phase[i - 1]}
    edges = [0, *sorted(b for b in breaks if 0 < b < len(x)), len(x)]
    fitted = s["fitted"].to_numpy(float)
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        ax.plot(x[a:b], fitted[a:b], "-", color=OKABE_ITO["blue"], lw=1.8,
                label="fitted model" if j == 0 else None, zorder=4)
    if post.any():
        first = int(np.argmax(post))
        xs = x[first:]
        sl = slice(first, None)
        ax.plot(xs, s["counterfactual"].to_numpy(float)[sl], "--", color=OKABE_ITO["vermillion"], lw=1.6,
                label="counterfactual (no intervention)", zorder=4)
        pct = fmt_level(result.alpha)
        ax.fill_between(xs, s["cf_low"].to_numpy(float)[sl], s["cf_high"].to_numpy(float)[sl],
                        color=OKABE_ITO["vermillion"], alpha=0.15, lw=0, label=f"{pct}% CI of counterfactual")
    trans = np.flatnonzero(phase == "transition")
    if len(trans):
        runs = np.split(trans, np.flatnonzero(np.diff(trans) > 1) + 1)
        for j, run in enumerate(runs):
            end = x[run[-1] + 1] if run[-1] + 1 < len(x) else x[run[-1]]
            ax.axvspan(x[run[0]], end, facecolor="none", edgecolor="0.5", hatch="//", lw=0,
                       label="transition window" if j == 0 else None)
    line_at: list[Any] = []
    for i, (name, per) in enumerate(inter.items()):
        # an ordinal axis (period numbers, not Periods) places the line at the number itself
        # parsed at the series' own frequency: bare, a week "2021-08-02/2021-08-08" reads as
        # 2021-08-02 20:21 (the "/2021-08-08" taken as a time), the line then missing the week start
        first = s["time"].iloc[0]
        t = int(per) if not isinstance(first, pd.Period) else pd.Period(per, freq=first.freqstr).start_time
        line_at.append(t)
        ax.axvline(t, color="black", lw=1.0, ls=":" if i else "-")
    shown = [f for f in result.flags if f.kind == "confounding" and f.severity in flag_severity]
    key = []
    if show_flags and shown:
        # the first intervention's start date (a week's label, "2021-07-26/2021-08-01", is no date)
        first_start = line_at[0] if line_at and isinstance(line_at[0], pd.Timestamp) else None
        key = mark_threats(ax, shown, at=first_start)
    fix_date_ticks(ax.xaxis)  # the view is final: no artist added below changes it
    first_t = s["time"].iloc[0]
    freq = getattr(first_t, "freqstr", "")[:1] if isinstance(first_t, pd.Period) else ""
    ax.set_xlabel({"M": "Month", "Q": "Quarter", "W": "Week", "D": "Day", "Y": "Year"}.get(freq, "Period"))
    label = drawable(result.outcome_label or result.outcome)
    ax.set_ylabel(label)
    pct = fmt_level(result.alpha)
    lo, hi = result.ci
    if result.scale in ("rate_ratio", "ratio"):
        what = (f"rate ratio {result.estimate:.3g} ({pct}% CI {lo:.3g} to {hi:.3g}): "
                f"{(result.estimate - 1) * 100:+.1f}%")
    else:
        what = f"level change {result.estimate:.3g} ({pct}% CI {lo:.3g} to {hi:.3g})"
    starts = ", ".join(str(p) for p in dict.fromkeys(inter.values()))
    sub = f"Estimated effect: {what}" + (f"; starts {starts} (black line)" if starts else "")
    if title is None:
        title = f"{label}: observed and without the intervention, {times[0]} to {times[-1]}"
    n_rows = len(key)
    ax.set_title(drawable(title) + "\n" + sub, fontsize=9, loc="left", pad=6 + 13 * n_rows)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, fontsize=7, frameon=False, loc="best")
    if key:
        fig.legend([h for h, _ in key], [t for _, t in key], loc="lower left", fontsize=7, frameon=False,
                   ncol=2 if len(key) > 2 else 1,
                   title=f"Flagged policy events ({len(shown)}, severity {'/'.join(flag_severity)}; "
                   f"{len(key)} most relevant in the strip above the plot)",
                   title_fontsize=7, bbox_to_anchor=(0.0, -0.01), alignment="left")
        tight_layout_above(fig, 0.06 + 0.035 * ((len(key) + 1) // 2))
    else:
        fig.tight_layout()
    return fig
