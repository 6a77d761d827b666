"""Fast version of benchmarks/coverage_its_synth.py's synthetic DiD and augmented SC checks (the
full runs: 500 replications, table in benchmarks/RESULTS.md, methods/coverage.md and
methods/synthetic_control.md).

Simulations with known truth: the benchmark's one-treated-unit factor model (``scm_frame``: random-
walk factors, monthly seasonality, AR(1) noise, exchangeable treated unit) on a smaller panel
(12 units, 20 + 4 months) so that 60 replications run in seconds. With R replications a correct
95% interval covers the truth a Binomial(R, 0.95)/R share of the time; the assertions use the
central 99% range that allows for R = 60 (0.867-1.0). Each interval is the estimator's default,
except that SDID's placebo SE uses 50 placebo draws instead of the default 200 (``Placebo(reps=50)``,
a setting the default spec exposes) to keep the test fast; fewer draws make the SE noisier, not
biased.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from evalint import Panel
from evalint.estimators.synth.augmented.estimator import augmented_synthetic_control
from evalint.estimators.synth.sdid.estimator import synthetic_did
from evalint.inference.specs import Placebo

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage_its_synth.py"
REPS, UNITS, PRE, POST, EFFECT = 60, 12, 20, 4, -5.0


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("evalint_bench_cov_its_synth", _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _band(reps: int) -> tuple[float, float]:
    return stats.binom.ppf(0.005, reps, 0.95) / reps, stats.binom.isf(0.005, reps, 0.95) / reps


def _coverage(bench, fit) -> float:
    hit = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for child in np.random.SeedSequence(20261205).spawn(REPS):
            df = bench.scm_frame(np.random.default_rng(child), EFFECT, n_units=UNITS, pre=PRE, post=POST)
            panel = Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated")
            lo, hi = fit(panel).ci
            hit += lo <= EFFECT <= hi
    return hit / REPS


def test_sdid_placebo_interval_covers_true_effect(bench):
    lo, hi = _band(REPS)
    cov = _coverage(bench, lambda p: synthetic_did(p, calendar=False, inference=Placebo(reps=50, seed=0)))
    assert lo <= cov <= hi, cov


def test_ascm_conformal_interval_covers_true_effect(bench):
    lo, hi = _band(REPS)
    cov = _coverage(bench, lambda p: augmented_synthetic_control(p, calendar=False))
    assert lo <= cov <= hi, cov
