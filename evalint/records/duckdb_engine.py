"""DuckDB engine: the query of :mod:`evalint.records.query` run in-process.

DuckDB reads parquet and CSV where they lie, streams them and spills to disk past its memory
limit, so a national multi-year extract does not need to fit in RAM.

References
----------
Raasveldt, M. and Muehleisen, H. (2019). DuckDB: an embeddable analytical database. SIGMOD.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import DataError, SpecificationError
from evalint.records.dates import LOCAL_TZ, not_dates_error

__all__ = ["duckdb_source", "run_duckdb", "source_columns_duckdb"]


def _import():
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SpecificationError(
            "engine='duckdb' needs the duckdb package: pip install 'evalint[records]'.") from exc
    return duckdb


def _path_sql(path: Path) -> str:
    p = str(path).replace("'", "''")
    if path.is_dir():
        if any(path.rglob("*.parquet")):
            return (f"read_parquet('{p}/**/*.parquet', hive_partitioning = true, "
                    f"union_by_name = true)")
        if any(path.rglob("*.csv")):
            return f"read_csv('{p}/**/*.csv', union_by_name = true, header = true)"
        raise SpecificationError(f"folder {str(path)!r} holds no .parquet or .csv files.")
    if path.suffix.lower() == ".csv" or str(path).lower().endswith(".csv.gz"):
        return f"read_csv('{p}', header = true)"
    return f"read_parquet('{p}')"


def duckdb_source(con: Any, source: Any) -> str:
    """Register ``source`` on ``con`` as the view ``episodes``; return its name."""
    duckdb = _import()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists() and not any(ch in str(source) for ch in "*?["):
            raise SpecificationError(f"source {str(source)!r} does not exist.")
        con.execute(f"CREATE OR REPLACE TEMP VIEW episodes AS SELECT * FROM {_path_sql(path)}"
                    if path.exists() else
                    f"CREATE OR REPLACE TEMP VIEW episodes AS SELECT * FROM "
                    f"read_parquet('{source}', hive_partitioning = true)")
    elif isinstance(source, duckdb.DuckDBPyRelation):
        con.register("episodes", source.to_arrow_table())
    elif isinstance(source, pd.DataFrame):
        con.register("episodes", source)
    else:
        try:
            import pyarrow as pa
        except ImportError:  # pragma: no cover
            pa = None
        if pa is not None and isinstance(source, pa.Table):
            con.register("episodes", source)
        else:
            raise SpecificationError(
                f"engine='duckdb' reads a parquet/CSV path, a pandas DataFrame, a pyarrow "
                f"Table or a DuckDB relation; got {type(source).__name__}.")
    return "episodes"


def source_columns_duckdb(con: Any, name: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()]


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def date_error_duckdb(con: Any, name: str, date_columns: Mapping[str, str],
                      exc: Exception) -> Exception:
    """The typed error for a query that failed: a date column of numbers or of text that is
    not ISO names the column, the role and a value at fault; otherwise a DataError carrying
    DuckDB's own first lines (a CSV line that does not parse names its line and column)."""
    first = " ".join(str(exc).strip().splitlines()[:4])
    try:
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()}
        for role, col in date_columns.items():
            kind = str(types.get(col, "")).upper()
            if kind.startswith(_NUMERIC):
                row = con.execute(f"SELECT {_q(col)} FROM {name} WHERE {_q(col)} IS NOT NULL "
                                  f"LIMIT 1").fetchone()
                if row is not None:
                    return not_dates_error(col, role, None, row[0], f" (a {kind} column)")
            elif kind == "VARCHAR":
                n, example = con.execute(
                    f"SELECT count(*), any_value({_q(col)}) FROM {name} WHERE {_q(col)} IS NOT "
                    f"NULL AND TRY_CAST({_q(col)} AS DATE) IS NULL").fetchone()
                if n:
                    return not_dates_error(col, role, int(n), example)
    except Exception:  # the diagnosis hit the same unreadable input
        pass
    return DataError(f"DuckDB could not read the episodes: {first} Fix the extract (or read it "
                     f"into a DataFrame yourself) and pass it again.")


def run_duckdb(source: Any, build: Any, *, memory_limit: str | None = None,
               threads: int | None = None,
               date_columns: Callable[[], Mapping[str, str]] | None = None) -> pd.DataFrame:
    """Run the query built by ``build(columns, source_name, 'duckdb')`` on a fresh in-memory
    connection and return the (small) aggregated frame.

    Time-zone-aware timestamps are cast to dates on the clock of ``LOCAL_TZ``. When the query
    fails, ``date_columns()`` (role -> column) names the columns checked for values that are
    not dates, so the error raised names the column at fault.
    """
    duckdb = _import()
    con = duckdb.connect(":memory:")
    try:
        if memory_limit:
            import tempfile

            spill = Path(tempfile.gettempdir()) / "evalint_duckdb_spill"
            try:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            except duckdb.Error as exc:
                raise SpecificationError(
                    f"memory_limit={memory_limit!r} is not a DuckDB memory size; pass e.g. "
                    f"'3GB' or '500MB', or None for DuckDB's default.") from exc
            con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET TimeZone = '{LOCAL_TZ}'")
        try:
            name = duckdb_source(con, source)
        except duckdb.Error as exc:
            raise DataError(f"DuckDB could not read the source {str(source)[:200]!r}: "
                            f"{str(exc).strip().splitlines()[0]} Point it at the episode "
                            f"files only.") from exc
        sql = build(source_columns_duckdb(con, name), name, "duckdb")
        try:
            return con.execute(sql).df()
        except (duckdb.ConversionException, duckdb.InvalidInputException,
                duckdb.BinderException) as exc:
            if date_columns is None:
                raise
            raise date_error_duckdb(con, name, date_columns(), exc) from exc
    finally:
        con.close()
