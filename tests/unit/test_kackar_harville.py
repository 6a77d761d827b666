"""The one Kackar-Harville widening against closed forms.

For a quadratic log-likelihood ``l(theta) = -(theta - t0)' A (theta - t0) / 2``, coefficients
linear in theta (``b = b0 + B theta``) and model variances linear in theta (``V = diag(v0 + C theta)``)
the central differences are exact up to rounding, so ``S = A^-1``, ``J = B``, the widening is
``B A^-1 B'`` and the Satterthwaite df of coefficient j is
``2 (v_j + (B A^-1 B')_jj)^2 / (c_j' A^-1 c_j + 2 v_j^2 / (n - k))`` (Kackar & Harville 1984;
Satterthwaite 1946).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalint.inference.kackar_harville import kackar_harville

A = np.array([[40.0, 6.0], [6.0, 25.0]])
B = np.array([[0.3, -0.1], [0.05, 0.2], [-0.4, 0.7]])
C = np.array([[0.01, 0.002], [0.0, 0.03], [0.02, -0.01]])
V0 = np.array([0.5, 0.8, 1.2])
T0 = np.array([0.3, 0.6])


def _at(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    d = theta - T0
    return -0.5 * float(d @ A @ d), 1.0 + B @ theta, np.diag(V0 + C @ theta)


def test_widening_and_df_equal_the_closed_form():
    extra, df = kackar_harville(_at, T0, focus=[0, 1, 2], resid_df=30)
    S = np.linalg.inv(A)
    assert extra == pytest.approx(B @ S @ B.T, rel=1e-6, abs=1e-9)
    v = V0 + C @ T0
    dfs = 2 * (v + np.diag(B @ S @ B.T)) ** 2 / (np.einsum("ij,jk,ik->i", C, S, C) + 2 * v ** 2 / 30)
    assert df == pytest.approx(min(dfs.min(), 30), rel=1e-6)


def test_df_capped_and_focus_respected():
    _, df_all = kackar_harville(_at, T0, focus=[0, 1, 2], resid_df=5)
    assert df_all == pytest.approx(5.0)
    v = V0 + C @ T0
    S = np.linalg.inv(A)
    extra = B @ S @ B.T
    df1 = 2 * (v[1] + extra[1, 1]) ** 2 / (C[1] @ S @ C[1] + 2 * v[1] ** 2 / 1000)
    assert kackar_harville(_at, T0, focus=[1], resid_df=1000)[1] == pytest.approx(df1, rel=1e-6)


def test_no_adjustment_without_parameters_or_curvature():
    assert kackar_harville(_at, np.zeros(0), focus=[0], resid_df=10) is None

    def convex(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:  # a minimum, not a maximum
        return 0.5 * float(theta @ theta), B @ theta, np.diag(V0)

    assert kackar_harville(convex, T0, focus=[0], resid_df=10) is None

    def failing(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        raise np.linalg.LinAlgError("singular")

    assert kackar_harville(failing, T0, focus=[0], resid_df=10) is None
