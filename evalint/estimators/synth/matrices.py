"""Turn a :class:`~evalint.data.panel.Panel` into the treated / donor matrices of synthetic control.

:func:`synth_design` resolves *which* units are treated (and from when) and which are
donors, and checks everything the synthetic-control family needs before any weight is
computed: the treated units exist, their treatment starts inside the data with enough
pre-periods, at least two donors remain, and no outcome cell is missing (missing cells
are listed by unit and period; evalint never fills or drops them silently).

References
----------
Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
methodological aspects. *Journal of Economic Literature* 59(2), 391-425.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import (
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
    format_examples,
)

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel

__all__ = ["Predictor", "SynthDesign", "missing_outcome_cells", "predictor_matrix", "synth_design"]


@dataclass(frozen=True)
class SynthDesign:
    """Treated units, donors and the outcome matrix of a synthetic-control fit.

    Attributes
    ----------
    outcome : str
    treated : tuple
        Treated unit ids, in panel order.
    donors : tuple
        Donor unit ids, in panel order.
    start : dict
        Treated unit -> first treated period (``pd.Period``).
    periods : pandas.PeriodIndex
        All periods of the panel.
    Y : pandas.DataFrame
        (treated + donors) x periods outcome matrix, complete (no NaN).
    """

    outcome: str
    treated: tuple[Any, ...]
    donors: tuple[Any, ...]
    start: dict[Any, pd.Period]
    periods: pd.PeriodIndex
    Y: pd.DataFrame

    def n_pre(self, unit: Any) -> int:
        """Number of periods before ``unit``'s treatment starts."""
        return int(np.sum(self.periods < self.start[unit]))

    def pre_mask(self, unit: Any) -> np.ndarray:
        """Boolean mask over :attr:`periods`: True before ``unit``'s treatment."""
        return np.asarray(self.periods < self.start[unit])

    def treated_vector(self, unit: Any) -> np.ndarray:
        """The treated unit's outcome over all periods."""
        return self.Y.loc[unit].to_numpy(dtype=float)

    def donor_matrix(self) -> np.ndarray:
        """Periods x donors outcome matrix."""
        return self.Y.loc[list(self.donors)].to_numpy(dtype=float).T


def missing_outcome_cells(matrix: pd.DataFrame) -> pd.DataFrame:
    """The (unit, period) cells of a units x periods matrix that are NaN."""
    stacked = matrix.isna()
    rows = [(u, p) for u, row in stacked.iterrows() for p, m in row.items() if m]
    return pd.DataFrame(rows, columns=["unit", "period"])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, pd.Index, np.ndarray, set)):
        return [value]
    return list(value)


