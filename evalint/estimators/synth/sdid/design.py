"""From a Panel to the synthetic DiD design: outcome matrix, adoption starts, covariates.

Resolves which units are treated (and from when) and which are never-treated controls,
builds the units x periods outcome matrix with the controls first and the treated units in
adoption order (missing cells are listed, never filled), and optionally residualises the
outcome on time-varying covariates with unit and period fixed effects fitted on the
untreated cells (Kranz 2022; Clarke et al. 2023, "projected" method). The estimator that
uses the design is :mod:`evalint.estimators.synth.sdid.estimator`.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118.
Clarke, D., Pailanir, D., Athey, S. & Imbens, G. (2023). On synthetic
difference-in-differences and related estimation methods in Stata. IZA DP 16437.
Kranz, S. (2022). Synthetic difference-in-differences with time-varying covariates.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint._typing import FloatArray
from evalint.errors import (
    DroppedRowsWarning,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
    format_examples,
)

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel

__all__ = ["PanelDesign", "panel_design", "residualise"]


def residualise(Y: FloatArray, X: FloatArray, untreated: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Remove the covariates' contribution from the outcome.

    Fits ``Y_it = a_i + b_t + X_it' beta + e_it`` by least squares on the untreated cells
    (controls in all periods, treated units before treatment) and returns ``Y - X beta``
    for every cell, with ``beta`` (Kranz 2022; Clarke et al. 2023, method "projected").

    Parameters
    ----------
    Y : ndarray, shape (N, T)
    X : ndarray, shape (N, T, K)
    untreated : ndarray of bool, shape (N, T)
    """
    N, T, K = X.shape
    ii, tt = np.nonzero(untreated)
    design = np.zeros((ii.size, N + T - 1 + K))
    design[np.arange(ii.size), ii] = 1.0
    later = tt > 0
    design[np.flatnonzero(later), N + tt[later] - 1] = 1.0
    design[:, N + T - 1:] = X[ii, tt, :]
    coef, _, rank, _ = np.linalg.lstsq(design, Y[ii, tt], rcond=None)
    if rank < design.shape[1]:
        raise SpecificationError(
            f"covariates: the regression of the outcome on the {K} covariate(s) with unit and period "
            "fixed effects (untreated cells) is rank deficient: a covariate is constant within units "
            "or periods, or collinear with others. Drop it."
        )
    beta = coef[N + T - 1:]
    return Y - X @ beta, beta


@dataclass(frozen=True)
class PanelDesign:
    """The outcome matrix and adoption starts drawn from a Panel for SDID."""

    Y: FloatArray
    units: list
    periods: pd.PeriodIndex
    start: np.ndarray
    cohort: dict
    beta: FloatArray | None = None
    covariates: tuple[str, ...] = ()

    @property
    def treated_units(self) -> list:
        return [u for u, s in zip(self.units, self.start) if s < len(self.periods)]

    @property
    def control_units(self) -> list:
        return [u for u, s in zip(self.units, self.start) if s >= len(self.periods)]


