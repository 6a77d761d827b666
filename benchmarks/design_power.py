"""Validation of evalint.design.power: rejection rate of the actual estimator at the reported MDE.

For each planned design (ICBs treated x months after adoption; 24 months before), evalint.design
.power simulates ``--reps`` null NHS panels and reports the minimum detectable reduction (MDE)
with 80% power. Then ``--reps`` fresh panels are simulated with that reduction generated in the
admission counts (simulate_nhs effects, negative-binomial noise around the reduced mean), the
TWFE DiD with CR2 / Bell-McCaffrey df is fitted to each, and the rejection rate is compared with
0.8. Monte Carlo SE of the difference: sqrt(0.8 x 0.2 x (1/reps + 1/reps)) (the MDE is itself
estimated from the null replications).

    nice -n 10 python benchmarks/design_power.py --reps 500 > benchmarks/design_power.out
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evalint.design import power
from evalint.design.power import simulate_null


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--treated", type=int, nargs="+", default=[3, 6, 12])
    ap.add_argument("--post", type=int, nargs="+", default=[12, 24])
    args = ap.parse_args()
    start = time.time()
    rows = []
    for n in args.treated:
        for post in args.post:
            res = power(n_treated=n, pre=24, post=post, reps=args.reps, seed=1).to_frame().iloc[0]
            check = simulate_null(n, 24, post, reps=args.reps, seed=2, effect=-float(res["mde"]))
            rate = float(check["rejects"].mean())
            se = float(np.sqrt(0.8 * 0.2 * 2 / args.reps))
            rows.append({"ICBs treated": n, "months before": 24, "months after": post,
                         "MDE (reduction)": f"{100 * res['mde']:.2f}%", "size under H0": res["null_rejection"],
                         "rejection at MDE (fresh panels)": rate, "difference / MC SE": (rate - 0.8) / se,
                         "reps": args.reps})
            print(rows[-1], f"{time.time() - start:.0f} s", flush=True)
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    print(f"\nload average {open('/proc/loadavg').read().split()[:3]}, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
