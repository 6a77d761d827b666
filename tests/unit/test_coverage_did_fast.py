"""Fast version of benchmarks/default_coverage.py's DiD checks (the full run: 500 replications, table in
benchmarks/RESULTS.md and methods/did.md).

Simulations with known truth (the benchmark's own DGPs, methods/did.md "Simulation evidence"):
with R replications a correct 95% interval covers the truth a Binomial(R, 0.95)/R share of the
time, and a 5% test rejects a Binomial(R, 0.05)/R share; the assertions use the central 99%
ranges those allow for the replication counts here.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import evalint

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "default_coverage.py"


@pytest.fixture(scope="module")
def cov():
    spec = importlib.util.spec_from_file_location("evalint_bench_default_coverage", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _upper(reps, p=0.05):
    return stats.binom.isf(0.005, reps, p) / reps


def test_few_treated_permutation_covers_and_pretrend_test_is_sized(cov):
    reps = 40
    hit, rej = 0, 0
    for child in np.random.SeedSequence(11).spawn(reps):
        rng = np.random.default_rng(child)
        k = int(rng.integers(3, 6))
        chosen = rng.choice(42, size=k, replace=False)
        df = cov.did_frame(rng, per_icb=1, treated={int(c): 30 for c in chosen}, tau=cov.TAU)
        p = cov._panel(df, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = evalint.callaway_santanna(p, calendar=False, inference=evalint.ConleyTaber(reps=199, seed=1))
        lo, hi = r.ci
        hit += lo <= cov.TAU <= hi
        rej += cov._pre(r) == 1.0
    lo_band, _ = cov.binomial_band(reps)
    assert hit / reps >= lo_band            # 40 reps: >= 0.875
    assert rej / reps <= _upper(reps)       # 40 reps: <= 0.15


def test_nested_clusters_default_cs_covers(cov):
    reps = 40
    hit = 0
    for child in np.random.SeedSequence(12).spawn(reps):
        rng = np.random.default_rng(child)
        df = cov.did_frame(rng, per_icb=3, treated={c: (30 if c < 14 else 38) for c in range(21)}, tau=cov.TAU)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = evalint.callaway_santanna(cov._panel(df), calendar=False,
                                          inference=evalint.MultiplierBootstrap(reps=199, seed=1))
        lo, hi = r.ci
        hit += lo <= cov.TAU <= hi
    lo_band, _ = cov.binomial_band(reps)
    assert hit / reps >= lo_band
