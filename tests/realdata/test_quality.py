"""Data-quality checks on constructed frames whose defects are planted (known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.errors import ColumnNotFoundError
from evalint.io import check_copied_months, check_org_changes, check_vintages, check_zero_filled


def _monthly(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    rows = [(o, m, float(rng.poisson(500))) for o in ("A", "B", "C", "D") for m in months]
    return pd.DataFrame(rows, columns=["org_code", "period", "admissions"])


def test_copied_month_found_and_nothing_else():
    df = _monthly()
    assert check_copied_months(df).passed
    src = df["period"] == pd.Timestamp("2023-03-01")
    dst = df["period"] == pd.Timestamp("2024-03-01")
    df.loc[dst, "admissions"] = df.loc[src, "admissions"].to_numpy()
    res = check_copied_months(df)
    assert not res.passed
    assert list(res.table["period"]) == [pd.Timestamp("2024-03-01")]
    assert res.table["copied_from"].iat[0] == pd.Timestamp("2023-03-01")
    assert res.table["n_identical"].iat[0] == 4 and len(res.flags) == 1
    # one organisation copied is not a copied month (below min_share)
    df2 = _monthly()
    a = df2["org_code"] == "A"
    df2.loc[a & dst, "admissions"] = df2.loc[a & src, "admissions"].to_numpy()
    assert check_copied_months(df2).passed
    with pytest.raises(ColumnNotFoundError, match="month"):
        check_copied_months(df, time="month")


def test_zero_filled_and_lost_day():
    days = pd.date_range("2022-06-01", "2022-06-30")
    df = pd.DataFrame([(o, d, 100.0 + i) for o in ("A", "B") for i, d in enumerate(days)],
                      columns=["org_code", "date", "nctr"])
    df.loc[(df["org_code"] == "A") & (df["date"] == days[3]), "nctr"] = 0
    df.loc[df["date"] == days[18], "nctr"] = 0  # both: a lost day
    small = pd.DataFrame({"org_code": "S", "date": days, "nctr": [1.0, 0.0] * 15})
    res = check_zero_filled(pd.concat([df, small]), "nctr")
    got = set(zip(res.table["org_code"], res.table["date"]))
    assert got == {("A", days[3]), ("A", days[18]), ("B", days[18])}  # S's zeros are plausible
    assert any("lost day" in f.message for f in res.flags) is False  # S reports 1 on odd days
    res2 = check_zero_filled(df, "nctr")
    assert [f.severity for f in res2.flags if "lost day" in f.message] == ["high"]


def test_org_changes_and_vintages():
    df = _monthly()
    df = df.loc[~((df["org_code"] == "A") & (df["period"] > "2023-06-01"))]
    df = df.loc[~((df["org_code"] == "E") & (df["period"] < "2023-07-01"))]
    df = pd.concat([df, pd.DataFrame({"org_code": "E", "period": pd.date_range("2023-07-01", "2024-12-01", freq="MS"),
                                      "admissions": 1.0})], ignore_index=True)
    succ = pd.DataFrame({"old_code": ["A", "X"], "new_code": ["X", "E"]})
    res = check_org_changes(df, successions=succ)
    t = res.table.set_index(["org", "change"])
    assert t.loc[("A", "vanishes"), "successor"] == "E" and t.loc[("A", "vanishes"), "successor_in_data"]
    assert ("E", "appears") in t.index
    b = df.copy()
    b.loc[b.index[5], "admissions"] += 7
    v = check_vintages(df, b, keys=["org_code", "period"], measures="admissions")
    assert v.statistic == 1 and v.table["difference"].iat[0] == -7
    assert check_vintages(df, b, keys=["org_code", "period"], measures="admissions", atol=7).passed
