# %% [markdown]
# # A real ICB x month panel of emergency admissions, built from trust rows
#
# NHS England publishes emergency admissions by **provider** (trust) every month, and by ICB only
# from April 2022, grouped by the ICB the *provider* belongs to. An evaluation across ICBs wants
# admissions of the ICB's **residents** per 100,000 of its population, and wants months before
# April 2022. This vignette builds that panel from the trust rows (April 2021 onwards) with
# `evalint.geography`:
#
# 1. read the trust rows (`evalint.io.read_healthyr`: copied months dropped);
# 2. put predecessor trust codes on their successors (`harmonise_trust_codes`);
# 3. **check** the aggregation against NHS England's own ICB rows and England totals;
# 4. attribute each trust's admissions to the ICBs its patients live in (`trust_to_icb`,
#    ECDS activity weights) and read the **coverage** report;
# 5. add ONS population denominators (`add_population`) so the outcome is a rate per 100,000;
# 6. run one comparison design through `evaluate()` with the policy-calendar flags.
#
# The files are NHS England and ONS statistics under the Open Government Licence v3.0, found in
# `../shared/realdata` beside the checkout or in `$EVALINT_REALDATA_DIR` (see each SOURCE.md).
# Run as `python vignettes/real_icb_emergency_admissions.py`.

# %%
from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import evalint
import evalint.geography as geo
from evalint.datasets.realdata import realdata_dir
from evalint.errors import DroppedRowsWarning

pd.set_option("display.width", 130)
ROOT = realdata_dir()
if ROOT is None:
    print("Real NHS data not found (set EVALINT_REALDATA_DIR or check out shared/realdata "
          "beside the repository); nothing to do.")
    sys.exit(0)
UEC = ROOT / "healthyr_nhse_uec"
EA = "total_emergency_admissions"

# %% [markdown]
# ## 1. Trust rows, April 2021 - July 2025
#
# The reader drops February and March 2025, which the source copied from 2024 (a known defect of
# this copy; the warning says so).

# %%
from evalint.io.healthyr import read_healthyr  # noqa: E402

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    trust_raw = read_healthyr(UEC / "england_trust_accidents_emergency.csv")
    icb_published = read_healthyr(UEC / "england_icb_accidents_emergency.csv")
for w in caught:
    if issubclass(w.category, DroppedRowsWarning):
        print("reader:", str(w.message)[:160])
print(f"trust rows: {len(trust_raw):,}, {trust_raw['org_code'].nunique()} trust codes, "
      f"{trust_raw['period'].min():%Y-%m} to {trust_raw['period'].max():%Y-%m}")

# %% [markdown]
# ## 2. Successions
#
# Codes that stop in the series are predecessors: Pennine Acute (RW6) split in October 2021
# (its rows go to Northern Care Alliance, RM3, which took three of its four hospitals), and
# Northern Devon, Yeovil, Southport and Ormskirk and North Middlesex merged into RH8, RH5, RBN and
# RAL. Rows sharing a successor and month are summed.

# %%
moved = sorted(c for c in trust_raw["org_code"].unique() if geo.trust_successors(c) != [c])
print("predecessor codes in the data:", ", ".join(f"{c}->{'/'.join(geo.trust_successors(c))}" for c in moved))
trusts = geo.harmonise_trust_codes(trust_raw, "org_code", time="period", splits={"RW6": "RM3"})
print(f"after harmonising: {trusts['org_code'].nunique()} trust codes")

# %% [markdown]
# ## 3. Check against NHS England's ICB rows
#
# With `weights="host"` each trust counts in full to the ICB it belongs to, which is how NHS
# England builds its ICB rows; the sum must reproduce them. The England total (sum over ICBs)
# must equal the sum over trusts, and NHS England's England time series.

# %%
host = geo.trust_to_icb(trusts[trusts["period"] >= "2022-04-01"], EA, trust="org_code",
                        time="period", weights="host")
pub = icb_published.assign(period=pd.PeriodIndex(icb_published["period"], freq="M"))
both = host.frame.merge(pub[["org_code", "period", EA]].rename(columns={"org_code": "icb22_code"}),
                        on=["icb22_code", "period"], suffixes=("", "_published"))
