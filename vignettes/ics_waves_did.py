"""Vignette: the staggered ICS waves and emergency admissions (difference-in-differences).

Integrated care systems were designated in six waves before they became statutory bodies:
June 2017 (shadow accountable care systems), May 2018, June 2019, May 2020, December 2020 and
April 2021 (full coverage). Each of the 42 ICB areas has one designation month (preset
``ics_waves``, from ``evalint.geography.icbs``). Did designation change emergency admissions?

This is staggered adoption with **every area eventually treated**, the setting where two-way
fixed effects (TWFE) can mislead. The data are simulated by :func:`evalint.simulate_nhs` with a
known effect that differs by wave (earlier, more mature systems: larger) and builds up over two
years, so the vignette prints the truth beside every estimate. It shows:

1. TWFE, and its Goodman-Bacon decomposition: how much weight sits on "forbidden"
   comparisons that use already-designated areas as controls;
2. the Callaway-Sant'Anna event study: which comparison group works when no area is
   never treated, and the estimates by months since designation next to the truth;
3. the policy-calendar (churn) flags: what else happened to these areas in 2016-2025.

Run ``python vignettes/ics_waves_did.py``. ``EVALINT_VIGNETTE_FAST=1`` uses fewer bootstrap
draws; ``EVALINT_VIGNETTE_OUT=<folder>`` saves the figures there.
"""

# %% [markdown]
# ## Setup

# %%
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import evalint
from evalint.errors import EvalintError

FAST = os.environ.get("EVALINT_VIGNETTE_FAST", "") not in ("", "0")
OUT = os.environ.get("EVALINT_VIGNETTE_OUT")
SEED = 2017
REPS = 199 if FAST else 999
pd.set_option("display.width", 140)

# %% [markdown]
# ## 1. Simulated ICB emergency admissions with a known, wave-specific, growing effect
#
# Effect on the expected count: -8% for the 2017 wave down to -3% for the 2020-21 waves,
# reached linearly over 24 months after designation. Expected counts are multiplicative in
# area and month (population x area rate x national trend, seasonality, COVID), so parallel
# trends hold for the **log** admission rate; we analyse that, and the true effect of a
# treated area-month is log(expected with / expected without).

# %%
LEVELS = {"2017-06": -0.08, "2018-05": -0.07, "2019-06": -0.06, "2020-05": -0.05, "2020-12": -0.04,
          "2021-04": -0.03}
sim = evalint.simulate_nhs(seed=SEED, adoption="ics_waves",
                           effects={"emergency_admissions": {"by_cohort": LEVELS, "ramp": 24}})
data = sim.data.assign(log_rate=np.log(sim.data["emergency_admissions"] / sim.data["population"] * 1000))
print("ICS designation waves (cohorts) in the simulated panel:")
print(data.groupby("cohort")["icb_code"].nunique().rename("ICBs").to_frame().T.to_string())
print(f"{data['icb_code'].nunique()} ICBs x {data['month'].nunique()} months "
      f"({data['month'].min()} to {data['month'].max()}); no ICB is never designated.")

truth = sim.true_effects("emergency_admissions")
truth = truth.assign(theta=np.log(truth["expected_with"] / truth["expected_without"]))
last_wave = truth["cohort"].max()

panel_d = evalint.Panel.from_frame(data[["icb_code", "month", "log_rate", "treated"]], unit="icb_code",
                                   time="month", outcome="log_rate", treatment="treated")
panel_g = evalint.Panel.from_frame(data[["icb_code", "month", "log_rate", "cohort"]], unit="icb_code",
                                   time="month", outcome="log_rate", cohort="cohort")

# %% [markdown]
# ## 2. TWFE and the Goodman-Bacon decomposition
#
# With 42 clusters TWFE's default inference is the restricted wild cluster bootstrap.
# The TWFE coefficient is a weighted average of 2x2 DiDs; the decomposition lists them.
# Theory (de Chaisemartin & D'Haultfoeuille 2020) gives the value TWFE converges to as a
# weighted average of the cell effects with weights from the two-way-demeaned treatment
# dummy - some negative; it is computed below from the truth, without any estimator.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    tw = evalint.twfe(panel_d, calendar=False,
                      inference=evalint.WildClusterBootstrap(by="icb_code", reps=REPS, seed=SEED))
    bacon = evalint.bacon_decomposition(panel_d, calendar=False)

d = data.pivot(index="icb_code", columns="month", values="treated")
theta_mat = (truth.pivot(index="unit", columns="month", values="theta")
             .reindex(index=d.index, columns=d.columns).fillna(0.0).to_numpy())
dm = d.to_numpy(float)
dtilde = dm - dm.mean(1, keepdims=True) - dm.mean(0, keepdims=True) + dm.mean()
on = dm == 1
att_all = float(theta_mat[on].mean())
twfe_limit = float((dtilde * theta_mat)[on].sum() / dtilde[on].sum())
neg_share = float((dtilde[on] < 0).mean())
print(f"\nTWFE: {tw.estimate:+.4f}  95% CI (wild bootstrap) [{tw.ci[0]:+.4f}, {tw.ci[1]:+.4f}]")
print(f"  truth: ATT over all designated area-months {att_all:+.4f}; what TWFE estimates in theory "
      f"{twfe_limit:+.4f} ({neg_share:.0%} of treated cells get negative weight)")
print("\nBacon decomposition by comparison type:")
print(bacon.tables["bacon_by_type"].round(4).to_string(index=False))
forbidden = [f for f in bacon.flags if f.kind == "diagnostic"]
for f in forbidden:
    print(f"  [{f.severity}] {f.message[:160]}")

