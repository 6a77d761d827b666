"""Compiled (numba) Frank-Wolfe path for the SDID weights against the numpy path.

The reference is the numpy path of :mod:`evalint.estimators.synth.frank_wolfe`, itself checked
against diff-diff and the published Prop 99 numbers (tests/unit/test_sdid_peers.py,
``evalint replicate prop99_synthdid``); the Prop 99 estimate is also checked against the synthdid
vignette's -15.60383. Each comparison runs the same call twice in this process, once with
``EVALINT_NO_NUMBA=1`` (numpy) and once without (compiled).

Tolerances: the compiled kernels repeat the numpy path's operations in the same order except inside
dot products (numpy's ``vecdot``/``@``/``einsum`` use BLAS and SIMD partial sums; the kernels sum
in index order), which moves ``hg'x``, ``c'x`` and the refreshed gradient by a few ulps. Over
10,000 steps on nearly flat problems this reaches ~1e-13 in the weights; we assert 1e-12 for
weights and 1e-10 for estimates and standard errors (tens of packs per capita).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numba", reason="the compiled Frank-Wolfe path needs the optional numba package "
                                    "(pip install numba); without it the numpy path runs and is tested "
                                    "in test_sdid.py")

from evalint.data.panel import Panel
from evalint.estimators.synth import fw_compiled
from evalint.estimators.synth.frank_wolfe import (
    frank_wolfe_batch,
    simplex_weights_batch,
    sparsify,
)
from evalint.estimators.synth.sdid.estimator import synthetic_did
from evalint.replication.prop99_synthdid import prop99_panel

WEIGHT_TOL = 1e-12
ESTIMATE_TOL = 1e-10


@pytest.fixture(autouse=True)
def _compiled_path_on(monkeypatch):
    """These tests exercise the kernels, so a suite run under EVALINT_NO_NUMBA=1 does not switch
    them off (the rest of the suite then runs the numpy path); ``EVALINT_NUMBA=1`` sends every
    problem to the kernels, however small (also the default, set here in case the environment says
    otherwise)."""
    monkeypatch.delenv("EVALINT_NO_NUMBA", raising=False)
    monkeypatch.setenv("EVALINT_NUMBA", "1")


@pytest.fixture
def both(monkeypatch):
    """Run ``fn`` on the numpy path, then on the compiled path; return both results."""

    def run(fn):
        monkeypatch.setenv("EVALINT_NO_NUMBA", "1")
        assert fw_compiled.backend() == "numpy"
        ref = fn()
        monkeypatch.delenv("EVALINT_NO_NUMBA")
        assert fw_compiled.backend() == "numba"
        return ref, fn()

    return run


def _problems(seed, B, n, m, masked):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(B, n, m)) * rng.uniform(0.5, 20)
    b = rng.normal(size=(B, n)) * rng.uniform(0.5, 20)
    mask = np.ones((B, m), dtype=bool)
    if masked:
        for k in range(B):
            mask[k, rng.choice(m, size=int(rng.integers(1, m - 1)), replace=False)] = False
    return A, b, mask / mask.sum(axis=1, keepdims=True), mask


# ------------------------------------------------------------------------------ dispatch
def test_dispatch_follows_the_environment_switch(monkeypatch):
    # sabotage the compiled batch kernel: the numpy path must not touch it, the default path must
    Y = np.random.default_rng(0).normal(size=(3, 8, 6))

    def boom(*args):
        raise RuntimeError("compiled kernel called")

    monkeypatch.setattr(fw_compiled, "_rounds_gram", boom)
    monkeypatch.setenv("EVALINT_NO_NUMBA", "1")
    assert not fw_compiled.compiled_available()
    assert "EVALINT_NO_NUMBA" in fw_compiled.unavailable_reason()
    simplex_weights_batch(Y, None, 0.1, intercept=True, min_decrease=1e-6)
    monkeypatch.setenv("EVALINT_NO_NUMBA", "0")
    assert fw_compiled.compiled_available() and fw_compiled.unavailable_reason() == ""
    with pytest.raises(RuntimeError, match="compiled kernel called"):
        simplex_weights_batch(Y, None, 0.1, intercept=True, min_decrease=1e-6)


# ---------------------------------------------------------------- building blocks (exact)
@pytest.mark.parametrize("n", [1, 5, 7, 8, 9, 16, 37, 127, 128, 129, 300, 1000, 1031, 5000])
def test_pairwise_sum_is_numpys_sum_bit_for_bit(n):
    assert fw_compiled.compiled_available()
    rng = np.random.default_rng(n)
    a = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8, size=n)
    assert fw_compiled._pairwise_sum(a, 0, n) == np.sum(a)
    w = np.abs(a)[None, :]
    assert fw_compiled._pairwise_sum(w[0], 0, n) == w.sum(axis=1)[0]


@pytest.mark.parametrize("m", [4, 19, 38, 200])
def test_sparsify_row_is_numpys_sparsify_bit_for_bit(m):
    assert fw_compiled.compiled_available()
    rng = np.random.default_rng(m)
    w = rng.dirichlet(np.full(m, 0.3), size=5)
    w[0, 1] = w[0].max() / 4.0            # exactly at the cut: zeroed ("at or below")
    w[0, 2] = np.nextafter(w[0, 1], 1.0)  # just above it: kept
    w[0] /= w[0].sum()
    ref = sparsify(w)
    for k in range(5):
        row = w[k].copy()
        fw_compiled._sparsify_row(row)
        assert np.array_equal(row, ref[k])


# ------------------------------------------------------------------- random problems
# (B, n, m, eta, min_decrease, max_iter, masked)
CASES = [
    (4, 19, 38, 1e-12, 1e-5, 10_000, False),   # Prop 99 shape, nearly unregularised: the cap
    (3, 38, 19, 1e-12, 1e-6, 10_000, False),   # time-weight shape
    (4, 12, 30, 0.5, 1e-7, 10_000, False),     # ridge: stops early, well before the cap
    (4, 25, 10, 1e-3, 1e-6, 3_000, True),      # padded columns
    (2, 6, 40, 1e-8, 1e-6, 5_000, True),       # fewer rows than columns, padded
    (3, 30, 150, 1e-6, 1e-6, 2_000, False),    # m > 128
    (4, 10, 8, 1e-2, 1e-4, 50, False),         # short cap
]


@pytest.mark.parametrize("B,n,m,eta,md,max_iter,masked", CASES)
def test_batched_problems_take_the_same_steps(both, B, n, m, eta, md, max_iter, masked):
    A, b, x0, mask = _problems(B * 1000 + m, B, n, m, masked)
    kw = {"min_decrease": md, "max_iter": max_iter, "col_mask": mask if masked else None}
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b, x0, eta, **kw))
    np.testing.assert_array_equal(itc, itn)
    assert np.max(np.abs(xc - xn)) <= WEIGHT_TOL
    assert np.all(xc[~mask] == 0)
    np.testing.assert_allclose(xc.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    if eta == 1e-12:
        assert (itn == max_iter).any()  # the case really exercises the cap


@pytest.mark.parametrize("B,n,m,eta,md,max_iter,masked", CASES[:5])
def test_one_problem_path_takes_the_same_steps(both, B, n, m, eta, md, max_iter, masked):
    A, b, x0, mask = _problems(B * 1000 + m + 1, 1, n, m, masked)
    kw = {"min_decrease": md, "max_iter": max_iter, "col_mask": mask if masked else None}
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b, x0, eta, **kw))
    assert itc[0] == itn[0]
    assert np.max(np.abs(xc - xn)) <= WEIGHT_TOL
    assert np.all(xc[~mask] == 0)


@pytest.mark.parametrize("B", [1, 3])
def test_duplicated_columns_and_an_optimal_start(both, B):
    # Three identical columns: the first step's gradient ties exactly (numpy's argmin takes the
    # first index, so must the kernels). After that the split of weight among the duplicates is
    # decided by rounding: the objective changes along it only through eta |x|^2 (1e-10 here), so
    # ulp-level differences move weight between them (the numpy path's own batched and one-problem
    # loops differ by ~5e-4 there). What is determined must agree: the other weights, the total
    # weight of the duplicates, the objective, the steps.
    rng = np.random.default_rng(40 + B)
    A, b = rng.normal(size=(B, 15, 9)), rng.normal(size=(B, 15))
    dup, rest = [2, 6, 7], [0, 1, 3, 4, 5, 8]
    A[:, :, 6] = A[:, :, 2]
    A[:, :, 7] = A[:, :, 2]
    kw = {"min_decrease": 1e-6, "max_iter": 2000}
    x0 = np.full((B, 9), 1.0 / 9)
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b, x0, 1e-10, **kw))
    np.testing.assert_array_equal(itc, itn)
    assert np.max(np.abs(xc[:, rest] - xn[:, rest])) <= WEIGHT_TOL
    assert np.max(np.abs(xc[:, dup].sum(axis=1) - xn[:, dup].sum(axis=1))) <= WEIGHT_TOL
    for k in range(B):
        obj = lambda x, k=k: 1e-10 * x @ x + np.sum((A[k] @ x - b[k]) ** 2)
        assert obj(xc[k]) == pytest.approx(obj(xn[k]), rel=1e-12)
    b_dup = 3.0 * A[:, :, 2] + 0.1 * rng.normal(size=(B, 15))   # the duplicates are the best vertex
    (x1n, _), (x1c, _) = both(lambda: frank_wolfe_batch(A, b_dup, x0, 1e-10, min_decrease=1e-6, max_iter=1))
    assert np.max(np.abs(x1c - x1n)) <= 1e-15         # one step, to the first of the tied vertices
    np.testing.assert_array_equal(np.argmax(x1n, axis=1), 2)
    np.testing.assert_array_equal(np.argmax(x1c, axis=1), 2)
    b_vertex = A[:, :, 4] + 0.0       # target = column 4: the vertex e_4 is the exact optimum
    start = np.zeros((B, 9))
    start[:, 4] = 1.0
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b_vertex, start, 0.0, **kw))
    np.testing.assert_array_equal(itn, 2)             # the two obligatory steps, then stop
    np.testing.assert_array_equal(itc, itn)
    np.testing.assert_array_equal(xc, start)
    # two columns, start at e_0, target column 1: one full step (the line search gives 1 up to
    # rounding and is clipped at 1), then the obligatory second step and stop
    e0 = np.tile([1.0, 0.0], (B, 1))
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A[:, :, :2], A[:, :, 1] + 0.0, e0, 0.0, **kw))
    np.testing.assert_array_equal(itn, 2)
    np.testing.assert_array_equal(itc, itn)
    assert np.max(np.abs(xc - xn)) <= WEIGHT_TOL
    assert np.max(np.abs(xc - [0.0, 1.0])) <= 1e-12
    # without the ridge the duplicates tie exactly at every step: all their new weight goes to the
    # first of them, in both paths, so every weight is determined
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b, x0, 0.0, **kw))
    np.testing.assert_array_equal(itc, itn)
    assert np.max(np.abs(xc - xn)) <= WEIGHT_TOL


@pytest.mark.parametrize("B", [1, 5])
@pytest.mark.parametrize("masks", ["none", "rows", "cols"])
def test_two_rounds_with_sparsify_give_the_same_weights(both, B, masks):
    rng = np.random.default_rng(10 + B)
    n, m = 19, 30
    Y = rng.normal(size=(B, n, m + 1)).cumsum(axis=1)
    row_mask = col_mask = None
    if masks == "rows":
        row_mask = rng.uniform(size=(B, n)) < 0.8
        row_mask[:, :3] = True
    if masks == "cols":
        col_mask = rng.uniform(size=(B, m)) < 0.7
        col_mask[:, :2] = True
    for zeta, md in ((1e-6, 1e-5), (0.5, 1e-5)):
        wn, wc = both(lambda zeta=zeta, md=md: simplex_weights_batch(
            Y, None, zeta, intercept=True, min_decrease=md, row_mask=row_mask, col_mask=col_mask))
        assert np.max(np.abs(wc - wn)) <= WEIGHT_TOL
        if col_mask is not None:
            assert np.all(wc[~col_mask] == 0)


def test_two_rounds_report_each_rounds_steps():
    # simplex_rounds = round 1, sparsify, round 2: the same as calling the compiled one-round
    # solver twice with numpy's sparsify in between, steps and weights bit for bit
    assert fw_compiled.compiled_available()
    A, b, x0, _ = _problems(5, 3, 19, 25, False)
    kw = {"min_decrease": 1e-5, "refresh": 200, "n_rows": None, "col_mask": None}
    x, it = fw_compiled.simplex_rounds(A, b, x0, 1e-10, first=100, max_iter=10_000, use_sparsify=True, **kw)
    x1, it1 = fw_compiled.frank_wolfe_batch(A, b, x0, 1e-10, max_iter=100, **kw)
    x2, it2 = fw_compiled.frank_wolfe_batch(A, b, sparsify(x1), 1e-10, max_iter=10_000, **kw)
    np.testing.assert_array_equal(it[:, 0], it1)
    np.testing.assert_array_equal(it[:, 1], it2)
    assert np.array_equal(x, x2)


def test_numpy_batch_reports_each_problems_own_stopping_step(both, monkeypatch):
    rng = np.random.default_rng(7)    # problem 2 stops at step 13, the other six run to the cap
    B, n, m = 7, 9, 19
    A, b = rng.normal(size=(B, n, m)), rng.normal(size=(B, n))
    x0 = np.full((B, m), 1.0 / m)
    kw = {"min_decrease": 1e-7, "max_iter": 3000}
    (xn, itn), (xc, itc) = both(lambda: frank_wolfe_batch(A, b, x0, 0.5, **kw))
    assert np.max(np.abs(xc - xn)) <= WEIGHT_TOL
    # each problem in a numpy batch of two copies of itself (compacted when it stops)
    monkeypatch.setenv("EVALINT_NO_NUMBA", "1")
    alone = [frank_wolfe_batch(A[[k, k]], b[[k, k]], x0[[k, k]], 0.5, **kw)[1][0] for k in range(B)]
    np.testing.assert_array_equal(itc, alone)   # the compiled path reports the own stopping step
    assert itc.min() < kw["max_iter"]
    np.testing.assert_array_equal(itn, itc)     # the numpy batch too (it once reported the last step)


# --------------------------------------------------------------------------- Prop 99
@pytest.mark.parametrize("method", ["sdid", "sc"])
def test_prop99_estimate_weights_and_placebo_se_match_the_numpy_path(both, method):
    panel = prop99_panel()
    rn, rc = both(lambda: synthetic_did(panel, method=method, variance="placebo", reps=200, seed=0,
                                        calendar=False))
    assert abs(rc.estimate - rn.estimate) <= ESTIMATE_TOL
    assert abs(rc.se - rn.se) <= ESTIMATE_TOL
    for table in ("unit_weights", "time_weights"):
        a, b = rn.tables[table], rc.tables[table]
        assert list(a.iloc[:, 0]) == list(b.iloc[:, 0])
        assert np.max(np.abs(a["weight"].to_numpy(float) - b["weight"].to_numpy(float))) <= WEIGHT_TOL
    reps_n = rn.tables["placebo_estimates"]["estimate"].to_numpy()
    reps_c = rc.tables["placebo_estimates"]["estimate"].to_numpy()
    assert np.max(np.abs(reps_c - reps_n)) <= ESTIMATE_TOL
    # and the published synthdid vignette estimates (outside evalint), to 5 decimals
    published = {"sdid": -15.60383, "sc": -19.61966}[method]
    assert rc.estimate == pytest.approx(published, abs=5e-6)


def test_bootstrap_on_a_staggered_design_matches_the_numpy_path(both):
    # several treated units in two cohorts: the padded, masked replicate batches (row and column masks)
    rng = np.random.default_rng(21)
    n_units, years = 16, list(range(2000, 2014))
    level, trend = rng.normal(20, 4, n_units), np.cumsum(rng.normal(0.5, 1.0, len(years)))
    cohort = {12: 2008, 13: 2008, 14: 2010, 15: 2010}
    rows = [{"unit": f"u{i:02d}", "year": y, "d": int(i in cohort and y >= cohort[i]),
             "y": level[i] + trend[t] + rng.normal() - 2.0 * (i in cohort and y >= cohort[i])}
            for i in range(n_units) for t, y in enumerate(years)]
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="year", outcome="y", treatment="d")
    rn, rc = both(lambda: synthetic_did(panel, variance="bootstrap", reps=40, seed=3, calendar=False))
    assert abs(rc.estimate - rn.estimate) <= ESTIMATE_TOL
    assert abs(rc.se - rn.se) <= ESTIMATE_TOL
    reps_n = rn.tables["bootstrap_estimates"]["estimate"].to_numpy()
    reps_c = rc.tables["bootstrap_estimates"]["estimate"].to_numpy()
    assert np.max(np.abs(reps_c - reps_n)) <= ESTIMATE_TOL


def test_kernels_that_cannot_be_set_up_fall_back_to_numpy(monkeypatch):
    """numba importable but njit(cache=True) failing (e.g. no writable cache directory): the numpy
    path runs, with the reason, and the SDID estimate is the published one."""
    import numba

    def broken_njit(*args, **kwargs):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(fw_compiled, "_STATE", {"tried": False, "ok": False, "reason": ""})
    monkeypatch.setattr(numba, "njit", broken_njit)
    assert fw_compiled.backend() == "numpy"
    assert "no locator available" in fw_compiled.unavailable_reason()
    res = synthetic_did(prop99_panel(), reps=2, seed=0, calendar=False)
    assert res.estimate == pytest.approx(-15.60383, abs=5e-6)


def test_default_sends_only_large_problems_to_the_kernels(monkeypatch):
    # default (unset or auto): small problems stay on numpy (no numba import for a one-off fit);
    # Prop 99's placebo batch (38 x 19 x 37) is below the measured threshold
    for default in (None, "auto", "AUTO ", ""):
        if default is None:
            monkeypatch.delenv("EVALINT_NUMBA")
        else:
            monkeypatch.setenv("EVALINT_NUMBA", default)
        assert not fw_compiled.use_compiled(1)
        assert not fw_compiled.use_compiled(38 * 19 * 37)
        assert not fw_compiled.use_compiled(fw_compiled.MIN_COMPILED_SIZE - 1)
        assert fw_compiled.use_compiled(fw_compiled.MIN_COMPILED_SIZE)
    monkeypatch.setenv("EVALINT_NUMBA", "0")
    assert not fw_compiled.use_compiled(10**9)
    monkeypatch.setenv("EVALINT_NUMBA", "1")
    assert fw_compiled.use_compiled(1)
    monkeypatch.setenv("EVALINT_NO_NUMBA", "1")
    assert not fw_compiled.use_compiled(10**9)


def test_default_one_off_prop99_fit_does_not_import_numba():
    """A fresh process fitting Prop 99 with the default settings stays on numpy and never imports
    numba (its import costs about what the kernels save on a problem this small), and gives
    synthdid's -15.60383."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, json; from evalint.estimators.synth.sdid.estimator import synthetic_did; "
            "from evalint.replication.prop99_synthdid import prop99_panel; "
            "r = synthetic_did(prop99_panel(), calendar=False); "
            "print(json.dumps(['numba' in sys.modules, r.estimate]))")
    env = {k: v for k, v in os.environ.items() if k not in ("EVALINT_NUMBA", "EVALINT_NO_NUMBA")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    imported, estimate = json.loads(res.stdout.strip().splitlines()[-1])
    assert imported is False
    assert estimate == pytest.approx(-15.60383, abs=5e-6)
