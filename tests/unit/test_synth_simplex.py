"""The simplex weight solver against independent solutions (SLSQP, brute force) and invariances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from evalint.errors import SpecificationError
from evalint.estimators.synth.simplex import (
    frank_wolfe_simplex,
    simplex_least_squares,
    simplex_least_squares_batch,
    sparsify_weights,
)


def _objective(A, b, w, ridge=0.0, intercept=False, v=None):
    r = b - A @ w
    vv = np.ones_like(r) if v is None else v
    if intercept:
        r = r - np.sum(vv * r) / np.sum(vv)
    return float(np.sum(vv * r * r) + ridge * w @ w)


def _slsqp(A, b, ridge=0.0, intercept=False, v=None):
    J = A.shape[1]
    res = minimize(lambda w: _objective(A, b, w, ridge, intercept, v), np.full(J, 1 / J), method="SLSQP",
                   bounds=[(0, 1)] * J, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   options={"ftol": 1e-15, "maxiter": 2000})
    w = np.clip(res.x, 0, None)
    return w / w.sum()


@pytest.mark.parametrize("T,J", [(19, 38), (40, 8), (6, 4), (120, 30)])
@pytest.mark.parametrize("ridge,intercept,weighted", [(0.0, False, False), (0.7, True, False), (0.0, False, True)])
def test_matches_slsqp_on_random_problems(T, J, ridge, intercept, weighted):
    rng = np.random.default_rng(T * 100 + J)
    A = rng.normal(size=(T, J))
    b = rng.normal(size=T) * 2 + 0.5
    v = rng.uniform(0.1, 2.0, size=T) if weighted else None
    sol = simplex_least_squares(A, b, ridge=ridge, intercept=intercept, row_weights=v)
    ref = _slsqp(A, b, ridge, intercept, v)
    f_sol = _objective(A, b, sol.weights, ridge, intercept, v)
    f_ref = _objective(A, b, ref, ridge, intercept, v)
    # the exact solver is never worse than SLSQP, and agrees with it where SLSQP converges
    assert f_sol <= f_ref + 1e-9 * max(1.0, f_ref)
    assert f_sol == pytest.approx(f_ref, rel=1e-6)
    assert np.all(sol.weights >= 0) and sol.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert sol.objective == pytest.approx(f_sol, rel=1e-12)


def test_kkt_conditions_hold():
    rng = np.random.default_rng(5)
    A, b = rng.normal(size=(25, 15)), rng.normal(size=25)
    w = simplex_least_squares(A, b).weights
    g = (A - b[:, None]).T @ ((A - b[:, None]) @ w)  # half gradient of ||(A - b1')w||^2
    support = w > 0
    lam = g[support].mean()
    assert np.ptp(g[support]) < 1e-10
    assert np.all(g[~support] >= lam - 1e-10)


def test_brute_force_vertices_and_edges_small_problem():
    # With T >> J and a target far outside the hull, compare with enumeration of all
    # supports (closed-form equality-constrained LS on each face).
    rng = np.random.default_rng(9)
    A = rng.normal(size=(30, 4))
    b = rng.normal(size=30) + 3.0
    best = np.inf
    for k in range(1, 5):
        for S in itertools.combinations(range(4), k):
            C = A[:, S] - b[:, None]
            G = C.T @ C
            K = np.block([[G, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
            sol = np.linalg.solve(K, np.r_[np.zeros(k), 1.0])[:k]
            if np.all(sol >= -1e-12):
                w = np.zeros(4)
                w[list(S)] = sol
                best = min(best, _objective(A, b, w))
    assert simplex_least_squares(A, b).objective == pytest.approx(best, rel=1e-10)


def test_exact_recovery_inside_hull():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(50, 6))
    w_true = np.array([0.5, 0.3, 0.2, 0, 0, 0])
    sol = simplex_least_squares(A, A @ w_true)
    np.testing.assert_allclose(sol.weights, w_true, atol=1e-9)


def test_permuting_donors_permutes_weights():
    rng = np.random.default_rng(3)
    A, b = rng.normal(size=(30, 12)), rng.normal(size=30) + 1
    perm = rng.permutation(12)
    w = simplex_least_squares(A, b).weights
    w_perm = simplex_least_squares(A[:, perm], b).weights
    np.testing.assert_allclose(w_perm, w[perm], atol=1e-10)


def test_scaling_and_shifting_the_outcome():
    rng = np.random.default_rng(4)
    A, b = rng.normal(size=(30, 12)), rng.normal(size=30) + 1
    w = simplex_least_squares(A, b).weights
    np.testing.assert_allclose(simplex_least_squares(7.5 * A, 7.5 * b).weights, w, atol=1e-10)
    # adding a constant to every unit leaves simplex weights unchanged (weights sum to one)
    np.testing.assert_allclose(simplex_least_squares(A + 100.0, b + 100.0).weights, w, atol=1e-9)
    # with an intercept, shifting only the treated unit changes nothing but the intercept
    s1 = simplex_least_squares(A, b, intercept=True)
    s2 = simplex_least_squares(A, b + 42.0, intercept=True)
    np.testing.assert_allclose(s2.weights, s1.weights, atol=1e-10)
    assert s2.intercept - s1.intercept == pytest.approx(42.0)


def test_batch_equals_loop():
    rng = np.random.default_rng(6)
    A = rng.normal(size=(5, 20, 9))
    B = rng.normal(size=(5, 20))
    W, _c, obj = simplex_least_squares_batch(A, B)
    for k in range(5):
        s = simplex_least_squares(A[k], B[k])
        np.testing.assert_allclose(W[k], s.weights, atol=1e-14)
        assert obj[k] == pytest.approx(s.objective)
    W2, _, _ = simplex_least_squares_batch(A[0], B)
    np.testing.assert_allclose(W2[1], simplex_least_squares(A[0], B[1]).weights, atol=1e-14)


def test_frank_wolfe_approaches_exact_solution():
    rng = np.random.default_rng(7)
    A, b = rng.normal(size=(40, 10)), rng.normal(size=40)
    exact = simplex_least_squares(A, b, ridge=0.3, intercept=True)
    fw = frank_wolfe_simplex(A, b, ridge=0.3, intercept=True, min_decrease=1e-9, max_iter=100_000)
    assert fw.objective >= exact.objective - 1e-9
    assert fw.objective == pytest.approx(exact.objective, rel=1e-5)


def test_sparsify():
    w = sparsify_weights(np.array([0.5, 0.1, 0.3, 0.1]))
    np.testing.assert_allclose(w, np.array([0.625, 0, 0.375, 0]))


def test_bad_input_is_a_specification_error():
    with pytest.raises(SpecificationError, match="finite"):
        simplex_least_squares(np.array([[1.0, np.nan], [0, 1]]), np.array([1.0, 2.0]))
    with pytest.raises(SpecificationError, match="one value per row"):
        simplex_least_squares(np.ones((3, 2)), np.ones(4))
    with pytest.raises(SpecificationError, match="ridge"):
        simplex_least_squares(np.ones((3, 2)), np.ones(3), ridge=-1)
