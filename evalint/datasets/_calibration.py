"""Calibration constants for the simulated NHS panels (England, 42 ICBs, monthly).

Every number here is either read in a source listed in the project's ``shared/domain/magnitudes.md``
(quoted next to it) or a modelling choice said to be one. The simulator (:mod:`.simulate`) uses
them as defaults; all can be overridden through its arguments.

Sources (via magnitudes.md)
---------------------------
- Emergency admissions April 2019: 535,226; April 2020: 326,581 (-39% y/y) (NHS England monthly
  A&E statistics, as reported 14 May 2020). Calendar 2022 emergency admissions 9% below 2019
  (Health Foundation, 'Longer hospital stays and fewer admissions').
- Emergency length of stay 7.9 days (2019) -> 9.1 days (2022) (same Health Foundation source).
- Delayed transfers of care (DTOC, pre-2020): ~6,200 delayed patients a day in 2016/17, 4,155 in
  Dec 2018, 5,370 in Feb 2020 (Nuffield Trust QualityWatch; Commons Library CBP-7415).
- Patients no longer meeting the criteria to reside (NCtR, from 2020; a different measure):
  >13,000 in Dec 2022, +57% since Dec 2020; peak 14,385 in Jan 2023; 13,452 (w/e 31 Mar 2023);
  12,200 (w/e 30 Jun 2023); almost 13,000 in Dec 2023 (Health Foundation; DHSC rapid evaluation of
  the 2022-23 discharge funds). Winter excess ~18%.
- ICS/ICB populations ~0.5m to ~3m (King's Fund); named ICB populations as pinned below
  (healthcareleadernews.com, lgcplus.com, wyhpartnership.co.uk).
- Seasonal amplitude of emergency admissions +-5-8% (magnitudes.md: inference, unverified).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from evalint.geography import load_icbs

__all__ = [
    "ENGLAND_POPULATION_2019",
    "POPULATION_GROWTH",
    "REFERENCE_MONTH",
    "POPULATION_MONTH",
    "PINNED_POPULATION",
    "SMALL_ICBS",
    "OUTCOMES",
    "BASELINE",
    "TREND",
    "SEASONAL_AMPLITUDE",
    "SEASONAL_PEAK_MONTH",
    "UNIT_SD",
    "DISPERSION",
    "COVID_KNOTS",
    "COVID_SCALE",
    "icb_units",
]

#: The three simulated outcomes, in panel order.
OUTCOMES: tuple[str, ...] = ("emergency_admissions", "length_of_stay", "delayed_discharges")

#: England's population at mid-2019 used to split across the ICBs (modelling choice; ONS mid-2019
#: estimate for England is about 56.3m, and the brief's "about 57m" is the 2022 figure).
ENGLAND_POPULATION_2019 = 56_600_000
#: Annual population growth applied to every ICB (modelling choice, ~0.55% a year).
POPULATION_GROWTH = 0.0055
#: The month at which populations equal their 2019 values.
POPULATION_MONTH = "2019-07"
#: The month at which levels equal BASELINE (trend time 0).
REFERENCE_MONTH = "2019-04"

#: ICB populations read in named sources (magnitudes.md section 1); code -> people.
PINNED_POPULATION: dict[str, int] = {
    "QOC": 519_648,    # Shropshire, Telford and Wrekin (healthcareleadernews.com)
    "QNQ": 812_459,    # Frimley (healthcareleadernews.com)
    "QPM": 813_203,    # Northamptonshire (healthcareleadernews.com)
    "QGH": 816_242,    # Herefordshire and Worcestershire (healthcareleadernews.com)
    "QHM": 3_100_000,  # North East and North Cumbria, ">3m" (healthcareleadernews.com)
    "QKK": 1_900_000,  # South East London, 1.9m (lgcplus.com 7029420, 2019)
    "QU9": 1_800_000,  # Buckinghamshire, Oxfordshire and Berkshire West, 1.8m (lgcplus.com)
    "QWO": 2_600_000,  # West Yorkshire (and Harrogate), 2.6m (wyhpartnership.co.uk)
}
#: ICBs named as having fewer than 1 million people (healthcareleadernews.com).
SMALL_ICBS = ("QT6", "QOX", "QVV", "QSL", "QR1", "QJM")
_POPULATION_DRAW_SEED = 20220701  # fixed: populations do not change with the simulation seed

#: National expected level at REFERENCE_MONTH (April 2019):
#: admissions per month (535,226 reported), LOS in days (7.9 in 2019), delayed patients per day
#: (DTOC ~4,155-6,200 a day 2016-2020; 5,000 chosen).
BASELINE: dict[str, float] = {
    "emergency_admissions": 535_000.0,
    "length_of_stay": 7.9,
    "delayed_discharges": 5_000.0,
}
#: Default linear trend: counts in log-rate per year (per-capita), LOS in days per year.
#: Admissions +1.5%/yr per capita (modelling choice, below the 2.4%/yr per-capita growth of
#: 2006/07-2017/18); LOS -0.03 days/yr (roughly flat before COVID); delays flat.
TREND: dict[str, float] = {
    "emergency_admissions": 0.015,
    "length_of_stay": -0.03,
    "delayed_discharges": 0.0,
}
#: Seasonal amplitude of the first annual harmonic: log scale for counts, days for LOS.
SEASONAL_AMPLITUDE: dict[str, float] = {
    "emergency_admissions": 0.05,   # +-5% (magnitudes.md: +-5-8%)
    "length_of_stay": 0.15,         # +-0.15 days (modelling choice)
    "delayed_discharges": 0.085,    # peak/trough ratio exp(0.17) = 1.185 (~18% winter excess)
}
#: Calendar month of the seasonal peak (January: winter pressure).
SEASONAL_PEAK_MONTH: dict[str, float] = {o: 1.0 for o in OUTCOMES}
#: SD of the time-invariant unit effects: log scale for counts, days for LOS (modelling choice).
UNIT_SD: dict[str, float] = {
    "emergency_admissions": 0.12,
    "length_of_stay": 0.6,
    "delayed_discharges": 0.30,
}
#: Negative-binomial (NB2) dispersion alpha, Var = mu + alpha * mu^2 (magnitudes.md suggests
#: 2-4% overdispersion for a count of ~4,000; sqrt(0.0009) = 3%). Delays: 6% (modelling choice).
DISPERSION: dict[str, float] = {
    "emergency_admissions": 0.0009,
    "delayed_discharges": 0.004,
}
#: How the COVID path enters: "log" (multiplier on the mean) or "additive" (days).
COVID_SCALE: dict[str, str] = {
    "emergency_admissions": "log",
    "length_of_stay": "additive",
    "delayed_discharges": "log",
}
#: COVID-19 and its aftermath relative to the no-COVID path, at knots (month -> multiplier for
#: counts, days added for LOS); linear interpolation between knots (on the log scale for counts),
#: nothing before the first knot, the last value after the last knot.
#: Admissions: chosen so that, with the default trend and population growth, April 2020 is 39%
#: below April 2019 (0.61 / (exp(0.015) * 1.0055) = 0.5945) and calendar 2022 is 9% below 2019
#: (0.91 / (exp(0.045) * 1.0055**3) = 0.856); lockdown dips in Nov 2020 and Jan 2021.
#: LOS: +1.3 days by 2022 (7.9 - 3 * 0.03 + 1.3 = 9.11 days, vs 9.1 reported).
#: Delays: the DTOC -> NCtR change of measure and the post-2020 rise: 2.5 x the pre-COVID level
#: from Dec 2022 (winter 2022/23 ~13,500 a day), 2.35 by Dec 2023 (~12,600 vs "almost 13,000").
COVID_KNOTS: dict[str, dict[str, float]] = {
    "emergency_admissions": {
        "2020-02": 1.0, "2020-03": 0.85, "2020-04": 0.5945, "2020-05": 0.72, "2020-06": 0.80,
        "2020-07": 0.85, "2020-08": 0.87, "2020-09": 0.88, "2020-10": 0.87, "2020-11": 0.82,
        "2020-12": 0.83, "2021-01": 0.76, "2021-02": 0.79, "2021-03": 0.85, "2021-04": 0.86,
        "2021-07": 0.87, "2021-12": 0.86, "2022-01": 0.856,
    },
    "length_of_stay": {
        "2020-02": 0.0, "2020-04": 0.9, "2020-07": 0.4, "2020-10": 0.6, "2021-01": 1.1,
        "2021-06": 0.8, "2022-01": 1.3,
    },
    "delayed_discharges": {
        "2020-02": 1.0, "2020-03": 0.85, "2020-04": 0.55, "2020-06": 0.9, "2020-09": 1.3,
        "2020-12": 1.55, "2021-06": 1.8, "2021-12": 2.1, "2022-06": 2.3, "2022-12": 2.5,
        "2023-06": 2.5, "2023-12": 2.35,
    },
}


@lru_cache(maxsize=1)
def _icb_units() -> pd.DataFrame:
    icbs = load_icbs()
    codes = icbs["icb_ods_code"].to_numpy()
    pop = np.full(len(codes), np.nan)
    source = np.empty(len(codes), dtype=object)
    approx = icbs["population_approx"].to_numpy(dtype=float)
    for k, code in enumerate(codes):
        if np.isfinite(approx[k]):
            pop[k], source[k] = approx[k], "ics_icb.csv population_approx"
        elif code in PINNED_POPULATION:
            pop[k], source[k] = PINNED_POPULATION[code], "magnitudes.md (named source)"
    rng = np.random.default_rng(_POPULATION_DRAW_SEED)
    small_draw = rng.uniform(580_000, 980_000, size=len(codes))
    other_draw = np.exp(rng.normal(np.log(400_000), 0.6, size=len(codes)))
    small = np.isin(codes, SMALL_ICBS) & np.isnan(pop)
    pop[small] = small_draw[small]
    source[small] = "synthetic draw (<1m: magnitudes.md)"
    rest = np.isnan(pop)
    free = ENGLAND_POPULATION_2019 - np.nansum(pop)
    excess = other_draw[rest]  # people above 1m, scaled so that England sums to its total
    pop[rest] = 1_000_000 + excess * (free - 1_000_000 * rest.sum()) / excess.sum()
    source[rest] = "synthetic draw (>1m, scaled to England total)"
    return pd.DataFrame({
        "icb_code": codes,
        "icb_name": icbs["icb_name"].to_numpy(),
        "icb_ons_code": icbs["icb_ons_code"].to_numpy(),
        "region": icbs["nhs_region"].to_numpy(),
        "statutory_go_live": icbs["statutory_go_live"].to_numpy(),
        "ics_designation_date": icbs["ics_designation_date"].to_numpy(),
        "ics_wave": icbs["ics_wave"].to_numpy(),
        "population_2019": np.round(pop).astype(np.int64),
        "population_source": source.astype(str),
    })


def icb_units() -> pd.DataFrame:
    """The 42 ICBs with the mid-2019 populations the simulator uses (a fresh copy).

    Populations: ``population_approx`` from the ICB table where present, else the value read
    in a named source (:data:`PINNED_POPULATION`), else a fixed draw (independent of any
    simulation seed) scaled so that England totals :data:`ENGLAND_POPULATION_2019`.
    """
    return _icb_units().copy()
