"""Figures for sensitivity results: HonestDiD intervals against the restriction size.

Consumes a :class:`~evalint.sensitivity.HonestDiDResult` through its ``to_frame()`` and
attributes only; matplotlib is imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evalint.plotting.base import new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_honest_did"]


def plot_honest_did(result: Any, ax: Axes | None = None, **kwargs: Any) -> Figure:
    """Robust confidence intervals (vertical bars) against ``Mbar``/``M``, the original interval at
    the left in grey, a line at 0 and the breakdown value marked.

    References
    ----------
    Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
        Economic Studies 90(5), 2555-2591 (Figures 4-5).
    """
    fig, ax = new_axes(ax, figsize=kwargs.pop("figsize", (7, 4.2)))
    frame = result.to_frame()
    p = result.parameter
    robust = frame[frame["method"] != "original"]
    sizes = robust[p].to_numpy(float)
    step = float(np.min(np.diff(np.unique(sizes)))) if len(np.unique(sizes)) > 1 else max(float(sizes.max()), 1.0)
    x_orig = float(sizes.min()) - 0.6 * step
    ax.errorbar([x_orig], [result.estimate], yerr=[[result.estimate - result.original[0]],
                                                    [result.original[1] - result.estimate]],
                fmt="o", color="#7f7f7f", capsize=4, label="original")
    finite = np.isfinite(robust["lower"]) & np.isfinite(robust["upper"])
    mid = (robust["lower"] + robust["upper"]) / 2
    ax.errorbar(sizes[finite], mid[finite], yerr=[(mid - robust["lower"])[finite], (robust["upper"] - mid)[finite]],
                fmt="none", color="#1f77b4", capsize=4, lw=2, label=f"robust ({result.ci_method})")
    ax.axhline(0, color="black", lw=0.8)
    bd = result.breakdown
    if np.isfinite(bd) and bd <= float(sizes.max()) + step:
        ax.axvline(bd, color="#d62728", ls="--", lw=1, label=f"breakdown {p} = {bd:.3g}")
    ax.set_xlabel(p)
    ax.set_ylabel(f"effect at event time {result.event_time}")
    ax.set_title(kwargs.pop("title",
                            f"Sensitivity to violations of parallel trends ({result.method.replace('_', ' ')})"))
    ax.legend(loc="best", fontsize=8)
    return fig
