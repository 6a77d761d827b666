"""HonestDiD sensitivity (evalint.honest_did): closed forms, known-truth coverage, input errors.

Peer comparisons (moderndid) are in test_honest_did_peers.py. Here:

* the folded-normal critical value against scipy's ``foldnorm``;
* the FLCI at M = 0 against the closed-form minimum-variance estimator that ignores linear
  trends (a KKT system solved in the test);
* the relative-magnitude conditional interval at Mbar = 0 against the z interval in a case
  where that is its closed form (see the test);
* coverage with known truth (slow): draws of the event-study estimates from N(beta, Sigma) with
  a violation of parallel trends inside the restriction; the 95% interval must cover the true
  effect at >= 95% less three binomial SEs;
* errors for results that are not usable event studies.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evalint
from evalint.errors import SpecificationError
from evalint.sensitivity import EventTimeEstimates, honest_did_estimates
from evalint.sensitivity.arp import MomentProblem
from evalint.sensitivity.flci import folded_normal_quantile


def _sigma(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) * 0.01
    return a @ a.T + np.diag(np.linspace(1e-4, 4e-4, n))


@pytest.fixture(scope="module")
def mpdta_panel(shared_reference):
    path = shared_reference / "mpdta" / "data.csv"
    if not path.is_file():
        pytest.skip("mpdta not available")
    df = pd.read_csv(path)
    return evalint.Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")


def _cs(panel, base="universal"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = evalint.callaway_santanna(panel, base_period=base, calendar=False, inference=evalint.Analytic())
    return evalint.aggregate_att(fit, "dynamic")


@pytest.mark.parametrize("bias", [0.0, 0.3, 1.0, 2.5, 6.0])
def test_folded_normal_quantile_matches_scipy(bias):
    assert folded_normal_quantile(bias, 0.05) == pytest.approx(stats.foldnorm.ppf(0.95, c=bias), abs=1e-9)


@pytest.mark.parametrize("n_pre,n_post,e", [(3, 4, 0), (3, 4, 2), (5, 2, 1)])
def test_flci_at_m0_is_min_variance_trend_adjusted_estimator(n_pre, n_post, e):
    sig = _sigma(n_pre + n_post, seed=n_pre)
    beta = np.random.default_rng(1).normal(size=n_pre + n_post) * 0.02
    est = EventTimeEstimates.from_arrays(beta, sig, n_pre)
    l_vec = np.eye(n_post)[e]
    # KKT: min w'S_pp w + 2 w'S_pq l  s.t. t_pre'w = -t_post'l
    t_pre, t_post = np.arange(-n_pre, 0.0), np.arange(1.0, n_post + 1)
    s_pp, s_pq = sig[:n_pre, :n_pre], sig[:n_pre, n_pre:]
    kkt = np.block([[2 * s_pp, t_pre[:, None]], [t_pre[None, :], np.zeros((1, 1))]])
    w = np.linalg.solve(kkt, np.r_[-2 * s_pq @ l_vec, -(t_post @ l_vec)])[:n_pre]
    v = np.r_[w, l_vec]
    centre, sd = v @ beta, np.sqrt(v @ sig @ v)
    res = honest_did_estimates(est, event_time=e, method="smoothness", M=[0.0], breakdown=False)
    row = res.intervals.iloc[0]
    z = stats.norm.ppf(0.975)
    assert row["lower"] == pytest.approx(centre - z * sd, abs=1e-9)
    assert row["upper"] == pytest.approx(centre + z * sd, abs=1e-9)


def test_relative_magnitude_mbar0_is_the_z_interval_when_moments_are_uncorrelated():
    # Two post-periods, Mbar = 0: the moments on post-periods are +/-(beta_0 - theta) and
    # +/-(beta_1 - tau_1 - beta_0 + theta) with tau_1 free. With Cov(beta_1 - beta_0, beta_0) = 0
    # the second pair never truncates the first, so the conditional test of |beta_0 - theta| is
    # N(0,1) truncated to [0, inf): the z interval beta_0 +/- z_(1-alpha/2) se.
    sig = np.diag([2e-4, 3e-4, 1e-4, 4e-4, 9e-4])
    sig[3, 4] = sig[4, 3] = 4e-4   # Cov(beta_1, beta_0) = Var(beta_0)
    beta = np.array([0.01, -0.02, 0.005, 0.04, 0.03])
    est = EventTimeEstimates.from_arrays(beta, sig, 3)
    res = honest_did_estimates(est, event_time=0, Mbar=[0.0], ci="conditional", breakdown=False)
    z = stats.norm.ppf(0.975)
    se = np.sqrt(sig[3, 3])
    assert res.intervals["lower"].iloc[0] == pytest.approx(0.04 - z * se, abs=1e-8)
    assert res.intervals["upper"].iloc[0] == pytest.approx(0.04 + z * se, abs=1e-8)


def test_vertex_and_lp_paths_agree():
    rng = np.random.default_rng(4)
    m, p = 8, 3
    x = rng.normal(size=(m, p))
    a = rng.normal(size=(m, m))
    prob = MomentProblem(y0=rng.normal(size=m), a=rng.normal(size=m), sigma_y=a @ a.T + np.eye(m), x=x)
    theta = np.linspace(-3, 3, 7)
    y = prob.y0[:, None] - np.outer(prob.a, theta)
    fast = prob.statistic(y)
    prob.vertices = None
    slow = prob.statistic(y)
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f, s, rtol=1e-7, atol=1e-9)


def test_mpdta_result_frame_breakdown_and_plot(mpdta_panel):
    es = _cs(mpdta_panel)
    res = evalint.honest_did(es, event_time=2, Mbar=[0, 0.5, 1])
    frame = res.to_frame()
    assert list(frame.columns) == ["Mbar", "lower", "upper", "method"]
    assert frame["method"].tolist() == ["original", "hybrid", "hybrid", "hybrid"]
    row = es.effects.set_index("rel_time").loc[2.0]
    z = stats.norm.ppf(0.975)
    assert frame.iloc[0][["lower", "upper"]].tolist() == pytest.approx(
        [row["estimate"] - z * row["std_error"], row["estimate"] + z * row["std_error"]], rel=1e-9)
    # the breakdown value: the interval covers 0 there and not just below
    bd = res.breakdown
    assert 0 < bd < 1
    at = evalint.honest_did(es, event_time=2, Mbar=[bd, 0.995 * bd], breakdown=False).intervals
    assert at["lower"].iloc[0] <= 0 <= at["upper"].iloc[0]
    assert not at["lower"].iloc[1] <= 0 <= at["upper"].iloc[1]
    sd = evalint.honest_did(es, event_time=2, method="smoothness", M=[0, 0.01])
    assert list(sd.to_frame().columns) == ["M", "lower", "upper", "method"]
    assert "Breakdown value" in str(sd)
    fig = res.plot()
    assert fig.axes[0].get_xlabel() == "Mbar"


def test_sun_abraham_and_twfe_event_study_are_read(mpdta_panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sa = evalint.sun_abraham(mpdta_panel, calendar=False)
        tw = evalint.event_study(mpdta_panel, leads=3, lags=3, bin_endpoints=False, calendar=False)
    for res in (sa, tw):
        out = evalint.honest_did(res, event_time=1, Mbar=[1.0], breakdown=False)
        est = res.effects.set_index("rel_time").loc[1.0]
        assert out.estimate == pytest.approx(est["estimate"], rel=1e-12)
        assert out.se == pytest.approx(est["std_error"], rel=1e-9)
        assert out.intervals["lower"].iloc[0] < out.original[0]


def test_errors_name_what_is_wrong(mpdta_panel):
    with pytest.raises(SpecificationError, match="base_period='universal'"):
        evalint.honest_did(_cs(mpdta_panel, base="varying"))
    es = _cs(mpdta_panel)
    with pytest.raises(SpecificationError, match="not a post-period event time"):
        evalint.honest_did(es, event_time=7)
    with pytest.raises(SpecificationError, match="M=\\[...\\]"):
        evalint.honest_did(es, method="relative_magnitude", M=[1.0])
    with pytest.raises(SpecificationError, match=">= 0"):
        evalint.honest_did(es, Mbar=[-1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simple = evalint.callaway_santanna(mpdta_panel, calendar=False)
    with pytest.raises(SpecificationError, match="aggregate_att"):
        evalint.honest_did(simple)
    with pytest.raises(SpecificationError, match="n_pre"):
        EventTimeEstimates.from_arrays(np.zeros(3), np.eye(3), 0)


def _coverage(method: str, reps: int, seed: int = 11) -> float:
    n_pre, n_post, e = 3, 4, 2
    sig = _sigma(n_pre + n_post, seed=2)
    t = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)].astype(float)
    if method == "relative_magnitude":
        delta = 0.01 * t      # constant slope: every first difference 0.01, inside Delta^RM(1)
        kw = {"Mbar": [1.0]}
    else:
        delta = 0.01 * t + 0.002 * np.maximum(t, 0) ** 2 / 2   # second differences <= 0.002
        kw = {"M": [0.002]}
    tau = np.r_[np.zeros(n_pre), -0.03 * np.ones(n_post)]
    rng = np.random.default_rng(seed)
    root = np.linalg.cholesky(sig)
    hits = 0
    for _ in range(reps):
        b = tau + delta + root @ rng.standard_normal(n_pre + n_post)
        est = EventTimeEstimates.from_arrays(b, sig, n_pre)
        row = honest_did_estimates(est, event_time=e, method=method, breakdown=False, **kw).intervals.iloc[0]
        hits += row["lower"] <= -0.03 <= row["upper"]
    return hits / reps


@pytest.mark.slow
@pytest.mark.parametrize("method", ["relative_magnitude", "smoothness"])
def test_coverage_with_known_violation(method):
    reps = 400
    cover = _coverage(method, reps)
    assert cover >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps)


# ------------------------------------------------------------------ many pre-periods (speed paths)
def _vertices_brute_force(x: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices of {g >= 0, x'g = 0, sd'g = 1}: every basic feasible solution (small m only)."""
    import itertools

    m, p = x.shape
    eq = np.vstack([x.T, sd[None, :]])
    rhs = np.r_[np.zeros(p), 1.0]
    out = []
    for basis in itertools.combinations(range(m), p + 1):
        sub = eq[:, basis]
        if abs(np.linalg.det(sub)) < 1e-12:
            continue
        g = np.linalg.solve(sub, rhs)
        if np.all(g >= -1e-12):
            full = np.zeros(m)
            full[list(basis)] = g
            out.append(full)
    return np.array(out).reshape(-1, m)


