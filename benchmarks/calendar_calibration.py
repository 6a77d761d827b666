"""Calibration evidence for the policy-calendar check (methods/policy_churn.md section 9).

Part A (real data): does a failed single-series check mean something? For every monthly
placebo date of each real series, the check (``design="its"``) is run twice, before the
size-against-noise rule (no noise scale) and calibrated (the series' own step noise), and a
placebo step is fitted (log outcome ~ trend + month of year + step, OLS;
:func:`evalint.calendar.series_noise.placebo_step`). Reported: the share of windows failed,
of windows at dates where a known event hit the outcome (COVID's first wave on emergency
admissions; the 2022-23 discharge funds and winter on NCtR; magnitudes.md), of windows whose
data show a break (abs step >= 2 x step noise) and of quiet windows (abs step < step noise).
  - England emergency admissions per day (A&E Monthly Time Series 2010-08..2024-03), pre 24, post 12;
  - England NCtR patients (acute discharge sitrep daily 2021-04..2024-01, monthly mean), pre 12, post 6;
  - the same two outcomes for each of the 42 ICBs (healthyr NHSE UEC tidy files, 2022-04 onwards),
    pre 6, post 6, each ICB judged against its own step noise.

Part B (simulation, 500 replications): the differential-exposure rule (|d| >= 0.25) and the
churn regressor re-estimate. 42 ICBs (those in the BCF table) x 36 months, monthly
seasonality, AR(1) noise (0.5), regional shocks (7 regions), 1-5 treated ICBs drawn at random,
true effect -0.05 (log scale); a co-timed national event whose effect is -0.04 per SD of the
real BCF 2022-23 intermediate-care spend per head (the shipped intensity table). The DiD is
Callaway-Sant'Anna with analytic inference (the refit evaluate()'s robustness section uses).
Reports the main DiD's bias and coverage when the rule flags the event and when it does not,
and the regressor re-estimate's bias and the coverage of its interval (placebo refits, the
default; the refit's own interval widened, as before; and the fit with the event's true
effect removed, which isolates the fit's own interval).

Run:  ``nice -n 10 python benchmarks/calendar_calibration.py a`` (Part A, ~15 minutes on a loaded
machine), ``... b START N OUT.csv`` (Part B chunks; concatenate into calendar_calibration_b.csv),
``... table`` (writes benchmarks/calendar_calibration.md), or no argument for everything.
"""

from __future__ import annotations

import functools
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from evalint import Panel
from evalint.calendar import PolicyCalendar
from evalint.calendar.exposure import DIFFERENTIAL_SMD, standardised_difference
from evalint.calendar import series_noise
from evalint.calendar.intensity import builtin_intensity, realdata_dir
from evalint.calendar.series_noise import placebo_step, step_noise
from evalint.estimators.did.cs.estimator import callaway_santanna
from evalint.evaluate.churn_sensitivity import churn_sensitivity
from evalint.inference.specs import Analytic

OUT = Path(__file__).with_name("calendar_calibration.md")
CSV_B = Path(__file__).with_name("calendar_calibration_b.csv")
OUT_A = Path(__file__).with_name("calendar_calibration_a.md")
TRUTH_B = -0.05


#: windows where a known event hit the outcome (../shared/domain/magnitudes.md): COVID's first wave
#: (emergency admissions -39% in April 2020 vs April 2019, section 2); the 2022-23 discharge funds
#: and winter (NCtR peak 14,385 in January 2023, then -15% to June 2023, sections 4b and 5)
KNOWN_HITS = {"emergency_admissions": ("2020-03", "2020-04"), "delayed_discharges": ("2022-12", "2023-01")}


