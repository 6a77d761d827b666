"""pandas reference engine: the stages of :mod:`evalint.records.query`, step by step in memory.

Plain and slow; it exists to check the SQL engines and for small extracts. The expressions of
:mod:`evalint.records.outcomes` are evaluated directly on the spell frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import DataError, SpecificationError
from evalint.records.dates import read_dates
from evalint.records.expr import Bands, Col
from evalint.records.fields import UNIT_ROLES, FieldMap
from evalint.records.outcomes import QUALITY_TERMS, SPELL_TERMS, included
from evalint.records.validate import check_spell_ids

__all__ = ["read_pandas", "run_pandas"]


def read_pandas(source: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Episodes as a pandas frame (parquet folder/file or CSV path, or a DataFrame copy)."""
    if isinstance(source, pd.DataFrame):
        return source if columns is None else source.loc[:, list(columns)]
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise SpecificationError(f"source {str(source)!r} does not exist.")
        csv = path.suffix.lower() == ".csv" or (path.is_dir() and not any(path.rglob("*.parquet")))
        if csv:
            files = sorted(path.rglob("*.csv")) if path.is_dir() else [path]
            return pd.concat([pd.read_csv(f, usecols=columns) for f in files], ignore_index=True)
        import pyarrow.dataset as ds

        try:
            d = ds.dataset(str(path), format="parquet", partitioning="hive")
            return d.to_table(columns=None if columns is None else list(columns)).to_pandas(
                date_as_object=False)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise _unreadable(source, exc) from exc
    raise SpecificationError(
        f"engine='pandas' reads a parquet/CSV path or a pandas DataFrame; got "
        f"{type(source).__name__}.")


def source_columns_pandas(source: Any) -> list[str]:
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    if not isinstance(source, (str, Path)):
        raise SpecificationError(
            f"engine='pandas' reads a parquet/CSV path or a pandas DataFrame; got "
            f"{type(source).__name__}.")
    path = Path(source)
    if not path.exists():
        raise SpecificationError(f"source {str(source)!r} does not exist.")
    if path.suffix.lower() == ".csv" or (path.is_dir() and not any(path.rglob("*.parquet"))):
        first = min(path.rglob("*.csv")) if path.is_dir() else path
        return [str(c) for c in pd.read_csv(first, nrows=0).columns]
    import pyarrow.dataset as ds

    try:
        return list(ds.dataset(str(path), format="parquet", partitioning="hive").schema.names)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise _unreadable(source, exc) from exc


def _unreadable(source: Any, exc: Exception) -> DataError:
    return DataError(f"source {str(source)!r} could not be read as parquet: "
                     f"{str(exc).splitlines()[0]} Point it at the episode files only.")


def _dates(raw: pd.DataFrame, fields: FieldMap, role: str) -> np.ndarray:
    column = str(fields[role])
    return read_dates(raw[column], column=column, role=role).to_numpy()


def _codes(s: pd.Series) -> pd.Series:
    """Codes as :func:`evalint.records.query.code_sql` reads them: trimmed, upper case, a
    trailing ``.0`` dropped, empty -> missing (a missing value stays as it was)."""
    out = s.astype("object")
    mask = out.notna()
    found = _distinct(s, mask.to_numpy())
    if found is not None:  # each distinct value read once, then taken back to the rows
        codes, uniques = found
        text = np.array(_code_text(pd.Series(uniques, dtype=object)).tolist(), dtype=object)
        text[text == ""] = None
        values = out.to_numpy(dtype=object, copy=True)
        values[codes >= 0] = text[codes[codes >= 0]]
        return pd.Series(values, index=s.index, dtype=object)
    text = _code_text(out[mask])
    out = out.where(~mask, text)
    return out.where(out != "", None)


def _code_text(values: pd.Series) -> pd.Series:
    """The code text of values none of which is missing."""
    return values.map(str).str.strip().str.replace(r"[.]0$", "", regex=True).str.upper()


