"""Synthetic difference-in-differences, with SC and DiD as settings of one weighted core.

For a block of ``N0`` control rows followed by ``N1`` treated rows of an outcome matrix
``Y`` (units x periods; the first ``T0`` periods are before treatment), every estimator
here is the weighted double difference (Arkhangelsky et al. 2021, eq. 1 and Algorithm 1)::

    tau = (-omega, 1/N1)' Y (-lambda, 1/T1)

and the three methods differ only in how the unit weights ``omega`` and time weights
``lambda`` are chosen (the settings mirror the synthdid R package):

=========  ==========================================  ==============================
method     unit weights omega                          time weights lambda
=========  ==========================================  ==============================
``sdid``   simplex, intercept, ridge                   simplex, intercept, ridge
           ``zeta_omega = (N1 T1)^(1/4) sigma``        ``zeta_lambda = 1e-6 sigma``
``sc``     simplex, no intercept,                      all zero (no time weighting)
           ``zeta_omega = 1e-6 sigma``
``did``    uniform ``1/N0``                            uniform ``1/T0``
=========  ==========================================  ==============================

``sigma`` (the noise level) is the standard deviation of the first differences of the
control units' pre-period outcomes. The weights are found by Frank-Wolfe with the package's
stopping rule and sparsify step (:mod:`evalint.estimators.synth.frank_wolfe`).

Several treated units: a block (all treated start together) is one problem; staggered
adoption is solved cohort by cohort (each cohort against the never-treated units, over
all periods) and the cohort estimates are averaged with weights proportional to their
number of treated cells ``N_g * T_post,g`` (Arkhangelsky et al. 2021, Appendix; Clarke,
Pailanir, Athey & Imbens 2023). Covariates enter by residualising the outcome on them with
unit and period fixed effects fitted on the untreated cells (Kranz 2022; Clarke et al. 2023,
"projected" method).

The variance algorithms (placebo, bootstrap, jackknife) are in
:mod:`evalint.estimators.synth.sdid_variance`.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from evalint._typing import FloatArray, check_alpha, check_option, check_positive_int
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import (
    DroppedRowsWarning,
    InferenceError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
    format_examples,
)
from evalint.estimators.base import calendar_check, register_estimator
from evalint.estimators.synth.frank_wolfe import simplex_weights_batch
from evalint.results.effect import tidy

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = [
    "METHODS",
    "CohortFit",
    "DesignFit",
    "PanelDesign",
    "Regularisation",
    "SdidSettings",
    "SyntheticDiD",
    "block_regularisation",
    "block_tau",
    "block_weights",
    "fit_design",
    "padded_replicate_estimates",
    "panel_design",
    "replicate_estimates",
    "residualise",
    "synthetic_did",
]

METHODS = ("sdid", "sc", "did")


@dataclass(frozen=True)
class SdidSettings:
    """How the weights are chosen (see the module table).

    Parameters
    ----------
    method : {"sdid", "sc", "did"}
    eta_omega : float, optional
        ``zeta_omega = eta_omega * sigma``; default ``(N1 T1)^(1/4)`` for SDID, ``1e-6`` for SC.
    eta_lambda : float
        ``zeta_lambda = eta_lambda * sigma`` (SDID only); default ``1e-6``.
    sparsify : bool
        Run the sparsify step between two Frank-Wolfe rounds (the synthdid default).
    max_iter : int
        Iteration cap of the second Frank-Wolfe round (first round: 100).
    min_decrease_factor : float
        Stop when an iteration lowers the objective by less than
        ``(min_decrease_factor * sigma)^2``.
    """

    method: str = "sdid"
    eta_omega: float | None = None
    eta_lambda: float = 1e-6
    sparsify: bool = True
    max_iter: int = 10_000
    min_decrease_factor: float = 1e-5

    def __post_init__(self) -> None:
        check_option("method", self.method, METHODS)

    @property
    def omega_intercept(self) -> bool:
        return self.method == "sdid"


@dataclass(frozen=True)
class Regularisation:
    """Noise level and the penalties derived from it for one block (fixed across replications)."""

    noise: float
    zeta_omega: float
    zeta_lambda: float
    min_decrease: float


def _noise_level(Y: FloatArray, N0: int, T0: int) -> float:
    diffs = np.diff(Y[:N0, :T0], axis=1)
    if diffs.size < 2:
        return float("nan")
    return float(np.std(diffs, ddof=1))


def block_regularisation(Y: FloatArray, N0: int, T0: int, settings: SdidSettings) -> Regularisation:
    """``sigma`` = sd of first differences of ``Y[:N0, :T0]``; ``zeta``s and the stopping threshold."""
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    sigma = _noise_level(Y, N0, T0)
    if settings.eta_omega is not None:
        eta_omega = settings.eta_omega
    else:
        eta_omega = 1e-6 if settings.method == "sc" else (N1 * T1) ** 0.25
    return Regularisation(noise=sigma, zeta_omega=eta_omega * sigma,
                          zeta_lambda=settings.eta_lambda * sigma,
                          min_decrease=settings.min_decrease_factor * sigma)


def _collapsed(Ys: FloatArray, N0: int, T0: int) -> FloatArray:
    """(B, N0+1, T0+1): controls x pre periods, with treated rows and post periods averaged."""
    top = np.concatenate([Ys[:, :N0, :T0], Ys[:, :N0, T0:].mean(axis=2, keepdims=True)], axis=2)
    bottom = np.concatenate([Ys[:, N0:, :T0].mean(axis=1, keepdims=True),
                             Ys[:, N0:, T0:].mean(axis=(1, 2))[:, None, None]], axis=2)
    return np.concatenate([top, bottom], axis=1)


def block_weights(
    Ys: FloatArray, N0: int, T0: int, settings: SdidSettings, reg: Regularisation,
    omega0: FloatArray | None = None, lambda0: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Unit weights (B, N0) and time weights (B, T0) for B stacked blocks ``Ys`` (B, N, T).

    ``omega0``/``lambda0`` are Frank-Wolfe starting points (uniform when omitted), as the
    synthdid package starts its variance replications from the full-sample weights.
    """
    B = Ys.shape[0]
    if settings.method == "did":
        return np.full((B, N0), 1.0 / N0), np.full((B, T0), 1.0 / T0)
    Yc = _collapsed(Ys, N0, T0)
    omega = simplex_weights_batch(
        np.transpose(Yc[:, :, :T0], (0, 2, 1)), omega0, reg.zeta_omega,
        intercept=settings.omega_intercept, min_decrease=reg.min_decrease,
        max_iter=settings.max_iter, use_sparsify=settings.sparsify)
    if settings.method == "sc":
        return omega, np.zeros((B, T0))
    lam = simplex_weights_batch(
        Yc[:, :N0, :], lambda0, reg.zeta_lambda, intercept=True, min_decrease=reg.min_decrease,
        max_iter=settings.max_iter, use_sparsify=settings.sparsify)
    return omega, lam


