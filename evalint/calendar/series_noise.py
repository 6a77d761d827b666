"""A series' own step noise: how large a level change its history shows with nothing to explain it.

One job: the scale against which the single-series calendar rule (``methods/policy_churn.md``
section 9) judges whether an event is large enough to show as a break. For every window of
``pre`` periods before and ``post`` periods from a placebo date, fit
``log(y) ~ 1 + trend + month of year (Fourier pair for short windows) + step`` by OLS and keep
the step; the step noise is the robust standard deviation of those steps,
``1.4826 * median |step - median step|`` (the median absolute deviation, so that the few
windows holding real shocks such as COVID do not set the scale).

:data:`NATIONAL_STEP_NOISE` holds the value for the national England series of the outcomes the
real-data folder covers, computed by :func:`step_noise` (``benchmarks/calendar_calibration.py``
prints them); the check uses it for a single-series design at ``level="national"`` when no
``noise=`` is given.

References
----------
Hampel, F. R. (1974). The influence curve and its role in robust estimation. *JASA* 69(346),
383-393 (the median absolute deviation as a robust scale).
Bernal, J. L., Cummins, S. and Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *IJE* 46(1), 348-355.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["NATIONAL_STEP_NOISE", "placebo_step", "step_noise"]

#: Step noise (log scale) of national England monthly series, by outcome; window shape in the
#: comment. Computed by :func:`step_noise` on the real-data folder's files:
#: emergency admissions per day, NHS England Monthly A&E Time Series 2010-08..2024-03,
#: pre 24, post 12 (129 windows); patients no longer meeting the criteria to reside, acute
#: discharge sitrep daily 2021-04..2024-01 as monthly means, pre 12, post 6 (17 windows).
NATIONAL_STEP_NOISE: dict[str, float] = {
    "emergency_admissions": 0.0316,
    "delayed_discharges": 0.0448,
}


def placebo_step(y: pd.Series, t: pd.Period, pre: int, post: int) -> tuple[float, float]:
    """OLS step (log scale) at ``t`` in the window of ``pre`` + ``post`` periods, and its OLS t.

    ``y`` is positive, indexed by a monthly PeriodIndex. Month-of-year dummies for windows of
    36+ periods, one Fourier pair otherwise.
    """
    w = y.loc[(y.index >= t - pre) & (y.index <= t + post - 1)].dropna()
    n = len(w)
    trend = np.arange(n, dtype=float)
    months = np.array([p.month for p in w.index])
    cols = [np.ones(n), trend, (w.index >= t).astype(float)]
    if n >= 36:
        cols += [(months == m).astype(float) for m in range(2, 13)]
    else:
        cols += [np.sin(2 * np.pi * months / 12), np.cos(2 * np.pi * months / 12)]
    x = np.column_stack(cols)
    keep = x.std(axis=0) > 0
    keep[0] = True
    x = x[:, keep]
    ly = np.log(w.to_numpy(float))
    beta, *_ = np.linalg.lstsq(x, ly, rcond=None)
    resid = ly - x @ beta
    sigma2 = resid @ resid / max(n - x.shape[1], 1)
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    return float(beta[2]), float(beta[2] / np.sqrt(cov[2, 2]))


def step_noise(y: pd.Series, pre: int, post: int) -> float:
    """Robust SD of the placebo steps of every ``pre``/``post`` window of ``y``.

    Parameters
    ----------
    y : pandas.Series
        Positive values indexed by a monthly ``PeriodIndex`` (a DatetimeIndex is converted).
    pre, post : int
        Window shape, as in the calendar check.

    Returns
    -------
    float
        ``1.4826 * MAD`` of the steps (log scale: 0.03 is about a 3% level change).

    Raises
    ------
    SpecificationError
        Fewer than 5 windows fit in the series, or values are not positive.
    """
    s = y.dropna()
    if not isinstance(s.index, pd.PeriodIndex):
        s = s.copy()
        s.index = pd.PeriodIndex(pd.DatetimeIndex(s.index), freq="M")
    if (s <= 0).any():
        raise SpecificationError("step_noise needs positive values (it works on the log scale); "
                                 f"{int((s <= 0).sum())} value(s) are zero or negative.")
    dates = s.index[pre: len(s) - post + 1]
    if len(dates) < 5:
        raise SpecificationError(f"step_noise needs at least 5 windows of {pre} + {post} periods; the "
                                 f"series has {len(s)} periods ({len(dates)} window(s)).")
    steps = np.array([placebo_step(s, t, pre, post)[0] for t in dates])
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))))
