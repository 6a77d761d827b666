"""The weighted core of synthetic DiD: weights, the weighted double difference, replicates.

For a block of ``N0`` control rows followed by ``N1`` treated rows of an outcome matrix
``Y`` (units x periods; the first ``T0`` periods are before treatment) the estimate is
``tau = (-omega, 1/N1)' Y (-lambda, 1/T1)`` (Arkhangelsky et al. 2021, eq. 1 and
Algorithm 1). This module chooses the unit weights ``omega`` and time weights ``lambda``
for SDID, SC and DiD (:class:`SdidSettings`; the table is in
:mod:`evalint.estimators.synth.sdid.estimator`) by Frank-Wolfe
(:mod:`evalint.estimators.synth.frank_wolfe`), fits staggered designs cohort by cohort with
cell-weighted averaging, and re-estimates a fitted design on batches of replicate samples
for the variance algorithms (:mod:`evalint.estimators.synth.sdid.variance`).

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118.
Clarke, D., Pailanir, D., Athey, S. & Imbens, G. (2023). On synthetic
difference-in-differences and related estimation methods in Stata. IZA DP 16437.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalint._typing import FloatArray, check_option
from evalint.estimators.synth.frank_wolfe import simplex_weights_batch

__all__ = [
    "METHODS",
    "REPLICATE_STARTS",
    "CohortFit",
    "DesignFit",
    "Regularisation",
    "SdidSettings",
    "block_regularisation",
    "block_tau",
    "block_weights",
    "fit_design",
    "padded_replicate_estimates",
    "replicate_estimates",
    "time_weight_residual",
]

METHODS = ("sdid", "sc", "did")
#: where variance replicates start their weights: the full-sample weights or uniform ones
REPLICATE_STARTS = ("full", "uniform")


@dataclass(frozen=True)
class SdidSettings:
    """How the weights are chosen (see the table in :mod:`evalint.estimators.synth.sdid.estimator`).

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
    replicate_start : {"full", "uniform"}
        Where the variance replicates' Frank-Wolfe iterations start: the full-sample weights
        (``"full"``, as synthdid does) or uniform weights (``"uniform"``: each replicate's weights
        fitted afresh, as the full sample's are).
    """

    method: str = "sdid"
    eta_omega: float | None = None
    eta_lambda: float = 1e-6
    sparsify: bool = True
    max_iter: int = 10_000
    min_decrease_factor: float = 1e-5
    replicate_start: str = "full"

    def __post_init__(self) -> None:
        check_option("method", self.method, METHODS)
        check_option("replicate_start", self.replicate_start, REPLICATE_STARTS)

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


def time_weight_residual(Y: FloatArray, control_rows: np.ndarray, start: int, lam: FloatArray,
                         noise: float) -> float:
    """How closely the time weights reproduce each control's post-period mean from its own
    pre-period: the root mean square of ``(A - 1 a') lam - (b - mean b)`` (``A`` the controls'
    pre-period outcomes, ``b`` their post-period means; the intercept absorbs a common shift),
    relative to the noise level.

    Near 0 (with fewer controls than pre-periods the weights can interpolate every control), a
    placebo replicate that starts from these weights, as synthdid's does, already fits its
    placebo-treated units: the placebo estimates collapse toward 0 and so does the standard error.
    Evidence for the threshold the estimator flags: benchmarks/sdid_placebo_interpolation.py.

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118
    (time weights, Section 2; placebo variance, Algorithm 4).
    """
    A = Y[control_rows, :start]
    b = Y[control_rows, start:].mean(axis=1)
    r = (A - A.mean(axis=0)) @ lam - (b - b.mean())
    return float(np.sqrt(np.mean(r ** 2)) / noise) if noise > 0 else float("nan")


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
        omega0: FloatArray | None = _sum_normalise(full_omega[init_from])
        lambda0 = np.broadcast_to(ref.lam, (rows.shape[0], s)).copy() if ref.lam.size == s else None
        if settings.replicate_start == "uniform":
            omega0 = lambda0 = None
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
            lam0 = np.broadcast_to(ref.lam, (k, s)).copy()
            if settings.replicate_start == "uniform":  # padded columns keep weight 0
                omega0, lam0 = cm / cm.sum(axis=1, keepdims=True), np.full((k, s), 1.0 / s)
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
                    Yl, lam0, ref.reg.zeta_lambda, intercept=True,
                    min_decrease=ref.reg.min_decrease, max_iter=settings.max_iter,
                    use_sparsify=settings.sparsify, row_mask=cm)
        tau = (tr_post - np.einsum("bn,bn->b", omega, post_c) - np.einsum("bt,bt->b", lam, tr_pre)
               + np.einsum("bn,bnt,bt->b", omega, pre, lam))
        cells = n_t[have] * (T - s)
        num[have] += cells * tau
        den[have] += cells
    return num / den