diff = (both[EA] / both[f"{EA}_published"] - 1).abs()
print(f"CHECK icb_months_compared {len(both)}")
print(f"CHECK icb_months_exact_share {np.mean(both[EA] == both[f'{EA}_published']):.4f}")
print(f"CHECK icb_months_max_abs_pct_diff {100 * diff.max():.2f}")
series = pd.read_csv(ROOT / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
england_pub = series.set_index(pd.PeriodIndex(pd.to_datetime(series["Period"]), freq="M"))[
    "Emergency Admissions | Total Emergency Admissions"]
england_ours = host.frame.groupby("period")[EA].sum()
for month in ("2023-01", "2024-01"):
    m = pd.Period(month, "M")
    print(f"CHECK england_{month} sum_over_icbs={england_ours[m]:.0f} "
          f"england_timeseries={england_pub[m]:.0f}")

# %% [markdown]
# ## 4. Where patients live: activity weights and coverage
#
# `weights="activity"` splits each trust's admissions across ICBs by where its type 1 A&E
# patients live (ECDS 2022, Nuffield Trust). England's total is unchanged; ICBs with a big
# tertiary centre lose admissions to their neighbours. Coverage is the share of an ICB's usual
# attributed volume from trusts reporting that month.

# %%
act = geo.trust_to_icb(trusts, EA, trust="org_code", time="period", weights="activity")
print("weights used, by basis (trust-ICB rows):", act.weights["basis"].value_counts().to_dict())
low = act.low_coverage(0.95)
print(f"ICB-months with coverage < 95%: {len(low)}, in months "
      f"{', '.join(sorted(set(low['period'].astype(str))))}")
print("lowest in 2021:",
      low[low["period"] < pd.Period("2022-01", "M")].nsmallest(3, "coverage")[["icb22_code", "period", "coverage"]]
      .to_string(index=False).replace("\n", "; "))
START, END = "2021-09", "2025-01"
print(f"analysis window {START} to {END}: every ICB covered >= 95% "
      f"(2021-04..08 lack trusts whose predecessor codes the source dropped; "
      "2025-02/03 are the copied months the reader dropped: no trust reports, coverage 0)")

# %% [markdown]
# ## 5. Denominators
#
# ONS mid-year populations by ICB (mid-2017, 2019, 2020) are interpolated to months and carried
# flat after mid-2020 (every month here is flagged `population_extrapolated`: rates late in the
# window are biased upwards by England's population growth, about 0.5% a year).

# %%
panel_df = act.frame.copy()
panel_df = panel_df[(panel_df["period"] >= pd.Period(START, "M")) & (panel_df["period"] <= pd.Period(END, "M"))]
panel_df = geo.add_population(panel_df, time="period")
print(f"population_extrapolated in {panel_df['population_extrapolated'].mean():.0%} of rows")
year = panel_df[panel_df["period"].between(pd.Period("2023-04", "M"), pd.Period("2024-03", "M"))]
rate = (year.groupby("icb22_code")[EA].sum() / year.groupby("icb22_code")["population"].mean() * 1e5)
host_year = host.frame[host.frame["period"].between(pd.Period("2023-04", "M"), pd.Period("2024-03", "M"))]
host_rate = (host_year.groupby("icb22_code")[EA].sum()
             / year.groupby("icb22_code")["population"].mean() * 1e5)
names = geo.icb_table().set_index("icb22_code")["icb22_name"].str.replace(" Integrated Care Board", "")
ratios = (host_rate / rate).sort_values()
print("emergency admissions per 100,000, 2023/24 (residence-based | provider-based):")
for code in [*ratios.index[:2], *ratios.index[-2:]]:
    print(f"  {names[code][:45]:45s} {rate[code]:7.0f} | {host_rate[code]:7.0f}")
print(f"England: {year[EA].sum() / year.groupby('period')['population'].sum().mean() * 1e5:.0f} per 100,000")

# %% [markdown]
# ## 6. A comparison design: did statutory go-live change more where the ICS was newest?
#
# The ICBs became statutory everywhere on 1 July 2022, so no ICB is untreated and the go-live
# itself cannot be identified by comparing ICBs. What differs is how new the system was: 24 ICBs
# came from the last two ICS waves (December 2020 and April 2021), 18 from systems designated in
# 2017-2020. If statutory status mattered through new system governance, it should have mattered
# more where that governance was newest. We compare the two groups' admission rates per 100,000
# before and after July 2022 (Callaway-Sant'Anna with the mature systems as comparisons; and an
# ITS of the newer systems' aggregate series), with the policy calendar's co-timed events.

# %%
icbs = geo.load_icbs()
newer = icbs.loc[icbs["ics_wave"].str.startswith(("wave5", "wave6")), "icb_ons_code"].tolist()
data = panel_df.rename(columns={EA: "emergency_admissions"})
data["month"] = data["period"].dt.to_timestamp()
panel = evalint.Panel.from_frame(
    data[["icb22_code", "month", "emergency_admissions", "population"]], unit="icb22_code",
    time="month", outcome="emergency_admissions", population="population",
    outcome_kind="emergency_admissions")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ev = evalint.evaluate(panel, "2022-07-01", treated=newer, seed=2022, fast=True)
table = ev.table()
print(f"{len(newer)} newer-system ICBs vs {42 - len(newer)} mature ones, "
      f"{data['month'].nunique()} months ({START} to {END})")
for _, row in table.iterrows():
    print(f"  {row['label']}: {row['absolute']:+.1f} ({row['abs_low']:+.1f} to {row['abs_high']:+.1f}) "
          f"{row['abs_label']}; {row['percent']:+.2f}% ({row['pct_low']:+.2f}% to {row['pct_high']:+.2f}%); "
          f"{row['key_diagnostic']}")
flags = ev.flags_frame()
high = flags[(flags["severity"] == "high") & flags["event_id"].notna()]
print(f"policy-calendar flags: {flags['severity'].value_counts().to_dict()}; high-severity events: "
      f"{', '.join(sorted(set(high['event_id'].astype(str))))}")
for line in ev.summary().splitlines():
    if line.startswith("Verdict"):
        print(line)

# %% [markdown]
# ## What this shows
#
# - The trust-to-ICB route reproduces NHS England's ICB rows (section 3) and keeps England's
#   total, so the panel can be trusted as arithmetic. Residence-based rates differ from the
#   provider-based ones by up to half (section 5: Staffordshire's residents are admitted at
#   Burton, Wolverhampton and Birmingham trusts; North Central London's trusts admit patients from
#   all over the country), which is why the activity weights go with population denominators.
#   The activity weights come from type 1 A&E attendances with small flows suppressed at source:
#   an approximation to where *admitted* patients live.
# - The comparison asks a narrower question than "did ICBs work": whether the change at statutory
#   go-live differed by system maturity. Read the interval, not the point: the designs share the
#   calendar's co-timed events (winter 2022/23 pressures, the discharge fund in November 2022,
#   industrial action), which hit both groups, and wave membership is not random (the last waves
#   include London and the Midlands systems). A null here is not evidence that go-live did
#   nothing; it says this comparison cannot separate the groups.
