"""Spark engine: the same query as DuckDB, as Spark SQL on a user's SparkSession.

For data that live in a Spark environment (a trusted research environment on Databricks) or
outgrow one machine. Pass ``spark=<your session>``; without one a local session is created.

References
----------
Armbrust, M. et al. (2015). Spark SQL: relational data processing in Spark. SIGMOD.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError
from evalint.records.dates import not_dates_error

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


_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal", "boolean",
            "void")


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def check_dates_spark(df: Any, date_columns: Mapping[str, str]) -> Any:
    """``df`` with its date columns checked: a column of numbers or of text that is not ISO
    raises the error naming the column, the role and a value; a column of numbers that holds
    no value (an empty column read as numbers) becomes a null date column."""
    types = dict(df.dtypes)
    for role, col in date_columns.items():
        kind = str(types.get(col, "")).lower()
        c = _ident(col)
        if kind.startswith(_NUMERIC):
            row = df.where(f"{c} IS NOT NULL").select(col).limit(1).collect()
            if row:
                raise not_dates_error(col, role, None, row[0][0], f" (a {kind} column)")
            df = df.withColumn(col, df[c].cast("string").cast("date"))
        elif kind == "string":
            bad = df.where(f"{c} IS NOT NULL AND try_cast({c} AS DATE) IS NULL").select(col)
            row = bad.limit(1).collect()
            if row:
                raise not_dates_error(col, role, bad.count(), row[0][0])
    return df


def run_spark(source: Any, build: Any, *, spark: Any = None,
              date_columns: Any = None) -> pd.DataFrame:
    """Run the query built by ``build(columns, view_name, 'spark')`` on ``spark``.

    ``date_columns()`` (role -> column, called after ``build``) names the date columns checked
    first with :func:`check_dates_spark`."""
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
        if len(source) == 0:
            from evalint.errors import EmptyDataError

            raise EmptyDataError("the episodes hold no rows; point source at the extract's "
                                 "files or pass a frame with episodes.")
        df = session.createDataFrame(source)
    elif hasattr(source, "createOrReplaceTempView") and hasattr(source, "columns"):
        df = source
    else:
        raise SpecificationError(
            f"engine='spark' reads a parquet/CSV path, a Spark DataFrame or a pandas DataFrame; "
            f"got {type(source).__name__}.")
    sql = build(list(df.columns), _VIEW, "spark")
    if date_columns is not None:
        df = check_dates_spark(df, date_columns())
    df.createOrReplaceTempView(_VIEW)
    try:
        result = session.sql(sql)
        names = list(result.columns)
        # the aggregate is small: collect rows rather than depend on Spark's pandas bridge
        out = pd.DataFrame([tuple(r) for r in result.collect()], columns=names)
    finally:
        session.catalog.dropTempView(_VIEW)
    return out
