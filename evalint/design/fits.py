"""The estimator each planned design runs, on a units x months frame of counts.

One function, :func:`fit_design`, fits the design evalint would run on a handful of treated
areas to one (simulated or placebo-assigned real) panel and returns ``(estimate, se, df,
rejects)`` on the log scale:

* ``"did"``: two-way fixed-effects DiD of the log rate, CR2 standard errors with
  Bell-McCaffrey (Satterthwaite) df;
* ``"its"``: segmented regression (level change at adoption, linear trend, two Fourier pairs)
  of the log rate *per day* of the treated areas' *summed* counts, GLS with AR(1) errors by REML,
  widened for the estimated AR coefficient, Satterthwaite df (evalint's ITS default). The rate is
  per person *per day* (the exposure a count ITS takes as its offset, ``log(population x days)``):
  a monthly rate per person carries the length of the month (February 10% below January), a
  pattern two Fourier pairs do not absorb; left in the residuals it made the AR(1) fit understate
  the level change's SE by a third and the test reject 15-21% of null panels with one treated
  area (benchmarks/design_power_its.out, before this change). The DiD, SDID and SC compare
  areas within each month, so the length of the month cancels;
* ``"sdid"`` / ``"sc"``: synthetic difference-in-differences or synthetic control of the log
  rate (Arkhangelsky et al. 2021 estimators), placebo standard error, normal reference
  (``df = inf``).

In every case adding a constant ``c`` to the treated post-period cells of the log outcome moves
the estimate by exactly ``c`` and leaves the SE and df unchanged (the shift lies in the
column space of the TWFE/ITS design; SDID/SC weights use pre-period and control cells only and
the placebo SE uses control units only), which is what :mod:`evalint.design.power` relies on
(checked in tests/unit/test_design_power.py: to 1e-7, the ITS up to its REML optimiser's tolerance).

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021). Synthetic
    Difference-in-Differences. American Economic Review 111(12), 4088-4118.
Bell, R. M. & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear regression
    with multi-stage samples. Survey Methodology 28(2), 169-181.
Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. J Clin Pharm Ther
    27, 299-309.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from evalint._distributions import t_ppf

__all__ = ["DESIGNS", "DESCRIPTIONS", "fit_design", "add_ar_noise"]

DESIGNS = ("did", "its", "sdid", "sc")
DESCRIPTIONS = {
    "did": "TWFE DiD of the log rate, CR2 with Bell-McCaffrey df",
    "its": ("ITS of the treated areas' summed log rate per day (level change, Fourier seasonality), "
            "GLS AR(1) REML adjusted"),
    "sdid": "synthetic DiD of the log rate, placebo SE, normal reference",
    "sc": "synthetic control of the log rate, placebo SE, normal reference",
}


def add_ar_noise(counts: np.ndarray, rho: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Multiply a units x months array by ``exp(u)``, ``u`` a stationary AR(1) per unit with
    coefficient ``rho`` and marginal SD ``sd`` (months along axis 1)."""
    n, t = counts.shape
    e = rng.standard_normal((n, t))
    u = np.empty((n, t))
    u[:, 0] = sd * e[:, 0]
    scale = sd * np.sqrt(1.0 - rho ** 2)
    for j in range(1, t):
        u[:, j] = rho * u[:, j - 1] + scale * e[:, j]
    return counts * np.exp(u)


def fit_design(design: str, frame: pd.DataFrame, adopt: pd.Period, *, alpha: float = 0.05,
               placebo_reps: int = 100, seed: int = 0) -> tuple[float, float, float, bool]:
    """Fit ``design`` to ``frame`` (columns ``unit``, ``month`` (Period), ``count``, ``pop``,
    ``treated`` (0/1, 1 in the treated units' months from ``adopt`` on)).

    Returns ``(estimate, se, df, rejects)``: the effect on the log rate, its SE, the reference
    df (``inf`` for a normal reference) and whether ``H0: 0`` is rejected at two-sided ``alpha``.
    """
    from evalint.data.panel import Panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design == "its":
            from evalint.estimators.its.segmented import segmented_regression

            tr = frame.loc[frame.groupby("unit")["treated"].transform("max") > 0]
            agg = tr.groupby("month", sort=True)[["count", "pop"]].sum()
            days = pd.PeriodIndex(agg.index, freq="M").days_in_month.to_numpy(dtype=float)
            series = pd.DataFrame({"unit": "treated", "month": agg.index,
                                   "y": np.log(agg["count"].to_numpy() / (agg["pop"].to_numpy() * days) * 1000)})
            panel = Panel.from_frame(series, unit="unit", time="month", outcome="y")
            res = segmented_regression(panel, str(adopt), impact="step", seasonality="fourier", calendar=False,
                                       alpha=alpha)
            est, se, df = float(res.estimate), float(res.se), float(res.inference.df or np.nan)
        else:
            d = frame.assign(y=np.log(frame["count"] / frame["pop"] * 1000))
            panel = Panel.from_frame(d[["unit", "month", "y", "treated"]], unit="unit", time="month",
                                     outcome="y", treatment="treated")
            if design == "did":
                from evalint.estimators.did.twfe import twfe
                from evalint.inference.specs import Clustered

                res = twfe(panel, inference=Clustered(kind="CR2"), calendar=False, alpha=alpha)
                est, se, df = float(res.estimate), float(res.se), float(res.inference.df or np.nan)
            else:
                from evalint.estimators.synth.sdid.estimator import synthetic_did

                res = synthetic_did(panel, method=design, variance="placebo", reps=placebo_reps, seed=seed,
                                    calendar=False, alpha=alpha)
                est, se, df = float(res.estimate), float(res.se), float("inf")
    rejects = bool(abs(est) / se > t_ppf(1 - alpha / 2, df)) if se > 0 else False
    return est, se, df, rejects


def frame_from_matrix(counts: np.ndarray, pop: np.ndarray, units: Any, months: pd.PeriodIndex,
                      treated_units: Any, adopt: pd.Period) -> pd.DataFrame:
    """Long frame (unit, month, count, pop, treated) from units x months arrays."""
    n, t = counts.shape
    unit = np.repeat(np.asarray(units, dtype=object), t)
    month = np.tile(np.asarray(months), n)
    is_tr = np.isin(np.asarray(units, dtype=object), np.asarray(list(treated_units), dtype=object))
    post = np.asarray(months >= adopt)
    treated = (is_tr[:, None] & post[None, :]).astype(int).ravel()
    return pd.DataFrame({"unit": unit, "month": pd.PeriodIndex(month, freq="M"), "count": counts.ravel(),
                         "pop": pop.ravel(), "treated": treated})
