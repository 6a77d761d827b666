"""Generic effect plots: a headline estimate, event-study coefficients, effects over time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


from evalint.errors import SpecificationError
from evalint.plotting.base import effect_label, mark_threats, new_axes, to_plot_x
from evalint.plotting.style import OKABE_ITO, drawable, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_estimate", "plot_event_study", "plot_effects_over_time"]


def _ylabel(r: EffectResult) -> str:
    return effect_label(r)


def _rows_with(r: EffectResult, column: str, kind: str) -> Any:
    """``r.effects`` rows with ``column`` set; a typed error naming what is missing when none are
    (a figure of no points would be drawn empty without a word)."""
    e = r.effects
    if e is None or column not in e.columns or not e[column].notna().any():
        raise SpecificationError(
            f"plot kind {kind!r} needs effects with a {column!r} column "
            f"({'event times' if column == 'rel_time' else 'calendar periods'}); this {r.method!r} result has "
            f"none. Use result.plot() for its own figure, or kind='estimate'.")
    return e.dropna(subset=[column])


@styled
def plot_estimate(r: EffectResult, ax: Any = None, **_: Any) -> Figure:
    """The headline estimate with its confidence interval."""
    fig, ax = new_axes(ax, figsize=(5, 3.5))
    lo, hi = r.ci
    ax.errorbar([0], [r.estimate], yerr=[[r.estimate - lo], [hi - r.estimate]], fmt="o", capsize=6,
                color=OKABE_ITO["blue"])
    ax.axhline(0 if r.scale != "rate_ratio" else 1, color="grey", lw=0.8, ls="--")
    ax.set_xticks([0], ["effect"])
    ax.set_ylabel(_ylabel(r))
    ax.set_title(f"{drawable(r.outcome_label or r.outcome)}: {r.method}\n"
                 f"{(1 - r.alpha) * 100:.10g}% CI: {r.inference.description}", fontsize=9, wrap=True)
    fig.tight_layout()
    return fig


@styled
def plot_event_study(r: EffectResult, ax: Any = None, *, title: str | None = None, **_: Any) -> Figure:
    """Event-time coefficients with pointwise CIs (bars) and simultaneous bands (shaded).

    ``title`` defaults to the outcome and the method in words.
    """
    e = _rows_with(r, "rel_time", "event_study").sort_values("rel_time")
    fig, ax = new_axes(ax)
    x = e["rel_time"].to_numpy(dtype=float)
    y = e["estimate"].to_numpy(dtype=float)
    if "band_low" in e and e["band_low"].notna().any():
        ax.fill_between(x, e["band_low"].to_numpy(float), e["band_high"].to_numpy(float), color=OKABE_ITO["blue"],
                        alpha=0.15, label="simultaneous band", step=None)
    pre = x < 0
    for mask, colour, lab in ((pre, OKABE_ITO["grey"], "before the start"),
                              (~pre, OKABE_ITO["blue"], "after the start")):
        if mask.any():
            yl = y[mask] - e["conf_low"].to_numpy(float)[mask]
            yh = e["conf_high"].to_numpy(float)[mask] - y[mask]
            ax.errorbar(x[mask], y[mask], yerr=[yl, yh], fmt="o", color=colour, capsize=3, label=lab)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="black", lw=0.8, ls=":")
    ref = r.state.reference_label() if r.state is not None else None
    ax.set_xlabel("Periods since the start (0 = first treated period"
                  + (f"; reference: {ref})" if ref is not None else ")"))
    ax.set_ylabel(_ylabel(r))
    ax.set_title(drawable(title) if title else f"{drawable(r.outcome_label or r.outcome)}: effect by time since "
                 f"the start ({r.method})", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


@styled
def plot_effects_over_time(r: EffectResult, ax: Any = None, **_: Any) -> Figure:
    """Per-period effects on the calendar axis with CIs; flagged events marked in a strip above."""
    e = _rows_with(r, "time", "effects_over_time")
    fig, ax = new_axes(ax)
    t = to_plot_x(e["time"])
    ax.plot(t, e["estimate"], marker="o", color=OKABE_ITO["blue"], label="effect")
    if e["conf_low"].notna().any():
        ax.fill_between(t, e["conf_low"].astype(float), e["conf_high"].astype(float), color=OKABE_ITO["blue"],
                        alpha=0.2, label=f"{(1 - r.alpha) * 100:.10g}% CI")
    ax.axhline(0, color="grey", lw=0.8)
    key = mark_threats(ax, r.flags)
    ax.set_ylabel(_ylabel(r))
    ax.set_xlabel("Period")
    ax.set_title(f"{drawable(r.outcome_label or r.outcome)}: effect by period ({r.method})", fontsize=10,
                 loc="left", pad=6 + 13 * len(key))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles + [h for h, _ in key], labels + [t for _, t in key], fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


