"""Coverage and bias of the staggered-adoption DiD estimators on simulated ICB panels.

Data: :func:`evalint.simulate_nhs` with the ``ics_waves`` adoption preset (42 ICBs, six
designation waves June 2017 - April 2021, every ICB eventually treated), April 2016 - March
2025, negative-binomial emergency admissions with COVID. The outcome is the log admission rate
per 1,000 population: the expected counts are multiplicative in unit and month, so parallel
trends hold exactly on this scale and the true effect of a cell is ``log(1 + tau_it)``, with
``tau_it`` the relative effect given to the simulator (taken here from ``sim.truth`` as
``log(expected_with / expected_without)``, never from an estimator).

Three scenarios per replication (seeds ``seed0 + r``):

* **heterogeneous** - effects differ by wave (-12% for the 2017 wave down to -4% for the 2020
  waves) and build up linearly over 36 months. Callaway-Sant'Anna (not-yet-treated comparison,
  the only one available, simple aggregation, multiplier bootstrap 999 draws) against the true
  ATT over the cells it identifies (cohorts before the last wave, months before April 2021).
  TWFE against the true ATT over all treated cells and against the closed-form TWFE estimand
  ``sum_{D=1} Dtilde_it theta_it / sum_{D=1} Dtilde_it`` (Dtilde = D two-way demeaned;
  de Chaisemartin & D'Haultfoeuille 2020), the value theory says TWFE converges to.
* **constant** - a constant -6% effect from adoption (TWFE correctly specified). TWFE with the
  restricted wild cluster bootstrap (Webb weights, 999 draws, clustered by ICB) against
  ``log(0.94)``; CS against the same constant.
* **random waves** - the heterogeneous effects, but each ICB's wave drawn at random (1/6 each,
  redrawn until every wave has at least 2 ICBs). This is the sampling model behind CS's
  variance, whose influence function includes the estimation of the cohort shares (R ``did``'s
  ``wif``): CS is judged against the population ATT (a closed form of the effect
  specification, :func:`population_truth`) and, for contrast, the realised sample ATT. With
  the fixed ICS assignment the share term has no sampling counterpart, so the CS interval is
  conservative for the sample ATT (first scenario).

Coverage = share of replications whose 95% interval contains the truth; its Monte Carlo SE is
sqrt(p(1-p)/R). Bias = mean(estimate - truth) with its Monte Carlo SE.

Usage::

    python benchmarks/did_coverage.py                # 500 replications
    python benchmarks/did_coverage.py --reps 100 --json out.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small dense algebra: threads only add overhead on a shared machine

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import evalint

RAMP = 36
HETERO = {"emergency_admissions": {"by_cohort": {"2017-06": -0.12, "2018-05": -0.10, "2019-06": -0.08,
                                                 "2020-05": -0.06, "2020-12": -0.04, "2021-04": -0.04},
                                   "ramp": RAMP}}
CONSTANT = {"emergency_admissions": -0.06}
WAVES = ("2017-06", "2018-05", "2019-06", "2020-05", "2020-12", "2021-04")


def population_truth() -> float:
    """Random-waves scenario: the superpopulation simple ATT that a not-yet-treated CS targets.

    Each ICB's wave is drawn with probability 1/6, so every wave before the last has the same
    expected share and the target is the plain mean of the cell effects log(1 + level_g *
    min(1, (e + 1) / RAMP)) over waves g before the last and months g <= t < last wave."""
    levels = HETERO["emergency_admissions"]["by_cohort"]
    months = pd.period_range("2016-04", "2025-03", freq="M")
    last = pd.Period(WAVES[-1], "M")
    vals = []
    for w in WAVES[:-1]:
        g = pd.Period(w, "M")
        e = np.array([(m - g).n for m in months if g <= m < last])
        vals.append(np.log1p(levels[w] * np.minimum(1.0, (e + 1) / RAMP)))
    return float(np.concatenate(vals).mean())


def random_waves(seed: int, codes: list[str]) -> dict[str, str]:
    """Each ICB's wave drawn with probability 1/6, redrawn until every wave has >= 2 ICBs."""
    rng = np.random.default_rng([seed, 77])
    while True:
        draw = rng.choice(WAVES, size=len(codes))
        if min(np.sum(draw == w) for w in WAVES) >= 2:
            return dict(zip(codes, draw))


def simulate(seed: int, effects: dict, adoption: object = "ics_waves") -> tuple[evalint.SimulatedPanel, pd.DataFrame]:
    sim = evalint.simulate_nhs(seed=seed, adoption=adoption, effects=effects)
    data = sim.data.assign(log_rate=lambda f: np.log(f["emergency_admissions"] / f["population"] * 1000))
    return sim, data


def panels(data: pd.DataFrame) -> tuple[evalint.Panel, evalint.Panel]:
    cols = ["icb_code", "month", "log_rate"]
    cs = evalint.Panel.from_frame(data[cols + ["cohort"]], unit="icb_code", time="month", outcome="log_rate",
                                  cohort="cohort")
    tw = evalint.Panel.from_frame(data[cols + ["treated"]], unit="icb_code", time="month", outcome="log_rate",
                                  treatment="treated")
    return cs, tw


def true_effects(sim: evalint.SimulatedPanel) -> pd.DataFrame:
    """Treated cells with the true effect on the log scale, log(expected_with / expected_without)."""
    t = sim.true_effects("emergency_admissions")
    return t.assign(theta=np.log(t["expected_with"] / t["expected_without"]))


