"""Size of the placebo-in-time and negative-control checks on NHS-shaped panels with no effect.

Each replication simulates 42 ICBs nested in 7 regions (``simulate_nhs``: monthly seasonality,
AR(1) noise 0.3, negative-binomial admissions, trends; no COVID, no intervention), 66 months
(2016-04 to 2021-09), and a fake intervention at 2020-10 (54 months before, 12 after). The
placebo-in-time check uses 24-month pre-windows and 12-month post-windows, which gives 19
placebo dates: the rank test's smallest p-value is 1/20 = 0.05, so its nominal size at 5% is
exactly 0.05 under exchangeability. Designs:

* ``its``: quasi-Poisson count ITS (``count_its``, one Fourier pair: correctly specified for
  this DGP) of one random ICB's emergency admissions (population offset); the same ITS on its
  delayed discharges is the negative control (a second outcome with no effect; its rejection
  rate is the design's own size); ``its_noseason``: the same with count_its's default (no
  seasonal term);
* ``did``: TWFE DiD (cluster-robust SEs) of the admission rate per 100,000 in 14 random ICBs,
  3 of them treated;
* ``sc``: synthetic control (Abadie, nested V) of one ICB's admission rate from 9 random donors.

Usage::

    nice -n 10 python benchmarks/robustness_size.py --design its --reps 500
    python benchmarks/robustness_size.py --table      # markdown table from the CSVs written

Rows are appended to ``benchmarks/robustness_size_<design>.csv`` as replications finish (the
run can be resumed: replications already in the file are skipped). Each row names the inference its
design's fits used (``inference``: the count ITS's default changed from model-based quasi-Poisson
to the quasi-Poisson GLM with AR(1) errors after the first run, which changed every count-ITS row
on the same seeds); a run refuses to append to a file whose rows name another inference, or none.
``--its-inference model`` fits the count ITS with model-based quasi-Poisson errors
(``inference=Analytic()``), the default of the first run (table A), whose rows it reproduces bit
for bit. Rows are the same for any ``PYTHONHASHSEED``, BLAS thread count and replication order.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import evalint
from evalint.sensitivity import negative_control, placebo_in_time

HERE = Path(__file__).resolve().parent
START, END, DATE = "2016-04", "2021-09", "2020-10"
WINDOW, PRE = 12, 24


def _frame(seed: int) -> pd.DataFrame:
    d = evalint.simulate_nhs(start=START, end=END, covid=False, seed=seed).data
    return d.assign(rate=1e5 * d["emergency_admissions"] / d["population"])


def _pit(pit) -> dict:
    """The rank p-value (``placebo_p``, as in the first runs) and the studentised one (``placebo_t_p``)."""
    return {"placebo_p": pit.info.get("rank_p", pit.p_value), "placebo_t_p": pit.p_value,
            "effective_placebos": pit.info.get("effective_placebos"), "n_placebos": pit.info["n_placebos"]}


#: The count ITS's inference: ``None`` (count_its's default) or a spec (``--its-inference model``).
ITS_INFERENCE: dict[str, object] = {"default": None, "model": evalint.Analytic()}
its_inference: object = None


def rep_its(seed: int, seasonality: str | None = "fourier") -> dict:
    d = _frame(seed)
    rng = np.random.default_rng(seed)
    unit = rng.choice(sorted(d["icb_code"].unique()))
    one = d.loc[d["icb_code"] == unit]
    p = evalint.Panel.from_frame(one, time="month", outcome=["emergency_admissions", "delayed_discharges"],
                                 population="population")
    inf = {} if its_inference is None else {"inference": its_inference}
    pit = placebo_in_time(p, "count_its", intervention=DATE, window=WINDOW, pre_periods=PRE, seasonality=seasonality,
                          outcome="emergency_admissions", **inf)
    nc = negative_control(p, "count_its", outcome="delayed_discharges", intervention=DATE, seasonality=seasonality,
                          **inf)
    used = evalint.count_its(p, intervention=DATE, outcome="emergency_admissions", seasonality=seasonality, **inf)
    return {**_pit(pit), "naive_p": float(pit.table["p_value"].iloc[0]), "negative_control_p": nc.p_value,
            "inference": used.inference.name}


def rep_did(seed: int) -> dict:
    d = _frame(seed)
    rng = np.random.default_rng(seed)
    units = list(rng.choice(sorted(d["icb_code"].unique()), size=14, replace=False))
    d = d.loc[d["icb_code"].isin(units)]
    p = evalint.Panel.from_frame(d, unit="icb_code", time="month", outcome="rate")
    pit = placebo_in_time(p, "twfe", intervention=DATE, treated=units[:3], window=WINDOW, pre_periods=PRE,
                          inference=evalint.Clustered())
    return {**_pit(pit), "naive_p": float(pit.table["p_value"].iloc[0]), "inference": "Clustered"}


def rep_sc(seed: int) -> dict:
    d = _frame(seed)
    rng = np.random.default_rng(seed)
    units = list(rng.choice(sorted(d["icb_code"].unique()), size=10, replace=False))
    d = d.loc[d["icb_code"].isin(units)]
    p = evalint.Panel.from_frame(d, unit="icb_code", time="month", outcome="rate")
    pit = placebo_in_time(p, "synthetic_control", intervention=DATE, treated=units[0], window=WINDOW,
                          pre_periods=PRE, inference=evalint.Placebo(reps=1))
    return {**_pit(pit), "inference": "Placebo"}


def rep_its_noseason(seed: int) -> dict:
    return rep_its(seed, seasonality=None)


DESIGNS = {"its": rep_its, "its_noseason": rep_its_noseason, "did": rep_did, "sc": rep_sc}
LABELS = {"its": "count ITS (quasi-Poisson, Fourier seasonality), 1 ICB",
          "its_noseason": "count ITS (quasi-Poisson, no seasonal term: the default), 1 ICB",
          "did": "TWFE DiD, 3 treated of 14 ICBs",
          "sc": "synthetic control, 1 ICB + 9 donors"}


def _check_resume(out: Path, row: dict) -> None:
    """Refuse to append ``row`` to ``out`` when the rows already there used another inference.

    Rows of one file must come from one design and one inference: the count ITS's default changed
    between two runs once, and rows of both would have been counted as one rejection rate.
    """
    old = pd.read_csv(out)
    if old.empty:
        return
    kinds = sorted(old["inference"].astype(str).unique()) if "inference" in old else []
    if kinds != [row["inference"]]:
        raise SystemExit(
            f"{out.name}: its rows were fitted with inference {kinds or 'not recorded'}, this run with "
            f"{row['inference']!r}; rows of both would be counted as one rejection rate. Write to a new file "
            "(--tag) or delete the old one.")


def run(design: str, reps: int, seed0: int = 20261205, tag: str = "", directory: Path = HERE) -> Path:
    out = Path(directory) / f"robustness_size_{design}{tag}.csv"
    done = set(pd.read_csv(out)["rep"]) if out.exists() else set()
    fn = DESIGNS[design]
    t0 = time.time()
    checked = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(reps):
            if r in done:
                continue
            t = time.time()
            row = {"rep": r, "seed": seed0 + r, **fn(seed0 + r), "seconds": time.time() - t}
            if not checked and out.exists():
                _check_resume(out, row)
            checked = True
            pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
            if r % 50 == 0:
                print(f"{design} rep {r}: {time.time() - t0:.0f} s", flush=True)
    return out


def band(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Binomial band around ``rate`` for ``n`` replications (normal approximation)."""
    h = z * math.sqrt(rate * (1 - rate) / n)
    return max(0.0, rate - h), rate + h


