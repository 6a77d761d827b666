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