def synth_design(
    panel: Panel,
    *,
    treated: Any = None,
    intervention: Any = None,
    donors: Sequence[Any] | None = None,
    outcome: str | None = None,
    min_pre_periods: int = 2,
    min_donors: int = 2,
) -> SynthDesign:
    """Resolve treated units, treatment starts and donors; return the complete outcome matrix.

    Parameters
    ----------
    panel : Panel
    treated : unit id or sequence of ids, optional
        Treated unit(s). Default: every unit the panel's treatment marks as treated.
    intervention : date-like or mapping unit -> date-like, optional
        First treated period. Default: each treated unit's cohort in the panel. Needed
        when the panel has no treatment column.
    donors : sequence of ids, optional
        Donor pool. Default: the never-treated units (or, without a treatment column, all
        units other than the treated ones).
    outcome : str, optional
        Outcome column (default: the panel's primary outcome).
    min_pre_periods, min_donors : int
        Minimum pre-treatment periods per treated unit and minimum donors.

    Returns
    -------
    SynthDesign

    Raises
    ------
    SpecificationError
        Treated or donor unit not in the panel; a unit both treated and donor; no treated
        unit; fewer than ``min_donors`` donors; too few pre-periods.
    TreatmentError
        A treatment date after the data ends (or at/before its start), or a donor that is
        itself treated within the data.
    UnbalancedPanelError
        Missing outcome cells among the treated and donor units (all listed).
    """
    outcome = outcome or panel.outcome
    if outcome not in panel.outcomes and outcome not in panel.covariates:
        raise SpecificationError(
            f"outcome {outcome!r} is not an outcome of this panel ({', '.join(panel.outcomes)})."
        )
    units = list(panel.units)
    unit_set = set(units)
    periods = panel.periods
    timing = panel.timing

    treated_list = _as_list(treated)
    if not treated_list:
        if timing is None or len(timing.treated_units) == 0:
            raise SpecificationError(
                "No treated unit: the panel has no treated units and treated= was not given. "
                "Pass treated=<unit id> (and intervention=<first treated date>), or build the "
                "panel with treatment= or cohort=."
            )
        treated_list = list(timing.treated_units)
    missing_t = [u for u in treated_list if u not in unit_set]
    if missing_t:
        raise SpecificationError(
            f"treated unit(s) {format_examples(missing_t)} are not in the panel's {panel.unit!r} column "
            f"(units include {format_examples(units, limit=8)}). Check the spelling/type of the id."
        )
    treated_list = [u for u in units if u in set(treated_list)]

    start: dict[Any, pd.Period] = {}
    for u in treated_list:
        if isinstance(intervention, Mapping):
            if u not in intervention:
                raise SpecificationError(f"intervention mapping has no date for treated unit {u!r}.")
            raw = intervention[u]
        else:
            raw = intervention
        if raw is None:
            if timing is None or u not in timing.cohort.index or pd.isna(timing.cohort.loc[u]):
                raise SpecificationError(
                    f"No treatment date for treated unit {u!r}: the panel does not mark it treated. "
                    "Pass intervention=<first treated date> (or a mapping unit -> date)."
                )
            p = timing.cohort.loc[u]
        else:
            p = panel.period(raw, "intervention")
        if p > periods[-1]:
            raise TreatmentError(
                f"treatment of unit {u!r} starts at {p}, after the data end ({periods[-1]}): there is "
                "no post-treatment period, so there is no effect to estimate (and it is not 0). "
                "Add post-treatment data or correct the date."
            )
        if p <= periods[0]:
            raise TreatmentError(
                f"treatment of unit {u!r} starts at {p}, at or before the data start ({periods[0]}): "
                "there is no pre-treatment period to build a synthetic control from. Add earlier data."
            )
        start[u] = p

    if donors is None:
        if timing is not None:
            never = set(timing.never_treated)
            pool = [u for u in units if u in never and u not in start]
        else:
            pool = [u for u in units if u not in start]
    else:
        pool_in = _as_list(donors)
        missing_d = [u for u in pool_in if u not in unit_set]
        if missing_d:
            raise SpecificationError(f"donor unit(s) {format_examples(missing_d)} are not in the panel.")
        both = [u for u in pool_in if u in start]
        if both:
            raise SpecificationError(
                f"unit(s) {format_examples(both)} are both treated and donors; remove them from donors=."
            )
        if timing is not None:
            treated_donors = [u for u in pool_in if u in set(timing.treated_units)]
            if treated_donors:
                raise TreatmentError(
                    f"donor unit(s) {format_examples(treated_donors)} are themselves treated within the "
                    "data; a donor must stay untreated. Remove them from donors=."
                )
        pool = [u for u in units if u in set(pool_in)]
    if len(pool) < min_donors:
        raise SpecificationError(
            f"synthetic control needs at least {min_donors} donor units; {len(pool)} available "
            f"({format_examples(pool)}). Add untreated comparison units."
        )
    for u, p in start.items():
        n_pre = int(np.sum(periods < p))
        if n_pre < min_pre_periods:
            raise SpecificationError(
                f"treated unit {u!r} has {n_pre} pre-treatment period(s) before {p}; at least "
                f"{min_pre_periods} are needed to fit donor weights. Add earlier data."
            )

    mat = panel.to_matrix(outcome).loc[treated_list + pool]
    if mat.isna().to_numpy().any():
        cells = missing_outcome_cells(mat)
        listing = "; ".join(f"{u!r} at {p}" for u, p in cells.head(20).itertuples(index=False))
        more = f" (and {len(cells) - 20} more)" if len(cells) > 20 else ""
        by_unit = cells.groupby("unit", sort=False).size()
        raise UnbalancedPanelError(
            f"outcome {outcome!r} has {len(cells)} missing cell(s) among the treated and donor units: "
            f"{listing}{more}. Missing per unit: "
            f"{', '.join(f'{u!r}: {n}' for u, n in by_unit.items())}. Synthetic control needs every "
            "cell; evalint never fills or drops them silently. Fill them from the source, drop those "
            "donors with donors=[...], or restrict the periods with Panel.subset."
        )
    return SynthDesign(outcome=outcome, treated=tuple(treated_list), donors=tuple(pool), start=start,
                       periods=periods, Y=mat.astype(float))


