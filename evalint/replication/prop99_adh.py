"""Replication runner for ``reference_data/prop99_adh`` (Abadie, Diamond & Hainmueller 2010).

Fits evalint's synthetic control to the California Proposition 99 panel (cigarette sales per
capita, 39 states, 1970-2000, California treated from 1989) with the predictors of the
tidysynth README, and returns the pre/post MSPEs, the rank and Fisher exact p-value of the
in-space placebos, the synthetic California's predictor values and outcome path.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies: estimating the effect of California's tobacco control program. *JASA*
105(490), 493-505.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalint.data.panel import Panel
from evalint.datasets import load
from evalint.estimators.synth.matrices import Predictor
from evalint.estimators.synth.scm.estimator import SyntheticControl

__all__ = ["ADH_PREDICTORS", "prop99_adh_panel", "run_prop99_adh"]

ADH_PREDICTORS = (
    Predictor("lnincome", 1980, 1988, name="ln_income"),
    Predictor("retprice", 1980, 1988, name="ret_price"),
    Predictor("age15to24", 1980, 1988, name="youth"),
    Predictor("beer", 1984, 1988, name="beer_sales"),
    Predictor("cigsale", 1975, 1975, name="cigsale_1975"),
    Predictor("cigsale", 1980, 1980, name="cigsale_1980"),
    Predictor("cigsale", 1988, 1988, name="cigsale_1988"),
)


def prop99_adh_panel() -> tuple[Panel, pd.DataFrame]:
    """The Prop 99 panel (cigsale, California treated from 1989) and the covariate frame."""
    df = load("prop99_adh")
    df["treated"] = ((df["state"] == "California") & (df["year"] >= 1989)).astype(int)
    panel = Panel.from_frame(df[["state", "year", "cigsale", "treated"]], unit="state", time="year",
                             outcome="cigsale", treatment="treated")
    return panel, df


def run_prop99_adh(target: dict[str, Any] | None = None) -> dict[str, float]:
    """Replication runner for ``reference_data/prop99_adh``: ADH (2010) SCM on Prop 99.

    Specification as in the tidysynth README: predictors mean(lnincome, retprice,
    age15to24) 1980-1988, mean(beer) 1984-1988, cigsale in 1975/1980/1988; V nested over the
    1970-1988 outcome MSPE; in-space placebos over the 38 donors.
    """
    panel, df = prop99_adh_panel()
    res = SyntheticControl(predictors=ADH_PREDICTORS, leave_one_out=False).fit(
        panel, predictor_data=df, calendar=False)
    summ = res.tables["placebo_summary"]
    ca = summ.loc[~summ["placebo"]].iloc[0]
    series = res.series.set_index("time")
    out = {
        "pre_mspe_California": float(ca["pre_mspe"]),
        "post_mspe_California": float(ca["post_mspe"]),
        "mspe_ratio_California": float(ca["ratio"]),
        "rank_California": float(ca["rank"]),
        "fishers_exact_pvalue_California": float(res.p_value),
        "gap_CA_minus_synthetic_2000_approx": float(series.loc["2000", "gap"]),
    }
    bal = res.tables["predictor_balance"].set_index("predictor")
    for name in bal.index:
        out[f"synthetic_California[{name}]"] = float(bal.loc[name, "synthetic"])
    for year in ("1970", "1971", "1975", "1979"):
        out[f"synth_y[{year}]"] = float(series.loc[year, "synthetic"])
    return out
