# %% [markdown]
# # From record-level hospital episodes to an evaluation
#
# Evaluation teams with Hospital Episode Statistics (HES) or SUS admitted patient care spend
# most of their effort turning tens of millions of episodes into the ICB x month panel an
# estimator needs. This vignette does the whole path on **synthetic HES-like episodes** for the
# 42 ICBs, with a known injected effect:
#
# 1. write the episodes as partitioned parquet (`evalint.records.simulate_episodes`);
# 2. build the monthly ICB panel of emergency admissions, length of stay, bed-days,
#    delayed-discharge days and 30-day emergency readmissions with DuckDB (the default engine,
#    in-process, bounded memory) and read the data-quality table;
# 3. run the **same** query on Spark (the code is shown; it runs when
#    `EVALINT_VIGNETTE_SPARK=1` and pyspark with a Java runtime are installed);
# 4. estimate the effect with two-way fixed effects and compare it with the truth.
#
# Needs `pip install "evalint[records]"` (and `"evalint[spark]"` for step 3). Run as a script
# or as a notebook (percent-format cells). Definitions: methods/records.md.

# %%
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evalint import twfe
from evalint.data.panel import Panel
from evalint.records import episodes_to_frame, episodes_to_panel, simulate_episodes

FAST = os.environ.get("EVALINT_VIGNETTE_FAST", "") not in ("", "0")
N_EPISODES = 150_000 if FAST else 600_000
work = Path(tempfile.mkdtemp(prefix="evalint_records_"))

# %% [markdown]
# ## 1. Synthetic HES-like episodes
#
# Patients in the 42 ICBs, chains of spells, 1-3 consultant episodes per spell; emergency share,
# length of stay, seasonality and delayed discharges calibrated to published NHS magnitudes.
# From April 2020 six ICBs (drawn with the seed) get a programme that removes **10% of their
# emergency admissions** (log effect log(0.9) = -0.105) and shortens delayed-discharge waits by
# 20%.

# %%
sim = simulate_episodes(N_EPISODES, seed=2024, path=work / "hes", months=36,
                        effect_date="2020-04-01", effect=-0.10, delay_effect=-0.20)
print(f"{sim.n_episodes:,} episodes written to {sim.path}")
print("treated ICBs:", ", ".join(sim.treated_icbs), "from", sim.effect_date)
print(sorted(p.name for p in Path(sim.path).iterdir()))

# %% [markdown]
# ## 2. Episodes to the ICB x month panel with DuckDB
#
# HES column names are the defaults (`hesid`, `provspno`, `epiorder`, `admidate`, `disdate`,
# `admimeth`, `resicb`, `disreadydate`, ...); pass `fields={"admission_date": "ADMIDATE", ...}`
# for other names. `episodes_to_frame` returns the frame and the data-quality table;
# `episodes_to_panel` goes straight to an evalint `Panel`.

# %%
rf = episodes_to_frame(sim.path, engine="duckdb", unit="icb", freq="M")
print(rf.frame.head().to_string(index=False))
print()
print(rf.quality.to_string(index=False))

panel = episodes_to_panel(sim.path)
print(f"\npanel: {panel.n_units} ICBs x {panel.n_periods} months; outcomes {panel.outcomes}")

# %% [markdown]
# A record that breaks a rule is counted and reported, never dropped silently. Here two
# episodes are corrupted on purpose: a discharge before admission and an area code that is no
# ICB. The warning carries the counts (and `on_bad="error"` would raise instead).

# %%
bad = pd.DataFrame({
    "hesid": [1, 2], "provspno": [1, 2], "epiorder": [1, 1],
    "admidate": pd.to_datetime(["2020-05-03", "2020-05-04"]),
    "disdate": pd.to_datetime(["2020-05-01", "2020-05-06"]),
    "disreadydate": pd.to_datetime([None, None]),
    "admimeth": ["21", "21"], "resicb": [sim.icbs[0], "ZZZ"],
})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    episodes_to_frame(bad, engine="duckdb")
print(caught[0].message)

# %% [markdown]
# ## 3. The same query on Spark
#
# In a trusted research environment the episodes usually live in Spark (Databricks). Pass the
# session and a Spark DataFrame (or a path); the query is the same SQL, and the tests check the
# panel is identical to DuckDB's.
#
# ```python
# from pyspark.sql import SparkSession
# spark = SparkSession.builder.getOrCreate()          # on Databricks: the notebook's `spark`
# sdf = spark.read.parquet(sim.path)                  # or spark.table("hes.apc_episodes")
# panel_spark = episodes_to_panel(sdf, engine="spark", spark=spark)
# ```

# %%
if os.environ.get("EVALINT_VIGNETTE_SPARK", "") not in ("", "0"):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    panel_spark = episodes_to_panel(spark.read.parquet(sim.path), engine="spark", spark=spark)
    print("Spark panel identical to DuckDB's:", panel_spark.fingerprint == panel.fingerprint)
    spark.stop()
else:
    print("Spark step skipped (set EVALINT_VIGNETTE_SPARK=1 to run it).")

# %% [markdown]
# ## 4. Evaluation: did emergency admissions fall in the treated ICBs?
#
# Two-way fixed effects on log emergency admissions (ICB and month effects); with 42 ICBs the
# interval is the wild cluster bootstrap by ICB. The truth is log(0.9) = -0.105.

# %%
f = rf.frame.copy()
f["log_emergency_admissions"] = np.log(f["emergency_admissions"])
f["log_delayed_days"] = np.log1p(f["delayed_discharge_days"])
f["treated"] = (f["icb"].isin(sim.treated_icbs)
                & (f["month"] >= pd.Timestamp(sim.effect_date))).astype(int)
did = Panel.from_frame(f, unit="icb", time="month", treatment="treated", freq="M",
                       outcome=["log_emergency_admissions", "log_delayed_days"])
res = twfe(did, outcome="log_emergency_admissions")
lo, hi = res.ci
print(f"TWFE, log emergency admissions: {res.estimate:.3f} (95% CI {lo:.3f} to {hi:.3f}); "
      f"truth {np.log(0.9):.3f}; covered: {lo <= np.log(0.9) <= hi}")
res_d = twfe(did, outcome="log_delayed_days")
print(f"TWFE, log(1 + delayed-discharge days): {res_d.estimate:.3f} "
      f"(95% CI {res_d.ci[0]:.3f} to {res_d.ci[1]:.3f}); the waits were cut by 20% before rounding")

# %%
import shutil

shutil.rmtree(work, ignore_errors=True)
