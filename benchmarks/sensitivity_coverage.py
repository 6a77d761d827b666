"""Coverage of HonestDiD intervals and accuracy of pre-trend power on an NHS-shaped event study.

The event-study covariance comes from one simulated NHS panel (evalint.simulate_nhs: 42 ICBs
nested in their regions, ICS designation waves, monthly seasonality, AR(1) noise, negative-
binomial admissions; outcome log admissions per 1,000; Callaway-Sant'Anna not-yet-treated,
universal base period, event times -6..5). Each replication draws the event-study estimates
from N(tau + delta, Sigma) with a known effect tau (-0.05 from e = 0) and a known violation
delta of parallel trends, then computes the default intervals:

* relative magnitudes, hybrid interval, Mbar = 1, at event time 3;
* smoothness, FLCI, M = the largest second difference of delta, at event time 3;

and records whether each covers the true tau_e and its length. Scenarios: parallel trends
(delta = 0), a linear violation (slope 0.5 x the SE of beta_0 per month: inside Delta^RM(1) and
Delta^SD(0)), and a violation whose slope changes after treatment (inside Delta^RM(1) and
Delta^SD(M) for M = its largest second difference).
The normal approximation of the C-S estimates themselves is checked in did_coverage.py.

Also: the empirical rejection rate of the joint Wald pre-test at the slope that
evalint.pretrend_power reports for 50% and 80% power.

    nice -n 10 python benchmarks/sensitivity_coverage.py --reps 500 > benchmarks/sensitivity_coverage.out
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import evalint
from evalint.sensitivity import EventTimeEstimates, event_time_estimates, honest_did_estimates

HETERO = {"emergency_admissions": {"by_cohort": {"2017-06": -0.12, "2018-05": -0.10, "2019-06": -0.08,
                                                 "2020-05": -0.06, "2020-12": -0.04, "2021-04": -0.04},
                                   "ramp": 12}}


def nhs_sigma() -> EventTimeEstimates:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = evalint.simulate_nhs(seed=5, adoption="ics_waves", effects=HETERO, covid=False)
        d = sim.data.assign(log_rate=np.log(sim.data["emergency_admissions"] / sim.data["population"] * 1000))
        p = evalint.Panel.from_frame(d[["icb_code", "month", "log_rate", "cohort"]], unit="icb_code",
                                     time="month", outcome="log_rate", cohort="cohort")
        fit = evalint.callaway_santanna(p, base_period="universal", control="not_yet_treated", calendar=False,
                                        inference=evalint.Analytic())
    return event_time_estimates(evalint.aggregate_att(fit, "dynamic", min_e=-6, max_e=5))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    base = nhs_sigma()
    sig, n_pre, n_post = base.sigma, base.n_pre, base.n_post
    t = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)].astype(float)   # 0 = reference e = -1
    se0 = float(np.sqrt(sig[n_pre, n_pre]))
    slope = 0.5 * se0
    bend = np.where(t > 0, slope * t + 0.25 * slope * t * (t - 1) / 2, slope * t)   # post slope grows
    scenarios = {"parallel trends": np.zeros_like(t), "linear violation": slope * t, "bending violation": bend}
    tau = np.r_[np.zeros(n_pre), np.full(n_post, -0.05)]
    root = np.linalg.cholesky(sig)
    rng = np.random.default_rng(args.seed)
    rows = []
    start = time.time()
    for name, delta in scenarios.items():
        d2 = np.abs(np.diff(np.r_[delta[:n_pre], 0.0, delta[n_pre:]], 2)).max()
        for r in range(args.reps):
            b = tau + delta + root @ rng.standard_normal(n_pre + n_post)
            est = EventTimeEstimates.from_arrays(b, sig, n_pre)
            for e in (3,):
                rm = honest_did_estimates(est, event_time=e, Mbar=[1.0], breakdown=False).intervals.iloc[0]
                sd = honest_did_estimates(est, event_time=e, method="smoothness", M=[d2],
                                          breakdown=False).intervals.iloc[0]
                for label, row in (("RM hybrid, Mbar=1", rm), (f"SD FLCI, M={d2:.2g}", sd)):
                    rows.append({"scenario": name, "event_time": e, "interval": label,
                                 "covers": row["lower"] <= -0.05 <= row["upper"],
                                 "length": row["upper"] - row["lower"]})
        print(f"{name}: done at {time.time() - start:.0f} s", flush=True)
    out = pd.DataFrame(rows).groupby(["scenario", "event_time", "interval"]).agg(
        coverage=("covers", "mean"), mean_length=("length", "mean"), reps=("covers", "size")).reset_index()
    band = 3 * np.sqrt(0.95 * 0.05 / args.reps)
    print(f"\nSE(beta_0) = {se0:.4f}; slope = {slope:.4f}/month; 99.7% band around 0.95: +/- {band:.3f}")
    print(out.to_markdown(index=False, floatfmt=".3f"))

    # pre-test power at the reported 50% / 80% slopes (joint Wald test), by simulation
    table = evalint.pretrend_power(base, test="wald", event_time=3)
    s_pp = sig[:n_pre, :n_pre]
    inv = np.linalg.inv(s_pp)
    crit = stats.chi2.ppf(0.95, n_pre)
    n = 20 * args.reps
    lines = []
    for _, row in table.iterrows():
        x = (np.linalg.cholesky(s_pp) @ rng.standard_normal((n_pre, n))).T + row["slope"] * (t[:n_pre])
        rate = float(np.mean(np.einsum("ij,jk,ik->i", x, inv, x) > crit))
        lines.append({"row": row["row"], "slope": row["slope"], "reported power": row["power"],
                      "simulated rejection": rate, "draws": n,
                      "bias at e=3 if passed": row["bias_if_passed"], "bias at e=3": row["bias"]})
    print()
    print(pd.DataFrame(lines).to_markdown(index=False, floatfmt=".4f"))
    print(f"\nload average {open('/proc/loadavg').read().split()[:3]}, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
