"""Distances between treated and candidate units: Mahalanobis, and logistic propensity scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError, format_examples


def pooled_within_covariance(x_t: np.ndarray, x_c: np.ndarray) -> np.ndarray:
    """Pooled within-group covariance ``((n_t-1) S_t + (n_c-1) S_c) / (n_t + n_c - 2)``.

    With one treated unit its group contributes nothing (``n_t - 1 = 0``).
    """
    n_t, n_c = len(x_t), len(x_c)
    k = x_t.shape[1]
    s = np.zeros((k, k))
    for x in (x_t, x_c):
        if len(x) > 1:
            xc = x - x.mean(axis=0)
            s += xc.T @ xc
    dof = n_t + n_c - 2
    if dof < 1:
        raise SpecificationError("Mahalanobis matching needs at least 3 units in all (treated + candidates).")
    return s / dof


def mahalanobis(features: pd.DataFrame, treated: list, candidates: list) -> pd.DataFrame:
    """Treated x candidates Mahalanobis distances, on the pooled within-group covariance.

    Raises
    ------
    SpecificationError
        When a feature does not vary within groups (the covariance is singular); the feature is named.
    """
    x_t = features.loc[treated].to_numpy(dtype=float)
    x_c = features.loc[candidates].to_numpy(dtype=float)
    # Mahalanobis distances do not depend on the features' scales: rescale for conditioning.
    scale = np.r_[x_t, x_c].std(axis=0, ddof=1)
    scale = np.where(scale > 0, scale, 1.0)
    x_t, x_c = x_t / scale, x_c / scale
    s = pooled_within_covariance(x_t, x_c)
    flat = [c for c, v in zip(features.columns, np.diag(s)) if not v > 1e-10]
    if flat:
        raise SpecificationError(f"matching feature(s) {format_examples(flat)} do not vary within the treated and "
                                 "candidate groups; remove them from on=.")
    try:
        s_inv = np.linalg.inv(s)
    except np.linalg.LinAlgError as exc:
        raise SpecificationError(f"The features {format_examples(list(features.columns))} are collinear "
                                 "(singular covariance); remove one from on=.") from exc
    if np.linalg.cond(s) > 1e12:
        raise SpecificationError(f"The features {format_examples(list(features.columns))} are (nearly) collinear; "
                                 "remove one from on=.")
    diff = x_t[:, None, :] - x_c[None, :, :]
    d2 = np.einsum("ijk,kl,ijl->ij", diff, s_inv, diff)
    return pd.DataFrame(np.sqrt(np.maximum(d2, 0.0)), index=pd.Index(treated), columns=pd.Index(candidates))


def propensity_logit(features: pd.DataFrame, treated: list, candidates: list, penalty: float = 1.0,
                     tol: float = 1e-10, max_iter: int = 100) -> pd.Series:
    """Linear predictor (logit) of a ridge-penalised logistic regression of treatment on features.

    Features are standardised (mean 0, SD 1 over treated and candidates); the intercept is not
    penalised. The penalty keeps the fit finite when a handful of treated units are separated
    from the candidates, which is the usual case with few treated areas.
    """
    units = list(treated) + list(candidates)
    x = features.loc[units].to_numpy(dtype=float)
    sd = x.std(axis=0, ddof=1)
    flat = [c for c, v in zip(features.columns, sd) if not v > 0]
    if flat:
        raise SpecificationError(f"matching feature(s) {format_examples(flat)} are constant; remove them from on=.")
    z = np.column_stack([np.ones(len(units)), (x - x.mean(axis=0)) / sd])
    y = np.r_[np.ones(len(treated)), np.zeros(len(candidates))]
    pen = np.full(z.shape[1], float(penalty))
    pen[0] = 0.0
    beta = np.zeros(z.shape[1])
    beta[0] = np.log(len(treated) / len(candidates))
    for _ in range(max_iter):
        eta = z @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        grad = z.T @ (y - p) - pen * beta
        hess = (z * w[:, None]).T @ z + np.diag(pen)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.full_like(beta, np.nan)
        if not np.all(np.isfinite(step)):
            raise SpecificationError(
                f"The propensity model does not converge: the features {format_examples(list(features.columns))} "
                "separate treated from candidate units. Use penalty > 0 (the default 1.0) or "
                "method='mahalanobis'."
            )
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    return pd.Series(z @ beta, index=pd.Index(units), name="logit_propensity")


def propensity_distance(logit: pd.Series, treated: list, candidates: list) -> pd.DataFrame:
    """Treated x candidates absolute differences of the logit propensity score."""
    a = logit.loc[treated].to_numpy()[:, None]
    b = logit.loc[candidates].to_numpy()[None, :]
    return pd.DataFrame(np.abs(a - b), index=pd.Index(treated), columns=pd.Index(candidates))