def _national_series(folder: Path) -> list[tuple[str, pd.Series, str, str, int, int]]:
    ae = pd.read_csv(folder / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
    ae.index = pd.PeriodIndex(pd.to_datetime(ae["Period"]), freq="M")
    ea = ae["Emergency Admissions | Total Emergency Admissions"] / ae.index.days_in_month
    nc = pd.read_csv(folder / "discharge_sitrep_acute" / "england_daily_timeseries_apr2021_jan2024.csv",
                     parse_dates=["date"])
    nc = nc.set_index(nc["date"].dt.to_period("M"))[
        "Number of patients remaining in hospital who no longer meet the criteria to reside"]
    return [("emergency admissions per day, England (A&E Monthly Time Series)", ea, "emergency_admissions",
             "ae_monthly", 24, 12),
            ("NCtR patients, England (acute discharge sitrep, monthly mean)", nc.groupby(level=0).mean(),
             "delayed_discharges", "discharge_sitrep", 12, 6)]


def _icb_series(folder: Path) -> list[tuple[str, dict[str, pd.Series], str, str, int, int]]:
    uec = folder / "healthyr_nhse_uec"
    ctr = pd.read_csv(uec / "england_icb_criteria_to_reside.csv", parse_dates=["date"])
    ctr["m"] = ctr["date"].dt.to_period("M")
    nctr = {c: g.groupby("m")["do_not_meet_criteria_to_reside"].mean() for c, g in ctr.groupby("icb22_code")}
    ae = pd.read_csv(uec / "england_icb_accidents_emergency.csv")
    ae["m"] = pd.PeriodIndex(pd.to_datetime(ae["date"], format="%B %Y"), freq="M")
    ea = {c: g.set_index("m")["total_emergency_admissions"].sort_index() / g.set_index("m").index.days_in_month
          for c, g in ae.groupby("icb22_code")}
    return [("NCtR patients by ICB (42 series, monthly mean of daily)", nctr, "delayed_discharges",
             "discharge_sitrep", 6, 6),
            ("emergency admissions per day by ICB (42 series)", ea, "emergency_admissions", "ae_monthly", 6, 6)]


def _windows(cal: PolicyCalendar, series: pd.Series, outcome: str, coll: str, pre: int, post: int,
             level: str, noise: float) -> pd.DataFrame:
    """Per placebo date: the check before (no size rule) and after calibration, and the step."""
    rows = []
    for t in series.index[pre: len(series) - post + 1]:
        with mock.patch.dict(series_noise.NATIONAL_STEP_NOISE, clear=True):
            old = cal.check(t, outcome=outcome, pre=pre, post=post, design="its", level=level, collection=coll)
        new = cal.check(t, outcome=outcome, pre=pre, post=post, design="its", level=level, collection=coll,
                        noise=noise)
        step, tstat = placebo_step(series, t, pre, post)
        top = new.ranked_threats()
        hi = new.table.loc[new.table["severity"] == "high", "event_id"].tolist()
        rows.append({"t": t, "old_passed": old.passed, "passed": new.passed, "step": step, "abs_t": abs(tstat),
                     "noise": noise, "top": top.at[0, "event_id"] if len(top) else "", "high": ";".join(hi)})
    return pd.DataFrame(rows)


def _rates(df: pd.DataFrame, hits: tuple[str, ...]) -> dict[str, str]:
    def rate(g: pd.DataFrame, col: str) -> str:
        return "-" if g.empty else f"{(~g[col]).mean():.0%} ({int((~g[col]).sum())}/{len(g)})"

    z = df["step"].abs() / df["noise"]
    hit = df.loc[df["t"].astype(str).isin(hits)]
    out = {}
    for col, label in (("old_passed", "before"), ("passed", "calibrated")):
        f, p = df.loc[~df[col]], df.loc[df[col]]
        auc = float("nan")
        if len(f) and len(p):
            a_ = f["step"].abs().to_numpy()[:, None]
            b_ = p["step"].abs().to_numpy()[None, :]
            auc = float(np.mean((a_ > b_) + 0.5 * (a_ == b_)))
        out[label] = (f"| {label} | {rate(df, col)} | {rate(hit, col)} | {rate(df.loc[z >= 2], col)} | "
                      f"{rate(df.loc[z < 1], col)} | {auc:.2f} |")
    return out


def _hit_breaks(df: pd.DataFrame, hits: tuple[str, ...]) -> str:
    hit = df.loc[df["t"].astype(str).isin(hits)]
    if hit.empty:
        return "- no known-hit window in this series' range"
    z = hit["step"].abs() / hit["noise"]
    return (f"- known-hit windows ({', '.join(hits)}) whose own placebo step is at least twice the step noise: "
            f"{int((z >= 2).sum())} of {len(hit)} (median {z.median():.1f} x step noise)")


def part_a(folder: Path) -> list[str]:
    """Pass/fail of the single-series check before and after the size-against-noise rule."""
    cal = PolicyCalendar.default()
    head = ["| rule | windows failed | known-hit windows failed | windows with a break in the data "
            "(abs step >= 2 x step noise) failed | quiet windows (abs step < step noise) failed | "
            "AUC of abs step, failed vs passed |", "|---|---|---|---|---|---|"]
    lines = []
    for label, series, outcome, coll, pre, post in _national_series(folder):
        noise = step_noise(series, pre, post)
        df = _windows(cal, series, outcome, coll, pre, post, "national", series_noise.NATIONAL_STEP_NOISE[outcome])
        r = _rates(df, KNOWN_HITS[outcome])
        lines += [f"### {label}: placebo dates {df['t'].iloc[0]} .. {df['t'].iloc[-1]} (pre {pre}, post {post}); "
                  f"step noise {noise:.4f} (shipped {series_noise.NATIONAL_STEP_NOISE[outcome]:.4f})", "",
                  *head, r["before"], r["calibrated"], "", _hit_breaks(df, KNOWN_HITS[outcome]), ""]
        for t in sorted(set(KNOWN_HITS[outcome]) | {"2022-07", "2014-01", "2016-04", "2018-01", "2023-01"}):
            row = df.loc[df["t"].astype(str) == t]
            if len(row):
                x = row.iloc[0]
                lines.append(f"- {t}: before {'passes' if x['old_passed'] else 'FAILS'}, calibrated "
                             f"{'passes' if x['passed'] else 'FAILS'} (high: {x['high'] or 'none'}); placebo step "
                             f"{x['step']:+.3f} = {abs(x['step']) / x['noise']:.1f} x step noise")
        lines.append("")
    for label, by_icb, outcome, coll, pre, post in _icb_series(folder):
        parts = []
        for code, series in sorted(by_icb.items()):
            series = series.loc[series > 0]
            if len(series) < pre + post + 5:
                continue
            parts.append(_windows(cal, series, outcome, coll, pre, post, "icb", step_noise(series, pre, post)))
        df = pd.concat(parts, ignore_index=True)
        r = _rates(df, KNOWN_HITS[outcome])
        lines += [f"### {label}: {len(parts)} ICBs, placebo dates {df['t'].min()} .. {df['t'].max()} (pre {pre}, "
                  f"post {post}); each ICB's own step noise "
                  f"(median {df.drop_duplicates('noise')['noise'].median():.4f})",
                  "", *head, r["before"], r["calibrated"], "", _hit_breaks(df, KNOWN_HITS[outcome]), ""]
    return lines


@functools.lru_cache(maxsize=1)
def _part_b_setup() -> tuple[list[str], pd.Series, pd.Series, pd.Series, pd.PeriodIndex, pd.Period, PolicyCalendar]:
    from evalint.calendar import PolicyEvent, load_icbs

    table = builtin_intensity("bcf_intermediate_care_2022_23")
    icbs = load_icbs()
    units = [u for u in icbs["icb_ods_code"] if u in table.values.index]
    region = icbs.set_index("icb_ods_code")["nhs_region"].reindex(units)
    inten = table.values.reindex(units)
    z = (inten - inten.mean()) / inten.std()
    months = pd.period_range("2021-04", periods=36, freq="M")
    t0 = months[24]
    ev = PolicyEvent(id="fund", name="national fund", start=t0.start_time, outcomes="delayed_discharges",
                     magnitude="large", source="simulation")
    cal = PolicyCalendar([ev]).with_intensity("fund", table)
    return units, region, inten, z, months, t0, cal


def _fit(p: Panel) -> object:
    """The DiD evaluate()'s robustness refits use: Callaway-Sant'Anna, never-treated, analytic."""
    return callaway_santanna(p, outcome="y", inference=Analytic(), calendar=False, control="never_treated")


def part_b_rep(r: int, seed: int = 2026) -> dict:
    """One replication of Part B (its own random stream: ``default_rng([seed, r])``)."""
    units, region, inten, z, months, t0, cal = _part_b_setup()
    rng = np.random.default_rng([seed, r])
    regions = sorted(region.unique())
    k = int(rng.integers(1, 6))
    treated = list(rng.choice(units, size=k, replace=False))
    comp = [u for u in units if u not in treated]
    n_u, n_t = len(units), len(months)
    reg = {g: rng.normal(0, 0.02, n_t) for g in regions}
    shocks = np.vstack([reg[region[u]] for u in units])
    e = np.zeros((n_u, n_t))
    innov = rng.normal(0, 0.03, (n_u, n_t))
    for j in range(n_t):
        e[:, j] = (0.5 * e[:, j - 1] if j else 0.0) + innov[:, j]
    j = np.arange(n_t)
    post = np.asarray(months >= t0)
    is_t = np.isin(units, treated)[:, None]
    event = np.where(post, -0.04 * z.to_numpy()[:, None], 0.0)
    y0 = (rng.normal(0, 0.2, (n_u, 1)) + 0.004 * j + 0.05 * np.cos(2 * np.pi * months.month.to_numpy() / 12)
          + shocks + e + np.where(is_t & post, TRUTH_B, 0.0))
    cohort = np.repeat(np.where(np.isin(units, treated), "2023-04", None), n_t)

    def make(y: np.ndarray) -> Panel:
        recs = pd.DataFrame({"unit": np.repeat(units, n_t), "month": np.tile(months.start_time, n_u),
                             "y": y.ravel(), "cohort": cohort})
        return Panel.from_frame(recs, unit="unit", time="month", outcome="y", cohort="cohort")

    panel = make(y0 + event)
    d = standardised_difference(inten[treated], inten[comp])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sens = churn_sensitivity(_fit, panel, ["fund"], calendar=cal, checks=("regressor",))
        old = churn_sensitivity(_fit, panel, ["fund"], calendar=cal, checks=("regressor",),
                                regressor_interval="fit").table.iloc[0]
        oracle = _fit(make(y0))  # the event's true effect removed: the fit's own interval
    reg = sens.table.iloc[0]
    return {"rep": r, "k": k, "d": d, "flag": abs(d) >= DIFFERENTIAL_SMD, "main": sens.main,
            "lo": sens.main_ci[0], "hi": sens.main_ci[1], "reg": reg["estimate"],
            "reg_lo": reg["conf_low"], "reg_hi": reg["conf_high"],
            "fit_lo": old["conf_low"], "fit_hi": old["conf_high"],
            "oracle": float(oracle.estimate), "oracle_lo": float(oracle.ci[0]), "oracle_hi": float(oracle.ci[1])}


def part_b_table(df: pd.DataFrame, seed: int = 2026) -> list[str]:
    """Markdown table of Part B from its per-replication rows."""
    truth = TRUTH_B

    def cover(g: pd.DataFrame, lo: str, hi: str) -> str:
        c = float(((g[lo] <= truth) & (truth <= g[hi])).mean())
        half = 1.96 * np.sqrt(c * (1 - c) / len(g))
        return f"{c:.3f} [{max(c - half, 0):.3f}, {min(c + half, 1):.3f}]"

    lines = [f"### Differential-exposure rule and the regressor re-estimate: {len(df)} replications (seed {seed})", "",
             "| group | reps | mean abs d | mean abs bias, main DiD | coverage, main (C-S analytic) | "
             "mean abs bias after regressor | coverage, regressor (placebo interval, default) | "
             "coverage, regressor (refit's interval widened, before) | coverage, true event removed (C-S analytic) |",
             "|---|---|---|---|---|---|---|---|---|"]
    groups = [("flagged (abs d >= 0.25)", df.loc[df["flag"]]), ("not flagged", df.loc[~df["flag"]])]
    groups += [(f"{k} treated", g) for k, g in df.groupby("k")] + [("all", df)]
    for name, g in groups:
        if g.empty:
            continue
        lines.append(f"| {name} | {len(g)} | {g['d'].abs().mean():.2f} | {(g['main'] - truth).abs().mean():.4f} | "
                     f"{cover(g, 'lo', 'hi')} | "
                     f"{(g['reg'] - truth).abs().mean():.4f} | {cover(g, 'reg_lo', 'reg_hi')} | "
                     f"{cover(g, 'fit_lo', 'fit_hi')} | {cover(g, 'oracle_lo', 'oracle_hi')} |")
    lines.append("")
    return lines


def part_b(reps: int = 500, seed: int = 2026, start: int = 0, csv: Path | None = None) -> list[str]:
    rows = []
    for r in range(start, start + reps):
        rows.append(part_b_rep(r, seed))
        if (r + 1 - start) % 25 == 0:
            print(f"  {r + 1 - start} replications", file=sys.stderr, flush=True)
            if csv is not None:
                pd.DataFrame(rows).to_csv(csv, index=False)
    df = pd.DataFrame(rows)
    if csv is not None:
        df.to_csv(csv, index=False)
    return part_b_table(df, seed)


def main(argv: list[str]) -> int:
    """``calendar_calibration.py a``: Part A into OUT_A; ``calendar_calibration.py b START N OUT.csv``:
    replications START..START+N-1 of Part B into OUT.csv (to split the run over processes);
    ``calendar_calibration.py table``: OUT from OUT_A and CSV_B; no argument: all of it."""
    mode = argv[1] if len(argv) > 1 else "all"
    if mode == "b":
        start, n, out = int(argv[2]), int(argv[3]), Path(argv[4])
        print("\n".join(part_b(n, start=start, csv=out)))
        return 0
    if mode in ("a", "all"):
        folder = realdata_dir()
        if folder is None:
            print("real-data folder not found: set EVALINT_REALDATA_DIR", file=sys.stderr)
            return 1
        t = time.time()
        lines_a = part_a(folder) + [f"(Part A run time {time.time() - t:.0f} s.)", ""]
        OUT_A.write_text("\n".join(lines_a) + "\n", encoding="utf-8")
        if mode == "a":
            print("\n".join(lines_a))
            return 0
        if not CSV_B.exists():
            part_b(500, csv=CSV_B)
    lines = ["# Policy-calendar calibration (benchmarks/calendar_calibration.py)", "",
             "## Part A: the single-series check on real series", ""]
    lines += OUT_A.read_text(encoding="utf-8").splitlines()
    lines += ["## Part B: the differential-exposure rule and the regressor re-estimate (simulation)", ""]
    lines += part_b_table(pd.read_csv(CSV_B)) + [f"(per-replication rows in {CSV_B.name})"]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
