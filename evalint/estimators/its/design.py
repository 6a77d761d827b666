"""The one design-matrix builder of the interrupted-time-series family.

OLS, GLS-AR and GLM back-ends all fit ``y ~ X`` with ``X`` from :func:`build_design`:

* ``intercept`` and ``time`` (1, 2, ..., T: the pre-existing trend);
* per interruption ``j`` (named ``n``), according to the impact model:

  - ``level_n`` = 1{t >= s_j}: the step (level change);
  - ``slope_n`` = max(0, t - s_j + 1): periods elapsed since the change, 1 in the first
    post period (Wagner et al. 2002; Lopez Bernal et al. 2017, the ``post_time`` of the
    tutorial), so the first post period's change is ``level + slope``;
  - ``ramp_n`` = min(1, (t - s_j + 1) / w): a level change phased in linearly over ``w``
    periods (the transition window), complete from period ``s_j + w - 1`` on;

  where ``s_j`` is the intervention period plus ``lag`` (and plus the transition window
  when the transition is *excluded*: the window's rows are dropped from the fit and the
  level/slope terms start after it);
* seasonality: Fourier pairs ``sin_k``, ``cos_k`` = sin/cos(2 pi k m / P) with m the
  position in the calendar cycle (month of year 1..12 for monthly data, P = 12), as
  ``tsModel::harmonic(month, k, 12)`` (Bhaskaran et al. 2013); or calendar dummies
  ``season_2`` .. ``season_P`` (month of year for monthly data, quarter for quarterly).

References
----------
Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression analysis of
interrupted time series studies in medication use research. J Clin Pharm Ther 27:299-309.
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. Int J Epidemiol 46:348-355.
Bhaskaran K, Gasparrini A, Hajat S, Smeeth L, Armstrong B (2013). Time series regression
studies in environmental epidemiology. Int J Epidemiol 42:1187-1195.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option, check_positive_int
from evalint.data.ordinal import label as ordinal_label
from evalint.data.ordinal import ordinal_period
from evalint.data.timeparse import FREQ_NAMES, to_period
from evalint.errors import SpecificationError

__all__ = ["DesignSpec", "Design", "Interruption", "build_design", "resolve_interventions",
           "IMPACTS", "SEASONALITY", "season_period"]

Impact = Literal["step", "slope", "step_slope", "ramp"]
IMPACTS = ("step", "slope", "step_slope", "ramp")
SEASONALITY = ("fourier", "month")
_CYCLE = {"M": 12, "Q": 4, "W": 52, "D": 7, "Y": 1}


def season_period(freq: str) -> int:
    """Length of the seasonal cycle for a panel frequency (12 for monthly data)."""
    return _CYCLE[freq]


def _season_position(periods: pd.PeriodIndex, freq: str) -> np.ndarray:
    if freq == "M":
        return np.asarray(periods.month, dtype=float)
    if freq == "Q":
        return np.asarray(periods.quarter, dtype=float)
    if freq == "W":
        return np.asarray(np.minimum(periods.week, 52), dtype=float)
    if freq == "D":
        return np.asarray(periods.day_of_week + 1, dtype=float)
    raise SpecificationError("seasonality needs sub-annual data; this series is annual. Use seasonality=None.")


@dataclass(frozen=True)
class DesignSpec:
    """Hyperparameters of the ITS design (shared by every back-end).

    Parameters
    ----------
    impact : {"step", "slope", "step_slope", "ramp"}
        Impact model of every interruption.
    lag : int
        Periods between the intervention date and the start of its effect.
    transition : int
        Length of the transition window after the (lagged) start; 0 for none.
    transition_mode : {"exclude", "ramp"}
        ``"exclude"`` drops the window's rows from the fit and starts the level/slope
        terms after it; ``"ramp"`` keeps the rows and phases the level change in linearly
        over the window (the step is replaced by a ramp).
    seasonality : {None, "fourier", "month"}
    harmonics : int
        Number of Fourier pairs when ``seasonality="fourier"``.
    """

    impact: Impact = "step_slope"
    lag: int = 0
    transition: int = 0
    transition_mode: Literal["exclude", "ramp"] = "exclude"
    seasonality: Literal["fourier", "month"] | None = None
    harmonics: int = 2

    def __post_init__(self) -> None:
        check_option("impact", self.impact, IMPACTS)
        check_positive_int("lag", self.lag, minimum=0)
        check_positive_int("transition", self.transition, minimum=0)
        check_option("transition_mode", self.transition_mode, ("exclude", "ramp"))
        if self.seasonality is not None:
            check_option("seasonality", self.seasonality, SEASONALITY + ("none",))
        check_positive_int("harmonics", self.harmonics, minimum=1)
        if self.impact == "ramp" and self.transition < 1:
            raise SpecificationError(
                "impact='ramp' phases the level change in over the transition window; give "
                "transition=<number of periods> (>= 1), e.g. transition=3."
            )

    @property
    def uses_ramp(self) -> bool:
        return self.impact == "ramp" or (self.transition > 0 and self.transition_mode == "ramp")

    @property
    def has_level(self) -> bool:
        return self.impact in ("step", "step_slope", "ramp")

    @property
    def has_slope(self) -> bool:
        return self.impact in ("slope", "step_slope")


@dataclass(frozen=True)
class Interruption:
    """One interruption: its name, date (period), and the row where its effect starts."""

    name: str
    period: pd.Period
    index: int          # row of the intervention period
    start: int          # row where the level/slope terms start (after lag and excluded window)
    window: tuple[int, int]  # [first, last) rows of the transition window


@dataclass(frozen=True)
class Design:
    """A built design: the full-sample matrix, which rows enter the fit, and term roles."""

    X: pd.DataFrame
    periods: pd.PeriodIndex
    include: np.ndarray
    phase: np.ndarray
    interruptions: tuple[Interruption, ...]
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    seasonal_terms: tuple[str, ...] = ()
    presets: Mapping[str, Any] = field(default_factory=dict)  # name -> calendar Intervention preset

    @property
    def columns(self) -> list[str]:
        return list(self.X.columns)

    def counterfactual(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """X with the intervention terms of ``names`` (default: all) set to zero."""
        names = list(self.terms) if names is None else list(names)
        out = self.X.copy()
        for n in names:
            for c in self.terms[n]:
                out[c] = 0.0
        return out

    def headline_term(self, name: str) -> str:
        """The level-change column of interruption ``name`` (slope if the impact has no level)."""
        t = self.terms[name]
        for prefix in ("level_", "ramp_"):
            for c in t:
                if c.startswith(prefix):
                    return c
        return t[0]


def _clean_name(name: Any) -> str:
    s = re.sub(r"[^0-9A-Za-z_]+", "_", str(name)).strip("_")
    return s or "intervention"


def resolve_interventions(interventions: Any, freq: str, periods: pd.PeriodIndex,
                          what: str = "intervention", *, ordinal: bool = False) -> tuple[tuple[str, pd.Period], ...]:
    """Map intervention dates to (name, Period) pairs of the series' frequency.

    ``ordinal``: the time axis is ordinal, so interventions are period numbers (``3``).

    ``interventions`` is a date, a sequence of dates, or a mapping name -> date. Raises
    :class:`SpecificationError` for dates before the data start or after they end.
    """
    if interventions is None:
        raise SpecificationError(
            f"No {what} date given. Pass intervention='2022-07-01' (or interventions={{'name': "
            "'2022-07-01', ...}} for several), or build the panel with cohort=/treatment= so the "
            "date can be read from it."
        )
    if isinstance(interventions, Mapping):
        items = [(str(k), v) for k, v in interventions.items()]
    elif isinstance(interventions, (str, pd.Period, pd.Timestamp)) or not isinstance(interventions, Sequence):
        items = [("intervention", interventions)]
    else:
        vals = list(interventions)
        items = [("intervention" if len(vals) == 1 else f"intervention_{i + 1}", v) for i, v in enumerate(vals)]
    if not items:
        raise SpecificationError(f"interventions is empty; give at least one {what} date.")
    out: list[tuple[str, pd.Period]] = []
    first, last = periods[0], periods[-1]
    for name, v in items:
        p = ordinal_period(v, f"{what} {name!r}") if ordinal else to_period(v, freq, what=f"{what} {name!r}")
        show = ordinal_label if ordinal else str
        if p <= first:
            raise SpecificationError(
                f"{what} {name!r} = {v!r} maps to {show(p)}, but the series starts at {show(first)}: an "
                "interrupted time series needs observations before the interruption. Give a later "
                "date or add earlier data."
            )
        if p > last:
            raise SpecificationError(
                f"{what} {name!r} = {v!r} maps to {show(p)}, after the series ends ({show(last)}): there are "
                f"no post-intervention {'ordinal' if ordinal else FREQ_NAMES[freq]} observations. "
                "Give an earlier date or add later data."
            )
        out.append((_clean_name(name), p))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise SpecificationError(f"intervention names must be distinct; got {names}.")
    ordered = sorted(out, key=lambda t: t[1].ordinal)
    if [p for _, p in ordered] != [p for _, p in out]:
        raise SpecificationError(
            "interventions must be listed in date order (earliest first); got "
            + ", ".join(f"{n}={p}" for n, p in out) + "."
        )
    if len({p for _, p in out}) != len(out):
        raise SpecificationError("two interventions fall in the same period; their effects cannot be separated.")
    return tuple(out)


def build_design(periods: pd.PeriodIndex, interventions: Sequence[tuple[str, pd.Period]],
                 spec: DesignSpec, freq: str) -> Design:
    """Build the ITS design matrix for a complete run of ``periods``.

    Parameters
    ----------
    periods : pandas.PeriodIndex
        Consecutive periods of the series (no gaps).
    interventions : sequence of (name, Period)
        From :func:`resolve_interventions`, in date order.
    spec : DesignSpec
    freq : str
        Panel frequency code.

    Returns
    -------
    Design
    """
    n = len(periods)
    t = np.arange(1, n + 1, dtype=float)
    cols: dict[str, np.ndarray] = {"intercept": np.ones(n), "time": t}
    include = np.ones(n, dtype=bool)
    phase = np.array(["pre"] * n, dtype=object)
    inters: list[Interruption] = []
    terms: dict[str, tuple[str, ...]] = {}
    ords = np.asarray([p.ordinal for p in periods])
    w = spec.transition
    for j, (name, p) in enumerate(interventions):
        k = int(np.searchsorted(ords, p.ordinal))
        s = k + spec.lag
        window = (s, s + w) if w > 0 else (s, s)
        start = s + w if (w > 0 and spec.transition_mode == "exclude" and spec.impact != "ramp") else s
        if start >= n:
            raise SpecificationError(
                f"intervention {name!r} ({p}) with lag={spec.lag} and transition={w} leaves no "
                "post-intervention periods in the data. Shorten the lag/transition or add data."
            )
        pos = t - (start + 1) + 1  # 1 in the first post period
        these: list[str] = []
        if spec.uses_ramp:
            ramp = np.clip((t - (s + 1) + 1) / max(w, 1), 0.0, 1.0)
            cols[f"ramp_{name}"] = ramp
            these.append(f"ramp_{name}")
        elif spec.has_level:
            cols[f"level_{name}"] = (pos >= 1).astype(float)
            these.append(f"level_{name}")
        if spec.has_slope:
            cols[f"slope_{name}"] = np.maximum(pos, 0.0)
            these.append(f"slope_{name}")
        terms[name] = tuple(these)
        if w > 0 and spec.transition_mode == "exclude" and spec.impact != "ramp":
            include[window[0]:min(window[1], n)] = False
        if j == 0:
            phase[k:] = "post"
        if w > 0:
            phase[window[0]:min(window[1], n)] = "transition"
        inters.append(Interruption(name=name, period=p, index=k, start=start, window=window))
    seasonal: list[str] = []
    if spec.seasonality in ("fourier", "month"):
        P = season_period(freq)
        if P < 2:
            raise SpecificationError("seasonality needs sub-annual data; this series is annual. Use seasonality=None.")
        m = _season_position(periods, freq)
        if spec.seasonality == "fourier":
            if 2 * spec.harmonics > P:
                raise SpecificationError(
                    f"harmonics={spec.harmonics} is too many for a cycle of {P} periods; use at most {P // 2}."
                )
            for kk in range(1, spec.harmonics + 1):
                if 2 * kk != P:  # at the Nyquist frequency sin(pi m) is identically zero
                    cols[f"sin{kk}"] = np.sin(2 * np.pi * kk * m / P)
                    seasonal.append(f"sin{kk}")
                cols[f"cos{kk}"] = np.cos(2 * np.pi * kk * m / P)
                seasonal.append(f"cos{kk}")
        else:
            for kk in range(2, P + 1):
                cols[f"season_{kk}"] = (m == kk).astype(float)
                seasonal.append(f"season_{kk}")
    X = pd.DataFrame(cols, index=pd.RangeIndex(n))
    return Design(X=X, periods=periods, include=include, phase=phase, interruptions=tuple(inters),
                  terms=terms, seasonal_terms=tuple(seasonal))
