"""The Spark engine gives the DuckDB panel on the same files, and the hand-worked numbers.

Two Spark queries in all (a local[2] session's first query is slow to warm up).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from evalint.records import RecordsQualityWarning, episodes_to_frame, records_panel

sys.path.insert(0, str(Path(__file__).parent))
import handmade
from test_records_engines import _check_handmade

pytestmark = pytest.mark.spark


def test_spark_equals_duckdb_on_generated_files(small_extract, spark):
    s = episodes_to_frame(small_extract.path, engine="spark", spark=spark)
    d = episodes_to_frame(small_extract.path, engine="duckdb")
    pd.testing.assert_frame_equal(s.frame, d.frame, check_dtype=False)
    pd.testing.assert_frame_equal(s.quality, d.quality, check_dtype=False)
    assert records_panel(s).fingerprint == records_panel(d).fingerprint


def test_spark_handmade_numbers_from_a_spark_dataframe(spark, tmp_path):
    handmade.episodes().to_csv(tmp_path / "ep.csv", index=False)
    sdf = spark.read.option("header", True).option("inferSchema", True).csv(str(tmp_path / "ep.csv"))
    with pytest.warns(RecordsQualityWarning):
        _check_handmade(episodes_to_frame(sdf, engine="spark", spark=spark))


def test_spark_dates_uk_text_refused_and_an_empty_ready_column_read_as_missing(spark, tmp_path):
    from evalint.errors import TimeParseError

    src = handmade.episodes()
    uk = src.assign(admidate=src["admidate"].dt.strftime("%d/%m/%Y"))
    with pytest.raises(TimeParseError, match="'admidate' \\(admission_date\\) holds 13 value"):
        episodes_to_frame(spark.createDataFrame(uk), engine="spark", spark=spark)
    # a parquet column written from an all-empty column has no date type: read as no ready
    # dates, so the panel is the hand-worked one with no delayed days
    empty = src.assign(disreadydate=None)
    empty.to_parquet(tmp_path / "ep.parquet", index=False)
    with pytest.warns(RecordsQualityWarning):
        rf = episodes_to_frame(str(tmp_path / "ep.parquet"), engine="spark", spark=spark)
    f = rf.frame.set_index(["icb", "month"])
    assert int(f["delayed_discharge_days"].sum()) == 0
    for (unit, month), exp in handmade.EXPECTED.items():
        assert int(f.loc[(unit, pd.Timestamp(month)), "emergency_admissions"]) == exp[1]


def test_spark_first_episode_without_a_method_is_not_an_emergency(spark):
    # the spell's method is its first episode's, missing: 0 emergency admissions by hand, as on
    # pandas and DuckDB (DuckDB's min_by had skipped the null and taken the second episode's '21')
    src = pd.DataFrame({
        "hesid": [1, 1], "provspno": [1, 1], "epiorder": [1, 2],
        "admidate": pd.to_datetime(["2020-01-05", "2020-01-05"]),
        "disdate": pd.to_datetime(["2020-01-08", "2020-01-08"]),
        "admimeth": [None, "21"], "resicb": ["QE1", "QE1"]})
    with pytest.warns(RecordsQualityWarning):
        frame = episodes_to_frame(spark.createDataFrame(src), engine="spark", spark=spark,
                                  fields={"discharge_ready_date": None}).frame
    assert int(frame["emergency_admissions"].sum()) == 0 and int(frame["spells"].sum()) == 1
