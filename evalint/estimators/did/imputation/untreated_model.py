"""The untreated-outcome model of the BJS imputation estimator and its Theorem 3 scores.

One job: the linear algebra behind :class:`~evalint.estimators.did.imputation.estimator.ImputationDiD`.

* :func:`_fit_untreated` fits ``Y_it = alpha_i + beta_t + X_it' gamma + e_it`` by OLS on the
  untreated cells Omega_0 (unit effects absorbed by within-unit demeaning, a Cholesky factor
  of the demeaned design kept), checks that covariates vary within units and are not
  collinear, and records which treated cells can be imputed (BJS 2024, Theorem 2, step 1).
* :func:`_cluster_scores` gives, for any linear estimand with treated-cell weights ``w``,
  each unit's contribution ``sum_t v_it eps_tilde_it`` to the conservative variance of
  Theorem 3: ``v_0 = -Z_0 (Z_0'Z_0)^{-1} Z_1' w_1`` on Omega_0 (reusing the fit's factor),
  the Omega_0 residuals, and on Omega_1 the imputed effects minus the auxiliary averages
  ``tau_tilde`` over the groups of :func:`_aux_groups` (eq. 8, unit-clustered), optionally
  with the leave-one-out refinement of Supplementary Appendix A.9.

References
----------
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust
and efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError, TreatmentError

__all__: list[str] = []


@dataclass
class _UntreatedFit:
    """OLS of y on unit FE + period dummies + covariates on Omega_0 (unit FE absorbed)."""

    mask0: np.ndarray          # rows in Omega_0
    n_units: int
    t_cols: np.ndarray         # period index of each time-dummy column
    theta: np.ndarray          # coefficients on W (time dummies then covariates)
    alpha: np.ndarray          # unit effects (NaN for units without untreated cells)
    chol: Any                  # factor of Wt'Wt (within-demeaned W on Omega_0)
    n0: np.ndarray             # untreated cells per unit
    can_impute: np.ndarray     # rows whose unit and period effects are identified
    resid0: np.ndarray         # Omega_0 residuals (rows of mask0)
    w0: np.ndarray | None = None   # design W on Omega_0 rows (cached)

    def design(self, fr: pd.DataFrame, covs: list[str], rows: np.ndarray) -> np.ndarray:
        t = fr["t"].to_numpy()[rows]
        w = (t[:, None] == self.t_cols[None, :]).astype(float)
        if covs:
            w = np.column_stack([w, fr.loc[rows, covs].to_numpy(float)])
        return w

    def predict(self, fr: pd.DataFrame, covs: list[str]) -> np.ndarray:
        rows = self.can_impute
        out = np.full(len(fr), np.nan)
        out[rows] = self.alpha[fr["u"].to_numpy()[rows]] + self.design(fr, covs, rows) @ self.theta
        return out

    def coefficient_frame(self, covs: list[str]) -> pd.DataFrame:
        if not covs:
            return pd.DataFrame()
        k = len(self.t_cols)
        return pd.DataFrame({"term": covs, "estimate": self.theta[k:]})


def _fit_untreated(fr: pd.DataFrame, mask0: np.ndarray, covs: list[str]) -> _UntreatedFit:
    from scipy.linalg import cho_factor, cho_solve

    if not mask0.any():
        raise TreatmentError("There are no untreated cells (every observed cell is treated or in the "
                             "anticipation window); the imputation model cannot be fitted.")
    u = fr["u"].to_numpy()
    t = fr["t"].to_numpy()
    n_units = int(u.max()) + 1
    u0 = u[mask0]
    n0 = np.bincount(u0, minlength=n_units).astype(float)
    t_present = np.unique(t[mask0])
    t_cols = t_present[1:]  # first untreated period is the base
    fit = _UntreatedFit(mask0=mask0, n_units=n_units, t_cols=t_cols, theta=np.zeros(0), alpha=np.zeros(0),
                        chol=None, n0=n0, can_impute=np.zeros(len(fr), bool), resid0=np.zeros(0))
    rows0 = np.flatnonzero(mask0)
    w0 = fit.design(fr, covs, rows0)
    y0 = fr["y"].to_numpy()[rows0]
    wt = w0 - _unit_means(w0, u0, n0)[u0]
    yt = y0 - _unit_means(y0[:, None], u0, n0)[u0][:, 0]
    if w0.shape[1]:
        if covs:
            scale = np.sqrt((w0 ** 2).sum(axis=0))
            within = np.sqrt((wt ** 2).sum(axis=0))
            for j, c in enumerate(covs):
                jj = len(t_cols) + j
                if within[jj] <= 1e-10 * max(scale[jj], 1e-300):
                    raise SpecificationError(
                        f"covariate {c!r} does not vary within units over the untreated cells: it is absorbed "
                        "by the unit fixed effects and cannot be estimated. Drop it (unit effects already "
                        "control for it) or interact it with time yourself.")
        xtx = wt.T @ wt
        norm = np.sqrt(np.maximum(np.diag(xtx), 1e-300))
        eig = np.linalg.eigvalsh(xtx / np.outer(norm, norm))
        rank = int((eig > 1e-10 * max(float(eig.max()), 1.0)).sum())
        if rank < wt.shape[1]:
            raise SpecificationError(
                f"The untreated-cell regression is rank deficient ({rank} of {wt.shape[1]} period/covariate "
                f"columns identified): covariates {covs} are collinear with each other or with the period "
                "effects. Remove the redundant covariate(s).")
        fit.chol = cho_factor(xtx)
        fit.theta = cho_solve(fit.chol, wt.T @ yt)
    fit.alpha = np.where(n0 > 0, np.bincount(u0, weights=y0 - w0 @ fit.theta, minlength=n_units)
                         / np.maximum(n0, 1), np.nan)
    fit.resid0 = yt - wt @ fit.theta
    fit.w0 = w0
    fit.can_impute = (n0[u] > 0) & np.isin(t, t_present)
    return fit


def _unit_means(m: np.ndarray, u: np.ndarray, n: np.ndarray) -> np.ndarray:
    sums = np.zeros((len(n), m.shape[1]))
    np.add.at(sums, u, m)
    return sums / np.maximum(n, 1)[:, None]


def _aux_groups(fr: pd.DataFrame, partition: str) -> np.ndarray:
    g = fr["g"].to_numpy()
    rel = np.nan_to_num(fr["rel"].to_numpy(), nan=-10 ** 9).astype(np.int64)
    if partition == "cohort":
        key = g
    elif partition == "horizon":
        key = rel
    else:
        key = g * 100_003 + rel
    return pd.factorize(key)[0]


def _cluster_scores(fit: _UntreatedFit, fr: pd.DataFrame, covs: list[str], w: np.ndarray, tau: np.ndarray,
                    groups: np.ndarray, clusters: np.ndarray, n_clusters: int,
                    leave_one_out: bool = True) -> np.ndarray:
    """Per-cluster sums of v_it * eps_tilde_it for the estimand with treated weights ``w``."""
    from scipy.linalg import cho_solve

    u = fr["u"].to_numpy()
    rows1 = np.flatnonzero(w != 0)
    rows0 = np.flatnonzero(fit.mask0)
    u0 = u[rows0]
    # v on Omega_0 = -Z0 (Z0'Z0)^{-1} Z1'w, unit FE eliminated by partitioned inversion
    r_u = np.bincount(u[rows1], weights=w[rows1], minlength=fit.n_units)
    w0 = fit.w0
    if w0.shape[1]:
        r_w = fit.design(fr, covs, rows1).T @ w[rows1]
        rhs = r_w - w0.T @ (r_u / np.maximum(fit.n0, 1))[u0]
        theta = cho_solve(fit.chol, rhs)
        wtheta = w0 @ theta
    else:
        wtheta = np.zeros(len(rows0))
    a = (r_u - np.bincount(u0, weights=wtheta, minlength=fit.n_units)) / np.maximum(fit.n0, 1)
    v0 = -(a[u0] + wtheta)
    # auxiliary tau_tilde per group (BJS eq. 8, unit-clustered):
    # tau_tilde_g = sum_i a_ig b_ig / sum_i a_ig^2, a_ig = sum_t v_it, b_ig = sum_t v_it tau_hat_it
    grp = groups[rows1]
    n_grp = int(groups.max()) + 1
    pair, pair_of_row = np.unique(grp.astype(np.int64) * fit.n_units + u[rows1], return_inverse=True)
    pair_grp = pair // fit.n_units
    a_iv = np.bincount(pair_of_row, weights=w[rows1], minlength=len(pair))
    b_iv = np.bincount(pair_of_row, weights=w[rows1] * tau[rows1], minlength=len(pair))
    num = np.bincount(pair_grp, weights=a_iv * b_iv, minlength=n_grp)
    den = np.bincount(pair_grp, weights=a_iv ** 2, minlength=n_grp)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_tilde = (num / den)[grp]
    eps1 = tau[rows1] - tau_tilde
    if leave_one_out:
        # BJS (2024) Supplementary Appendix A.9: leave unit i out of its own tau_tilde, which
        # at the cluster sum equals scaling eps_tilde by 1 / (1 - a_ig^2 / sum_j a_jg^2).
        # Groups with a single unit have no leave-one-out average: left unscaled.
        units_in_grp = np.bincount(pair_grp, weights=(a_iv ** 2 > 0).astype(float), minlength=n_grp)
        share = a_iv ** 2 / den[pair_grp]
        factor = np.where(units_in_grp[pair_grp] >= 2, 1.0 / np.maximum(1.0 - share, 1e-12), 1.0)
        eps1 = eps1 * factor[pair_of_row]
    psi = np.bincount(clusters[rows0], weights=v0 * fit.resid0, minlength=n_clusters)
    psi += np.bincount(clusters[rows1], weights=w[rows1] * eps1, minlength=n_clusters)
    return psi