@pytest.mark.parametrize("m,p,seed", [(8, 3, 0), (9, 4, 1), (10, 2, 2), (7, 5, 3)])
def test_extreme_rays_give_every_vertex(m, p, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, m))
    prob = MomentProblem(y0=rng.normal(size=m), a=rng.normal(size=m), sigma_y=a @ a.T + np.eye(m),
                         x=rng.normal(size=(m, p)))
    brute = _vertices_brute_force(prob.x, prob.sd)
    assert prob.vertices is not None
    # same polytope: the same maximum of any linear function (eta) over both vertex lists
    c = rng.normal(size=(m, 200))
    if len(brute):
        np.testing.assert_allclose(prob.vertices @ c, prob.vertices @ c, rtol=0)
        np.testing.assert_allclose((prob.vertices @ c).max(axis=0), (brute @ c).max(axis=0), rtol=1e-10)
        assert len(prob.vertices) == len(np.unique(np.round(brute, 9), axis=0))
    else:
        assert len(prob.vertices) == 0


def test_relative_magnitude_28_pre_periods_vertex_and_lp_paths_agree():
    # 28 pre-periods and 12 post-periods: 24 moments with an 11-dimensional nuisance, where
    # listing bases (C(24, 12) = 2.7 million) is out of reach; the vertices from the extreme rays
    # give the same statistic and truncation as the linear programs.
    from evalint.sensitivity.restrictions import moment_problem, relative_magnitude_polyhedron

    n_pre, n_post = 28, 12
    sig = _sigma(n_pre + n_post, seed=5)
    beta = np.random.default_rng(5).normal(size=n_pre + n_post) * 0.02
    l_vec = np.full(n_post, 1 / n_post)
    for s, positive in [(0, True), (27, False), (13, True)]:
        a = relative_magnitude_polyhedron(n_pre, n_post, 1.3, s, positive)
        prob = moment_problem(beta, sig, n_pre, l_vec, a, np.zeros(len(a)))
        assert prob.vertices is not None
        y = prob.y0[:, None] - np.outer(prob.a, np.linspace(-0.2, 0.2, 5))
        fast = prob.statistic(y)
        prob.vertices = None
        slow = prob.statistic(y)
        for f, s_ in zip(fast, slow):
            np.testing.assert_allclose(f, s_, rtol=1e-7, atol=1e-9)


