"""HonestDiD intervals against moderndid (the `peers` extra) on the same betahat and Sigma.

Two event studies: mpdta (Callaway-Sant'Anna dynamic, universal base period) and a simulated
staggered NHS panel (42 ICBs, ICS designation waves, monthly log admission rate, C-S
not-yet-treated, event times -7..5). Both packages get the same estimates and covariance
(read from evalint's result), and:

* relative magnitudes, conditional ARP intervals: moderndid inverts the test on a grid and
  reports the smallest and largest accepted grid points; evalint refines each end point by
  bisection. The tolerance is therefore the peer's grid step (its precision): moderndid's
  lower end is at most one step inside evalint's, and never outside (same for the upper).
  moderndid 0.2.0 leaves out the oldest pre-period first difference when it takes the union
  over which pre-period change is the largest (its ``s`` runs over ``-(T_pre - 1)..-1`` with
  0-based slicing, so the difference between the first two pre-periods is never used; the
  paper's Delta^RM and the R package use all ``T_pre`` differences). The comparison therefore
  runs evalint on the same union (``_pre_differences``); the public function uses all of them.
* smoothness, FLCI: moderndid minimises the half-length over a 100-point grid of the SD bound
  with a conic solver; evalint refines the same frontier continuously. For M > 0 the intervals
  half-lengths agree to 1e-6 of the SE and the centres to 1e-3 of the SE (the half-length is
  flat at its minimum, so the weights, hence the centre, are less precise than the length; the
  solvers differ at ~1e-5 SE). At M = 0 the interval is the
  minimum-variance linear-trend-adjusted estimator +/- z se, checked in closed form in
  test_honest_did.py; here within 1e-2 SE of moderndid (whose weights are found numerically).
* hybrid (conditional / least-favourable) intervals depend on 1000 simulated least-favourable
  draws in each package (different generators): slow test, tolerance one grid step plus 0.1 SE.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.sensitivity import event_time_estimates, honest_did_estimates

pytestmark = pytest.mark.peers

HETERO = {"emergency_admissions": {"by_cohort": {"2017-06": -0.12, "2018-05": -0.10, "2019-06": -0.08,
                                                 "2020-05": -0.06, "2020-12": -0.04, "2021-04": -0.04},
                                   "ramp": 12}}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def studies(shared_reference):
    out = {}
    path = shared_reference / "mpdta" / "data.csv"
    if path.is_file():
        df = pd.read_csv(path)
        p = evalint.Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
        r = _quiet(evalint.callaway_santanna, p, base_period="universal", calendar=False,
                   inference=evalint.Analytic())
        out["mpdta"] = event_time_estimates(evalint.aggregate_att(r, "dynamic"))
    sim = _quiet(evalint.simulate_nhs, seed=5, adoption="ics_waves", effects=HETERO, covid=False)
    d = sim.data.assign(log_rate=np.log(sim.data["emergency_admissions"] / sim.data["population"] * 1000))
    p = evalint.Panel.from_frame(d[["icb_code", "month", "log_rate", "cohort"]], unit="icb_code", time="month",
                                 outcome="log_rate", cohort="cohort")
    r = _quiet(evalint.callaway_santanna, p, base_period="universal", control="not_yet_treated", calendar=False,
               inference=evalint.Analytic())
    out["nhs"] = event_time_estimates(evalint.aggregate_att(r, "dynamic", min_e=-7, max_e=5))
    return out


def _peer_rm(est, l_vec, mbar, lo, hi, points, hybrid):
    hd = pytest.importorskip("moderndid.didhonest")
    res = _quiet(hd.compute_conditional_cs_rm, est.betahat, est.sigma, est.n_pre, est.n_post, l_vec=l_vec,
                 m_bar=mbar, hybrid_flag=hybrid, grid_points=points, grid_lb=lo, grid_ub=hi, seed=0)
    grid, acc = np.asarray(res["grid"]), np.asarray(res["accept"]).astype(bool)
    assert acc.any() and not acc[0] and not acc[-1], "peer grid does not bracket the interval"
    return grid[acc].min(), grid[acc].max(), grid[1] - grid[0]


@pytest.mark.parametrize("study,event_time,mbar", [
    ("mpdta", 2, 1.0), ("nhs", 3, 0.5),
    pytest.param("mpdta", 0, 0.5, marks=pytest.mark.slow), pytest.param("nhs", 0, 1.0, marks=pytest.mark.slow)])
def test_relative_magnitude_conditional_matches_moderndid(studies, study, event_time, mbar):
    if study not in studies:
        pytest.skip(f"{study} not available")
    est = studies[study]
    pre_diffs = list(range(1, est.n_pre))  # moderndid's union (see the module docstring)
    ours = honest_did_estimates(est, event_time=event_time, Mbar=[mbar], ci="conditional",
                                _pre_differences=pre_diffs, breakdown=False).intervals.iloc[0]
    w = ours["upper"] - ours["lower"]
    l_vec = (est.post_times == event_time).astype(float)
    lb, ub, step = _peer_rm(est, l_vec, mbar, ours["lower"] - 0.2 * w, ours["upper"] + 0.2 * w, 101, "ARP")
    assert ours["lower"] - 1e-9 <= lb <= ours["lower"] + step + 1e-9
    assert ours["upper"] - step - 1e-9 <= ub <= ours["upper"] + 1e-9


@pytest.mark.parametrize("study,event_time,m_rel", [("mpdta", 0, 0.25), ("mpdta", 2, 1.0), ("nhs", 3, 0.25)])
def test_smoothness_flci_matches_moderndid(studies, study, event_time, m_rel):
    hd = pytest.importorskip("moderndid.didhonest")
    if study not in studies:
        pytest.skip(f"{study} not available")
    est = studies[study]
    l_vec = (est.post_times == event_time).astype(float)
    se = float(np.sqrt(l_vec @ est.sigma[est.n_pre:, est.n_pre:] @ l_vec))
    m = m_rel * se
    ours = honest_did_estimates(est, event_time=event_time, method="smoothness", M=[0.0, m], breakdown=False).intervals
    peer = _quiet(hd.compute_flci, est.betahat, est.sigma, m, est.n_pre, est.n_post, post_period_weights=l_vec)
    half, centre = (ours["upper"] - ours["lower"]) / 2, (ours["upper"] + ours["lower"]) / 2
    peer_half, peer_centre = (peer.flci[1] - peer.flci[0]) / 2, (peer.flci[1] + peer.flci[0]) / 2
    assert abs(half.iloc[1] - peer_half) <= 1e-6 * se
    assert abs(centre.iloc[1] - peer_centre) <= 1e-3 * se
    peer0 = _quiet(hd.compute_flci, est.betahat, est.sigma, 0.0, est.n_pre, est.n_post, post_period_weights=l_vec)
    np.testing.assert_allclose([ours["lower"].iloc[0], ours["upper"].iloc[0]], peer0.flci, atol=1e-2 * se, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("study,event_time,mbar", [("mpdta", 0, 1.0), ("nhs", 3, 0.5)])
def test_relative_magnitude_hybrid_matches_moderndid(studies, study, event_time, mbar):
    if study not in studies:
        pytest.skip(f"{study} not available")
    est = studies[study]
    ours = honest_did_estimates(est, event_time=event_time, Mbar=[mbar], ci="hybrid",
                                _pre_differences=list(range(1, est.n_pre)), breakdown=False).intervals.iloc[0]
    w = ours["upper"] - ours["lower"]
    l_vec = (est.post_times == event_time).astype(float)
    se = float(np.sqrt(l_vec @ est.sigma[est.n_pre:, est.n_pre:] @ l_vec))
    lb, ub, step = _peer_rm(est, l_vec, mbar, ours["lower"] - 0.2 * w, ours["upper"] + 0.2 * w, 151, "LF")
    assert abs(lb - ours["lower"]) <= step + 0.1 * se
    assert abs(ub - ours["upper"]) <= step + 0.1 * se
