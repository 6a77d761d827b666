"""Spark engine: the same query as DuckDB, as Spark SQL on a user's SparkSession.

For data that live in a Spark environment (a trusted research environment on Databricks) or
outgrow one machine. Pass ``spark=<your session>``; without one a local session is created.

References
----------
Armbrust, M. et al. (2015). Spark SQL: relational data processing in Spark. SIGMOD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["run_spark"]

_VIEW = "evalint_records_episodes"


def _session(spark: Any) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SpecificationError(
            "engine='spark' needs pyspark (and a Java runtime): pip install 'evalint[spark]'."
        ) from exc
    if spark is not None:
        return spark
    return SparkSession.builder.appName("evalint.records").getOrCreate()


def run_spark(source: Any, build: Any, *, spark: Any = None) -> pd.DataFrame:
    """Run the query built by ``build(columns, view_name, 'spark')`` on ``spark``."""
    session = _session(spark)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise SpecificationError(f"source {str(source)!r} does not exist.")
        is_csv = path.suffix.lower() == ".csv" or (path.is_dir() and not any(path.rglob("*.parquet"))
                                                  and any(path.rglob("*.csv")))
        reader = session.read
        df = (reader.option("header", True).option("inferSchema", True).csv(str(path)) if is_csv
              else reader.parquet(str(path)))
    elif isinstance(source, pd.DataFrame):
        df = session.createDataFrame(source)
    elif hasattr(source, "createOrReplaceTempView") and hasattr(source, "columns"):
        df = source
    else:
        raise SpecificationError(
            f"engine='spark' reads a parquet/CSV path, a Spark DataFrame or a pandas DataFrame; "
            f"got {type(source).__name__}.")
    df.createOrReplaceTempView(_VIEW)
    try:
        sql = build(list(df.columns), _VIEW, "spark")
        result = session.sql(sql)
        names = list(result.columns)
        # the aggregate is small: collect rows rather than depend on Spark's pandas bridge
        out = pd.DataFrame([tuple(r) for r in result.collect()], columns=names)
    finally:
        session.catalog.dropTempView(_VIEW)
    return out
