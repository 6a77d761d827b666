"""Fixtures for the record-level tests: one small synthetic extract and one local Spark."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory):
    """60,000 synthetic HES-like episodes (seed 11), partitioned parquet."""
    from evalint.records import simulate_episodes

    path = tmp_path_factory.mktemp("records") / "hes"
    return simulate_episodes(60_000, seed=11, path=path, months=24, effect_date="2020-01-01")


@pytest.fixture(scope="session")
def spark():
    """A local Spark session: two cores, four shuffle partitions, no UI."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (install default-jre-headless)")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("evalint-records-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
