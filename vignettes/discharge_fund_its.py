# %% [markdown]
# # Did the 2022-23 discharge fund reduce delayed discharges? An interrupted time series
#
# In autumn 2022 the government gave local systems a ring-fenced Adult Social Care Discharge
# Fund (£500m for winter 2022-23) to get medically fit patients out of hospital.
# Five months earlier, on 1 July 2022, the 42 Integrated Care Boards went live. Both changes
# hit every area at once, so there is no untreated comparison group: the natural design is an
# **interrupted time series** (ITS) of the national series, with both interruptions in the model.
#
# The data here are simulated by `evalint.datasets.simulate_nhs` with a **known** effect (the
# fund cuts delayed discharges by 8% from its start month), so each estimate can be checked
# against the truth. Run as a script (`python vignettes/discharge_fund_its.py`) or open it as a
# notebook (percent-format cells). `EVALINT_VIGNETTE_OUT=<folder>` saves the figure there.

# %%
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from evalint.calendar import resolve_preset
from evalint.geography.icbs import load_icbs
from evalint.datasets import simulate_nhs
from evalint.estimators.its import count_its, its_by_unit, segmented_regression
from evalint.inference import ARErrors, NeweyWest

OUT = os.environ.get("EVALINT_VIGNETTE_OUT")
TRUE_EFFECT = -0.08

# %% [markdown]
# ## 1. Data: 42 ICBs, monthly, April 2016 to March 2025
#
# The simulated panel reproduces the big COVID-19 disruption and the change of measure from
# delayed transfers of care to "no criteria to reside" (delayed discharges more than double).
# An ITS assumes the pre-period trend would have continued, which is not credible across
# 2020, so we start the window in July 2021, after the measure change settled: 12 months
# before the ICS go-live and 16 before the fund (evalint refuses fewer than 8 pre-period points
# unless you pass `min_pre=`).

