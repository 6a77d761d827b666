"""Validation of evalint.design.power: rejection rate of the actual estimator at the reported MDE.

For each planned design (estimator x areas treated x months after adoption), evalint.design
.power runs ``--reps`` null replications and reports the minimum detectable reduction (MDE)
with 80% power. Then ``--reps`` fresh replications are run with that reduction generated in the
admission counts, the estimator is fitted to each, and the rejection rate is compared with 0.8.
Monte Carlo SE of the difference: sqrt(0.8 x 0.2 x (1/reps + 1/reps)) (the MDE is itself
estimated from the null replications). The size is the rejection rate of the null replications
(95% binomial band around 0.05).

* ``--design did`` (default): simulate_nhs panels, TWFE DiD with CR2 / Bell-McCaffrey df.
* ``--design its|sdid|sc``: simulate_nhs panels with AR(1) noise per ICB (0.6, SD 3%), the ITS of
  the treated ICBs' summed rate (GLS AR(1) REML adjusted) or SDID / SC with placebo SE.
* ``--base icb``: placebo assignments on the real published ICB x month emergency admissions
  (shared/realdata/healthyr_nhse_uec, April 2022 - July 2025, copied months dropped), the
  effect multiplied into the treated ICBs' post-window counts.

    nice -n 10 python benchmarks/design_power.py --reps 500 > benchmarks/design_power.out
    nice -n 10 python benchmarks/design_power.py --design its --treated 1 3 5 --post 12 --reps 500
    nice -n 10 python benchmarks/design_power.py --design sdid --treated 2 --units 12 --pre 18 --post 6 \
        --reps 500 --placebo-reps 30 --csv benchmarks/design_power_sdid.csv
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evalint.design import power
from evalint.design.nulls import placebo_design, simulate_design
from evalint.design.power import simulate_null


def icb_base():
    """The published ICB x month emergency admissions as a Panel (copied months dropped)."""
    import warnings

    import evalint
    from evalint.datasets.realdata import realdata_dir
    from evalint.io.healthyr import read_healthyr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = read_healthyr(realdata_dir() / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv")
    f = f.rename(columns={"total_emergency_admissions": "emergency_admissions"})
    f["period"] = pd.PeriodIndex(f["period"], freq="M")
    grid = pd.MultiIndex.from_product([sorted(f["org_code"].unique()),
                                       pd.period_range(f["period"].min(), f["period"].max(), freq="M")],
                                      names=["org_code", "period"])
    full = f.set_index(["org_code", "period"])[["emergency_admissions"]].reindex(grid).reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evalint.Panel.from_frame(full, unit="org_code", time="period", outcome="emergency_admissions",
                                        missing="drop")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--design", default="did", choices=["did", "its", "sdid", "sc"])
    ap.add_argument("--base", default=None, choices=[None, "icb"])
    ap.add_argument("--treated", type=int, nargs="+", default=[3, 6, 12])
    ap.add_argument("--pre", type=int, default=24)
    ap.add_argument("--post", type=int, nargs="+", default=[12, 24])
    ap.add_argument("--placebo-reps", type=int, default=100, help="placebo replications of the SDID/SC SE")
    ap.add_argument("--units", type=int, default=None, help="SDID/SC: ICBs per simulated panel (default 42)")
    ap.add_argument("--csv", default=None, help="write the table here too")
    args = ap.parse_args()
    start = time.time()
    base = icb_base() if args.base == "icb" else None
    rows = []
    for n in args.treated:
        for post in args.post:
            res = power(design=args.design, base=base, n_treated=n, pre=args.pre, post=post, reps=args.reps,
                        seed=1, placebo_reps=args.placebo_reps, n_units=args.units).to_frame().iloc[0]
            eff = -float(res["mde"])
            if base is not None:
                check = placebo_design(base, args.design, n, args.pre, post, reps=args.reps, seed=2, effect=eff,
                                       placebo_reps=args.placebo_reps)
            elif args.design == "did":
                check = simulate_null(n, args.pre, post, reps=args.reps, seed=2, effect=eff)
            else:
                check = simulate_design(args.design, n, args.pre, post, reps=args.reps, seed=2, effect=eff,
                                        placebo_reps=args.placebo_reps, n_units=args.units)
            rate = float(check["rejects"].mean())
            se = float(np.sqrt(0.8 * 0.2 * 2 / args.reps))
            rows.append({"design": args.design, "panels": "real ICB" if base is not None else "simulated",
                         "areas treated": n, "ICBs": args.units or 42, "months before": args.pre, "months after": post,
                         "MDE (reduction)": f"{100 * res['mde']:.2f}%",
                         "MDE calibrated": f"{100 * res['mde_calibrated']:.2f}%",
                         "size under H0": res["null_rejection"],
                         "rejection at MDE (fresh)": rate, "difference / MC SE": (rate - 0.8) / se,
                         "reps": args.reps})
            print(rows[-1], f"{time.time() - start:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(table.to_markdown(index=False, floatfmt=".3f"))
    print(f"\nload average {open('/proc/loadavg').read().split()[:3]}, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