def block_tau(Ys: FloatArray, N0: int, T0: int, omega: FloatArray, lam: FloatArray) -> FloatArray:
    """``(-omega, 1/N1)' Y (-lambda, 1/T1)`` for each of the B blocks."""
    B, N, T = Ys.shape
    unit_w = np.concatenate([-omega, np.full((B, N - N0), 1.0 / (N - N0))], axis=1)
    time_w = np.concatenate([-lam, np.full((B, T - T0), 1.0 / (T - T0))], axis=1)
    return np.einsum("bn,bnt,bt->b", unit_w, Ys, time_w)


@dataclass(frozen=True)
class CohortFit:
    """One adoption cohort's block: rows of ``Y`` used, weights and estimate."""

    start: int
    control_rows: np.ndarray
    treated_rows: np.ndarray
    omega: FloatArray
    lam: FloatArray
    tau: float
    reg: Regularisation


@dataclass(frozen=True)
class DesignFit:
    """Fit of a (possibly staggered) design: per-cohort blocks and their cell-weighted average."""

    tau: float
    cohorts: tuple[CohortFit, ...]
    cell_weights: FloatArray
    n_periods: int = field(default=0)


def _cohorts(start: np.ndarray, T: int) -> list[tuple[int, np.ndarray]]:
    starts = sorted({int(s) for s in start if s < T})
    return [(s, np.flatnonzero(start == s)) for s in starts]