# %%
FUND = resolve_preset("asc_discharge_fund_2022")    # the policy calendar's dated, sourced preset
print(FUND.name, FUND.date.date(), "-", FUND.description[:120], "...")
codes = list(load_icbs()["icb_ods_code"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    sim = simulate_nhs(seed=11, adoption=(codes, FUND.date),
                       effects={"delayed_discharges": TRUE_EFFECT, "emergency_admissions": 0.0,
                                "length_of_stay": 0.0})
panel = sim.panel.subset(start="2021-07")
national = panel.aggregate("England")          # counts and population are summed
print(national)

# %% [markdown]
# ## 2. The model
#
# Delayed discharges are a count, so the outcome kind's default is a **quasi-Poisson GLM**
# (variance proportional to the mean, scale from the Pearson statistic) with a
# log(population) offset. We model:
#
# * the trend before July 2022;
# * a level change (`impact="step"`) at the ICS go-live (`ics`) and at the fund
#   (`discharge_fund`). The fund was one-off money expected to act quickly, so a step is the
#   impact model we would have pre-specified; a slope change would be extrapolated over 28
#   post-months and drive the cumulative effect (section 5 shows how much);
# * seasonality with two Fourier pairs (winter peaks), as in Bhaskaran et al. (2013);
# * Newey-West standard errors in case of residual autocorrelation.
#
# The interruptions are given as policy-calendar **presets** (`"ics_golive_2022"`,
# `"asc_discharge_fund_2022"`): the dates come from the calendar, and the confounding check knows
# which events *are* the intervention, so it does not report them as competitors. Plain dates
# (`"2022-07-01"`) work too. `focus="discharge_fund"` makes the fund the headline: its rate
# ratio, its per-month effects and the cumulative effect over the post-period are all measured
# against a counterfactual that keeps the ICS change but removes the fund's terms.

# %%
res = count_its(
    national,
    interventions={"ics": "ics_golive_2022", "discharge_fund": "asc_discharge_fund_2022"},
    focus="discharge_fund",
    impact="step",
    seasonality="fourier",
    harmonics=2,
    inference=NeweyWest(),
    outcome="delayed_discharges",
)
print(res.summary())

# %% [markdown]
# ## 3. Reading the result
#
# The headline is the **rate ratio** of the level change when the fund started: below 1 means
# fewer patients delayed. The policy-calendar check runs automatically: the Flags section lists the
# national events inside the window that plausibly moved delayed discharges (winter
# pressures, other discharge funding, recovery plans). In a single national series they cannot be separated
# from the fund; that is the main threat to this design, and the reason to triangulate with
# other designs.

# %%
lo, hi = res.ci
print(f"Rate ratio at the fund: {res.estimate:.3f} (95% CI {lo:.3f} to {hi:.3f}); truth {1 + TRUE_EFFECT:.3f}")
cum = res.tables["cumulative"].iloc[0]
truth = sim.truth
truth = truth[(truth["outcome"] == "delayed_discharges") & (truth["effect"] != 0)]
print(f"Cumulative change in patients delayed (sum of monthly snapshots): {cum['estimate']:,.0f} "
      f"(95% CI {cum['conf_low']:,.0f} to {cum['conf_high']:,.0f}); truth {truth['effect'].sum():,.0f}")
print(f"{len(res.flags)} flag(s); the most severe:")
print(res.flags_frame().head(5)[["severity", "kind", "event_id"]].to_string(index=False))

# %% [markdown]
# ## 4. Per-month effects and the figure
#
# `res.effects` holds the effect in each post month on the count scale and in %; the figure
# shows the observed series, the fitted model, the counterfactual with its 95% band, both
# interruptions, and the flagged high-severity events shaded.

# %%
print(res.effects[["time", "estimate", "conf_low", "conf_high", "percent"]].head(6).to_string(index=False))
fig = res.plot()
if OUT:
    Path(OUT).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(OUT) / "discharge_fund_its.png", dpi=120)

# %% [markdown]
# ## 5. Checks
#
# * **Impact model.** Adding slope changes (`impact="step_slope"`) barely moves the level change,
#   but the fitted slope absorbs the post-COVID drift of the series and, extrapolated, inflates
#   the cumulative effect several-fold. Pre-specify the impact model; report this sensitivity.
# * **Autocorrelation.** The Ljung-Box test on the Pearson residuals is in the diagnostics; a
#   GLS model with AR(1) errors on the rate gives a continuous-outcome cross-check.
# * **Each area.** Fitting every ICB separately and pooling with a random-effects
#   meta-analysis shows whether the national result hides heterogeneity (I^2). Pooling narrows
#   the interval but cannot remove a bias every area shares (here: the post-COVID drift that a
#   linear trend does not capture), so a tight pooled interval can still miss the truth.

# %%
slope = count_its(national, interventions={"ics": "2022-07-01", "discharge_fund": FUND.date},
                  focus="discharge_fund", impact="step_slope", seasonality="fourier", harmonics=2,
                  inference=NeweyWest(), outcome="delayed_discharges", calendar=False)
c2 = slope.tables["cumulative"].iloc[0]
print(f"step+slope: rate ratio {slope.estimate:.3f}; cumulative {c2['estimate']:,.0f} "
      f"(95% CI {c2['conf_low']:,.0f} to {c2['conf_high']:,.0f}) vs truth {truth['effect'].sum():,.0f}")

rate = national.data.assign(rate=lambda d: d["delayed_discharges"] / d["population"] * 1e5)
from evalint.data.panel import Panel  # noqa: E402

rate_panel = Panel.from_frame(rate, unit=national.unit, time=national.time, outcome="rate")
gls = segmented_regression(rate_panel, {"ics": "2022-07-01", "discharge_fund": FUND.date}, impact="step",
                           focus="discharge_fund", seasonality="fourier", inference=ARErrors(), calendar=False)
print(f"GLS-AR(1) level change in delayed patients per 100,000: {gls.estimate:.2f} "
      f"(95% CI {gls.ci[0]:.2f} to {gls.ci[1]:.2f})")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    by_icb = its_by_unit(panel, {"ics": "2022-07-01", "discharge_fund": FUND.date}, outcome="delayed_discharges",
                         impact="step", focus="discharge_fund", seasonality="fourier", calendar=False)
p = by_icb.pooled
print(f"Pooled over {len(by_icb)} ICBs: rate ratio {p.estimate:.3f} (95% CI {p.ci[0]:.3f} to {p.ci[1]:.3f}), "
      f"I^2 = {p.info['I^2 (%)']:.0f}%")
assert np.isfinite(res.estimate)
