"""The Goodman-Bacon decomposition figure (``plot_kind="bacon"``).

It reads only the result's ``tables["bacon"]`` (one row per 2x2 comparison with its ``comparison``
type, ``weight`` and ``estimate``) and the TWFE estimate, never estimator internals.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics* 225(2), 254-277.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalint.errors import SpecificationError
from evalint.plotting.base import new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_bacon"]

#: marker and colour per comparison type, in the order the decomposition table lists the types.
_STYLES = (("o", "C0"), ("s", "C2"), ("^", "C3"), ("D", "C4"))


def plot_bacon(result: EffectResult, ax: Any = None, **_: Any) -> Figure:
    """Scatter of 2x2 estimates against their TWFE weights, by comparison type.

    The dashed line is the TWFE estimate (the weighted mean of the points).
    """
    table = result.tables.get("bacon")
    if table is None:
        raise SpecificationError(
            f"plot kind 'bacon' needs a Goodman-Bacon decomposition (result.tables['bacon'], from "
            f"bacon_decomposition()); this {result.method!r} result has none. Use result.plot().")
    fig, ax = new_axes(ax, figsize=(7, 4.8))
    for (marker, colour), kind in zip(_STYLES, dict.fromkeys(table["comparison"])):
        sub = table.loc[table["comparison"] == kind]
        ax.scatter(sub["weight"], sub["estimate"], marker=marker, color=colour, label=kind, alpha=0.8)
    ax.axhline(result.estimate, color="black", ls="--", lw=0.9, label=f"TWFE = {result.estimate:.3g}")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("Weight in the TWFE estimate")
    ax.set_ylabel(f"2x2 DiD estimate ({result.outcome_label or result.outcome})")
    ax.set_title("Goodman-Bacon decomposition", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