def test_relative_magnitude_mbar0_z_interval_with_28_pre_periods():
    # the closed form of test_relative_magnitude_mbar0_is_the_z_interval_... with 28 pre-periods
    # (56 pieces of Delta^RM; at Mbar = 0 each gives the z interval) and the breakdown value
    n_pre = 28
    sig = np.diag(np.r_[np.linspace(1e-4, 3e-4, n_pre), 4e-4, 9e-4])
    sig[n_pre, n_pre + 1] = sig[n_pre + 1, n_pre] = 4e-4
    beta = np.r_[np.random.default_rng(3).normal(size=n_pre) * 0.01, 0.04, 0.03]
    est = EventTimeEstimates.from_arrays(beta, sig, n_pre)
    res = honest_did_estimates(est, event_time=0, Mbar=[0.0, 1.0], ci="conditional")
    z = stats.norm.ppf(0.975)
    se = np.sqrt(sig[n_pre, n_pre])
    assert res.intervals["lower"].iloc[0] == pytest.approx(0.04 - z * se, abs=1e-8)
    assert res.intervals["upper"].iloc[0] == pytest.approx(0.04 + z * se, abs=1e-8)
    bd = res.breakdown
    at = honest_did_estimates(est, event_time=0, Mbar=[bd, 0.999 * bd], ci="conditional",
                              breakdown=False).intervals
    assert at["lower"].iloc[0] <= 0 <= at["upper"].iloc[0]
    assert not at["lower"].iloc[1] <= 0 <= at["upper"].iloc[1]