def fit_design(Y: FloatArray, start: np.ndarray, settings: SdidSettings) -> DesignFit:
    """Fit every cohort of the design ``(Y, start)``; ``start[i] = T`` marks a control.

    Parameters
    ----------
    Y : ndarray, shape (N, T)
    start : ndarray of int, shape (N,)
        Index of each unit's first treated period (``T`` if never treated).
    settings : SdidSettings
    """
    T = Y.shape[1]
    controls = np.flatnonzero(start >= T)
    fits = []
    for s, treated in _cohorts(start, T):
        rows = np.concatenate([controls, treated])
        Yg = Y[rows][None]
        reg = block_regularisation(Yg[0], controls.size, s, settings)
        omega, lam = block_weights(Yg, controls.size, s, settings, reg)
        tau = float(block_tau(Yg, controls.size, s, omega, lam)[0])
        fits.append(CohortFit(s, controls, treated, omega[0], lam[0], tau, reg))
    cells = np.array([f.treated_rows.size * (T - f.start) for f in fits], dtype=float)
    w = cells / cells.sum()
    tau = float(np.dot(w, [f.tau for f in fits]))
    return DesignFit(tau=tau, cohorts=tuple(fits), cell_weights=w, n_periods=T)


def _sum_normalise(x: FloatArray) -> FloatArray:
    s = x.sum(axis=1, keepdims=True)
    out = np.where(s != 0, x / np.where(s != 0, s, 1.0), 1.0 / x.shape[1])
    return out


def replicate_estimates(
    Y: FloatArray,
    fit: DesignFit,
    control_rows: np.ndarray,
    cohort_rows: list[tuple[int, np.ndarray]],
    settings: SdidSettings,
    *,
    init_from: np.ndarray | None = None,
) -> FloatArray:
    """Re-estimate the design for B replicate samples of the same shape in one batch.

    Parameters
    ----------
    Y : ndarray, shape (N, T)
        The full outcome matrix.
    fit : DesignFit
        The full-sample fit; its per-cohort penalties are reused (as synthdid does) and its
        weights start the Frank-Wolfe iterations.
    control_rows : ndarray of int, shape (B, Nc)
        Rows of ``Y`` acting as controls in each replicate.
    cohort_rows : list of (start, ndarray of int, shape (B, Ng))
        For each cohort of the replicate design, its start and the rows acting as treated.
    settings : SdidSettings
    init_from : ndarray of int, shape (B, Nc), optional
        For each replicate control, the original row whose full-sample weight starts the
        iterations. When omitted, ``control_rows`` is used, after putting each replicate's
        rows in order and solving identical replicates only once.

    Returns
    -------
    ndarray, shape (B,)
    """
    T = Y.shape[1]
    if init_from is None:
        # The estimate depends only on *which* units play each role: put every replicate's
        # controls and each cohort's treated units in row order, and solve each distinct
        # replicate once (with one treated unit, 200 placebo draws hold at most N0 distinct
        # problems).
        control_rows = np.sort(control_rows, axis=1)
        cohort_rows = [(s, np.sort(rows, axis=1)) for s, rows in cohort_rows]
        key = np.hstack([control_rows] + [rows for _, rows in cohort_rows])
        uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        if uniq.shape[0] < key.shape[0]:
            sub = replicate_estimates(Y, fit, control_rows[first],
                                      [(s, rows[first]) for s, rows in cohort_rows], settings,
                                      init_from=control_rows[first])
            return sub[inverse.ravel()]
        init_from = control_rows
    by_start = {f.start: f for f in fit.cohorts}
    taus, cells = [], []
    for s, treated in cohort_rows:
        ref = by_start.get(s, fit.cohorts[0])
        rows = np.concatenate([control_rows, treated], axis=1)
        Ys = Y[rows]
        full_omega = np.zeros(Y.shape[0])
        full_omega[ref.control_rows] = ref.omega
        omega0 = _sum_normalise(full_omega[init_from])
        lambda0 = np.broadcast_to(ref.lam, (rows.shape[0], s)).copy() if ref.lam.size == s else None
        omega, lam = block_weights(Ys, control_rows.shape[1], s, settings, ref.reg, omega0, lambda0)
        taus.append(block_tau(Ys, control_rows.shape[1], s, omega, lam))
        cells.append(treated.shape[1] * (T - s))
    w = np.asarray(cells, dtype=float)
    return np.einsum("g,gb->b", w / w.sum(), np.vstack(taus))