def cs_truth(sim: evalint.SimulatedPanel) -> float:
    """True simple ATT over the cells a not-yet-treated CS identifies: every cohort but the last,
    months before the last cohort starts (each treated unit-month weighs the same)."""
    t = true_effects(sim)
    last = t["cohort"].max()
    keep = (t["cohort"] < last) & (t["month"] < last)
    return float(t.loc[keep, "theta"].mean())


def twfe_truths(sim: evalint.SimulatedPanel, data: pd.DataFrame) -> tuple[float, float]:
    """(true ATT over all treated cells, closed-form TWFE estimand) on the log scale."""
    t = true_effects(sim)
    d = data.pivot(index="icb_code", columns="month", values="treated").to_numpy(float)
    dt = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    theta = (t.pivot(index="unit", columns="month", values="theta")
             .reindex(index=sorted(data["icb_code"].unique()), columns=sorted(data["month"].unique()))
             .fillna(0.0).to_numpy())
    treated = d == 1
    return float(theta[treated].mean()), float((dt * theta)[treated].sum() / dt[treated].sum())


POP_TRUTH = population_truth()


def replicate(seed: int, reps_boot: int = 999) -> dict[str, float]:
    out: dict[str, float] = {"seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # heterogeneous, dynamic effects
        sim, data = simulate(seed, HETERO)
        cs_p, tw_p = panels(data)
        cs = evalint.callaway_santanna(cs_p, control="not_yet_treated", calendar=False,
                                       inference=evalint.MultiplierBootstrap(reps=reps_boot, seed=seed))
        tw = evalint.twfe(tw_p, calendar=False, inference=evalint.Clustered(by="icb_code"))
        att_all, twfe_estimand = twfe_truths(sim, data)
        out.update(het_cs=cs.estimate, het_cs_lo=cs.ci[0], het_cs_hi=cs.ci[1], het_cs_truth=cs_truth(sim),
                   het_twfe=tw.estimate, het_att_all=att_all, het_twfe_estimand=twfe_estimand)
        # constant effect: TWFE correctly specified
        sim, data = simulate(10_000_000 + seed, CONSTANT)
        cs_p, tw_p = panels(data)
        tw = evalint.twfe(tw_p, calendar=False, inference=evalint.WildClusterBootstrap(
            by="icb_code", reps=reps_boot, weights="webb", seed=seed))
        cs = evalint.callaway_santanna(cs_p, control="not_yet_treated", calendar=False,
                                       inference=evalint.MultiplierBootstrap(reps=reps_boot, seed=seed))
        out.update(con_twfe=tw.estimate, con_twfe_lo=tw.ci[0], con_twfe_hi=tw.ci[1],
                   con_cs=cs.estimate, con_cs_lo=cs.ci[0], con_cs_hi=cs.ci[1], con_truth=float(np.log(0.94)))
        # heterogeneous effects, waves drawn at random per ICB (the sampling model of CS's variance)
        sim, data = simulate(20_000_000 + seed, HETERO, random_waves(seed, sorted(data["icb_code"].unique())))
        cs_p, _ = panels(data)
        cs = evalint.callaway_santanna(cs_p, control="not_yet_treated", calendar=False,
                                       inference=evalint.MultiplierBootstrap(reps=reps_boot, seed=seed))
        out.update(rnd_cs=cs.estimate, rnd_cs_lo=cs.ci[0], rnd_cs_hi=cs.ci[1], rnd_truth=POP_TRUTH,
                   rnd_sample_truth=cs_truth(sim))
    return out


def summarise(rows: list[dict[str, float]]) -> pd.DataFrame:
    f = pd.DataFrame(rows)
    n = len(f)

    def line(name, est, truth, lo=None, hi=None):
        err = f[est] - (f[truth] if isinstance(truth, str) else truth)
        r = {"estimator / scenario": name, "reps": n, "bias": err.mean(), "bias_mcse": err.std(ddof=1) / np.sqrt(n),
             "sd": err.std(ddof=1), "truth": (f[truth].mean() if isinstance(truth, str) else truth)}
        if lo is not None:
            tr = f[truth] if isinstance(truth, str) else truth
            cov = ((f[lo] <= tr) & (tr <= f[hi])).mean()
            r.update(coverage=cov, coverage_mcse=np.sqrt(cov * (1 - cov) / n),
                     mean_ci_width=(f[hi] - f[lo]).mean())
        return r

    return pd.DataFrame([
        line("CS multiplier bootstrap / heterogeneous", "het_cs", "het_cs_truth", "het_cs_lo", "het_cs_hi"),
        line("TWFE vs true ATT / heterogeneous", "het_twfe", "het_att_all"),
        line("TWFE vs closed-form TWFE estimand / heterogeneous", "het_twfe", "het_twfe_estimand"),
        line("TWFE wild cluster bootstrap / constant", "con_twfe", "con_truth", "con_twfe_lo", "con_twfe_hi"),
        line("CS multiplier bootstrap / constant", "con_cs", "con_truth", "con_cs_lo", "con_cs_hi"),
        line("CS multiplier bootstrap / random waves, population ATT", "rnd_cs", "rnd_truth", "rnd_cs_lo",
             "rnd_cs_hi"),
        line("CS multiplier bootstrap / random waves, sample ATT", "rnd_cs", "rnd_sample_truth", "rnd_cs_lo",
             "rnd_cs_hi"),
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed0", type=int, default=1)
    ap.add_argument("--boot", type=int, default=999, help="bootstrap draws per interval")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print(f"# DiD coverage  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  load average "
          f"{os.getloadavg()[0]:.2f}; {args.reps} replications, {args.boot} bootstrap draws")
    rows = [replicate(args.seed0 + r, args.boot) for r in range(args.reps)]
    table = summarise(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"# {time.perf_counter() - t0:.0f} s; load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
