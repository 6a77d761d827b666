"""The 2x2 DiD estimators behind each Callaway-Sant'Anna ATT(g,t), with influence functions.

Each ATT(g,t) compares the outcome change (base period to ``t``) of cohort ``g`` with that
of a comparison group. Without covariates this is a weighted difference of mean changes,
computed here for all cells at once (``_difference_of_means``). With covariates each cell
is estimated on its own (``_two_by_two``) by outcome regression (``"reg"``), standardised
inverse probability weighting (``"ipw"``) or the locally efficient doubly robust estimator
(``"dr"``) of Sant'Anna & Zhao (2020) - the panel estimators R ``did`` calls from DRDID
(``reg_did_panel``, ``std_ipw_did_panel``, ``drdid_panel``), with comparison units whose
propensity score reaches ``TRIM_LEVEL`` trimmed. The cells are laid out in
:mod:`evalint.estimators.did.cs.cells`.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.special import expit

from evalint.errors import DiagnosticWarning, SpecificationError, format_examples

__all__ = ["TRIM_LEVEL"]

TRIM_LEVEL = 0.995


def _check_rank(x: np.ndarray, names: Sequence[str], where: str) -> None:
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise SpecificationError(
            f"covariates {format_examples(list(names))} are perfectly collinear (with each other or the "
            f"intercept) in {where}; the regression/propensity model is not identified. Drop one of "
            "the collinear covariates, or covariates that do not vary in that comparison."
        )


def _logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic MLE by Newton-Raphson; returns fitted p and X'diag(w p(1-p))X."""
    beta = np.zeros(x.shape[1])
    p0 = np.clip(np.average(d, weights=w), 1e-6, 1 - 1e-6)
    beta[0] = np.log(p0 / (1 - p0))
    for _ in range(100):
        p = expit(x @ beta)
        info = x.T @ (x * (w * p * (1 - p))[:, None])
        step = np.linalg.solve(info, x.T @ (w * (d - p)))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn(f"propensity score model did not converge in {where} (check overlap: are some "
                      "covariate values found only among treated or only among comparison units?).",
                      DiagnosticWarning, stacklevel=3)
    p = np.minimum(expit(x @ beta), 1 - 1e-6)
    info = x.T @ (x * (w * p * (1 - p))[:, None])
    return p, info


def _wls_lin_rep(x: np.ndarray, dy: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outcome regression on the comparison units: fitted change and asymptotic linear representation."""
    n = len(d)
    wc = w * (1 - d)
    xtx = x.T @ (x * wc[:, None]) / n
    coef = np.linalg.solve(xtx * n, x.T @ (wc * dy))
    fitted = x @ coef
    lin = (x * (wc * (dy - fitted))[:, None]) @ np.linalg.inv(xtx)
    return fitted, lin


def _two_by_two(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: str,
                where: str) -> tuple[float, np.ndarray]:
    """One panel 2x2 ATT and its influence function (DRDID formulas, Sant'Anna & Zhao 2020)."""
    w = w / w.mean()
    if method == "reg":
        fitted, lin = _wls_lin_rep(x, dy, d, w)
        w_t = w * d
        w_c = w * d
        att_t = w_t * dy
        att_c = w_c * fitted
        eta_t = att_t.mean() / w_t.mean()
        eta_c = att_c.mean() / w_c.mean()
        inf_t = (att_t - w_t * eta_t) / w_t.mean()
        inf_c = ((att_c - w_c * eta_c) + lin @ (w_c[:, None] * x).mean(axis=0)) / w_c.mean()
        return eta_t - eta_c, inf_t - inf_c
    n = len(d)
    p, info = _logit(x, d, w, where)
    trim = np.where(d == 1, True, p < TRIM_LEVEL)
    lin_ps = (x * (w * (d - p))[:, None]) @ (np.linalg.inv(info) * n)
    w_t = trim * w * d
    w_c = trim * w * p * (1 - d) / (1 - p)
    if method == "ipw":
        att_t = w_t * dy
        att_c = w_c * dy
        eta_t = att_t.mean() / w_t.mean()
        eta_c = att_c.mean() / w_c.mean()
        inf_t = (att_t - w_t * eta_t) / w_t.mean()
        m2 = ((w_c * (dy - eta_c))[:, None] * x).mean(axis=0)
        inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2) / w_c.mean()
        return eta_t - eta_c, inf_t - inf_c
    fitted, lin = _wls_lin_rep(x, dy, d, w)
    resid = dy - fitted
    att_t = w_t * resid
    att_c = w_c * resid
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    inf_t = ((att_t - w_t * eta_t) - lin @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = ((w_c * (resid - eta_c))[:, None] * x).mean(axis=0)
    inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2 - lin @ (w_c[:, None] * x).mean(axis=0)) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c



def _difference_of_means(y: np.ndarray, w: np.ndarray, row: np.ndarray, n_rows: int, jk: np.ndarray,
                         bk: np.ndarray, treat: np.ndarray, ctrl: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ATT(g,t) without covariates at once (weighted means of outcome changes).

    ATT = m_G - m_C with m the weighted mean change of the cell's treated (comparison) units;
    influence psi_i = n w_i (dY_i - m_G) / W_G for treated units, -n w_i (dY_i - m_C) / W_C
    for comparison units, 0 otherwise (the DR/IPW/OR estimators all reduce to this). The
    influence function is returned in cohort form: ``scale`` and ``centre`` (cohort rows x
    cells) with psi_ik = scale[r_i, k] w_i (Y_i,t(k) - Y_i,b(k) - centre[r_i, k]), so no
    units x cells matrix is formed here (see ``CohortInfluence``).
    """
    n = len(w)
    onehot = np.zeros((n, n_rows))
    onehot[np.arange(n), row] = w
    wsum = onehot.sum(axis=0)                         # W_c per cohort row
    sums = onehot.T @ y                               # (rows x T) weighted sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = sums / wsum[:, None]
    mu = np.nan_to_num(mu)
    chg = mu[:, jk] - mu[:, bk]                       # (rows x K) mean changes by cohort row
    w_t = wsum @ treat
    w_c = wsum @ ctrl
    m_t = (wsum[:, None] * chg * treat).sum(axis=0) / w_t
    m_c = (wsum[:, None] * chg * ctrl).sum(axis=0) / w_c
    att = m_t - m_c
    scale = np.where(treat, n / w_t, 0.0) - np.where(ctrl, n / w_c, 0.0)   # (rows x K)
    centre = np.where(treat, m_t, 0.0) + np.where(ctrl, m_c, 0.0)
    return att, scale, centre