def padded_replicate_estimates(
    Y: FloatArray,
    fit: DesignFit,
    control_rows: np.ndarray,
    cohort_rows: list[tuple[int, np.ndarray]],
    settings: SdidSettings,
) -> FloatArray:
    """Like :func:`replicate_estimates` for replicates whose numbers of controls and treated
    units differ (the bootstrap): index arrays are padded with ``-1``, and all replicates of a
    cohort are solved as one batch of masked weight problems.

    A replicate without treated units of a cohort gets no estimate for it (weight 0).
    """
    T = Y.shape[1]
    B = control_rows.shape[0]
    cmask = control_rows >= 0
    Yc = Y[np.where(cmask, control_rows, 0)] * cmask[:, :, None]           # (B, Nc, T), pads 0
    by_start = {f.start: f for f in fit.cohorts}
    num = np.zeros(B)
    den = np.zeros(B)
    for s, treated in cohort_rows:
        tmask = treated >= 0
        n_t = tmask.sum(axis=1)
        have = n_t > 0
        if not have.any():
            continue
        ref = by_start[s]
        cm, yc = cmask[have], Yc[have]
        tr = (Y[np.where(tmask, treated, 0)] * tmask[:, :, None])[have].sum(axis=1) / n_t[have, None]
        pre, post_c = yc[:, :, :s], yc[:, :, s:].mean(axis=2)                  # (b, Nc, s), (b, Nc)
        tr_pre, tr_post = tr[:, :s], tr[:, s:].mean(axis=1)
        k = int(have.sum())
        if settings.method == "did":
            omega = cm / cm.sum(axis=1, keepdims=True)
            lam = np.full((k, s), 1.0 / s)
        else:
            full_omega = np.zeros(Y.shape[0])
            full_omega[ref.control_rows] = ref.omega
            raw = full_omega[np.where(cm, control_rows[have], 0)] * cm
            tot = raw.sum(axis=1, keepdims=True)
            omega0 = np.where(tot > 0, raw / np.where(tot > 0, tot, 1.0), cm / cm.sum(axis=1, keepdims=True))
            Yo = np.concatenate([np.transpose(pre, (0, 2, 1)), tr_pre[:, :, None]], axis=2)
            omega = simplex_weights_batch(
                Yo, omega0, ref.reg.zeta_omega, intercept=settings.omega_intercept,
                min_decrease=ref.reg.min_decrease, max_iter=settings.max_iter,
                use_sparsify=settings.sparsify, col_mask=cm)
            if settings.method == "sc":
                lam = np.zeros((k, s))
            else:
                Yl = np.concatenate([pre, post_c[:, :, None]], axis=2)
                lam = simplex_weights_batch(
                    Yl, np.broadcast_to(ref.lam, (k, s)).copy(), ref.reg.zeta_lambda, intercept=True,
                    min_decrease=ref.reg.min_decrease, max_iter=settings.max_iter,
                    use_sparsify=settings.sparsify, row_mask=cm)
        tau = (tr_post - np.einsum("bn,bn->b", omega, post_c) - np.einsum("bt,bt->b", lam, tr_pre)
               + np.einsum("bn,bnt,bt->b", omega, pre, lam))
        cells = n_t[have] * (T - s)
        num[have] += cells * tau
        den[have] += cells
    return num / den


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


# ---------------------------------------------------------------------------------------
# From a Panel to the numeric design, and the estimator
# ---------------------------------------------------------------------------------------

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


_METHOD_NAMES = {"sdid": "Synthetic DiD", "sc": "Synthetic control (SDID core, no intercept)",
                 "did": "Difference-in-differences (SDID core, uniform weights)"}
_REFERENCES = (
    ("Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021). Synthetic "
     "Difference-in-Differences. American Economic Review 111(12), 4088-4118."),
    ("Clarke, D., Pailanir, D., Athey, S. & Imbens, G. (2023). On synthetic difference-in-differences "
     "and related estimation methods in Stata. IZA Discussion Paper 16437."),
)


