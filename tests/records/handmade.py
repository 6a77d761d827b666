"""A hand-made episode table whose panel is worked out by hand (see the comments)."""

from __future__ import annotations

import pandas as pd

A, A_ONS, B = "QE1", "E54000048", "QF7"  # two ICBs of the 42 (A also by its ONS code)

# (hesid, provspno, epiorder, admidate, disdate, disreadydate, admimeth, resicb)
ROWS = [
    # patient 1, ICB A
    (1, 101, 1, "2020-01-03", "2020-01-10", None, "21", A),  # emergency, LOS 7
    (1, 101, 2, "2020-01-03", "2020-01-10", "2020-01-07", "21", A),  # ready 3 days before
    (1, 102, 1, "2020-02-09", "2020-02-09", None, "2A", A),  # emergency, LOS 0, 30 days after 101
    (1, 103, 1, "2020-03-15", "2020-03-20", "2020-03-18", "11", A),  # elective LOS 5, delay 2
    (1, 104, 1, "2020-04-20", "2020-04-22", None, "22", A),  # emergency LOS 2, 31 days after 103
    # patient 2, ICB B
    (2, 201, 1, "2020-01-15", "2020-01-16", None, "21", B),  # emergency LOS 1
    (2, 202, 1, "2020-01-20", "2020-01-25", None, "2Z", B),  # unknown method
    (2, 203, 1, "2020-01-24", "2020-01-30", None, "21", B),  # overlaps 202; LOS 6; gap -1
    # patient 3, ICB A by its ONS code; ready after discharge
    (3, 303, 1, "2020-02-10", "2020-02-14", "2020-02-20", "21", A_ONS),  # LOS 4, delay 0
    (3, 302, 1, "2020-03-01", "2020-03-02", None, "21", "XXX"),  # area not in the lookup
    # patient 4: discharge before admission
    (4, 401, 1, "2020-02-05", "2020-02-01", None, "21", B),
    # patient 5: ready before admission -> delay capped at LOS 3
    (5, 501, 1, "2020-03-05", "2020-03-08", "2020-03-01", "12", B),
    # patient 6: no discharge date
    (6, 601, 1, "2020-04-01", None, None, "21", A),
]

COLUMNS = ["hesid", "provspno", "epiorder", "admidate", "disdate", "disreadydate", "admimeth",
           "resicb"]


def episodes() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    for c in ("admidate", "disdate", "disreadydate"):
        df[c] = pd.to_datetime(df[c])
    return df


# unit, month -> spells, emergency_admissions, bed_days, delayed_discharge_days,
# emergency_readmissions_30d, length_of_stay
EXPECTED = {
    (A, "2020-01-01"): (1, 1, 7, 3, 0, 7.0),
    (A, "2020-02-01"): (2, 2, 4, 0, 1, 2.0),  # 102 (LOS 0, readmission) + 303 (LOS 4)
    (A, "2020-03-01"): (1, 0, 0, 2, 0, float("nan")),
    (A, "2020-04-01"): (1, 1, 2, 0, 0, 2.0),
    (B, "2020-01-01"): (3, 2, 7, 0, 0, 3.5),
    (B, "2020-02-01"): (0, 0, 0, 0, 0, float("nan")),
    (B, "2020-03-01"): (1, 0, 0, 3, 0, float("nan")),
    (B, "2020-04-01"): (0, 0, 0, 0, 0, float("nan")),
}

QUALITY = {
    "missing_admission_or_discharge_date": 1,
    "discharge_before_admission": 1,
    "area_not_in_lookup": 1,
    "unknown_admission_method": 1,
    "overlapping_spells": 1,
    "discharge_ready_after_discharge": 1,
    "discharge_ready_before_admission": 1,
}