# %% [markdown]
# ## 3. Callaway-Sant'Anna: which comparison group works?
#
# There are no never-designated areas, so the never-treated comparison is refused with a
# message saying why and what to use. The not-yet-treated comparison works: each wave is
# compared with areas designated later, until the last wave (April 2021) is designated. The
# last wave is therefore comparison-only and months from April 2021 on are not identified:
# the estimand is the ATT over earlier waves before April 2021.

# %%
try:
    evalint.callaway_santanna(panel_g, control="never_treated", calendar=False)
except EvalintError as exc:
    print(f"never_treated: {type(exc).__name__}: {str(exc)[:200]}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cs = evalint.callaway_santanna(panel_g, control="not_yet_treated", aggregation="dynamic", min_e=-12,
                                   max_e=24, calendar=None,
                                   inference=evalint.MultiplierBootstrap(reps=REPS, seed=SEED))
    cs_simple = evalint.aggregate_att(cs, "simple")

ident = truth.loc[(truth["cohort"] < last_wave) & (truth["month"] < last_wave)]
true_simple = float(ident["theta"].mean())
true_by_e = ident.groupby(ident["rel_time"].astype(int))["theta"].mean()
print(f"\nCS simple ATT (not-yet-treated): {cs_simple.estimate:+.4f}  95% CI "
      f"[{cs_simple.ci[0]:+.4f}, {cs_simple.ci[1]:+.4f}]   truth {true_simple:+.4f}")

es = cs.effects.copy()
es["truth"] = es["rel_time"].map(lambda e: true_by_e.get(int(e), 0.0))
es["covered"] = (es["conf_low"] <= es["truth"]) & (es["truth"] <= es["conf_high"])
cols = ["rel_time", "estimate", "std_error", "conf_low", "conf_high", "band_low", "band_high", "truth"]
shown = es.loc[es["rel_time"].isin([-12, -6, -3, -1, 0, 1, 3, 6, 9, 12, 18, 24]), cols]
print("\nCS event study (months since designation; truth 0 before designation):")
print(shown.round(4).to_string(index=False))
print(f"Pointwise 95% intervals cover the truth at {es['covered'].mean():.0%} of {len(es)} event times; "
      f"the simultaneous band covers all of them: "
      f"{bool(((es['band_low'] <= es['truth']) & (es['truth'] <= es['band_high'])).all())}.")
print(f"Headline (mean over e = 0..24): {cs.estimate:+.4f}  truth "
      f"{float(true_by_e.loc[0:24].mean()):+.4f}")
pre = next((c for c in cs.diagnostics if c.name == "pre_trend"), None)
if pre is not None:
    print(f"Pre-trend test: {pre.text}")
    if pre.p_value is None:
        n_pre = int((cs.tables["att_gt"]["time"] < cs.tables["att_gt"]["group"]).sum())
        print(f"  ({n_pre} pre-designation ATT(g,t) from {data['icb_code'].nunique()} ICBs: their covariance has "
              "rank <= the number of ICBs, so a joint Wald test does not exist; the pre-period event-study "
              "rows and their simultaneous band above are the evidence on pre-trends.)")

# %% [markdown]
# ## 4. Side by side with the truth, and other heterogeneity-robust estimators

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    bjs = evalint.imputation_did(panel_g, calendar=False)
rows = [
    ("TWFE (wild cluster bootstrap)", tw, att_all),
    ("Callaway-Sant'Anna, not-yet-treated (simple)", cs_simple, true_simple),
    ("Imputation (Borusyak-Jaravel-Spiess)", bjs, true_simple),
]
table = pd.DataFrame([{"method": m, "estimate": r.estimate, "ci_low": r.ci[0], "ci_high": r.ci[1],
                       "truth": t, "error": r.estimate - t} for m, r, t in rows])
print("\nEffect on log emergency admissions per 1,000 (x100 ~ % change); truth from the simulation:")
print(table.round(4).to_string(index=False))
print("(CS and imputation: designated area-months before April 2021, which is all that can be\n"
      " identified with no never-designated areas; TWFE: all designated area-months.)")

# %% [markdown]
# ## 5. Policy churn: what else happened in the window?
#
# Every fit runs the policy-calendar check (``calendar=None`` = the default calendar) on its
# cohorts and window. Given only the unit -> designation month mapping, the estimator cannot
# know that the ICS wave events *are* the intervention, so it lists them too. Checking the
# preset itself (``"ics_waves"``) skips the intervention's own events and leaves the churn:
# dated national and local events that overlap the window and may hit earlier and later waves
# differently. These are threats to parallel trends that the data cannot rule out.

# %%
flags = cs.flags_frame()
own = flags["event_id"].fillna("").str.startswith("ics_wave")
print(f"\nFlags on the CS event study: {len(flags)} "
      f"({', '.join(f'{k}: {v}' for k, v in flags['severity'].value_counts().items())}); "
      f"{int(own.sum())} of them are the ICS waves themselves.")
pre_months = int((data["month"].min() - pd.Period(min(LEVELS), "M")).n * -1)
post_months = int((data["month"].max() - pd.Period(max(LEVELS), "M")).n) + 1
churn = evalint.PolicyCalendar.default().check("ics_waves", outcome="emergency_admissions", design="did",
                                               pre=pre_months, post=post_months)
print(churn.text)
tab = churn.table
tab = tab.loc[tab["severity"].isin(["high", "medium"]), ["event_id", "start", "end", "overlap", "severity"]]
print(tab.assign(start=tab["start"].astype(str).str[:10], end=tab["end"].astype(str).str[:10])
      .to_string(index=False))

# %% [markdown]
# ## Figures

# %%
if OUT:
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    cs.plot().savefig(out / "ics_waves_cs_event_study.png", dpi=110)
    bacon.plot().savefig(out / "ics_waves_bacon.png", dpi=110)
    print(f"\nFigures written to {out}")