def _tables_and_series(design: PanelDesign, fit: DesignFit) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    Y, units, periods = design.Y, design.units, design.periods
    staggered = len(fit.cohorts) > 1
    uw, tw, series, effects = [], [], [], []
    for c in fit.cohorts:
        label = str(periods[c.start])
        extra = {"cohort": label} if staggered else {}
        uw.append(pd.DataFrame({"unit": [units[i] for i in c.control_rows], "weight": c.omega, **extra}))
        tw.append(pd.DataFrame({"time": periods[:c.start], "weight": c.lam, **extra}))
        treated_path = Y[c.treated_rows].mean(axis=0)
        synth_path = c.omega @ Y[c.control_rows]
        gap = treated_path - synth_path
        offset = float(c.lam @ gap[:c.start])
        series.append(pd.DataFrame({"time": periods, "treated": treated_path,
                                    "synthetic": synth_path + offset, "gap": gap - offset,
                                    "post": np.arange(len(periods)) >= c.start,
                                    **({"unit": f"cohort {label}", **extra} if staggered else {})}))
        post = np.arange(c.start, len(periods))
        effects.append(pd.DataFrame({
            "term": "ATT(t)", "estimate": gap[post] - offset, "time": [str(p) for p in periods[post]],
            "rel_time": post - c.start, "group": label}))
    tables = {"unit_weights": pd.concat(uw, ignore_index=True), "time_weights": pd.concat(tw, ignore_index=True)}
    donors = tables["unit_weights"].rename(columns={"cohort": "treated_unit"})
    if staggered:
        donors["treated_unit"] = "cohort " + donors["treated_unit"]
    tables["donor_weights"] = donors
    if staggered:
        tables["cohort_estimates"] = pd.DataFrame({
            "cohort": [str(periods[c.start]) for c in fit.cohorts],
            "n_treated": [c.treated_rows.size for c in fit.cohorts],
            "post_periods": [len(periods) - c.start for c in fit.cohorts],
            "weight": fit.cell_weights, "estimate": [c.tau for c in fit.cohorts]})
    eff = pd.concat(effects, ignore_index=True)
    if staggered:
        eff = pd.concat([pd.DataFrame({"term": "ATT(g)", "estimate": [c.tau for c in fit.cohorts],
                                       "group": [str(periods[c.start]) for c in fit.cohorts]}), eff],
                        ignore_index=True)
    else:
        eff = eff.drop(columns="group")
    return tables, pd.concat(series, ignore_index=True), eff


def _prefit_check(design: PanelDesign, fit: DesignFit) -> CheckResult:
    rows = []
    for c in fit.cohorts:
        gap = design.Y[c.treated_rows].mean(axis=0) - c.omega @ design.Y[c.control_rows]
        pre = gap[:c.start] - (c.lam @ gap[:c.start] if c.lam.sum() > 0 else 0.0)
        rows.append({"cohort": str(design.periods[c.start]), "pre_rmspe": float(np.sqrt(np.mean(pre ** 2))),
                     "noise_level": c.reg.noise})
    table = pd.DataFrame(rows)
    worst = float(table["pre_rmspe"].max())
    return CheckResult(
        "pre_fit_rmspe", None,
        f"pre-treatment root mean squared gap between treated and (intercept-shifted) synthetic "
        f"path: {worst:.4g} (noise level, sd of control changes: {table['noise_level'].iloc[0]:.4g}); "
        "informational, no threshold applied.", table=table, statistic=worst)


def _inference_choice(spec: Any, variance: str, reps: int, seed: int | None) -> tuple[str, int, int | None]:
    from evalint.inference.specs import Bootstrap, Jackknife, Placebo, require_supported

    if spec is None:
        return variance, reps, seed
    require_supported("SyntheticDiD", spec, (Placebo, Bootstrap, Jackknife))
    if isinstance(spec, Placebo):
        return "placebo", reps if spec.reps is None else spec.reps, spec.seed
    if isinstance(spec, Bootstrap):
        return "bootstrap", spec.reps, spec.seed
    return "jackknife", reps, None


