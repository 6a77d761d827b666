"""Balance plot: absolute standardised mean differences before and after matching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def balance_plot(balance: pd.DataFrame, ax: Any = None, threshold: float = 0.1) -> Figure:
    """Dot plot of |SMD| per feature, before (hollow) and after (filled) matching.

    Parameters
    ----------
    balance : DataFrame
        A :attr:`MatchResult.balance` table.
    ax : matplotlib Axes, optional
    threshold : float
        Dashed reference line (0.1 is the common rule of thumb, Stuart 2010).
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 0.5 * len(balance) + 1.5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    y = np.arange(len(balance))[::-1]
    ax.scatter(np.abs(balance["smd_before"]), y, facecolors="none", edgecolors="tab:red", label="before matching")
    ax.scatter(np.abs(balance["smd_after"]), y, color="tab:blue", label="after matching")
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(balance["feature"].astype(str))
    ax.set_xlabel("absolute standardised mean difference")
    ax.set_xlim(left=0)
    ax.legend(loc="best", frameon=False)
    ax.set_title("Balance of matching features")
    fig.tight_layout()
    return fig