def _half_length_brute_force(sig, n_pre, l_vec, m, alpha=0.05, n=161):
    """Smallest FLCI half-length over a dense grid of the free weights (n_pre = 3: two of them)."""
    from evalint.sensitivity.flci import _trend_and_kernel

    n_post = len(l_vec)
    t, k = _trend_and_kernel(n_pre, n_post)
    t_pre, t_post = t[:n_pre], t[n_pre:]
    w0 = -t_pre * (t_post @ l_vec) / (t_pre @ t_pre)
    null = np.linalg.svd(t_pre[None, :])[2][1:].T
    best, centre, width = np.inf, np.zeros(2), 4.0
    for _ in range(6):                       # zoom in on the grid minimum
        g1, g2 = np.meshgrid(*(centre[i] + np.linspace(-width, width, n) for i in range(2)), indexing="ij")
        z = np.stack([g1.ravel(), g2.ravel()], axis=1)
        v = np.r_[w0, l_vec][None, :] + np.hstack([z @ null.T, np.zeros((len(z), n_post))])
        sd = np.sqrt(np.einsum("ij,jk,ik->i", v, sig, v))
        b = m * np.abs(v @ k).sum(axis=1) / sd
        lo, hi = np.zeros_like(b), b + 5.0   # folded normal quantile by vectorised bisection
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            low = stats.norm.cdf(mid - b) - stats.norm.cdf(-mid - b) < 1 - alpha
            lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
        half = sd * hi
        i = int(np.argmin(half))
        best, centre, width = min(best, half[i]), z[i], width * 4 / (n - 1)
    return best


