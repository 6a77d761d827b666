"""Vignette: planning a discharge pilot in a handful of ICBs, then asking how robust its result is.

An ICB collaborative plans a discharge-to-assess pilot with community follow-up, meant to cut
emergency admissions (readmissions after discharge among them). Before any data
are in, the questions are: with 3, 6 or 12 pilot ICBs, and 12 or 24 months of follow-up, what
reduction could the evaluation detect at all? After the pilot, the reviewer's questions are: how
large a violation of parallel trends would overturn the estimate, and could the pre-trend test
have detected a trend that matters?

1. ``evalint.design.power``: minimum detectable reduction (80% power) of a DiD for each plan
   (3, 6, 12 ICBs; 12 and 24 months of follow-up), by simulation on NHS-calibrated ICB panels
   (the same as ``evalint power CONFIG.toml``), of an ITS and a synthetic DiD, and by placebo
   evaluations on the real published ICB emergency admissions (``base=``);
2. the evaluation (simulated here, with a known 5% reduction): Callaway-Sant'Anna event study of
   the log emergency admission rate, 6 pilot ICBs in two waves;
3. ``evalint.honest_did``: relative-magnitude and smoothness intervals and breakdown values;
4. ``evalint.pretrend_power``: the power of the pre-test against linear violations, and the bias
   of the estimate among evaluations that pass it.

Run ``python vignettes/planning_discharge_pilot.py``. ``EVALINT_VIGNETTE_FAST=1`` uses fewer
simulated panels; ``EVALINT_VIGNETTE_OUT=<folder>`` saves the figures there.
"""

# %% [markdown]
# ## Setup

# %%
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

import evalint

FAST = os.environ.get("EVALINT_VIGNETTE_FAST", "") not in ("", "0")
OUT = os.environ.get("EVALINT_VIGNETTE_OUT")
warnings.simplefilter("ignore")

# %% [markdown]
# ## 1. What could we detect? (before the data are in)

# %%
plan = evalint.design.power(n_treated=(3, 6, 12), pre=24, post=(12, 24), outcome="emergency_admissions",
                            power=0.8, reps=20 if FAST else 200, seed=1)
print(plan)
table = plan.to_frame()
print(table[["n_treated", "pre", "post", "mde", "null_rejection", "median_df"]].round(4).to_string(index=False))
for _, r in table.iterrows():
    print(f"CHECK mde_{int(r['n_treated'])}icb_{int(r['post'])}m {r['mde']:.5f} power_at_mde {r['power_at_mde']:.3f} "
          f"median_df {r['median_df']:.3f} reps {int(r['reps'])}")
if OUT:
    plan.plot().savefig(Path(OUT) / "pilot_power_curves.png", dpi=120)

# %% [markdown]
# The same question for the other designs a handful of pilot ICBs could use: an interrupted time
# series of the pilot ICBs' combined rate (no comparison areas needed), and synthetic DiD. Their
# simulated panels carry AR(1) noise per ICB calibrated on the published ICB emergency admissions.

# %%
for design in ("its", "sdid"):
    alt = evalint.design.power(design=design, n_treated=3, pre=24, post=12, reps=20 if FAST else 200, seed=1)
    print(alt)

# %% [markdown]
# ## 1b. ... and on our own data
#
# Planning on simulated panels assumes their noise is like ours. With the published ICB x month
# emergency admissions (NHS England A&E statistics, April 2022 - July 2025; the copied months
# February and March 2025 dropped by the reader), `base=` re-runs the plan as placebo
# evaluations on the real series: random windows of 18 + 12 months and random "pilot" ICBs, with
# the real seasonality, winters, strikes and reporting noise.

# %%
from evalint.datasets.realdata import realdata_dir  # noqa: E402

ROOT = realdata_dir()
if ROOT is not None:
    import pandas as pd

    from evalint.io.healthyr import read_healthyr

    raw = read_healthyr(ROOT / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv")
    raw = raw.assign(period=pd.PeriodIndex(raw["period"], freq="M"))
    grid = pd.MultiIndex.from_product([sorted(raw["org_code"].unique()),
                                       pd.period_range(raw["period"].min(), raw["period"].max(), freq="M")],
                                      names=["org_code", "period"])
    full = raw.set_index(["org_code", "period"])[["total_emergency_admissions"]].reindex(grid).reset_index()
    real = evalint.Panel.from_frame(full, unit="org_code", time="period", outcome="total_emergency_admissions",
                                    missing="drop")
    from evalint.design.nulls import RealBase  # noqa: E402

    rb = RealBase(real)
    print(f"CHECK real_units {len(rb.units)} complete_months {int(rb.complete.sum())} longest_run {rb.longest()}")
    own = evalint.design.power(base=real, n_treated=(3, 6, 12), pre=18, post=12, reps=20 if FAST else 200, seed=1)
    print(own)
    for _, r in own.to_frame().iterrows():
        print(f"CHECK real_mde_{int(r['n_treated'])}icb_{int(r['post'])}m {r['mde']:.5f} "
              f"size {r['null_rejection']:.3f}")
else:
    print("Real NHS data not found (EVALINT_REALDATA_DIR): planning on simulated panels only.")

# %% [markdown]
# ## 2. The evaluation: 6 pilot ICBs in two waves, a true 5% reduction

# %%
codes = sorted(evalint.simulate_nhs(seed=0, start="2021-01", end="2021-02", covid=False).data["icb_code"].unique())
rng = np.random.default_rng(7)
pilot = list(rng.choice(codes, size=6, replace=False))
adoption = {c: ("2023-04" if i < 3 else "2023-10") for i, c in enumerate(pilot)}
sim = evalint.simulate_nhs(seed=7, start="2021-04", end="2025-03", adoption=adoption,
                           effects={"emergency_admissions": -0.05}, covid=False)
data = sim.data.assign(log_rate=np.log(sim.data["emergency_admissions"] / sim.data["population"] * 1000))
panel = evalint.Panel.from_frame(data[["icb_code", "month", "log_rate", "cohort"]], unit="icb_code", time="month",
                                 outcome="log_rate", cohort="cohort")
fit = evalint.callaway_santanna(panel, base_period="universal", calendar=False, inference=evalint.Clustered())
es = evalint.aggregate_att(fit, "dynamic", min_e=-6, max_e=5)
print(f"True effect on the log rate: {np.log(0.95):.4f}")
print(es.to_frame()[["term", "estimate", "std_error", "conf_low", "conf_high"]].round(4).to_string(index=False))

# %% [markdown]
# ## 3. How robust is it? HonestDiD at 3 months after go-live

# %%
rm = evalint.honest_did(es, event_time=3, method="relative_magnitude", Mbar=[0, 0.25, 0.5, 1])
print(rm)
se = rm.se
sd = evalint.honest_did(es, event_time=3, method="smoothness", M=[0, 0.1 * se, 0.25 * se, 0.5 * se])
print(sd)
if OUT:
    rm.plot().savefig(Path(OUT) / "pilot_honest_did_rm.png", dpi=120)
    sd.plot().savefig(Path(OUT) / "pilot_honest_did_sd.png", dpi=120)

# %% [markdown]
# ## 4. Could the pre-trend test have detected a trend that matters?

# %%
pw = evalint.pretrend_power(es, event_time=3, test="wald")
print(pw[["row", "slope", "power", "bias", "bias_if_passed", "estimate", "se"]].round(4).to_string(index=False))
print("A linear trend the pre-test detects only half the time would bias the 3-month estimate by "
      f"{pw.loc[0, 'bias_if_passed']:.4f} among evaluations that pass it (estimate {pw.loc[0, 'estimate']:.4f}).")
