"""Coverage, bias, width and SE/SD of every default interval, and the size of every pre-trend
test, on NHS-shaped simulated data: one script for the whole package.

The ITS and synthetic-control rows come from ``benchmarks/coverage_its_synth.py`` (its
``run(reps, seed)``); this script adds the difference-in-differences rows and prints one table.

DiD data-generating processes (documented in methods/did.md, "Simulation evidence")
--------------------------------------------------------------------------------
Monthly outcome, 48 months from April 2019, for units ``i`` nested in 42 ICBs ``c(i)``::

    y_it = a_i + 0.01 t + 0.2 cos(2 pi t / 12) + v_c(i),t + e_it + tau D_it [+ delta (t - g_i) 1{t < g_i}]

``a_i ~ N(0, 1)``; ``v_ct`` an ICB shock, AR(1) with rho = 0.5 and marginal SD 0.3 (shared by
every unit of the ICB); ``e_it`` unit noise, AR(1) with rho = 0.3 and marginal SD 0.5;
``D_it = 1{t >= g_i}`` absorbing treatment assigned by ICB. Parallel trends hold exactly
(``delta = 0``) except in the ``linear violation`` rows, where treated units' pre-period path
drifts by ``delta`` per month towards adoption.

* ``nested``: 42 ICBs x 3 units (practices or trusts); 14 ICBs adopt in month 30, 7 in month 38,
  21 never; constant effect ``tau = 0.2``, so every estimator's target is 0.2. The panel is
  built with ``cluster="icb"`` and every estimator runs with its default inference (which
  clusters by the declared ICB); one contrast row clusters C-S by unit (cluster undeclared).
* ``few treated``: 42 ICB-level units, 3 to 5 of them (drawn per replication, 1/3 each)
  adopting in month 30; ``tau = 0.2`` (coverage) and ``tau = 0`` (size of the interval as a test).
  The default there is Conley-Taber permutation (``inference=ConleyTaber()``, what evaluate()
  uses); the multiplier bootstrap is shown for contrast (it warns in a direct call).
* ``nested_cs``: the ``nested`` panels (the same draws for a seed), Callaway-Sant'Anna and
  Sun-Abraham only, for long runs of those rows (``--designs nested_cs --reps 2000``).
* ``linear violation``: the ``few treated`` design with ``delta = 0.01`` or ``0.03`` per month
  (``--deltas``; power of the pre-trend tests; not an interval row).

Coverage = share of replications whose 95% interval contains the truth; for pre-trend tests the
table gives size (rejection rate at 5%) and ``coverage = 1 - size``. The band is the central 99%
range of Binomial(reps, 0.95) / reps (as in coverage_its_synth.py): a correct interval's coverage
falls in it 99 times in 100.

Usage::

    nice -n 10 python benchmarks/default_coverage.py --reps 500 --out benchmarks/coverage_did.csv --only did
    python benchmarks/default_coverage.py --reps 500          # every family (needs coverage_its_synth.py)
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import evalint
from evalint.estimators.did.cs.aggregate import pretrend_wald

COLUMNS = ["family", "default", "dgp", "reps", "coverage", "bias", "width", "se_sd", "band_lo", "band_hi"]
T_MONTHS = 48
TAU = 0.2
DELTA = 0.01


def binomial_band(reps: int, level: float = 0.95, conf: float = 0.99) -> tuple[float, float]:
    """Central ``conf`` range of Binomial(reps, level) / reps."""
    a = (1 - conf) / 2
    return float(stats.binom.ppf(a, reps, level) / reps), float(stats.binom.isf(a, reps, level) / reps)


def _ar1(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    e = rng.standard_normal((n, t)) * sd * np.sqrt(1 - rho ** 2)
    u = np.empty((n, t))
    u[:, 0] = rng.standard_normal(n) * sd
    for j in range(1, t):
        u[:, j] = rho * u[:, j - 1] + e[:, j]
    return u


def did_frame(rng: np.random.Generator, *, per_icb: int, treated: dict[int, int], tau: float,
              delta: float = 0.0, n_icb: int = 42, months: int = T_MONTHS) -> pd.DataFrame:
    """One simulated panel (see the module docstring); ``treated`` maps ICB index -> start month."""
    n = n_icb * per_icb
    icb = np.repeat(np.arange(n_icb), per_icb)
    m = np.arange(months)
    y = (rng.normal(0, 1, n)[:, None] + 0.01 * m + 0.2 * np.cos(2 * np.pi * m / 12)
         + _ar1(rng, n_icb, months, 0.5, 0.3)[icb] + _ar1(rng, n, months, 0.3, 0.5))
    start = np.array([treated.get(int(c), 0) for c in icb])
    tr = start > 0
    y += tau * (tr[:, None] & (m >= start[:, None]))
    y += delta * np.where(tr[:, None] & (m < start[:, None]), m - start[:, None], 0)
    per = pd.period_range("2019-04", periods=months, freq="M")
    cohort = np.where(tr, per.asi8[np.minimum(start, months - 1)], -1)
    coh_str = np.array([str(pd.Period(ordinal=int(o), freq="M")) if o >= 0 else "never" for o in cohort])
    return pd.DataFrame({"unit": np.repeat(np.arange(n), months), "month": np.tile(per, n),
                         "icb": np.repeat(icb, months), "y": y.ravel(), "cohort": np.repeat(coh_str, months)})


def _panel(df: pd.DataFrame, cluster: str | None = "icb") -> Any:
    return evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort", cluster=cluster)


def _pre(res: Any, name: str = "pre_trend") -> float:
    d = next((c for c in res.diagnostics if c.name == name), None)
    return np.nan if d is None or d.passed is None else float(d.passed is False)


def _nested_rep(rng: np.random.Generator) -> dict[str, tuple]:
    treated = {c: (30 if c < 14 else 38) for c in range(21)}
    df = did_frame(rng, per_icb=3, treated=treated, tau=TAU)
    p = _panel(df)
    out: dict[str, tuple] = {}
    cs = evalint.callaway_santanna(p, calendar=False)
    out["C-S default (multiplier, clustered by declared ICB)"] = (cs.estimate, cs.ci, cs.se)
    out["pre: C-S linear trend (default)"] = (_pre(cs),)
    out["pre: C-S R did chi-square Wald (pretrend='wald')"] = (float(pretrend_wald(cs.state.cells,
                                                                                   0.05).passed is False),)
    unit = evalint.callaway_santanna(_panel(df, None), calendar=False)
    out["C-S multiplier by unit (cluster not declared) [contrast]"] = (unit.estimate, unit.ci, unit.se)
    tw = evalint.twfe(p, calendar=False)
    out["TWFE default (wild cluster bootstrap by ICB, 42 clusters)"] = (tw.estimate, tw.ci, tw.se)
    es = evalint.event_study(p, calendar=False, leads=12, lags=9)
    out["event study default (avg e=0..8, wild bootstrap by ICB)"] = (es.estimate, es.ci, es.se)
    out["pre: event study linear trend (default)"] = (_pre(es),)
    sa = evalint.sun_abraham(p, calendar=False)
    out["Sun-Abraham default (CR1 nested by ICB, t(G-1))"] = (sa.estimate, sa.ci, sa.se)
    out["pre: Sun-Abraham linear trend (default)"] = (_pre(sa),)
    im = evalint.imputation_did(p, calendar=False, pretrends=12)
    out["imputation default (BJS Theorem 3 by ICB)"] = (im.estimate, im.ci, im.se)
    out["pre: imputation linear trend of 12 leads (default)"] = (_pre(im),)
    intervention = {u: c for u, c in df.groupby("unit")["cohort"].first().items() if c != "never"}
    ev = evalint.evaluate(p, intervention, outcomes=["y"], designs=["did"], calendar=False, seed=0,
                          robustness=False)
    r = ev.result("did", "y")
    out["evaluate() DiD (C-S, clustered by declared ICB)"] = (r.estimate, r.ci, r.se)
    return out


def _nested_cs_rep(rng: np.random.Generator) -> dict[str, tuple]:
    """The ``nested`` panels (same draws as :func:`_nested_rep`), C-S and Sun-Abraham only."""
    treated = {c: (30 if c < 14 else 38) for c in range(21)}
    p = _panel(did_frame(rng, per_icb=3, treated=treated, tau=TAU))
    cs = evalint.callaway_santanna(p, calendar=False)
    an = evalint.callaway_santanna(p, calendar=False, inference=evalint.Clustered())
    sa = evalint.sun_abraham(p, calendar=False)
    return {"C-S default (multiplier, clustered by declared ICB)": (cs.estimate, cs.ci, cs.se),
            "C-S analytic, clustered by declared ICB (Clustered()) [contrast]": (an.estimate, an.ci, an.se),
            "Sun-Abraham default (CR1 nested by ICB, t(G-1))": (sa.estimate, sa.ci, sa.se)}


def _few_rep(rng: np.random.Generator, tau: float, delta: float = 0.0) -> dict[str, tuple]:
    k = int(rng.integers(3, 6))
    chosen = rng.choice(42, size=k, replace=False)
    df = did_frame(rng, per_icb=1, treated={int(c): 30 for c in chosen}, tau=tau, delta=delta)
    p = _panel(df, None)
    out: dict[str, tuple] = {}
    ct = evalint.callaway_santanna(p, calendar=False, inference=evalint.ConleyTaber(reps=999, seed=1))
    out["C-S ConleyTaber permutation (default with <= 5 treated; evaluate())"] = (ct.estimate, ct.ci, ct.se)
    mb = evalint.callaway_santanna(p, calendar=False)
    out["C-S multiplier bootstrap (warns with <= 5 treated) [contrast]"] = (mb.estimate, mb.ci, mb.se)
    out["pre: C-S linear trend (default)"] = (_pre(mb),)
    out["pre: C-S R did chi-square Wald (pretrend='wald')"] = (float(pretrend_wald(mb.state.cells,
                                                                                   0.05).passed is False),)
    joint = evalint.callaway_santanna(p, calendar=False, inference=evalint.Analytic(), pretrend="joint")
    out["pre: C-S joint Hotelling F (pretrend='joint')"] = (_pre(joint),)
    es = evalint.event_study(p, calendar=False, leads=12, lags=9, inference=evalint.Clustered())
    out["pre: event study linear trend (default)"] = (_pre(es),)
    out["pre: event study F(q, G-1) Wald (pretrend='wald')"] = (_pre(evalint.event_study(
        p, calendar=False, leads=12, lags=9, inference=evalint.Clustered(), pretrend="wald"), "pre_trend_wald"),)
    sa = evalint.sun_abraham(p, calendar=False)
    out["pre: Sun-Abraham linear trend (default)"] = (_pre(sa),)
    im = evalint.imputation_did(p, calendar=False, pretrends=12)
    out["pre: imputation linear trend of 12 leads (default)"] = (_pre(im),)
    return out


def _summarise(records: list[dict[str, tuple]], dgp: str, truth: float | None) -> list[dict[str, Any]]:
    rows = []
    for name in records[0]:
        vals = [r[name] for r in records if name in r]
        if name.startswith("pre: "):
            rej = np.array([v[0] for v in vals], float)
            rej = rej[np.isfinite(rej)]
            reps = len(rej)
            lo, hi = binomial_band(reps)
            size = float(rej.mean()) if reps else np.nan
            rows.append({"family": "DiD pre-trend", "default": name[5:] + (" [power]" if truth is None else " [size]"),
                         "dgp": dgp, "reps": reps, "coverage": 1 - size, "bias": np.nan, "width": np.nan,
                         "se_sd": np.nan, "band_lo": lo, "band_hi": hi})
            continue
        est = np.array([v[0] for v in vals], float)
        ci = np.array([v[1] for v in vals], float)
        se = np.array([v[2] for v in vals], float)
        t = 0.0 if truth is None else truth
        reps = len(est)
        lo, hi = binomial_band(reps)
        rows.append({"family": "DiD", "default": name, "dgp": dgp, "reps": reps,
                     "coverage": float(np.mean((ci[:, 0] <= t) & (t <= ci[:, 1]))),
                     "bias": float(np.mean(est - t)), "width": float(np.mean(ci[:, 1] - ci[:, 0])),
                     "se_sd": float(np.mean(se) / np.std(est, ddof=1)), "band_lo": lo, "band_hi": hi})
    return rows


def _loop(reps: int, seed: int, fn: Callable[[np.random.Generator], dict[str, tuple]]) -> list[dict[str, tuple]]:
    out = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(reps)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(fn(np.random.default_rng(child)))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{reps} replications", file=sys.stderr, flush=True)
    return out


def run_did(reps: int, seed: int, designs: tuple[str, ...] = ("nested", "few", "few_null", "violation"),
            deltas: tuple[float, ...] = (DELTA,)) -> pd.DataFrame:
    """The DiD rows (columns :data:`COLUMNS`); ``deltas``: pre-trend slopes of the power rows."""
    rows: list[dict[str, Any]] = []
    if "nested" in designs:
        rows += _summarise(_loop(reps, seed, _nested_rep), "nested: 42 ICBs x 3 units, 21 ICBs treated "
                           "(2 cohorts), ICB AR(1) shocks", TAU)
    if "nested_cs" in designs:
        rows += _summarise(_loop(reps, seed, _nested_cs_rep), "nested: 42 ICBs x 3 units, 21 ICBs treated "
                           "(2 cohorts), ICB AR(1) shocks", TAU)
    if "few" in designs:
        rows += _summarise(_loop(reps, seed + 1, lambda r: _few_rep(r, TAU)),
                           "few treated: 42 ICBs, 3-5 treated at month 30, tau = 0.2", TAU)
    if "few_null" in designs:
        rows += _summarise(_loop(reps, seed + 2, lambda r: _few_rep(r, 0.0)),
                           "few treated, zero effect (interval as a test)", 0.0)
    for j, delta in enumerate(deltas if "violation" in designs else ()):
        rec = _loop(reps, seed + 3 + j, lambda r, d=delta: _few_rep(r, TAU, d))
        rows += [r for r in _summarise(rec, f"few treated, linear pre-trend {delta:g} per month", None)
                 if r["family"] == "DiD pre-trend"]
    return pd.DataFrame(rows, columns=COLUMNS)


def run(reps: int, seed: int) -> pd.DataFrame:
    """Every family: the ITS / synthetic-control rows and the DiD rows."""
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    try:
        import coverage_its_synth  # type: ignore[import-not-found]
    except ImportError:
        print("benchmarks/coverage_its_synth.py is not there yet: ITS and synthetic-control rows skipped "
              "(run with --only did to silence this).", file=sys.stderr)
        other = pd.DataFrame(columns=COLUMNS)
    else:
        if not hasattr(coverage_its_synth, "run"):
            print("benchmarks/coverage_its_synth.py has no run(reps, seed) yet: ITS and synthetic-control rows "
                  "skipped.", file=sys.stderr)
            other = pd.DataFrame(columns=COLUMNS)
        else:
            other = coverage_its_synth.run(reps, seed)[COLUMNS]
    return pd.concat([other, run_did(reps, seed)], ignore_index=True)


def format_table(df: pd.DataFrame) -> str:
    """Markdown table; percentages for coverage and band; size rows show the rejection rate."""
    lines = ["| family | default | DGP | reps | coverage (size) | band | bias | width | SE/SD |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples(index=False):
        is_size = "[size]" in r.default or "[power]" in r.default
        kind = "power" if "[power]" in r.default else "size"
        cov = f"{kind} {100 * (1 - r.coverage):.1f}%" if is_size else f"{100 * r.coverage:.1f}%"
        band = (f"<= {100 * (1 - r.band_lo):.1f}%" if "[size]" in r.default else "" if "[power]" in r.default
                else f"{100 * r.band_lo:.1f}-{100 * r.band_hi:.1f}%")
        num = (lambda v, f: "" if v is None or not np.isfinite(v) else format(v, f))  # noqa: E731
        lines.append(f"| {r.family} | {r.default} | {r.dgp} | {r.reps} | {cov} | {band} | {num(r.bias, '.4f')} | "
                     f"{num(r.width, '.3f')} | {num(r.se_sd, '.2f')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--only", choices=["did", "all"], default="all")
    ap.add_argument("--designs", nargs="*", default=["nested", "few", "few_null", "violation"])
    ap.add_argument("--deltas", nargs="*", type=float, default=[DELTA], help="pre-trend slopes for power")
    ap.add_argument("--out", type=Path, default=None, help="CSV of the table rows")
    a = ap.parse_args(argv)
    t0 = time.time()
    df = run_did(a.reps, a.seed, tuple(a.designs), tuple(a.deltas)) if a.only == "did" else run(a.reps, a.seed)
    if a.out is not None:
        df.to_csv(a.out, index=False)
    print(format_table(df))
    print(f"\n{a.reps} replications, seed {a.seed}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