def _distinct(s: pd.Series, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes (-1 where missing) and distinct values of a column whose equal values print the
    same (categories, text, integers; float64 compared bit for bit, so -0.0 and 0.0 stay
    apart); ``None`` for other columns (mixed objects: 1, 1.0 and True are equal)."""
    dtype = s.dtype
    plain_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype) and (
            not plain_object or pd.api.types.infer_dtype(s, skipna=True) == "string") or (
            pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    elif dtype == np.float64:
        bits = np.where(mask, s.to_numpy(), 0.0).view(np.int64)
        codes, ubits = pd.factorize(bits)
        codes = np.where(mask, codes, -1)
        uniques = ubits.view(np.float64).astype(object)
    else:
        return None
    if not np.array_equal(codes >= 0, mask):
        return None
    return np.asarray(codes), uniques


def _period(d: pd.Series, freq: str) -> pd.Series:
    if freq == "M":
        return d.dt.to_period("M").dt.start_time
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


def run_pandas(source: Any, fields: FieldMap, *, unit: str, freq: str,
               lookup: pd.DataFrame | None, age_bands: Sequence[int] | None) -> pd.DataFrame:
    """The unit x period sums, computed in pandas (same columns as the SQL engines)."""
    roles = ["spell_id", "patient_id", "episode_order", "admission_date", "discharge_date",
             "admission_method", UNIT_ROLES[unit]]
    if fields.has("discharge_ready_date"):
        roles.append("discharge_ready_date")
    if age_bands is not None:
        roles.append("age")
    cols = list(dict.fromkeys(fields[r] for r in roles))
    raw = read_pandas(source, cols)
    ep = pd.DataFrame({
        "spell": raw[fields["spell_id"]].to_numpy(),
        "patient": raw[fields["patient_id"]].to_numpy(),
        "ord": raw[fields["episode_order"]].to_numpy(),
        "admit": _dates(raw, fields, "admission_date"),
        "disch": _dates(raw, fields, "discharge_date"),
        "ready": (_dates(raw, fields, "discharge_ready_date")
                  if fields.has("discharge_ready_date") else np.datetime64("NaT", "ns")),
        "method": _codes(raw[fields["admission_method"]]).to_numpy(),
        "area": _codes(raw[fields[UNIT_ROLES[unit]]]).to_numpy(),
    })
    if age_bands is not None:
        ep["age"] = pd.to_numeric(raw[fields["age"]], errors="coerce").to_numpy()
    del raw
    check_spell_ids(int(ep["spell"].isna().sum()), str(fields["spell_id"]))
    # stage 1: spells (first episode by episode order carries method, area and age)
    ep = ep.sort_values(["spell", "ord"], kind="mergesort")
    g = ep.groupby("spell", sort=False)
    sp = pd.DataFrame({
        "patient": g["patient"].min(),
        "patient_last": g["patient"].max(),
        "n_episodes": g.size(),
        "admit": g["admit"].min(),
        "disch": g["disch"].max(),
        "ready": g["ready"].max(),
        "method": g["method"].first(),
        "area": g["area"].first(),
    })
    # groupby.first skips nulls; the SQL min_by takes the first episode's value even if null
    firsts = ep.drop_duplicates("spell", keep="first").set_index("spell")
    sp["method"] = firsts["method"].reindex(sp.index)
    sp["area"] = firsts["area"].reindex(sp.index)
    if age_bands is not None:
        sp["age"] = firsts["age"].reindex(sp.index)
    # a spell none of whose episodes has an order: the smallest value (the SQL engines alike)
    no_order = g["ord"].count() == 0
    if no_order.any():
        for col in ["method", "area"] + (["age"] if age_bands is not None else []):
            sp.loc[no_order, col] = g[col].min()[no_order]
    sp = sp.rename_axis("spell").reset_index()
    del ep, g, firsts
    # stage 2: unit, period, previous discharge of the same patient
    if lookup is not None:
        m = dict(zip(lookup["area_code"], lookup["unit"]))
        sp["unit"] = sp["area"].map(m)
    else:
        sp["unit"] = sp["area"]
    sp["period"] = _period(sp["admit"], freq)
    sp = sp.sort_values(["patient", "admit", "spell"], kind="mergesort", na_position="last")
    sp["prev_disch"] = sp.groupby("patient", sort=False)["disch"].shift(1)
    # stage 3: the same expressions as the SQL, summed by unit and period
    group = ["unit", "period"]
    if age_bands is not None:
        sp["age_band"] = Bands(Col("age"), tuple(age_bands)).pandas(sp)
        group.append("age_band")
    inc = included.pandas(sp).to_numpy()
    vals = pd.DataFrame({k: sp[k] for k in group})
    vals["all_spells"] = 1
    vals["all_episodes"] = sp["n_episodes"].to_numpy()
    vals["episodes_without_spell_id"] = 0
    for name, e in SPELL_TERMS.items():
        v = e.pandas(sp).astype("Int64").fillna(0).to_numpy(dtype=np.int64)
        vals[name] = np.where(inc, v, 0)
    for name, (e, _) in QUALITY_TERMS.items():
        vals[name] = e.pandas(sp).astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    return vals.groupby(group, dropna=False, sort=False).sum().reset_index()
