"""Bit-for-bit reproducibility of the placebo-in-time size runs (benchmarks/robustness_size.py).

The count-ITS rows of that benchmark once differed between two runs on the same seeds. The cause
was not randomness: count_its's default inference changed between the runs (model-based
quasi-Poisson to the quasi-Poisson GLM with AR(1) errors), and the rows did not say which one they
used. These tests pin both halves: the same small case gives the same bytes under another
``PYTHONHASHSEED``, another BLAS thread count, threaded refits and another order of fits; and the
benchmark refuses to append rows fitted with another inference to a file.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "robustness_size.py"

def _case(n_jobs: int, reversed_order: bool) -> str:
    """One replication of the benchmark's count-ITS designs (Fourier and no seasonal term) as a digest
    of every number of the placebo table, the studentised p, the rank p and its effective df."""
    import hashlib
    import warnings

    import numpy as np

    import evalint
    from evalint.sensitivity import placebo_in_time

    d = evalint.simulate_nhs(start="2016-04", end="2021-09", covid=False, seed=20261208).data
    one = d.loc[d["icb_code"] == sorted(d["icb_code"].unique())[5]]
    p = evalint.Panel.from_frame(one, time="month", outcome=["emergency_admissions", "delayed_discharges"],
                                 population="population")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seasonality in ((None, "fourier") if reversed_order else ("fourier", None)):
            pit = placebo_in_time(p, "count_its", intervention="2020-10", window=12, pre_periods=24,
                                  seasonality=seasonality, outcome="emergency_admissions", n_jobs=n_jobs,
                                  backend="threading")
            num = pit.table[["estimate", "std_error", "conf_low", "conf_high", "p_value", "statistic"]]
            extra = np.array([pit.p_value, pit.info["rank_p"], pit.info["effective_placebos"]], dtype=float)
            out[str(seasonality)] = hashlib.sha256(num.to_numpy(dtype=float).tobytes() + extra.tobytes()).hexdigest()
    return f"{out['fourier']} {out['None']}"


_SUB = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('t', sys.argv[1]); "
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); print(m._case(2, True))")


def test_count_its_placebo_in_time_same_bytes_across_hashseed_threads_jobs_and_order() -> None:
    """In this process (its own hash seed, BLAS threads as set: one per core by default, serial
    refits, Fourier first) and in a fresh one with PYTHONHASHSEED=12345, one BLAS/OpenMP thread,
    refits on two worker threads and the designs in the other order: the same bytes."""
    pytest.importorskip("joblib")
    here = _case(1, False)
    env = {**os.environ, "PYTHONHASHSEED": "12345", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _SUB, __file__], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(here.split()) == 2
    assert proc.stdout.strip() == here


def _bench():
    spec = importlib.util.spec_from_file_location("evalint_bench_robustness_size", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_refuses_rows_of_another_inference(tmp_path: Path) -> None:
    rs = _bench()
    out = tmp_path / "robustness_size_its.csv"
    pd.DataFrame([{"rep": 0, "seed": 20261205, "placebo_p": 0.5, "inference": "Analytic", "seconds": 1.0}]).to_csv(
        out, index=False)
    before = out.read_bytes()
    with pytest.raises(SystemExit, match="inference"):
        rs.run("its", 2, directory=tmp_path)      # rep 1 with count_its's default: not model-based
    assert out.read_bytes() == before          # nothing appended
    rs._check_resume(out, {"inference": "Analytic"})          # the same inference may resume
    legacy = tmp_path / "legacy.csv"
    pd.DataFrame([{"rep": 0, "placebo_p": 0.5}]).to_csv(legacy, index=False)
    with pytest.raises(SystemExit, match="not recorded"):
        rs._check_resume(legacy, {"inference": "Analytic"})
