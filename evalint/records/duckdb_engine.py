"""DuckDB engine: the query of :mod:`evalint.records.query` run in-process.

DuckDB reads parquet and CSV where they lie, streams them and spills to disk past its memory
limit, so a national multi-year extract does not need to fit in RAM.

References
----------
Raasveldt, M. and Muehleisen, H. (2019). DuckDB: an embeddable analytical database. SIGMOD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

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


def run_duckdb(source: Any, build: Any, *, memory_limit: str | None = None,
               threads: int | None = None) -> pd.DataFrame:
    """Run the query built by ``build(columns, source_name, 'duckdb')`` on a fresh in-memory
    connection and return the (small) aggregated frame."""
    duckdb = _import()
    con = duckdb.connect(":memory:")
    try:
        if memory_limit:
            import tempfile

            spill = Path(tempfile.gettempdir()) / "evalint_duckdb_spill"
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        name = duckdb_source(con, source)
        sql = build(source_columns_duckdb(con, name), name, "duckdb")
        return con.execute(sql).df()
    finally:
        con.close()
