"""Record-level episodes -> monthly ICB panel of all outcomes: DuckDB vs Spark local[2] vs pandas.

For each size the synthetic HES-like extract is written once (partitioned parquet, cached under
``--data``), then each engine runs in a fresh process; wall time is measured inside that
process around ``episodes_to_frame`` (Spark: session start reported separately), peak memory
by polling the resident set size of the whole process tree (Spark's JVM included) every 0.1 s,
CPU time (user + system, whole tree, from the process start: includes interpreter start-up) by
the same polling; on a shared machine CPU time is the load-independent figure.

Usage::

    nice -n 10 python benchmarks/records_bench.py --sizes 1e6 1e7 --engines duckdb spark pandas
    python benchmarks/records_bench.py --report   # append the table to benchmarks/RESULTS.md

Results go to ``benchmarks/records_bench.json`` (one record per size and engine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "records_bench.json"


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_rss_mb(root: int, cpu: dict[int, float] | None = None) -> float:
    """Resident memory (MB) of ``root`` and all its descendants; ``cpu`` collects each
    process's user + system CPU seconds as last seen."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(p.name))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            if cpu is not None:
                st = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu[pid] = (int(st[11]) + int(st[12])) / _TICK
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _worker(engine: str, path: str) -> None:
    from evalint.records import episodes_to_frame

    spark = None
    start_s = 0.0
    if engine == "spark":
        from pyspark.sql import SparkSession

        t = time.perf_counter()
        spark = (SparkSession.builder.master("local[2]").appName("records-bench")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
                 .config("spark.driver.memory", "6g").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        start_s = time.perf_counter() - t
    t = time.perf_counter()
    kw = {}
    if engine == "duckdb" and os.environ.get("RECORDS_BENCH_DUCKDB_MEMORY"):
        limit = os.environ["RECORDS_BENCH_DUCKDB_MEMORY"]
        kw["memory_limit"] = None if limit == "none" else limit
    rf = episodes_to_frame(path, engine=engine, spark=spark, on_bad="ignore", **kw)
    wall = time.perf_counter() - t
    print(json.dumps({"wall_s": wall, "session_start_s": start_s,
                      "cells": len(rf.frame),
                      "emergency_admissions": int(rf.frame["emergency_admissions"].sum())}))


def _run(engine: str, path: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    proc = subprocess.Popen([sys.executable, __file__, "--worker", engine, path],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    peak = 0.0
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid, cpu))
        time.sleep(0.1)
    out = proc.stdout.read().strip().splitlines()
    if proc.returncode != 0 or not out:
        return {"engine": engine, "error": f"exit {proc.returncode}", "peak_mb": peak}
    rec = json.loads(out[-1])
    rec.update(engine=engine, peak_mb=peak, cpu_s=sum(cpu.values()))
    return rec


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark", "pandas"])
    ap.add_argument("--pandas-max", type=float, default=1e7, help="largest size run with pandas")
    ap.add_argument("--data", default="/tmp/evalint_records_bench")
    ap.add_argument("--duckdb-memory", default=None,
                    help="DuckDB memory_limit, e.g. 8GB; 'none' = DuckDB's default (80%% of RAM); "
                         "omitted = evalint's default (3GB)")
    ap.add_argument("--worker", nargs=2)
    ap.add_argument("--report", action="store_true")
    a = ap.parse_args()
    if a.worker:
        _worker(*a.worker)
        return
    if a.report:
        report()
        return
    sys.path.insert(0, str(HERE.parent))
    from evalint.records import simulate_episodes

    if a.duckdb_memory:
        os.environ["RECORDS_BENCH_DUCKDB_MEMORY"] = a.duckdb_memory
    records = json.loads(OUT.read_text()) if OUT.exists() else []
    for n in (int(s) for s in a.sizes):
        path = Path(a.data) / f"n{n}"
        if not (path / "_truth.json").exists():
            t = time.perf_counter()
            simulate_episodes(n, seed=2026, path=path, months=48)
            print(f"generated {n:,} episodes in {time.perf_counter() - t:.0f} s", flush=True)
        for engine in a.engines:
            if engine == "pandas" and n > a.pandas_max:
                continue
            load0 = _load()
            rec = _run(engine, str(path))
            label = engine
            if engine == "duckdb" and a.duckdb_memory:
                label = f"duckdb (memory_limit {a.duckdb_memory})"
            rec["engine"] = label
            rec.update(n_episodes=n, load_before=load0, load_after=_load(),
                       date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            print(json.dumps(rec), flush=True)
            records = [r for r in records
                       if not (r["n_episodes"] == n and r["engine"] == label)] + [rec]
            OUT.write_text(json.dumps(records, indent=1))


def report() -> None:
    records = sorted(json.loads(OUT.read_text()), key=lambda r: (r["n_episodes"], r["engine"]))
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 ** 2
    lines = [
        "", "## Record-level episodes to a monthly ICB panel (`benchmarks/records_bench.py`)", "",
        (f"Machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, "
        f"Python {platform.python_version()}; shared with other jobs, so the 1-minute load "
        "average before and after each run is given (a load of 15-20 on 2 cores means each "
        "run got a fraction of a core: wall times are upper bounds). Synthetic HES-like "
        "episodes (`simulate_episodes`, seed 2026, 48 months, 42 ICBs), hive-partitioned "
        "parquet; all five outcomes plus the data-quality counts in one query; peak = "
        "resident memory of the whole process tree (Spark: driver JVM included)."), "",
        ("| episodes | engine | wall (s) | CPU (s) | Spark session start (s) "
         "| peak memory (MB) | load before / after | date |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['n_episodes']:,} | {r['engine']} | failed ({r['error']}) | | | "
                         f"{r['peak_mb']:,.0f} | {r['load_before']} / {r['load_after']} | {r['date']} |")
            continue
        ss = f"{r['session_start_s']:.1f}" if r["engine"] == "spark" else "–"
        cs = f"{r['cpu_s']:.0f}" if "cpu_s" in r else "–"
        lines.append(f"| {r['n_episodes']:,} | {r['engine']} | {r['wall_s']:.1f} | {cs} | {ss} | "
                     f"{r['peak_mb']:,.0f} | {r['load_before']} / {r['load_after']} | {r['date']} |")
    lines.append("")
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