@dataclass(frozen=True)
class Predictor:
    """One SCM predictor: a variable aggregated over a window of periods.

    Parameters
    ----------
    variable : str
        Outcome or covariate column (of the panel or of ``predictor_data``).
    start, end : date-like, optional
        First and last period of the window (inclusive); default: the whole pre-period.
        ``Predictor("cigsale", 1975, 1975)`` is the 1975 value.
    agg : {"mean"}
        Aggregation over the window; missing values inside the window are skipped
        (as ``mean(..., na.rm = TRUE)`` in Synth/tidysynth), but a unit with no value in
        the window is an error.
    name : str, optional
        Label in the balance table (default ``variable[start:end]``).
    """

    variable: str
    start: Any = None
    end: Any = None
    agg: str = "mean"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.agg != "mean":
            raise SpecificationError(f"Predictor agg={self.agg!r} is not supported; use 'mean'.")

    def label(self) -> str:
        if self.name:
            return self.name
        if self.start is None and self.end is None:
            return f"{self.variable}[pre]"
        if self.start == self.end:
            return f"{self.variable}[{self.start}]"
        return f"{self.variable}[{self.start}:{self.end}]"


def predictor_matrix(
    panel: Panel,
    predictors: Sequence[Predictor],
    units: Sequence[Any],
    pre_end: pd.Period,
    predictor_data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predictors x units matrix of window means.

    Variables are looked up in ``predictor_data`` (a long frame with the panel's unit
    and time columns, which may hold missing values) first, then in the panel.
    ``pre_end`` is the last pre-treatment period: a window reaching past it is an error
    (post-treatment predictors would let the effect leak into the weights).

    Raises
    ------
    SpecificationError
        Unknown variable, window outside the pre-period.
    MissingValuesError
        A unit with no value of a predictor inside its window (units listed).
    """
    from evalint.errors import MissingValuesError

    long_panel = panel.data
    extra = None
    if predictor_data is not None:
        if not isinstance(predictor_data, pd.DataFrame):
            raise SpecificationError("predictor_data must be a pandas DataFrame in long (unit, time) layout.")
        for col in (panel.unit, panel.time):
            if col not in predictor_data.columns:
                raise SpecificationError(
                    f"predictor_data needs the panel's {col!r} column to line up with the panel."
                )
        extra = predictor_data.copy()
        extra[panel.time] = [panel.period(v, "predictor_data time") for v in extra[panel.time]]
    periods = panel.periods
    rows = {}
    for pred in predictors:
        if extra is not None and pred.variable in extra.columns:
            src = extra
        elif pred.variable in long_panel.columns:
            src = long_panel
        else:
            avail = sorted(set(long_panel.columns) | (set(extra.columns) if extra is not None else set()))
            raise SpecificationError(
                f"predictor variable {pred.variable!r} is not in the panel or predictor_data "
                f"(columns: {format_examples(avail, limit=20)})."
            )
        lo = periods[0] if pred.start is None else panel.period(pred.start, "predictor start")
        hi = pre_end if pred.end is None else panel.period(pred.end, "predictor end")
        if hi > pre_end or lo > hi:
            raise SpecificationError(
                f"predictor {pred.label()!r}: window {lo}..{hi} must lie inside the pre-treatment "
                f"period (ending {pre_end}); post-treatment predictors would let the effect leak into "
                "the weights. Move the window earlier."
            )
        sel = src.loc[(src[panel.time] >= lo) & (src[panel.time] <= hi), [panel.unit, pred.variable]]
        vals = pd.to_numeric(sel[pred.variable], errors="coerce").groupby(sel[panel.unit]).mean()
        vals = vals.reindex(list(units))
        if vals.isna().any():
            bad = list(vals.index[vals.isna()])
            raise MissingValuesError(
                f"predictor {pred.label()!r} has no value in {lo}..{hi} for {len(bad)} unit(s): "
                f"{format_examples(bad)}. Choose a window where {pred.variable!r} is observed, or drop "
                "those units."
            )
        rows[pred.label()] = vals.to_numpy(dtype=float)
    return pd.DataFrame(rows, index=pd.Index(list(units))).T
