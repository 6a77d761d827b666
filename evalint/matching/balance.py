"""Balance of matching features: standardised mean differences before and after matching."""

from __future__ import annotations

import numpy as np
import pandas as pd


def control_weights(pairs: pd.DataFrame) -> pd.Series:
    """Weight of each matched control: sum over its pairs of 1 / (matches of that treated unit).

    Each matched treated unit carries weight 1, shared equally among its matches, so the
    weighted control mean is the mean over treated units of their matches' mean (the ATT weights).
    """
    if pairs.empty:
        return pd.Series(dtype=float, name="weight")
    k = pairs.groupby("treated", sort=False)["control"].transform("size")
    return (1.0 / k).groupby(pairs["control"], sort=False).sum().rename("weight")


def balance_table(features: pd.DataFrame, treated: list, candidates: list, pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per feature: means, SMD before and after matching, variance ratio after.

    ``smd = (mean_treated - mean_control) / sd_before``, where ``sd_before`` is the standard
    deviation (ddof=1) of the feature over all treated and candidate units before matching; the
    same denominator is used before and after, so a change in SMD is a change in the means
    (Stuart 2010). After matching, the treated mean is over matched treated units and the control
    mean is weighted by :func:`control_weights`.
    """
    matched_t = list(pd.unique(pairs["treated"])) if len(pairs) else []
    w = control_weights(pairs)
    rows = []
    for f in features.columns:
        xt = features.loc[treated, f].to_numpy(dtype=float)
        xc = features.loc[candidates, f].to_numpy(dtype=float)
        sd = float(np.std(np.r_[xt, xc], ddof=1))
        mt_b, mc_b = float(xt.mean()), float(xc.mean())
        if matched_t:
            xt_a = features.loc[matched_t, f].to_numpy(dtype=float)
            xc_a = features.loc[list(w.index), f].to_numpy(dtype=float)
            mt_a = float(xt_a.mean())
            mc_a = float(np.average(xc_a, weights=w.to_numpy()))
            vc = float(np.average((xc_a - mc_a) ** 2, weights=w.to_numpy()))
            vt = float(xt_a.var(ddof=0))
            vr = vt / vc if vc > 0 and len(matched_t) > 1 else np.nan
        else:
            mt_a = mc_a = vr = np.nan
        rows.append({"feature": f, "mean_treated": mt_b, "mean_control_before": mc_b,
                     "smd_before": (mt_b - mc_b) / sd if sd > 0 else np.nan,
                     "mean_treated_after": mt_a, "mean_control_after": mc_a,
                     "smd_after": (mt_a - mc_a) / sd if sd > 0 else np.nan,
                     "variance_ratio_after": vr, "sd_before": sd})
    return pd.DataFrame(rows)
