"""The common scale on which designs are compared.

Every design's headline effect is converted to three numbers over the same cells -- the
treated unit-periods from each unit's first treated period to the end of the analysis
window:

* **absolute**: per 100,000 population per period for counts with a population column
  (admissions per month per 100,000); days for length of stay; natural units otherwise;
* **percent**: the change relative to the counterfactual (what the treated cells would
  have shown without the intervention);
* **cumulative**: summed over the treated cells: admissions averted (negative = fewer
  admissions), patient-days of delay for delayed discharges (monthly snapshot counts x
  days in the month), bed-days for length of stay (effect in days x spells).

Designs report on different native scales; the conversions (exact, conditional on the
observed totals, and monotone, so interval end points map to interval end points) are:

* a relative effect ``r`` (rate ratio - 1, or ``exp(ATT) - 1`` from a log-scale DiD):
  ``absolute = R_obs * r / (1 + r)``, where ``R_obs`` is the observed mean of the treated
  cells on the absolute scale (observed = counterfactual x (1 + r));
* an absolute effect ``a``: ``percent = 100 * a / (R_obs - a)``;
* cumulative = absolute x ``M``, with ``M`` = sum over treated cells of population / 100,000
  (x days in the period for delayed discharges), or of spells for length of stay.

The assumptions (a constant effect over the cells for the conversions to be exact) are in
``methods/evaluate.md``.

References
----------
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. IJE 46(1), 348-355 (absolute and
relative effects of count models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CellTotals", "ScaleSpec", "ScaledEffect", "treated_post_totals", "scale_spec",
           "from_relative", "from_absolute", "from_its_cumulative", "from_result", "PER"]

PER = 100_000.0
#: outcome kind -> how each period's effect is turned into a cumulative quantity
_DAY_WEIGHTED = {"delayed_discharges"}


@dataclass(frozen=True)
class CellTotals:
    """Observed totals over the treated post-intervention cells of one outcome."""

    n_cells: int
    n_units: int
    n_periods: int
    observed_total: float
    observed_mean: float       # R_obs: the observed mean on the absolute scale
    population_total: float | None
    weight_total: float | None
    multiplier: float | None   # M: cumulative = absolute * M


@dataclass(frozen=True)
class ScaleSpec:
    """How one outcome is put on the common scale (labels and what is defined)."""

    outcome: str
    measure: str
    absolute_label: str
    cumulative_label: str | None
    per_population: bool
    note: str


@dataclass(frozen=True)
class ScaledEffect:
    """A design's effect on one outcome on the common scale (NaN where not defined)."""

    absolute: float
    abs_low: float
    abs_high: float
    percent: float
    pct_low: float
    pct_high: float
    cumulative: float
    cum_low: float
    cum_high: float
    native: str
    conversion: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _period_days(periods: pd.Series) -> np.ndarray:
    return np.array([(p.end_time.normalize() - p.start_time.normalize()).days + 1 for p in periods], dtype=float)


def scale_spec(panel: Any, outcome: str) -> ScaleSpec:
    """Labels and rules for ``outcome`` given its kind and the panel's population/weights."""
    kind = panel.outcome_kinds[outcome]
    per_pop = kind.is_count and panel.population is not None
    if kind.is_count:
        base = kind.unit_label
        absolute = f"{base} per 100,000 population" if per_pop else f"{base} per unit"
        if kind.name == "emergency_admissions":
            cum = "change in admissions over the post period (negative = admissions averted)"
        elif kind.name in _DAY_WEIGHTED:
            cum = "change in patient-days of delay (negative = delay avoided)"
        else:
            cum = f"change in {kind.label.lower()} summed over treated unit-periods"
        note = ("counts with population: per 100,000 population per period" if per_pop else
                "counts without a population column: per unit and period")
    elif kind.measure == "duration":
        absolute = "days (mean per spell)"
        cum = "change in bed-days (negative = bed-days saved)" if panel.weights else None
        note = ("duration: effect in days; bed-days = effect x spells" if panel.weights else
                "duration without a weights (spells) column: no bed-days")
    else:
        absolute = f"{outcome} (outcome units)"
        cum = None
        note = "continuous outcome: no cumulative quantity is defined"
    return ScaleSpec(outcome=outcome, measure=kind.measure, absolute_label=absolute, cumulative_label=cum,
                     per_population=per_pop, note=note)


def treated_post_totals(panel: Any, cohort: pd.Series, outcome: str) -> CellTotals:
    """Observed totals over treated cells (unit-periods at or after the unit's first treated period)."""
    d = panel.data
    c = d[panel.unit].map(cohort)
    treated = c.notna().to_numpy().copy()
    if treated.any():
        t_ord = d[panel.time].map(lambda p: p.ordinal).to_numpy(dtype=float)
        c_ord = c.map(lambda p: np.nan if pd.isna(p) else float(p.ordinal)).to_numpy(dtype=float)
        treated &= t_ord >= np.nan_to_num(c_ord, nan=np.inf)
    cells = d.loc[treated]
    y = cells[outcome].to_numpy(dtype=float)
    kind = panel.outcome_kinds[outcome]
    spec = scale_spec(panel, outcome)
    n = len(cells)
    pop_total = float(cells[panel.population].sum()) if panel.population else None
    w_total = float(cells[panel.weights].sum()) if panel.weights else None
    if n == 0:
        return CellTotals(0, 0, 0, 0.0, math.nan, pop_total, w_total, None)
    if kind.is_count:
        if spec.per_population:
            pop = cells[panel.population].to_numpy(dtype=float)
            mean = float(y.sum() / pop.sum() * PER)
            mult = pop / PER
        else:
            mean = float(y.mean())
            mult = np.ones(n)
        if kind.name in _DAY_WEIGHTED:
            mult = mult * _period_days(cells[panel.time])
        multiplier: float | None = float(mult.sum())
    elif kind.measure == "duration":
        if panel.weights:
            w = cells[panel.weights].to_numpy(dtype=float)
            mean = float(np.sum(y * w) / w.sum()) if w.sum() > 0 else float(y.mean())
            multiplier = float(w.sum())
        else:
            mean = float(y.mean())
            multiplier = None
    else:
        mean = float(y.mean())
        multiplier = None
    return CellTotals(n_cells=n, n_units=int(cells[panel.unit].nunique()),
                      n_periods=int(cells[panel.time].nunique()), observed_total=float(y.sum()),
                      observed_mean=mean, population_total=pop_total, weight_total=w_total,
                      multiplier=multiplier)


