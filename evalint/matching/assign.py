"""Assigning candidates to treated units from a distance matrix: greedy or optimal, calipers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment


def assign(dist: pd.DataFrame, *, ratio: int = 1, replace: bool = False, caliper: float | None = None,
           algorithm: str = "greedy") -> pd.DataFrame:
    """Matched pairs ``(treated, control, distance, round)``.

    Greedy (nearest neighbour): in ``ratio`` rounds, each treated unit in turn (in the order of
    ``dist.index``) takes the nearest candidate still available (any candidate, with
    replacement) within the caliper. Optimal (without replacement): the assignment of
    ``ratio`` candidates per treated unit minimising the total distance
    (:func:`scipy.optimize.linear_sum_assignment` on the treated rows repeated ``ratio`` times);
    pairs beyond the caliper are then dropped. Ties go to the candidate listed first.
    """
    d = dist.to_numpy(dtype=float)
    n_t, n_c = d.shape
    allowed = np.isfinite(d) if caliper is None else d <= caliper
    rows: list[tuple] = []
    if algorithm == "optimal" and not replace:
        big = np.where(allowed, d, np.nanmax(np.where(np.isfinite(d), d, 0)) * 10 + 1e6)
        rep = np.repeat(big, ratio, axis=0)
        r, c = linear_sum_assignment(rep)
        for ri, ci in zip(r, c):
            ti = ri // ratio
            if allowed[ti, ci]:
                rows.append((dist.index[ti], dist.columns[ci], float(d[ti, ci]), ri % ratio + 1))
    else:
        used = np.zeros(n_c, dtype=bool)
        taken = np.zeros((n_t, n_c), dtype=bool)
        for rnd in range(1, ratio + 1):
            for ti in range(n_t):
                ok = allowed[ti] & ~taken[ti] & (~used if not replace else True)
                if not ok.any():
                    continue
                ci = int(np.flatnonzero(ok)[np.argmin(d[ti, ok])])
                taken[ti, ci] = True
                used[ci] = True
                rows.append((dist.index[ti], dist.columns[ci], float(d[ti, ci]), rnd))
    out = pd.DataFrame(rows, columns=["treated", "control", "distance", "round"])
    order = {u: i for i, u in enumerate(dist.index)}
    out["_order"] = out["treated"].map(order)
    return out.sort_values(["round", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
