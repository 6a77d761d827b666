"""Pre-trend power (Roth 2022): evalint.pretrend_power.

* Against diff-diff's PreTrendsPower (the `peers` extra) on the same pre-period covariance:
  power of the Wald pre-test (closed form in both: 1e-10) and of the NIS pre-test (rectangle
  probabilities of the multivariate normal by Genz's algorithm in both, absolute error
  tolerance 1e-6 each: compared to 1e-5).
* With known truth: event-study estimates drawn in the test from N(delta, Sigma), delta a linear
  violation of the reported slope. The empirical rejection rate of the pre-test (computed here)
  is within 3.5 binomial SEs of the reported power, at the reported 50%/80%-power slopes too,
  and the mean error of the estimate among draws that pass is within 3.5 Monte Carlo SEs of
  the reported bias conditional on passing.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import evalint
from evalint.errors import SpecificationError
from evalint.sensitivity import EventTimeEstimates, pretest_power

N_PRE, N_POST = 4, 3


def _est(seed: int = 0) -> EventTimeEstimates:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(N_PRE + N_POST, N_PRE + N_POST)) * 0.01
    sig = a @ a.T + np.diag(np.linspace(1e-4, 3e-4, N_PRE + N_POST))
    return EventTimeEstimates.from_arrays(rng.normal(size=N_PRE + N_POST) * 0.01, sig, N_PRE)


@pytest.mark.peers
@pytest.mark.parametrize("test", ["wald", "nis"])
def test_power_matches_diff_diff(test):
    pre = pytest.importorskip("diff_diff.pretrends")
    est = _est(1)
    s_pp = est.sigma[:N_PRE, :N_PRE]
    w = est.pre_times + 1.0
    peer = pre.PreTrendsPower(pretest_form=test)
    for slope in (0.002, 0.01, 0.03):
        ours = pretest_power(slope * w, s_pp, 0.05, test)
        theirs = (peer._compute_power_wald if test == "wald" else peer._compute_power_nis)(slope, w, s_pp)[0]
        assert ours == pytest.approx(theirs, abs=1e-10 if test == "wald" else 1e-5)


@pytest.mark.parametrize("test", ["wald", "nis"])
def test_power_and_conditional_bias_by_simulation(test):
    est = _est(2)
    e = 1
    table = evalint.pretrend_power(est, slope=[0.004, 0.012], test=test, event_time=e, draws=50_000, seed=3)
    assert table["row"].tolist() == ["slope", "slope", "50% power", "80% power"]
    rng = np.random.default_rng(12345)
    n = 40_000
    root = np.linalg.cholesky(est.sigma)
    t_all = np.r_[est.pre_times, est.post_times] + 1.0
    z = stats.norm.ppf(0.975)
    se_pre = np.sqrt(np.diag(est.sigma)[:N_PRE])
    inv = np.linalg.inv(est.sigma[:N_PRE, :N_PRE])
    j = N_PRE + e
    for _, row in table.iterrows():
        delta = row["slope"] * t_all
        err = (root @ rng.standard_normal((N_PRE + N_POST, n))).T        # beta_hat - beta, tau = 0
        x = err + delta
        pre = x[:, :N_PRE]
        if test == "wald":
            reject = np.einsum("ij,jk,ik->i", pre, inv, pre) > stats.chi2.ppf(0.95, N_PRE)
        else:
            reject = np.any(np.abs(pre) > z * se_pre, axis=1)
        p = row["power"]
        assert abs(reject.mean() - p) <= 3.5 * np.sqrt(p * (1 - p) / n)
        passed = x[~reject, j]
        mc = np.sqrt(passed.var(ddof=1) / len(passed) + row["bias_if_passed_mc_se"] ** 2)
        assert abs(passed.mean() - row["bias_if_passed"]) <= 3.5 * mc
        assert row["bias"] == pytest.approx(row["slope"] * (e + 1))
    assert table.loc[2, "power"] == pytest.approx(0.5, abs=1e-5)
    assert table.loc[3, "power"] == pytest.approx(0.8, abs=1e-5)


def test_errors():
    est = _est(0)
    with pytest.raises(SpecificationError, match="post-period event time"):
        evalint.pretrend_power(est, slope=0.01, event_time=-2)
    with pytest.raises(SpecificationError, match="power levels"):
        evalint.pretrend_power(est, power=(0.01,))
    with pytest.raises(SpecificationError, match="test"):
        evalint.pretrend_power(est, test="f")