def overlap_table(draws: int = 20000, seed: int = 0) -> str:
    """Why the rank test over-rejects: the same windows on AR(1) Gaussian noise, in numpy.

    Statistic: mean of the 12 post periods minus mean of the 24 pre periods, at the actual date
    (period 54 of 66) and the 19 placebo dates (periods 24-42); rank p-value as in evalint.
    """
    rng = np.random.default_rng(seed)
    from evalint.sensitivity import studentised_placebo_test

    lines = ["| AR(1) coefficient | rank test: rejection rate at 5% (19 placebos) | studentised placebo test "
             "(evalint's p-value) | median effective placebos | Monte Carlo SE (rank) |", "|---|---|---|---|---|"]
    for rho in (0.0, 0.3, 0.6):
        e = rng.normal(size=(draws, 66))
        y = np.empty_like(e)
        y[:, 0] = e[:, 0]
        for t in range(1, 66):
            y[:, t] = rho * y[:, t - 1] + math.sqrt(1 - rho**2) * e[:, t]

        def stat(j: int, y: np.ndarray = y) -> np.ndarray:
            return y[:, j:j + WINDOW].mean(1) - y[:, j - PRE:j].mean(1)

        act = stat(54)
        plac = np.stack([stat(j) for j in range(24, 43)], axis=1)
        p = (1 + (np.abs(plac) >= np.abs(act)[:, None]).sum(1)) / 20
        r = float((p <= 0.05 + 1e-12).mean())
        st = [studentised_placebo_test(a, b) for a, b in zip(act, plac)]
        rt = float(np.mean([x[2] <= 0.05 for x in st]))
        ne = float(np.median([x[1] for x in st]))
        lines.append(f"| {rho:g} | {r:.3f} | {rt:.3f} | {ne:.1f} | {math.sqrt(r * (1 - r) / draws):.4f} |")
    return "\n".join(lines)


def table(alpha: float = 0.05, tag: str = "") -> str:
    lines = ["| design | check | replications | rejection rate at 5% | 95% band around 0.05 | within |",
             "|---|---|---|---|---|---|"]
    for design in DESIGNS:
        path = HERE / f"robustness_size_{design}{tag}.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path)
        n = len(df)
        lo, hi = band(alpha, n)
        checks = [("placebo-in-time rank test (19 placebos)", "placebo_p"),
                  ("placebo-in-time studentised test (the p-value reported)", "placebo_t_p"),
                  ("the design's own test on the actual window (no placebos)", "naive_p"),
                  ("negative-control outcome (delayed discharges)", "negative_control_p")]
        for label, col in checks:
            if col not in df:
                continue
            rate = float((df[col] <= alpha + 1e-12).mean()) if col == "placebo_p" else float((df[col] < alpha).mean())
            if col == "placebo_t_p":
                rate = float((df[col] <= alpha).mean())
            ok = "yes" if lo <= rate <= hi else ("over-rejects" if rate > hi else "conservative")
            lines.append(f"| {LABELS[design]} | {label} | {n} | {rate:.3f} | [{lo:.3f}, {hi:.3f}] | {ok} |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", choices=[*DESIGNS, "all"], default="all")
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--table", action="store_true", help="print the markdown table and exit")
    ap.add_argument("--tag", default="", help="suffix of the CSV names (e.g. _t for the studentised-test runs)")
    ap.add_argument("--its-inference", choices=list(ITS_INFERENCE), default="default",
                    help="count ITS inference: count_its's default, or model-based quasi-Poisson (table A's runs)")
    a = ap.parse_args()
    its_inference = ITS_INFERENCE[a.its_inference]
    if a.table:
        print(table(tag=a.tag))
        print()
        print(overlap_table())
    else:
        for dsg in (DESIGNS if a.design == "all" else [a.design]):
            print(run(dsg, a.reps, tag=a.tag))
        print(table(tag=a.tag))
