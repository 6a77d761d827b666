"""Monte Carlo coverage of evalint's ITS confidence intervals (500 replications by default).

Generative model: ``evalint.datasets.simulate_series`` (one national monthly series, April 2016 to
March 2025, 108 months) with ``covid=False``, no shocks, ``days_in_month=False`` and an immediate
intervention in April 2021 (60 pre, 48 post months). Under that model (see its docstring):

* emergency admissions are NB2 counts (alpha 0.0009) around
  ``log mu_t = log P_t + a + b t + A cos(2 pi (m_t - 1)/12) + log(1 - 0.05) 1{t >= T0}``:
  a quasi-Poisson (and an NB2) GLM with a trend, one Fourier pair, a step and offset
  log(population) is correctly specified; the true rate ratio is 0.95;
* length of stay is ``L + b t + S(m_t) - 0.3 1{t >= T0} + e_t`` with stationary Gaussian AR(1)
  errors (rho 0.3): GLS with AR(1) errors and the same design is correctly specified; the true
  level change is -0.3 days.

Also reported, for information: OLS with Newey-West SEs (default lag rule) on the same length-of-stay
series, whose small-sample under-coverage is a known property of kernel HAC estimators.

For each replication the 95% CI of the level change (and, for the count model, of the cumulative
effect over the post window, whose truth is ``sum(expected_with - expected_without)``) is checked
against the truth. Usage::

    python benchmarks/its_coverage.py [--reps 500] [--seed 20261124]

Prints one line per model: coverage, its Monte Carlo standard error and the mean estimate.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

TRUE_RR = 0.95
TRUE_LOS = -0.3
START_POST = "2021-04"


def simulate(seed: int):
    from evalint.datasets import simulate_series

    return simulate_series(seed=seed, intervention=START_POST, covid=False, days_in_month=False,
                           effects={"emergency_admissions": TRUE_RR - 1, "length_of_stay": TRUE_LOS,
                                    "delayed_discharges": 0.0})


def one_replication(seed: int) -> dict[str, float]:
    from evalint.estimators.its import CountITS, SegmentedRegression
    from evalint.inference import Analytic, ARErrors, NeweyWest

    sim = simulate(seed)
    panel = sim.panel
    out: dict[str, float] = {}
    design = {"interventions": START_POST, "impact": "step", "seasonality": "fourier", "harmonics": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in ("quasi_poisson", "negative_binomial"):
            r = CountITS(model=model, **design).fit(panel, outcome="emergency_admissions", calendar=False,
                                                  inference=Analytic())
            out[f"{model}_est"] = r.estimate
            out[f"{model}_cover"] = float(r.ci[0] <= TRUE_RR <= r.ci[1])
            if model == "quasi_poisson":
                tr = sim.truth
                tr = tr[(tr["outcome"] == "emergency_admissions")]
                true_cum = float(tr["effect"].sum())
                c = r.tables["cumulative"].iloc[0]
                out["cumulative_cover"] = float(c["conf_low"] <= true_cum <= c["conf_high"])
        r = SegmentedRegression(**design).fit(panel, outcome="length_of_stay", calendar=False,
                                              inference=ARErrors(order=1))
        out["gls_ar1_est"] = r.estimate
        out["gls_ar1_cover"] = float(r.ci[0] <= TRUE_LOS <= r.ci[1])
        r = SegmentedRegression(**design).fit(panel, outcome="length_of_stay", calendar=False,
                                              inference=NeweyWest())
        out["ols_newey_west_est"] = r.estimate
        out["ols_newey_west_cover"] = float(r.ci[0] <= TRUE_LOS <= r.ci[1])
    return out


def run(reps: int, seed: int) -> dict[str, tuple[float, float, float]]:
    rows = [one_replication(int(s)) for s in np.random.SeedSequence(seed).generate_state(reps)]
    res = {}
    for name in ("quasi_poisson", "negative_binomial", "gls_ar1", "ols_newey_west"):
        cov = np.array([r[f"{name}_cover"] for r in rows])
        est = np.array([r[f"{name}_est"] for r in rows])
        res[name] = (float(cov.mean()), float(np.sqrt(cov.mean() * (1 - cov.mean()) / reps)), float(est.mean()))
    cum = np.array([r["cumulative_cover"] for r in rows])
    res["quasi_poisson_cumulative"] = (float(cum.mean()), float(np.sqrt(cum.mean() * (1 - cum.mean()) / reps)),
                                       float("nan"))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run(args.reps, args.seed)
    dt = time.perf_counter() - t0
    truth = {"quasi_poisson": TRUE_RR, "negative_binomial": TRUE_RR, "gls_ar1": TRUE_LOS,
             "ols_newey_west": TRUE_LOS}
    print(f"ITS 95% CI coverage, {args.reps} replications (seed {args.seed}), {dt:.1f} s")
    for name, (cov, se, mean) in res.items():
        t = truth.get(name)
        extra = f"; mean estimate {mean:.4f} (truth {t})" if t is not None else " (cumulative effect over 48 months)"
        print(f"  {name:26s} coverage {cov:.3f} (MC s.e. {se:.3f}){extra}")
    print("  (ols_newey_west is informational: Bartlett-kernel HAC with the fixed lag rule is known to\n"
          "   under-cover in series of ~100 points with persistent regressors; see methods/its.md)")


if __name__ == "__main__":
    main()
