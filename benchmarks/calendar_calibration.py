"""Calibration evidence for the policy-calendar check (methods/policy_churn.md section 7).

Part A (real data): does the check discriminate? For every monthly placebo intervention date
on the real England series, run the check (single-series ITS, national level) and fit a
placebo ITS step (log outcome per day ~ linear trend + month-of-year + step, OLS). No
intervention happened on those dates, so a large step is churn; windows the check fails
should show larger steps than windows it passes.
  - emergency admissions: NHS England Monthly A&E Time Series (England, 2010-08..2024-03),
    pre 24, post 12;
  - delayed discharges: acute discharge sitrep NCtR patients remaining (England daily
    2021-04..2024-01, monthly mean), pre 12, post 6.
Named windows: ICB go-live (2022-07) on emergency admissions; the 2022-23 discharge fund
(2022-12) on NCtR.

Part B (simulation, 500 replications): is the differential-exposure rule (|d| >= 0.25) the
right cut? 42 ICBs x 36 months, monthly seasonality, AR(1) noise (0.5), ICB effects nested
in 7 regions, 1-5 treated ICBs drawn at random, true effect -0.05 (log scale); a co-timed
national event whose effect is -0.04 per SD of the real BCF 2022-23 intermediate-care spend
per head (the shipped intensity table). Reports the DiD (TWFE) bias when the rule flags the
event and when it does not, and the bias after the churn-sensitivity regressor re-estimate.

Run:  nice -n 10 python benchmarks/calendar_calibration.py  (about 4 minutes; writes
benchmarks/calendar_calibration.md).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evalint import Panel
from evalint.calendar import PolicyCalendar
from evalint.calendar.exposure import DIFFERENTIAL_SMD, standardised_difference
from evalint.calendar.intensity import builtin_intensity, realdata_dir
from evalint.estimators.did.twfe import twfe
from evalint.evaluate.churn_sensitivity import churn_sensitivity
from evalint.inference.specs import Clustered

OUT = Path(__file__).with_name("calendar_calibration.md")


def _placebo_step(y: pd.Series, t: pd.Period, pre: int, post: int) -> tuple[float, float]:
    w = y.loc[(y.index >= t - pre) & (y.index <= t + post - 1)].dropna()
    n = len(w)
    trend = np.arange(n, dtype=float)
    months = np.array([p.month for p in w.index])
    X = [np.ones(n), trend, (w.index >= t).astype(float)]
    if n >= 36:  # month-of-year dummies; shorter windows get one Fourier pair
        X += [(months == m).astype(float) for m in range(2, 13)]
    else:
        X += [np.sin(2 * np.pi * months / 12), np.cos(2 * np.pi * months / 12)]
    X = np.column_stack(X)
    keep = X.std(axis=0) > 0
    keep[0] = True
    X = X[:, keep]
    beta, *_ = np.linalg.lstsq(X, np.log(w.to_numpy(float)), rcond=None)
    resid = np.log(w.to_numpy(float)) - X @ beta
    sigma2 = resid @ resid / max(n - X.shape[1], 1)
    cov = sigma2 * np.linalg.pinv(X.T @ X)
    return float(beta[2]), float(beta[2] / np.sqrt(cov[2, 2]))


def part_a(folder: Path) -> list[str]:
    cal = PolicyCalendar.default()
    ae = pd.read_csv(folder / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
    ae.index = pd.PeriodIndex(pd.to_datetime(ae["Period"]), freq="M")
    ea = ae["Emergency Admissions | Total Emergency Admissions"] / ae.index.days_in_month
    nc = pd.read_csv(folder / "discharge_sitrep_acute" / "england_daily_timeseries_apr2021_jan2024.csv",
                     parse_dates=["date"])
    nc = nc.set_index(nc["date"].dt.to_period("M"))[
        "Number of patients remaining in hospital who no longer meet the criteria to reside"]
    nctr = nc.groupby(level=0).mean()
    lines = []
    for label, series, outcome, coll, pre, post in (
            ("emergency admissions (A&E MSitAE, England)", ea, "emergency_admissions", "ae_monthly", 24, 12),
            ("delayed discharges (NCtR sitrep, England)", nctr, "delayed_discharges", "discharge_sitrep", 12, 6)):
        rows = []
        for t in series.index[pre: len(series) - post + 1]:
            res = cal.check(t, outcome=outcome, pre=pre, post=post, design="its", level="national",
                            collection=coll)
            step, tstat = _placebo_step(series, t, pre, post)
            top = res.ranked_threats()
            rows.append({"t": t, "passed": res.passed, "step": abs(step), "abs_t": abs(tstat),
                         "top": top.at[0, "event_id"] if len(top) else "",
                         "n_high": int((res.table["severity"] == "high").sum())})
        df = pd.DataFrame(rows)
        f, p = df.loc[~df["passed"]], df.loc[df["passed"]]
        auc = float("nan")
        if len(f) and len(p):
            a = f["step"].to_numpy()[:, None]
            b = p["step"].to_numpy()[None, :]
            auc = float(np.mean((a > b) + 0.5 * (a == b)))
        lines += [f"### {label}: placebo dates {df['t'].iloc[0]} .. {df['t'].iloc[-1]} (pre {pre}, post {post})", "",
                  "| windows | check fails | median abs placebo step, failed | passed | "
                  "share abs t > 2, failed | passed | AUC (step, failed vs passed) |",
                  "|---|---|---|---|---|---|---|",
                  f"| {len(df)} | {len(f)} ({len(f) / len(df):.0%}) | {f['step'].median():.3f} | "
                  f"{p['step'].median():.3f} | {(f['abs_t'] > 2).mean():.2f} | {(p['abs_t'] > 2).mean():.2f} | "
                  f"{auc:.2f} |", ""]
        named = {"emergency_admissions": [pd.Period("2022-07", "M"), pd.Period("2014-01", "M")],
                 "delayed_discharges": [pd.Period("2022-12", "M"), pd.Period("2022-07", "M")]}[outcome]
        for t in named:
            if t in set(df["t"]):
                r = df.loc[df["t"] == t].iloc[0]
                lines.append(f"- {t}: check {'passes' if r['passed'] else 'FAILS'} ({r['n_high']} high; top "
                             f"threat `{r['top'] or '-'}`); placebo step {r['step']:.3f} (|t| {r['abs_t']:.1f})")
        lines.append("")
    return lines


def part_b(reps: int = 500, seed: int = 2026) -> list[str]:
    table = builtin_intensity("bcf_intermediate_care_2022_23")
    from evalint.calendar import PolicyEvent, load_icbs

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
    rng = np.random.default_rng(seed)
    regions = sorted(region.unique())
    rows = []
    fit = lambda p: twfe(p, inference=Clustered(kind="CR1"), calendar=False)  # noqa: E731
    for r in range(reps):
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
        post = (months >= t0).to_numpy() if hasattr(months >= t0, "to_numpy") else np.asarray(months >= t0)
        is_t = np.isin(units, treated)[:, None]
        y = (rng.normal(0, 0.2, (n_u, 1)) + 0.004 * j + 0.05 * np.cos(2 * np.pi * months.month.to_numpy() / 12)
             + shocks + e + np.where(is_t & post, -0.05, 0.0)
             + np.where(post, -0.04 * z.to_numpy()[:, None], 0.0))
        recs = pd.DataFrame({"unit": np.repeat(units, n_t), "month": np.tile(months.start_time, n_u),
                             "y": y.ravel(), "cohort": np.repeat(np.where(np.isin(units, treated), "2023-04", None), n_t)})
        panel = Panel.from_frame(recs, unit="unit", time="month", outcome="y", cohort="cohort")
        d = standardised_difference(inten[treated], inten[comp])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sens = churn_sensitivity(fit, panel, ["fund"], calendar=cal, checks=("regressor",))
        reg = sens.table.iloc[0]
        rows.append({"k": k, "d": d, "flag": abs(d) >= DIFFERENTIAL_SMD, "main": sens.main,
                     "lo": sens.main_ci[0], "hi": sens.main_ci[1], "reg": reg["estimate"],
                     "reg_lo": reg["conf_low"], "reg_hi": reg["conf_high"]})
        if (r + 1) % 50 == 0:
            print(f"  {r + 1} replications", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    truth = -0.05
    lines = [f"### Differential-exposure rule: {reps} replications (seed {seed})", "",
             "| group | reps | mean abs d | mean abs bias, main DiD | coverage of 95% CI (CR1), main | "
             "mean abs bias after regressor | coverage after regressor |", "|---|---|---|---|---|---|---|"]
    for name, g in (("flagged (abs d >= 0.25)", df.loc[df["flag"]]), ("not flagged", df.loc[~df["flag"]]),
                    ("all", df)):
        if g.empty:
            continue
        cov = ((g["lo"] <= truth) & (truth <= g["hi"])).mean()
        rcov = ((g["reg_lo"] <= truth) & (truth <= g["reg_hi"])).mean()
        lines.append(f"| {name} | {len(g)} | {g['d'].abs().mean():.2f} | {(g['main'] - truth).abs().mean():.4f} | "
                     f"{cov:.3f} | {(g['reg'] - truth).abs().mean():.4f} | {rcov:.3f} |")
    lines.append("")
    return lines


def main() -> int:
    folder = realdata_dir()
    if folder is None:
        print("real-data folder not found: set EVALINT_REALDATA_DIR", file=sys.stderr)
        return 1
    t = time.time()
    lines = ["# Policy-calendar calibration (benchmarks/calendar_calibration.py)", ""]
    lines += part_a(folder)
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    lines += part_b(reps)
    lines.append(f"Run time {time.time() - t:.0f} s.")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
