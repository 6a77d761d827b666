"""Synthetic-control figure: treated vs synthetic, the gap with placebo gaps, donor weights.

Works for any result with ``plot_kind="synth"`` (Abadie SCM, augmented SCM, synthetic
DiD): it reads only ``result.series`` (columns ``time``, ``treated``, ``synthetic``;
optional ``unit``, ``gap``, ``post``) and the optional tables ``"placebo_gaps"``
(``unit``, ``time``, ``gap``; optional ``placebo``) and ``"donor_weights"`` (``unit``,
``weight``; optional ``treated_unit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.base import new_axes

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


def plot_synth(result: EffectResult, ax: Any = None, *, unit: Any = None, placebos: bool = True,
               max_pre_mspe_ratio: float | None = None, max_weights: int = 12, **_: Any) -> Figure:
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
    max_pre_mspe_ratio : float, optional
        Leave out placebos whose pre-period MSPE exceeds this multiple of the treated unit's
        (ADH 2010, Figures 5-7 use 20, 5 and 2): a placebo that its donors cannot fit before
        the treatment says little about the post-period. Needs the ``"placebo_summary"``
        table (unit, placebo, pre_mspe); the number left out is given in the legend.
    max_weights : int
        Largest donor weights shown.

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
    label = result.outcome_label or result.outcome

    if ax is not None:
        fig, axes = ax.figure, [ax]
    else:
        fig, _ = new_axes(None, figsize=(11, 7.5))  # picks a backend that works without a display
        fig.clear()
        gs = fig.add_gridspec(2, 2, width_ratios=[2.2, 1])
        axes = [fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[:, 1])]

    a0 = axes[0]
    a0.plot(x, s["treated"].to_numpy(float), color="black", lw=1.8, label=f"{unit if unit is not None else 'treated'}")
    a0.plot(x, s["synthetic"].to_numpy(float), color="C0", lw=1.8, ls="--", label="synthetic control")
    a0.set_ylabel(label)
    a0.set_title(f"{result.method}: treated vs synthetic", fontsize=10)
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
    if pg is not None and len(pg):
        if "treated_unit" in pg.columns and unit in set(pg["treated_unit"]):
            pg = pg.loc[pg["treated_unit"] == unit]
        is_pl = pg["placebo"].astype(bool) if "placebo" in pg.columns else pg["unit"] != unit
        if max_pre_mspe_ratio is not None:
            summ = result.tables.get("placebo_summary")
            if summ is None or not {"unit", "placebo", "pre_mspe"} <= set(summ.columns):
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
        for _, g in pg.loc[is_pl].groupby("unit", sort=False):
            xi = [pos.get(str(t)) for t in g["time"]]
            keep = [i for i, v in enumerate(xi) if v is not None]
            a1.plot(np.asarray(xi, dtype=object)[keep].astype(float), g["gap"].to_numpy(float)[keep],
                    color="0.7", lw=0.7, alpha=0.8)
            n_pl += 1
    a1.plot(x, gap, color="black", lw=1.8, label=f"gap ({unit})" if unit is not None else "gap")
    if n_pl or n_dropped:
        a1.plot([], [], color="0.7", lw=0.7, label=f"placebo gaps ({n_pl} donors"
                + (f"; {n_dropped} with pre-period MSPE > {max_pre_mspe_ratio:g}x the treated unit's "
                   "left out)" if n_dropped else ")"))
    a1.axhline(0, color="grey", lw=0.8)
    if cut is not None:
        a1.axvline(cut - 0.5, color="grey", ls=":", lw=1)
    a1.set_ylabel(f"gap in {label}")
    lo, hi = result.ci
    a1.set_title(f"{result.term} = {result.estimate:.4g}"
                 + (f" ({round((1 - result.alpha) * 100)}% CI {lo:.3g} to {hi:.3g})"
                    if np.isfinite(lo) and np.isfinite(hi) else " (no interval: see flags)")
                 + (f", p = {result.p_value:.3g}" if np.isfinite(result.p_value) else ""), fontsize=9)
    a1.legend(fontsize=8, frameon=False)
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
        a2.barh([str(u) for u in w["unit"]], w["weight"].to_numpy(float), color="C0")
        a2.axvline(0, color="grey", lw=0.8)
        a2.set_title(f"largest non-zero donor weights ({len(w)} shown of {n_all} donors)", fontsize=9)
        a2.tick_params(axis="y", labelsize=8)
    else:
        a2.text(0.5, 0.5, "no donor weights", ha="center", va="center", transform=a2.transAxes)
        a2.set_axis_off()
    fig.tight_layout()
    return fig
