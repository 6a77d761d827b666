"""Episodes -> unit x period frame -> evalint Panel, on the engine of the user's choice."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.data.panel import Panel
from evalint.errors import DroppedRowsWarning
from evalint.records.fields import FieldMap, resolve_fields
from evalint.records.lookup import icb_lookup
from evalint.records.outcomes import OUTCOMES, RATIO_OUTCOMES, SPELL_TERMS
from evalint.records.validate import check_spell_ids, quality_table, report_quality

__all__ = ["ENGINES", "RecordsFrame", "episodes_to_frame", "episodes_to_panel", "records_panel"]

ENGINES = ("duckdb", "spark", "pandas")
_TIME = {"M": "month", "W": "week"}


@dataclass(frozen=True)
class RecordsFrame:
    """The unit x period frame, the data-quality table and the field mapping used."""

    frame: pd.DataFrame
    quality: pd.DataFrame
    fields: FieldMap
    unit: str
    time: str
    outcomes: tuple[str, ...]


def _columns(source: Any, engine: str, spark: Any) -> list[str]:
    if engine == "pandas":
        from evalint.records.pandas_engine import source_columns_pandas

        return source_columns_pandas(source)
    return []  # the SQL engines check inside their session


def episodes_to_frame(
    source: Any,
    *,
    engine: str = "duckdb",
    unit: str = "icb",
    freq: str = "M",
    fields: Mapping[str, str | None] | None = None,
    spark: Any = None,
    age_bands: Sequence[int] | None = None,
    on_bad: str = "warn",
    memory_limit: str | None = "3GB",
) -> RecordsFrame:
    """Episode-level data -> one row per unit and period with the derived outcomes.

    Parameters are those of :func:`episodes_to_panel`. With ``age_bands`` the frame has one
    row per unit, period and age band.
    """
    check_option("engine", engine, ENGINES)
    check_option("freq", freq, tuple(_TIME))
    check_option("on_bad", on_bad, ("warn", "error", "ignore"))
    if age_bands is not None:
        from evalint.errors import SpecificationError

        try:
            age_bands = tuple(int(b) for b in age_bands)
        except (TypeError, ValueError) as exc:
            raise SpecificationError(f"age_bands must be increasing whole ages, e.g. (0, 18, 65, "
                                     f"85); got {age_bands!r}.") from exc
        if list(age_bands) != sorted(set(age_bands)) or len(age_bands) < 1:
            raise SpecificationError(f"age_bands must be increasing ages, e.g. (0, 18, 65, 85); "
                                     f"got {age_bands!r}.")
    lookup = icb_lookup() if unit == "icb" else None
    holder: dict[str, FieldMap] = {}

    def build(columns: list[str], name: str, dialect: str) -> str:
        from evalint.records.query import build_query

        fm = resolve_fields(fields, unit=unit, age_bands=age_bands, available=columns)
        holder["fields"] = fm
        return build_query(fm, source=name, dialect=dialect, unit=unit, freq=freq,
                           lookup=lookup, age_bands=age_bands)

    if engine == "duckdb":
        from evalint.records.duckdb_engine import run_duckdb

        sums = run_duckdb(source, build, memory_limit=memory_limit,
                          date_columns=lambda: _date_columns(holder["fields"]))
    elif engine == "spark":
        from evalint.records.spark_engine import run_spark

        sums = run_spark(source, build, spark=spark,
                         date_columns=lambda: _date_columns(holder["fields"]))
    else:
        from evalint.records.pandas_engine import run_pandas

        fm = resolve_fields(fields, unit=unit, age_bands=age_bands,
                            available=_columns(source, engine, spark))
        holder["fields"] = fm
        sums = run_pandas(source, fm, unit=unit, freq=freq, lookup=lookup, age_bands=age_bands)
    fm = holder["fields"]
    if int(sums["all_episodes"].sum()) == 0:
        from evalint.errors import EmptyDataError

        raise EmptyDataError("the episodes hold no rows; point source at the extract's files or "
                             "pass a frame with episodes.")
    check_spell_ids(int(sums["episodes_without_spell_id"].sum()), str(fm["spell_id"]))
    quality = quality_table(sums)
    report_quality(quality, on_bad=on_bad)
    frame = _assemble(sums, unit=unit, freq=freq, lookup=lookup, age_bands=age_bands)
    if on_bad != "ignore":
        _warn_empty_periods(frame, _TIME[freq], quality)
    outcomes = tuple(o for o in OUTCOMES
                     if o != "delayed_discharge_days" or fm.has("discharge_ready_date"))
    keep = [unit, _TIME[freq]] + (["age_band"] if age_bands is not None else []) + \
        list(outcomes) + ["spells"]
    return RecordsFrame(frame=frame[keep], quality=quality, fields=fm, unit=unit,
                        time=_TIME[freq], outcomes=outcomes)


def _warn_empty_periods(frame: pd.DataFrame, time: str, quality: pd.DataFrame) -> None:
    """Warn when a period inside the extract's span has no spell in any unit: its cells are
    zeros, which is wrong when the extract lacks that period rather than having no admissions."""
    per = frame.groupby(time, sort=True)["spells"].sum()
    empty = per.index[per.to_numpy() == 0]
    if len(empty) == 0:
        return
    from evalint.errors import format_examples
    from evalint.records.validate import RecordsQualityWarning

    labels = [str(p.date()) for p in empty]
    warnings.warn(RecordsQualityWarning(
        f"{len(empty)} of {len(per)} {time}(s) between the first and the last admission have "
        f"no spell in any unit: {format_examples(labels)}. Their cells are zeros; if the extract "
        f"lacks those {time}s (a file not delivered, a filter), drop them from the panel or "
        f"fix the extract (on_bad='ignore' silences this).", quality), stacklevel=3)


def _date_columns(fm: FieldMap) -> dict[str, str]:
    """Role -> column of the date roles in use."""
    from evalint.records.dates import DATE_ROLES

    return {r: str(fm[r]) for r in DATE_ROLES if fm.has(r)}


def _assemble(sums: pd.DataFrame, *, unit: str, freq: str, lookup: pd.DataFrame | None,
              age_bands: Sequence[int] | None) -> pd.DataFrame:
    """Complete the unit x period grid (cells without spells are zeros) and add ratios."""
    time = _TIME[freq]
    s = sums[sums["unit"].notna() & sums["period"].notna()].copy()
    s["period"] = pd.to_datetime(s["period"]).astype("datetime64[ns]")
    s["unit"] = s["unit"].astype(str)
    terms = list(SPELL_TERMS)
    keys = ["unit", "period"] + (["age_band"] if age_bands is not None else [])
    s = s.groupby(keys, sort=True)[terms].sum()
    units = sorted(set(lookup["unit"]) if lookup is not None else set(s.index.get_level_values(0)))
    if len(s):
        p = s.index.get_level_values("period")
        step = pd.offsets.MonthBegin(1) if freq == "M" else pd.offsets.Week(1)
        periods = pd.date_range(p.min(), p.max(), freq=step)
    else:
        periods = pd.DatetimeIndex([])
    levels = [units, periods]
    if age_bands is not None:
        from evalint.records.expr import Bands, Col

        levels.append(Bands(Col("age"), tuple(age_bands)).labels() + ["unknown"])
    full = pd.MultiIndex.from_product(levels, names=keys)
    s = s.reindex(full, fill_value=0).astype(np.int64)
    out = s.reset_index()
    for name, (num, den) in RATIO_OUTCOMES.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(out[den] > 0, out[num] / out[den].where(out[den] > 0, 1),
                                 np.nan)
    return out.rename(columns={"unit": unit, "period": time})


def episodes_to_panel(
    source: Any,
    *,
    engine: str = "duckdb",
    unit: str = "icb",
    freq: str = "M",
    fields: Mapping[str, str | None] | None = None,
    spark: Any = None,
    on_bad: str = "warn",
    memory_limit: str | None = "3GB",
) -> Panel:
    """Record-level hospital episodes -> an evalint :class:`~evalint.data.panel.Panel`.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame, pyarrow.Table, DuckDB relation or Spark DataFrame
        Episodes: a parquet folder (hive partitions allowed), a parquet or CSV file, or a
        frame/relation in the chosen engine.
    engine : {"duckdb", "spark", "pandas"}
        ``duckdb`` (default) runs in-process with bounded memory; ``spark`` runs the same
        query on ``spark`` (a SparkSession; a local one is created when omitted); ``pandas``
        is the in-memory reference implementation.
    unit : {"icb", "provider", "gp_practice"}
        ICB of residence (through the 42-ICB lookup), provider or GP practice.
    freq : {"M", "W"}
        Month or week (Monday start) of the spell's admission date.
    fields : mapping, optional
        Role -> column overrides of the HES defaults (:data:`~evalint.records.HES_FIELDS`);
        ``{"discharge_ready_date": None}`` when there is none.
    spark : SparkSession, optional
        The session for ``engine="spark"``.
    on_bad : {"warn", "error", "ignore"}
        What to do when a data-quality rule is broken (counts always in the warning/error).
    memory_limit : str or None
        DuckDB memory limit (default ``"3GB"``; DuckDB spills to a temporary folder beyond
        it, so peak memory stays near the limit whatever the number of rows). ``None`` uses
        DuckDB's own default, 80% of RAM (faster on big machines, unbounded in practice:
        50M episodes peaked at 10.4 GB).

    Returns
    -------
    Panel
        Unit x period, outcomes ``emergency_admissions``, ``length_of_stay``, ``bed_days``,
        ``delayed_discharge_days``, ``emergency_readmissions_30d`` (``spells`` is a weight
        column for length of stay). Definitions: methods/records.md.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        A mapped field is absent; the message lists the whole mapping expected.
    RecordsDataError
        ``on_bad="error"`` and a quality rule was broken.

    References
    ----------
    NHS Digital. HES Data Dictionary - Admitted Patient Care.
    """
    rf = episodes_to_frame(source, engine=engine, unit=unit, freq=freq, fields=fields,
                           spark=spark, on_bad=on_bad, memory_limit=memory_limit)
    return records_panel(rf)


def records_panel(rf: RecordsFrame, **kwargs: Any) -> Panel:
    """Build the Panel from a :class:`RecordsFrame` (``kwargs`` go to ``Panel.from_frame``,
    e.g. ``frame=rf.frame.assign(cohort=...)``, ``cohort="cohort"``).

    ``length_of_stay`` (mean over a cell's emergency spells) is undefined in a cell without
    emergency spells: the panel then leaves it out with a warning saying how many cells lack
    it (``rf.frame`` keeps it, NaN there). It has the ``length_of_stay`` outcome kind when
    every cell's mean is > 0, else the ``continuous`` kind.
    """
    frame = kwargs.pop("frame", rf.frame)
    outcomes = list(rf.outcomes)
    kinds = {o: "continuous" for o in outcomes}
    kinds["emergency_admissions"] = "emergency_admissions"
    los = frame["length_of_stay"]
    if los.isna().any():
        n = int(los.isna().sum())
        warnings.warn(DroppedRowsWarning(
            f"length_of_stay is undefined in {n} of {len(frame)} unit-period cells (no "
            f"emergency spells) and is left out of the panel; use a coarser unit or period, "
            f"or episodes_to_frame(...).frame to handle those cells yourself."), stacklevel=3)
        outcomes.remove("length_of_stay")
        kinds.pop("length_of_stay")
    elif (los > 0).all():
        kinds["length_of_stay"] = "length_of_stay"
    return Panel.from_frame(frame, unit=rf.unit, time=rf.time, outcome=outcomes,
                            freq="M" if rf.time == "month" else "W", outcome_kind=kinds, **kwargs)
