"""Synthetic-control figure: treated vs synthetic, the gap with placebo gaps, donor weights.

Works for any result with ``plot_kind="synth"`` (Abadie SCM, augmented SCM, synthetic
DiD): it reads only ``result.series`` (columns ``time``, ``treated``, ``synthetic``;
optional ``unit``, ``gap``, ``post``) and the optional tables ``"placebo_gaps"``
(``unit``, ``time``, ``gap``; optional ``placebo``) and ``"donor_weights"`` (``unit``,
``weight``; optional ``treated_unit``).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.base import new_figure
from evalint.plotting.style import OKABE_ITO, drawable, short_labels, styled, wrap_label
from evalint.results.numbers import fmt_level, fmt_p, p_value_draws

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_synth"]


def _unit_series(result: EffectResult, unit: Any) -> tuple[pd.DataFrame, Any]:
    s = result.series
    if s is None or not {"time", "treated", "synthetic"} <= set(s.columns):
        raise SpecificationError(
            "plot_synth needs result.series with columns time, treated, synthetic; this result has "
            f"{None if s is None else list(s.columns)}."
        )
    if "unit" in s.columns:
        units = list(pd.unique(s["unit"]))
        unit = units[0] if unit is None else unit
        if unit not in units:
            raise SpecificationError(f"unit={unit!r} is not a treated unit of this result ({units}).")
        s = s.loc[s["unit"] == unit]
    return s.reset_index(drop=True), unit


def _first_post(result: EffectResult, s: pd.DataFrame, labels: list[str]) -> int | None:
    if "post" in s.columns and s["post"].astype(bool).any():
        return int(np.argmax(s["post"].astype(bool).to_numpy()))
    inter = result.intervention
    if isinstance(inter, dict):
        inter = next(iter(inter.values()), None)
    if inter is not None and str(inter) in labels:
        return labels.index(str(inter))
    return None


def _time_axis(ax: Any, labels: list[str]) -> None:
    n = len(labels)
    step = max(1, int(np.ceil(n / 10)))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45 if max(map(len, labels)) > 4 else 0,
                  fontsize=8)


#: default rule for leaving poorly fitted placebos out of the gap panel (Abadie et al. 2010, Figure 6)
PRE_MSPE_RATIO = 5.0


@styled
def plot_synth(result: EffectResult, ax: Any = None, *, unit: Any = None, placebos: bool = True,
               max_pre_mspe_ratio: float | None = PRE_MSPE_RATIO, max_weights: int = 12,
               title: str | None = None, **_: Any) -> Figure:
    """Draw a synthetic-control result.

    Parameters
    ----------
    result : EffectResult
        A result with ``plot_kind="synth"``.
    ax : matplotlib Axes, optional
        When given, only the treated-vs-synthetic panel is drawn on it.
    unit : optional
        Which treated unit to draw when there are several (default: the first).
    placebos : bool
        Draw placebo gaps (grey) behind the treated unit's gap.
    max_pre_mspe_ratio : float or None
        Leave out placebos whose pre-period MSPE exceeds this multiple of the treated unit's
        (default 5, ADH 2010 Figure 6; their Figures 5-7 use 20, 5 and 2): a placebo that its
        donors cannot fit before the treatment says little about the post-period. Uses the
        ``"placebo_summary"`` table (unit, placebo, pre_mspe); the number left out is given in
        the legend. ``None`` keeps every placebo. The gap panel's vertical axis is scaled to
        the treated unit's gap (placebo lines may run off it; the legend says so).
    max_weights : int
        Largest donor weights shown. Long unit names are wrapped; names still cut are
        numbered and listed in full in a key under the figure.
    title : str, optional
        Title of the treated-vs-synthetic panel (default: the outcome and the unit in words).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Abadie, Diamond & Hainmueller (2010), Figures 2-4 (paths, gaps, placebo gaps).
    """
    s, unit = _unit_series(result, unit)
    labels = [str(t) for t in s["time"]]
    x = np.arange(len(labels))
    cut = _first_post(result, s, labels)
    label = drawable(result.outcome_label or result.outcome)
    key: list[str] = []
    unit_lab = "treated"
    if unit is not None:
        labs, k = short_labels([unit], 30)
        unit_lab, key = labs[0], k

    if ax is not None:
        fig, axes = ax.figure, [ax]
    else:
        fig = new_figure((11, 7.5))  # picks a backend that works without a display
        gs = fig.add_gridspec(2, 2, width_ratios=[2.2, 1])
        axes = [fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[:, 1])]

    a0 = axes[0]
    a0.plot(x, s["treated"].to_numpy(float), color="black", lw=1.8, label=unit_lab)
    a0.plot(x, s["synthetic"].to_numpy(float), color=OKABE_ITO["blue"], lw=1.8, ls="--", label="synthetic comparison")
    a0.set_ylabel(wrap_label(label, 40))
    head = drawable(title) if title else (f"{label}: {unit_lab.replace(chr(10), ' ')} vs its synthetic comparison, "
                                          f"{labels[0]} to {labels[-1]}")
    a0.set_title(wrap_label(head, 80, 2) + f"\n{drawable(result.method)}", fontsize=9, loc="left")
    if cut is not None:
        a0.axvline(cut - 0.5, color="grey", ls=":", lw=1)
    a0.legend(fontsize=8, frameon=False)
    _time_axis(a0, labels)
    if len(axes) == 1:
        return fig

    a1 = axes[1]
    gap = s["gap"].to_numpy(float) if "gap" in s.columns else (s["treated"] - s["synthetic"]).to_numpy(float)
    pg = result.tables.get("placebo_gaps") if placebos else None
    n_pl = n_dropped = 0
    if max_pre_mspe_ratio is not None and not (np.isfinite(max_pre_mspe_ratio) and max_pre_mspe_ratio > 0):
        raise SpecificationError(f"max_pre_mspe_ratio must be a positive number; got {max_pre_mspe_ratio!r}.")
    explicit = max_pre_mspe_ratio is not None and max_pre_mspe_ratio != PRE_MSPE_RATIO
    if pg is not None and len(pg):
        if "treated_unit" in pg.columns and unit in set(pg["treated_unit"]):
            pg = pg.loc[pg["treated_unit"] == unit]
        is_pl = pg["placebo"].astype(bool) if "placebo" in pg.columns else pg["unit"] != unit
        summ = result.tables.get("placebo_summary")
        has_summary = summ is not None and {"unit", "placebo", "pre_mspe"} <= set(summ.columns)
        if max_pre_mspe_ratio is not None and (has_summary or explicit):
            if not has_summary:
                raise SpecificationError(
                    "max_pre_mspe_ratio needs the result's 'placebo_summary' table (unit, placebo, "
                    "pre_mspe); this result has none. Drop the option."
                )
            if "treated_unit" in summ.columns and unit in set(summ["treated_unit"]):
                summ = summ.loc[summ["treated_unit"] == unit]
            own = float(summ.loc[~summ["placebo"].astype(bool), "pre_mspe"].iloc[0])
            pl = summ.loc[summ["placebo"].astype(bool)]
            poor = set(pl.loc[pl["pre_mspe"] > max_pre_mspe_ratio * own, "unit"])
            n_dropped = len(poor)
            is_pl = is_pl & ~pg["unit"].isin(poor)
        pos = {lab: i for i, lab in enumerate(labels)}
        pl_max = 0.0
        for _, g in pg.loc[is_pl].groupby("unit", sort=False):
            xi = [pos.get(str(t)) for t in g["time"]]
            keep = [i for i, v in enumerate(xi) if v is not None]
            yv = g["gap"].to_numpy(float)[keep]
            a1.plot(np.asarray(xi, dtype=object)[keep].astype(float), yv, color="0.7", lw=0.7, alpha=0.8)
            pl_max = max(pl_max, float(np.nanmax(np.abs(yv))) if len(yv) else 0.0)
            n_pl += 1
    a1.plot(x, gap, color="black", lw=1.8, label=f"gap: {unit_lab.replace(chr(10), ' ')}")
    lim = 1.6 * float(np.nanmax(np.abs(gap))) if np.isfinite(gap).any() else None
    clipped = bool(n_pl and lim and pl_max > lim)
    if n_pl or n_dropped:
        a1.plot([], [], color="0.7", lw=0.7, label=f"placebo gaps ({n_pl} donors"
                + (f";\n{n_dropped} with pre-period MSPE > {max_pre_mspe_ratio:g}x the treated unit's left out: "
                   "poor fit before the start, Abadie et al. 2010" if n_dropped else "")
                + ("; axis scaled to the treated gap" if clipped else "") + ")")
    if clipped:
        a1.set_ylim(-lim, lim)
    a1.axhline(0, color="grey", lw=0.8)
    if cut is not None:
        a1.axvline(cut - 0.5, color="grey", ls=":", lw=1)
    a1.set_ylabel(wrap_label(f"Gap (treated minus synthetic) in {label}", 40))
    lo, hi = result.ci
    p_txt = fmt_p(result.p_value, p_value_draws(result))
    a1.set_title("Average effect after the start: " + f"{result.estimate:.3g}"
                 + (f" ({fmt_level(result.alpha)}% CI {lo:.3g} to {hi:.3g})"
                    if np.isfinite(lo) and np.isfinite(hi) else " (no interval: see flags)")
                 + (f", {p_txt}" if p_txt else ""), fontsize=9, loc="left")
    a1.legend(fontsize=7.5, frameon=False, loc="lower left")
    _time_axis(a1, labels)

    a2 = axes[2]
    w = result.tables.get("donor_weights")
    if w is not None and len(w):
        if "treated_unit" in w.columns and unit in set(w["treated_unit"]):
            w = w.loc[w["treated_unit"] == unit]
        n_all = len(w)
        w = w.assign(_abs=w["weight"].abs())
        w = w.loc[w["_abs"] > 1e-8].sort_values("_abs", ascending=False).head(max_weights)
        w = w.iloc[::-1]
        names, wkey = short_labels(list(w["unit"])[::-1], 18, start=len(key) + 1)  # largest first in the key
        names = names[::-1]
        key += wkey
        a2.barh(range(len(w)), w["weight"].to_numpy(float), color=OKABE_ITO["blue"])
        a2.set_yticks(range(len(w)), names)
        a2.axvline(0, color="grey", lw=0.8)
        a2.set_xlabel("Donor weight")
        a2.set_title(f"Largest donor weights\n({len(w)} shown of {n_all} donors)", fontsize=9, loc="left")
        a2.tick_params(axis="y", labelsize=8)
    else:
        a2.text(0.5, 0.5, "no donor weights", ha="center", va="center", transform=a2.transAxes)
        a2.set_axis_off()
    if key:
        # wrapped here, so the space kept below the axes is the key's own height (matplotlib's
        # wrap=True wraps at draw time, after the layout, and long keys ran over the tick labels)
        width_in, height_in = fig.get_size_inches()
        lines = textwrap.wrap("Key: " + "; ".join(key), max(40, int(width_in * 72 / (7 * 0.62))))
        fig.text(0.01, 0.005, "\n".join(lines), fontsize=7, va="bottom", ha="left")
        fig.tight_layout(rect=(0, min((len(lines) * 7 * 1.25 / 72 + 0.08) / height_in, 0.5), 1, 1))
    else:
        fig.tight_layout()
    return fig
