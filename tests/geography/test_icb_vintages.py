"""ICB 2022 -> April 2026: refused without a lookup (not shipped), applied with a user's lookup.

The user lookup here is built in the test in the shape of the April 2026 changes as announced
(Written Ministerial Statement HCWS915, 9 September 2025; NHS BSA "ICB Mergers - April 2026"):
merged pairs of whole 2022 ICBs and Frimley split between neighbours. Its shares are the test's
own; what is asserted are closed-form facts of an apportionment: totals kept, a merged ICB equal
to the sum of its parts, a split ICB's value divided by its shares.
"""

from __future__ import annotations

import pandas as pd
import pytest

from evalint.errors import ColumnNotFoundError, DataError
from evalint.geography import (
    UnknownCodeError,
    UnsupportedVintageError,
    icb_table,
    subicb_to_icb,
    to_icb_vintage,
)

ICBS = icb_table()["icb22_code_h"].tolist()
MERGED = {"QMM": "NEW_NS", "QJG": "NEW_NS"}       # Norfolk and Waveney + Suffolk and North East Essex
FRIMLEY = {"NEW_TV": 0.6, "NEW_SS": 0.4}         # Frimley (QNQ) split


def lookup() -> pd.DataFrame:
    rows = []
    for code in ICBS:
        if code == "QNQ":
            rows += [{"icb22_code": code, "icb26_code": k, "share": v} for k, v in FRIMLEY.items()]
        else:
            rows.append({"icb22_code": code, "icb26_code": MERGED.get(code, code), "share": 1.0})
    return pd.DataFrame(rows)


@pytest.fixture
def series():
    months = pd.date_range("2025-01-01", periods=2, freq="MS")
    return pd.DataFrame([{"icb": c, "month": m, "admissions": 1000.0 + 10 * i + j}
                         for i, c in enumerate(ICBS) for j, m in enumerate(months)])


def test_2026_is_refused_without_a_lookup(series, monkeypatch):
    monkeypatch.delenv("EVALINT_ICB_LOOKUP_2026", raising=False)
    with pytest.raises(UnsupportedVintageError, match="not published in evalint.*lookup='icb22_to_icb26.csv'"):
        to_icb_vintage(series, "admissions", icb="icb", time="month", target="2026")
    with pytest.raises(UnsupportedVintageError, match="to_icb_vintage"):
        subicb_to_icb(vintage="2026")
    with pytest.raises(UnsupportedVintageError, match="not supported"):
        to_icb_vintage(series, "admissions", icb="icb", target="2030", lookup=lookup())


def test_user_lookup_keeps_totals_merges_and_splits(series, tmp_path, monkeypatch):
    path = tmp_path / "icb22_to_icb26.csv"
    lookup().to_csv(path, index=False)
    out = to_icb_vintage(series, "admissions", icb="icb", time="month", lookup=path)
    monkeypatch.setenv("EVALINT_ICB_LOOKUP_2026", str(path))
    pd.testing.assert_frame_equal(out, to_icb_vintage(series, "admissions", icb="icb", time="month"))
    assert out["icb_code"].nunique() == 42 - 1 + 1      # one pair merged, Frimley split in two
    totals = out.groupby("month")["admissions"].sum()
    assert (totals == series.groupby("month")["admissions"].sum()).all()
    got = out.set_index(["icb_code", "month"])["admissions"]
    first = series[series["month"] == series["month"].min()].set_index("icb")["admissions"]
    m0 = series["month"].min()
    assert got[("NEW_NS", m0)] == first["QMM"] + first["QJG"]
    assert got[("NEW_TV", m0)] == pytest.approx(0.6 * first["QNQ"])
    assert got[("NEW_SS", m0)] == pytest.approx(0.4 * first["QNQ"])
    assert got[("QOX", m0)] == first["QOX"]


def test_bad_lookups_are_named(series):
    bad = lookup()
    bad.loc[bad["icb22_code"] == "QNQ", "share"] = 0.3   # 0.6 in all
    with pytest.raises(DataError, match="do not sum to 1.*E54"):
        to_icb_vintage(series, "admissions", icb="icb", lookup=bad)
    with pytest.raises(DataError, match="have no row"):
        to_icb_vintage(series, "admissions", icb="icb", lookup=lookup().iloc[1:])
    with pytest.raises(ColumnNotFoundError, match="icb26_code"):
        to_icb_vintage(series, "admissions", icb="icb", lookup=lookup().rename(columns={"icb26_code": "new"}))
    with pytest.raises(UnknownCodeError, match="QZZ"):
        to_icb_vintage(series.assign(icb="QZZ"), "admissions", icb="icb", lookup=lookup())
