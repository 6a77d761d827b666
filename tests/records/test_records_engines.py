"""Outcome definitions against hand-worked numbers; DuckDB and pandas engines agree."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalint.records import RecordsQualityWarning, episodes_to_frame, episodes_to_panel

sys.path.insert(0, str(Path(__file__).parent))
import handmade


def _check_handmade(rf):
    f = rf.frame.set_index(["icb", "month"])
    assert len(rf.frame) == 42 * 4  # every ICB x Jan-Apr 2020, zeros where no spells
    for (unit, month), exp in handmade.EXPECTED.items():
        row = f.loc[(unit, pd.Timestamp(month))]
        got = (row["spells"], row["emergency_admissions"], row["bed_days"],
               row["delayed_discharge_days"], row["emergency_readmissions_30d"])
        assert tuple(int(x) for x in got) == exp[:5], (unit, month)
        np.testing.assert_equal(row["length_of_stay"], exp[5])
    others = rf.frame[~rf.frame["icb"].isin([handmade.A, handmade.B])]
    assert (others[["spells", "emergency_admissions", "bed_days"]] == 0).all().all()
    q = rf.quality.set_index("rule")["spells"]
    for rule, n in handmade.QUALITY.items():
        assert q[rule] == n, rule
    assert q["spells built"] == 12 and q["episodes read"] == 13


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize("as_csv", [False, True])
def test_handmade_numbers(engine, as_csv, tmp_path):
    src = handmade.episodes()
    if as_csv:
        src.to_csv(tmp_path / "ep.csv", index=False)
        src = tmp_path / "ep.csv"
    with pytest.warns(RecordsQualityWarning) as rec:
        rf = episodes_to_frame(src, engine=engine, fields={"discharge_ready_date": "disreadydate"})
    _check_handmade(rf)
    w = next(x.message for x in rec if isinstance(x.message, RecordsQualityWarning))
    assert "discharge_before_admission: 1" in str(w) and len(w.table) == 11


def test_input_frame_not_mutated():
    src = handmade.episodes()
    before = src.copy()
    with pytest.warns(RecordsQualityWarning):
        episodes_to_frame(src, engine="pandas")
    pd.testing.assert_frame_equal(src, before)


def test_duckdb_relation_source():
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    rel = con.from_df(handmade.episodes())
    with pytest.warns(RecordsQualityWarning):
        rf = episodes_to_frame(rel, engine="duckdb")
    _check_handmade(rf)


@pytest.mark.parametrize("unit,freq,age", [("icb", "M", None), ("provider", "W", None),
                                           ("gp_practice", "M", None), ("icb", "W", (0, 18, 65, 85))])
def test_duckdb_equals_pandas_on_generated_files(small_extract, unit, freq, age):
    kw = {"unit": unit, "freq": freq, "age_bands": age}
    d = episodes_to_frame(small_extract.path, engine="duckdb", **kw)
    p = episodes_to_frame(small_extract.path, engine="pandas", **kw)
    pd.testing.assert_frame_equal(d.frame, p.frame, check_dtype=False)
    pd.testing.assert_frame_equal(d.quality, p.quality, check_dtype=False)
    assert d.frame["emergency_admissions"].sum() > 0
    assert (d.quality.set_index("rule").loc[list(handmade.QUALITY), "spells"] == 0).all()


def test_panel_has_the_named_outcomes(small_extract):
    panel = episodes_to_panel(small_extract.path)
    for o in ("emergency_admissions", "length_of_stay", "bed_days", "delayed_discharge_days",
              "emergency_readmissions_30d"):
        assert o in panel.outcomes
    assert panel.n_units == 42 and panel.n_periods == 24 and panel.freq == "M"
    # bed-days / emergency admissions == mean LOS in every cell
    d = panel.data
    np.testing.assert_allclose(d["length_of_stay"], d["bed_days"] / d["emergency_admissions"])
