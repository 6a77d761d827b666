"""The forest plot of a triangulation: every design's estimate and interval on the common scale,
one panel per outcome, with the true effect when it is known (simulations).

Consumes the long triangulation table (:meth:`evalint.Evaluation.table`: ``outcome, design,
label, status, absolute, abs_low, abs_high, abs_label, percent, pct_low, pct_high``), never
estimator internals; matplotlib is imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.base import new_figure, tight_layout_above
from evalint.plotting.style import DESIGN_COLOURS, OKABE_ITO, drawable, styled, wrap_label
from evalint.results.numbers import fmt_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_forest"]

_NEEDED = ("outcome", "design", "label", "status", "absolute", "abs_low", "abs_high")


def _pct(v: float) -> str:
    if not math.isfinite(v):
        return ""
    mag = math.floor(math.log10(abs(v))) if v else 0
    return f"{v:+.{max(0, 1 - mag)}f}%"


@styled
def plot_forest(table: pd.DataFrame, *, truth: Mapping[str, float] | None = None, truth_label: str = "true effect",
                outcome_labels: Mapping[str, str] | None = None, alpha: float = 0.05, title: str | None = None,
                ncols: int = 3) -> Figure:
    """Draw every design's estimate and confidence interval, one panel per outcome.

    Parameters
    ----------
    table : DataFrame
        The long triangulation table (one row per design x outcome). An optional ``note``
        column replaces a row's estimate by its text (e.g. "no credible estimate: fails its
        checks"), so a number its checks do not support is not drawn.
    truth : mapping, optional
        Outcome -> true effect on the absolute scale (drawn as a dashed line).
    truth_label : str
        Legend text of the truth line.
    outcome_labels : mapping, optional
        Outcome -> panel title in words (default: the column name).
    alpha : float
        The intervals' level is ``1 - alpha`` (for the legend).
    title : str, optional
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Lewis, S. & Clarke, M. (2001). Forest plots: trying to see the wood and the trees. BMJ 322,
    1479-1480. Lawlor, D.A., Tilling, K. & Davey Smith, G. (2016). Triangulation in aetiological
    epidemiology. IJE 45(6), 1866-1886.
    """
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise SpecificationError(f"plot_forest needs the triangulation table columns {', '.join(missing)}; "
                                 "pass Evaluation.table().")
    outcomes = list(dict.fromkeys(table["outcome"]))
    if not outcomes:
        raise SpecificationError("plot_forest got an empty triangulation table: no design ran.")
    designs = list(dict.fromkeys(table["label"]))
    n_o = len(outcomes)
    ncols = max(1, min(ncols, n_o))
    nrows = math.ceil(n_o / ncols)
    height = (0.38 * len(designs) + 1.5) * nrows + (0.35 if title else 0)
    import matplotlib as mpl
    from matplotlib.transforms import offset_copy

    fig = new_figure((11, height))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    pct = fmt_level(alpha)
    y = np.arange(len(designs))[::-1]
    pos = dict(zip(designs, y))
    drawn_truth = False
    for ax, o in zip(axes, outcomes):
        t = table.loc[table["outcome"] == o]
        right = []
        for _, r in t.iterrows():
            yi = pos[r["label"]]
            colour = DESIGN_COLOURS.get(r["design"], OKABE_ITO["black"])
            note = str(r.get("note", "") or "") if "note" in t.columns else ""
            if note and r["status"] == "ok":
                # an estimate its own checks do not support: no dot, the reason in words
                ax.text(0.02, yi, drawable(note), transform=ax.get_yaxis_transform(), va="center", fontsize=8,
                        color=OKABE_ITO["vermillion"])
                right.append((yi, ""))
            elif r["status"] == "ok" and all(math.isfinite(float(r[c])) for c in ("absolute", "abs_low", "abs_high")):
                est, lo, hi = float(r["absolute"]), float(r["abs_low"]), float(r["abs_high"])
                ax.errorbar([est], [yi], xerr=[[est - lo], [hi - est]], fmt="o", color=colour, ms=6, capsize=3,
                            lw=1.8, zorder=3)
                p = [float(r.get(c, np.nan)) for c in ("percent", "pct_low", "pct_high")]
                right.append((yi, f"{_pct(p[0])} ({_pct(p[1])}, {_pct(p[2])})" if math.isfinite(p[0]) else ""))
            else:
                ax.text(0.02, yi, "no estimate (failed)" if r["status"] == "failed" else "no estimate",
                        transform=ax.get_yaxis_transform(), va="center", fontsize=8, color=OKABE_ITO["vermillion"])
                right.append((yi, ""))
        ax.axvline(0, color="0.55", lw=0.9, zorder=1)
        if truth and o in truth and math.isfinite(float(truth[o])):
            ax.axvline(float(truth[o]), color=OKABE_ITO["black"], lw=1.3, ls="--", zorder=2,
                       label=drawable(truth_label) if not drawn_truth else None)
            drawn_truth = True
        ax.set_yticks(y, [wrap_label(d, 26) for d in designs], fontsize=8.5)
        ax.set_ylim(-0.6, len(designs) - 0.4)
        if ax is not axes[0] and (list(axes).index(ax) % ncols):
            ax.tick_params(axis="y", labelleft=False)
        # the % change beside each row, just right of the panel (where right-hand tick labels
        # would be; plain texts, not a twin axes: no second axes to lay out and draw)
        at_right = offset_copy(ax.get_yaxis_transform(), fig=fig, x=mpl.rcParams["ytick.major.pad"], units="points")
        for p, txt in right:
            if txt:
                ax.text(1.0, p, txt, transform=at_right, fontsize=7.5, color="0.3", ha="left", va="center_baseline",
                        clip_on=False)
        unit = str(t["abs_label"].iloc[0]) if "abs_label" in t.columns else "effect"
        ax.set_xlabel(wrap_label(f"Effect, {unit}", 44, 2), fontsize=8.5)
        name = (outcome_labels or {}).get(o, o.replace("_", " ").capitalize())
        ax.set_title(wrap_label(name, 40, 1), fontsize=10, loc="left", fontweight="bold")
        ax.grid(axis="x", color="0.92", lw=0.6)
    for ax in axes[n_o:]:
        ax.set_axis_off()
    handles = [axes[0].errorbar([], [], xerr=[[], []], fmt="o", color="0.3", capsize=3)[0]]
    labels = [f"estimate and {pct}% CI (right: % change)"]
    if drawn_truth:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=OKABE_ITO["black"], ls="--", lw=1.3))
        labels.append(drawable(truth_label))
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(drawable(title), fontsize=11, x=0.01, ha="left")
    tight_layout_above(fig, 0.07)
    return fig