@pytest.mark.parametrize("m,e", [(0.002, 0), (0.01, 2), (0.05, 1)])
def test_flci_half_length_is_the_brute_force_minimum(m, e):
    n_pre, n_post = 3, 3
    sig = _sigma(n_pre + n_post, seed=7)
    est = EventTimeEstimates.from_arrays(np.zeros(n_pre + n_post), sig, n_pre)
    row = honest_did_estimates(est, event_time=e, method="smoothness", M=[m], breakdown=False).intervals.iloc[0]
    brute = _half_length_brute_force(sig, n_pre, np.eye(n_post)[e], m)
    half = 0.5 * (row["upper"] - row["lower"])
    assert half <= brute * (1 + 1e-9)
    assert half == pytest.approx(brute, rel=1e-6)


def test_flci_28_pre_periods_closed_form_and_local_optimum():
    from evalint.sensitivity.flci import flci_smoothness

    n_pre, n_post, e = 28, 4, 1
    sig = _sigma(n_pre + n_post, seed=8)
    beta = np.random.default_rng(2).normal(size=n_pre + n_post) * 0.02
    l_vec = np.eye(n_post)[e]
    # M = 0: the minimum-variance trend-adjusted estimator (KKT system, as above)
    t_pre, t_post = np.arange(-n_pre, 0.0), np.arange(1.0, n_post + 1)
    s_pp, s_pq = sig[:n_pre, :n_pre], sig[:n_pre, n_pre:]
    kkt = np.block([[2 * s_pp, t_pre[:, None]], [t_pre[None, :], np.zeros((1, 1))]])
    w = np.linalg.solve(kkt, np.r_[-2 * s_pq @ l_vec, -(t_post @ l_vec)])[:n_pre]
    v = np.r_[w, l_vec]
    est = EventTimeEstimates.from_arrays(beta, sig, n_pre)
    res = honest_did_estimates(est, event_time=e, method="smoothness", M=[0.0, 0.004])
    z = stats.norm.ppf(0.975)
    assert res.intervals["lower"].iloc[0] == pytest.approx(v @ beta - z * np.sqrt(v @ sig @ v), abs=1e-9)
    # M > 0: no trend-free perturbation of the weights shortens the interval (convex problem)
    f = flci_smoothness(beta, sig, n_pre, l_vec, 0.004)
    assert f.half_length == pytest.approx(0.5 * (res.intervals["upper"].iloc[1] - res.intervals["lower"].iloc[1]))
    from evalint.sensitivity.flci import _trend_and_kernel, folded_normal_quantile

    _, k = _trend_and_kernel(n_pre, n_post)
    null = np.linalg.svd(t_pre[None, :])[2][1:].T
    rng = np.random.default_rng(0)

    def half(vv):
        sd = np.sqrt(vv @ sig @ vv)
        return sd * folded_normal_quantile(0.004 * np.abs(k.T @ vv).sum() / sd, 0.05)

    assert half(f.weights) == pytest.approx(f.half_length, rel=1e-12)
    for step in (1e-2, 1e-4):
        for _ in range(30):
            d = null @ rng.normal(size=n_pre - 1)
            d = np.r_[d / np.linalg.norm(d), np.zeros(n_post)] * step
            assert half(f.weights + d) >= f.half_length * (1 - 1e-10)


def test_no_nuisance_problems_of_different_sizes_keep_their_own_vertices():
    # one post-period: no nuisance columns; the vertices are e_i / sd_i for each problem's own m
    for m in (3, 5, 3):
        sd = np.linspace(1.0, 2.0, m)
        prob = MomentProblem(y0=np.zeros(m), a=np.ones(m), sigma_y=np.diag(sd ** 2), x=np.zeros((m, 0)))
        np.testing.assert_allclose(np.sort(prob.vertices.max(axis=1)), np.sort(1 / sd))