@register_estimator
@dataclass(frozen=True)
class SyntheticDiD:
    """Synthetic difference-in-differences (and SC / DiD as settings of the same core).

    Parameters
    ----------
    method : {"sdid", "sc", "did"}
        Which weights (module docstring table). ``"sc"`` is synthdid's ``sc_estimate``
        (``eta_omega = 1e-6``, no intercept, no time weights); ``"did"`` uses uniform weights.
    variance : {"placebo", "bootstrap", "jackknife"}
        Arkhangelsky et al. (2021) Algorithms 4, 2 and 3. Placebo needs more controls than
        treated units; bootstrap and jackknife need more than one treated unit.
    reps : int
        Placebo/bootstrap replications.
    seed : int or None
        Seed of the one random generator used (numpy ``default_rng``).
    covariates : tuple of str
        Time-varying covariates to residualise the outcome on (unit and period fixed effects,
        fitted on untreated cells) before estimating.
    eta_omega, eta_lambda : float, optional
        Regularisation multipliers of the noise level (defaults as in the paper).
    sparsify : bool
        The synthdid sparsify step between two Frank-Wolfe rounds.
    max_iter : int
        Frank-Wolfe iteration cap.

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118.
    """

    name: ClassVar[str] = "synthetic_did"
    method: str = "sdid"
    variance: str = "placebo"
    reps: int = 200
    seed: int | None = 0
    covariates: tuple[str, ...] = ()
    eta_omega: float | None = None
    eta_lambda: float = 1e-6
    sparsify: bool = True
    max_iter: int = 10_000

    def __post_init__(self) -> None:
        check_option("method", self.method, METHODS)
        check_option("variance", self.variance, ("placebo", "bootstrap", "jackknife"))
        check_positive_int("reps", self.reps, minimum=2)
        check_positive_int("max_iter", self.max_iter, minimum=2)
        if self.seed is not None and not isinstance(self.seed, (int, np.integer)):
            raise SpecificationError(f"seed must be an integer or None; got {self.seed!r}.")
        if isinstance(self.covariates, str):
            object.__setattr__(self, "covariates", (self.covariates,))
        object.__setattr__(self, "covariates", tuple(self.covariates))
        for nm in ("eta_omega", "eta_lambda"):
            v = getattr(self, nm)
            if v is not None and not (isinstance(v, (int, float)) and v > 0):
                raise SpecificationError(f"{nm} must be a positive number; got {v!r}.")

    @property
    def settings(self) -> SdidSettings:
        return SdidSettings(self.method, self.eta_omega, self.eta_lambda, self.sparsify, self.max_iter)

    def fit(self, panel: Panel, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            treated: Any = None) -> EffectResult:
        """Estimate the ATT with its variance; see the class docstring.

        Parameters
        ----------
        panel : Panel
        inference : Placebo, Bootstrap or Jackknife, optional
            Overrides ``variance``/``reps``/``seed``.
        calendar : PolicyCalendar, None or False
            Policy calendar for confounding flags (``False`` skips the check).
        alpha : float
        treated : unit, list of units or mapping unit -> first treated date, optional
            Default: the panel's treatment timing.
        """
        from evalint.estimators.synth.sdid_variance import sdid_variance
        from evalint.results.effect import InferenceInfo, make_result

        alpha = check_alpha(alpha)
        variance, reps, seed = _inference_choice(inference, self.variance, self.reps, self.seed)
        design = panel_design(panel, treated, self.covariates)
        settings = self.settings
        fit = fit_design(design.Y, design.start, settings)
        var = sdid_variance(design.Y, fit, settings, design.start, variance, reps=reps, seed=seed)
        tables, series, effects = _tables_and_series(design, fit)
        tables[f"{variance}_estimates"] = pd.DataFrame({"replicate": np.arange(1, var.replicates.size + 1),
                                                        "estimate": var.replicates})
        if design.beta is not None:
            tables["covariate_coefficients"] = pd.DataFrame({"covariate": design.covariates, "beta": design.beta})
        staggered = len(fit.cohorts) > 1
        intervention = ({u: p.start_time for u, p in design.cohort.items()} if staggered
                        else next(iter(design.cohort.values())).start_time)
        check, flags = calendar_check(panel, intervention, outcome=panel.outcome,
                                      treated_units=design.treated_units,
                                      comparison_units=design.control_units, calendar=calendar,
                                      design="synth")
        diagnostics = tuple(d for d in (check, _prefit_check(design, fit)) if d is not None)
        ci = p_value = None
        if not np.isfinite(var.se):
            raise InferenceError(f"the {variance} standard error could not be computed (got {var.se}).")
        if var.se == 0.0:
            # every replicate gave the same estimate (noise-free data): a degenerate, not a
            # missing, interval; say so rather than return NaN
            ci, p_value = (fit.tau, fit.tau), (1.0 if fit.tau == 0 else 0.0)
            flags = (*flags, Flag(kind="inference", severity="medium", source=f"{variance} variance",
                                  message=f"All {var.replicates.size} {variance} replicate estimates are "
                                  "identical, so the standard error is 0 and the interval is a point: the "
                                  "data look noise-free; treat the interval as uninformative."))
        c0 = fit.cohorts[0]
        info = {"n_control": len(design.control_units), "n_treated": len(design.treated_units),
                "cohorts": [str(design.periods[c.start]) for c in fit.cohorts],
                "noise_level": c0.reg.noise, "zeta_omega": c0.reg.zeta_omega,
                "zeta_lambda": c0.reg.zeta_lambda,
                "effective_controls": float(1.0 / np.sum(c0.omega ** 2)),
                "effective_pre_periods": float(1.0 / np.sum(c0.lam ** 2)) if c0.lam.sum() > 0 else float("nan"),
                "covariates": list(design.covariates)}
        return make_result(
            method=_METHOD_NAMES[self.method],
            estimand=("ATT: average effect on the treated units over their post-treatment periods"
                      + (" (cohort estimates weighted by treated cells)" if staggered else "")),
            term="ATT", outcome=panel.outcome, estimate=fit.tau, se=var.se, alpha=alpha, ci=ci,
            p_value=p_value,
            inference=InferenceInfo(name=variance, description=var.note, reps=var.reps, seed=var.seed,
                                    note="normal-theory interval tau +/- z * se, as in Arkhangelsky et al. (2021)"),
            panel=panel, seed=seed, spec={"estimator": self.name, **{k: getattr(self, k) for k in (
                "method", "variance", "reps", "seed", "covariates", "eta_omega", "eta_lambda",
                "sparsify", "max_iter")}, "variance_used": variance, "treated": treated},
            effects=tidy(effects), series=series, tables=tables, diagnostics=diagnostics, flags=flags,
            plot_kind="synth", intervention=intervention, n_obs=int(design.Y.size),
            n_units=len(design.units), info=info, references=_REFERENCES,
        )

    @classmethod
    def contract_example(cls) -> tuple[SyntheticDiD, Panel, dict]:
        """A small simulated block design (10 controls, 2 treated, 12 years, effect -3)."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(7)
        units = [f"u{i:02d}" for i in range(12)]
        rows = []
        level = rng.normal(50, 5, size=12)
        for t, year in enumerate(range(2010, 2022)):
            common = 0.8 * t + rng.normal(0, 0.5)
            for i, u in enumerate(units):
                treated = i >= 10 and year >= 2018
                rows.append({"unit": u, "year": year, "y": level[i] + common + rng.normal(0, 1)
                             - 3.0 * treated, "d": int(treated)})
        panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="year", outcome="y", treatment="d")
        return cls(reps=50, max_iter=2000), panel, {"calendar": False}


def synthetic_did(panel: Panel, treated: Any = None, method: str = "sdid", variance: str = "placebo",
                  reps: int = 200, seed: int | None = 0, *, covariates: Sequence[str] = (),
                  calendar: Any = None, alpha: float = 0.05, **options: Any) -> EffectResult:
    """Fit :class:`SyntheticDiD` in one call.

    Parameters
    ----------
    panel : Panel
    treated : unit, list of units or mapping unit -> first treated date, optional
        Default: the panel's treatment timing (block or staggered adoption).
    method : {"sdid", "sc", "did"}
    variance : {"placebo", "bootstrap", "jackknife"}
    reps : int
    seed : int or None
    covariates : sequence of str
        Covariates to residualise the outcome on (untreated cells, two-way fixed effects).
    calendar : PolicyCalendar, None or False
    alpha : float
    **options
        ``eta_omega``, ``eta_lambda``, ``sparsify``, ``max_iter``.

    Returns
    -------
    EffectResult
        Headline term ``"ATT"``; ``tables["unit_weights"]``, ``tables["time_weights"]``,
        ``tables["<variance>_estimates"]``; ``series`` (time, treated, synthetic) for
        ``plot()``.

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118.
    """
    est = SyntheticDiD(method=method, variance=variance, reps=reps, seed=seed,
                       covariates=tuple(covariates), **options)
    return est.fit(panel, calendar=calendar, alpha=alpha, treated=treated)