def _assignments(panel: Panel, treated: Any) -> tuple[dict, list]:
    """Unit -> first treated period for the treated units, and the control units."""
    units = list(panel.units)
    known = set(units)
    timing = panel.timing
    last = panel.periods[-1]
    never = None
    if timing is not None:
        # units first treated after the panel ends (e.g. after Panel.subset(end=...)) are
        # untreated throughout the data: they are valid controls
        never = [u for u in units if pd.isna(timing.cohort[u]) or timing.cohort[u] > last]
    if treated is None:
        in_window = [u for u in units if never is not None and u not in set(never)]
        if not in_window:
            raise SpecificationError(
                "synthetic DiD needs treated units: build the panel with treatment= or cohort=, or "
                "pass treated={unit: first treated date}."
            )
        return {u: timing.cohort[u] for u in in_window}, never
    if isinstance(treated, Mapping):
        names = list(treated)
    elif isinstance(treated, str) or not isinstance(treated, Iterable):
        names = [treated]
    else:
        names = list(treated)
    missing = [u for u in names if u not in known]
    if missing:
        raise SpecificationError(
            f"treated unit(s) {format_examples(missing)} are not in the panel's {panel.unit!r} column "
            f"(units include {format_examples(units)}). Check the spelling."
        )
    first = panel.periods[0]
    if isinstance(treated, Mapping):
        cohort = {}
        for u, when in treated.items():
            p = panel.period(when, what=f"treatment date of {u!r}")
            if p > last:
                raise TreatmentError(
                    f"treated unit {u!r}: treatment starts {p}, after the data end ({last}); there is "
                    "no post-treatment period to estimate an effect from. Add later data or drop it."
                )
            if p <= first:
                raise TreatmentError(
                    f"treated unit {u!r}: treatment starts {p}, at or before the first period ({first}); "
                    "there is no pre-treatment period to fit weights on."
                )
            cohort[u] = p
    else:
        if timing is None:
            raise SpecificationError(
                "treated= names units but the panel has no treatment timing; pass a mapping "
                "{unit: first treated date} instead."
            )
        untreated = [u for u in names if u in set(never)]
        if untreated:
            raise TreatmentError(
                f"unit(s) {format_examples(untreated)} are named as treated but are not treated within the "
                f"panel ({panel.periods[0]}..{last}); pass treated={{unit: date}} to set their dates."
            )
        cohort = {u: timing.cohort[u] for u in names}
    controls = [u for u in (never if never is not None else units) if u not in cohort]
    others = [u for u in units if u not in cohort and u not in controls]
    if others:
        warnings.warn(
            f"Excluded {len(others)} treated unit(s) not named in treated= from the analysis "
            f"({format_examples(others)}): they are neither the treated units asked about nor "
            "valid (never-treated) controls.", DroppedRowsWarning, stacklevel=3,
        )
    return cohort, controls


def panel_design(panel: Panel, treated: Any = None, covariates: Sequence[str] = ()) -> PanelDesign:
    """Outcome matrix (controls then treated), adoption starts and optional covariate residualising.

    Raises
    ------
    evalint.errors.EvalintError
        No treated units, unknown units, dates outside the data, fewer than 2 controls, fewer
        than 2 pre-treatment periods, missing outcome cells (listed by unit and period).
    """
    cohort, controls = _assignments(panel, treated)
    if len(controls) < 2:
        raise SpecificationError(
            f"synthetic DiD needs at least 2 never-treated control units; found {len(controls)} "
            f"({format_examples(controls)}). Add comparison units; when every unit is eventually "
            "treated, end the panel before the last cohort starts (Panel.subset(end=...)) so that "
            "cohort serves as the controls."
        )
    treated_units = sorted(cohort, key=lambda u: (cohort[u].ordinal, str(u)))
    units = list(controls) + treated_units
    periods = panel.periods
    mat = panel.to_matrix(panel.outcome).loc[units]
    holes = mat.isna()
    if holes.to_numpy().any():
        per_unit = [(u, [str(p) for p in periods[holes.loc[u].to_numpy()]]) for u in units if holes.loc[u].any()]
        listing = "; ".join(f"{u!r}: {', '.join(ps[:8])}{' ...' if len(ps) > 8 else ''}" for u, ps in per_unit[:10])
        raise UnbalancedPanelError(
            f"synthetic DiD needs the outcome {panel.outcome!r} in every period for every unit used; "
            f"{int(holes.to_numpy().sum())} cell(s) are missing in {len(per_unit)} unit(s): {listing}. "
            "evalint never fills them with 0. Fill them from the source, or drop those units "
            "(Panel.subset) or periods."
        )
    start = np.array([len(periods)] * len(controls) + [periods.get_loc(cohort[u]) for u in treated_units])
    if start.min() < 2:
        early = [u for u, s in zip(units, start) if s < 2]
        raise SpecificationError(
            f"treated unit(s) {format_examples(early)} have fewer than 2 pre-treatment periods; the "
            "weights need at least 2 (and the noise level is estimated from pre-period changes)."
        )
    Y = mat.to_numpy(dtype=float)
    beta = None
    covs = tuple(covariates)
    if covs:
        unknown = [c for c in covs if c not in panel.data.columns]
        if unknown:
            raise SpecificationError(
                f"covariate(s) {format_examples(unknown)} are not columns of the panel; give them to "
                "Panel.from_frame(covariates=...)."
            )
        X = np.stack([panel.to_matrix(c).loc[units].to_numpy(dtype=float) for c in covs], axis=2)
        if np.isnan(X).any():
            raise UnbalancedPanelError("covariates have missing cells for units used; fill or drop them.")
        untreated = np.arange(len(periods))[None, :] < start[:, None]
        Y, beta = residualise(Y, X, untreated)
    return PanelDesign(Y, units, periods, start, cohort, beta, covs)