def _cum(a: float, totals: CellTotals) -> float:
    return a * totals.multiplier if totals.multiplier is not None else math.nan


def _ordered(lo: float, hi: float) -> tuple[float, float]:
    return (lo, hi) if not (lo > hi) else (hi, lo)


def from_relative(r: float, r_low: float, r_high: float, totals: CellTotals, native: str) -> ScaledEffect:
    """Common scale from a relative effect ``r`` (0.05 = +5%) and its interval."""
    R = totals.observed_mean

    def absolute(x: float) -> float:
        return R * x / (1.0 + x) if x > -1 else math.nan

    a, (alo, ahi) = absolute(r), _ordered(absolute(r_low), absolute(r_high))
    return ScaledEffect(
        absolute=a, abs_low=alo, abs_high=ahi, percent=100 * r, pct_low=100 * r_low, pct_high=100 * r_high,
        cumulative=_cum(a, totals), cum_low=_cum(alo, totals), cum_high=_cum(ahi, totals), native=native,
        conversion="relative effect r: absolute = observed mean x r / (1 + r); cumulative = absolute x M",
    )


def from_absolute(a: float, a_low: float, a_high: float, totals: CellTotals, native: str) -> ScaledEffect:
    """Common scale from an absolute effect on the absolute scale and its interval."""
    R = totals.observed_mean

    def pct(x: float) -> float:
        return 100 * x / (R - x) if R - x > 0 else math.nan

    plo, phi = _ordered(pct(a_low), pct(a_high))
    return ScaledEffect(
        absolute=a, abs_low=a_low, abs_high=a_high, percent=pct(a), pct_low=plo, pct_high=phi,
        cumulative=_cum(a, totals), cum_low=_cum(a_low, totals), cum_high=_cum(a_high, totals), native=native,
        conversion="absolute effect a: percent = 100 a / (observed mean - a); cumulative = absolute x M",
    )


def from_its_cumulative(result: Any, totals: CellTotals, spec: ScaleSpec) -> ScaledEffect:
    """Common scale from an aggregate-series ITS: its delta-method cumulative effect and percent.

    Counts: absolute = C / (population-periods / 100,000) (or C / cells without population);
    durations and continuous outcomes: absolute = C / post periods (the mean period effect).
    """
    cum = result.tables["cumulative"].iloc[0]
    C, lo, hi = float(cum["estimate"]), float(cum["conf_low"]), float(cum["conf_high"])
    if spec.measure == "count":
        denom = (totals.population_total / PER) if spec.per_population else float(totals.n_cells)
        how = "cumulative C / (population-periods / 100,000)" if spec.per_population else "C / treated cells"
    else:
        denom = float(cum["periods"])
        how = "cumulative C / post periods"
    a, alo, ahi = C / denom, lo / denom, hi / denom
    if spec.measure == "count" and totals.multiplier is not None:
        cumulative = (a * totals.multiplier, alo * totals.multiplier, ahi * totals.multiplier)
    else:
        cumulative = (_cum(a, totals), _cum(alo, totals), _cum(ahi, totals))
    return ScaledEffect(
        absolute=a, abs_low=alo, abs_high=ahi,
        percent=float(cum["percent"]), pct_low=float(cum["percent_low"]), pct_high=float(cum["percent_high"]),
        cumulative=cumulative[0], cum_low=cumulative[1], cum_high=cumulative[2],
        native=f"ITS cumulative effect {C:,.4g} over {int(cum['periods'])} periods",
        conversion=f"ITS counterfactual (delta method): absolute = {how}; percent from the counterfactual "
                   "table; cumulative = absolute x M",
    )


def from_result(result: Any, totals: CellTotals, *, log_scale: bool = False, unit: str = "") -> ScaledEffect:
    """An estimator's headline effect on the common scale.

    A rate ratio (pooled per-unit count ITS) is a relative effect ``ratio - 1``; with
    ``log_scale`` (a DiD on log rates) the effect ``b`` is the relative effect ``exp(b) - 1``;
    otherwise it is absolute, in the panel's (or the transformed panel's) units, ``unit``
    naming them in the native description.
    """
    lo, hi = result.ci
    if result.scale == "rate_ratio":
        return from_relative(result.estimate - 1, lo - 1, hi - 1, totals,
                             native=f"rate ratio {result.estimate:.4g} ({lo:.4g} to {hi:.4g})")
    if log_scale:
        return from_relative(math.expm1(result.estimate), math.expm1(lo), math.expm1(hi), totals,
                             native=f"ATT on log rate {result.estimate:.4g} ({lo:.4g} to {hi:.4g})")
    return from_absolute(result.estimate, lo, hi, totals,
                         native=f"{result.term} {result.estimate:.4g} ({lo:.4g} to {hi:.4g}) {unit}".strip())
