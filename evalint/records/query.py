"""The one query: episodes -> spells -> unit x period sums, rendered for DuckDB or Spark SQL.

The stages are the same for every engine (the pandas engine follows them step by step):

1. episodes -> one row per spell: the first episode's admission method, area and age (by
   episode order), the earliest admission date, the latest discharge and discharge-ready dates;
2. the unit (ICB through the lookup; provider or GP practice as recorded), the period the
   spell's admission falls in, and the discharge date of the patient's previous spell;
3. sums of :data:`~evalint.records.outcomes.SPELL_TERMS` over included spells and of
   :data:`~evalint.records.outcomes.QUALITY_TERMS` over all spells, by unit and period.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evalint.records.expr import Bands, Col, _quote
from evalint.records.fields import UNIT_ROLES, FieldMap
from evalint.records.outcomes import QUALITY_TERMS, SPELL_TERMS, included

__all__ = ["QUALITY_COLUMNS", "TERM_COLUMNS", "build_query", "code_sql", "period_sql"]

TERM_COLUMNS = tuple(SPELL_TERMS)
QUALITY_COLUMNS = tuple(QUALITY_TERMS)


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _q(name: str, dialect: str) -> str:
    """Quote a source column name."""
    return _ident(name) if dialect == "spark" else '"' + name.replace('"', '""') + '"'


def code_sql(expr: str, dialect: str) -> str:
    """A code column as text the way every engine reads it: spaces trimmed, upper case, a
    number's trailing ``.0`` dropped (codes read as floats: ``21.0`` -> ``21``), empty -> NULL."""
    s = "VARCHAR" if dialect == "duckdb" else "STRING"
    return f"NULLIF(upper(regexp_replace(trim(CAST({expr} AS {s})), '[.]0$', '')), '')"


def period_sql(expr: str, freq: str, dialect: str) -> str:
    """First day of the month/week (Monday) holding ``expr``, as a DATE."""
    if dialect == "duckdb":
        part = "month" if freq == "M" else "week"
        return f"CAST(date_trunc('{part}', {expr}) AS DATE)"
    return f"trunc({expr}, '{'MM' if freq == 'M' else 'WEEK'}')"


def _lookup_values(lookup: pd.DataFrame) -> str:
    rows = ", ".join(f"({_quote(a)}, {_quote(u)})" for a, u in
                     zip(lookup["area_code"], lookup["unit"]))
    return f"(VALUES {rows}) AS lk(area_code, lk_unit)"


def _first(col: str, dialect: str) -> str:
    """The first episode's value (lowest episode order; episodes without an order come last),
    null if that episode's value is null; in a spell none of whose episodes has an order, the
    smallest value (pandas: the same). DuckDB's ``min_by`` skips null values (it would take the
    next episode's admission method), so DuckDB takes ``first`` in episode order; Spark's
    ``min_by`` keeps them."""
    pick = (f"first({col} ORDER BY ord NULLS LAST)" if dialect == "duckdb" else f"min_by({col}, ord)")
    return f"(CASE WHEN count(ord) = 0 THEN min({col}) ELSE {pick} END)"


def build_query(fields: FieldMap, *, source: str, dialect: str, unit: str, freq: str,
                lookup: pd.DataFrame | None, age_bands: Sequence[int] | None) -> str:
    """SQL text computing the unit x period sums from the episode table named ``source``."""

    def c(role: str) -> str:
        return _q(fields[role], dialect)

    ready = (f"CAST({c('discharge_ready_date')} AS DATE)" if fields.has("discharge_ready_date")
             else "CAST(NULL AS DATE)")
    # an age that is not a number is unknown (pandas: to_numeric(errors="coerce"))
    age_sel = f", TRY_CAST({c('age')} AS DOUBLE) AS age" if age_bands is not None else ""
    age_agg = f", {_first('age', dialect)} AS age" if age_bands is not None else ""
    area = c(UNIT_ROLES[unit])
    if lookup is not None:
        join = f"LEFT JOIN {_lookup_values(lookup)} ON sp.area = lk.area_code"
        unit_expr = "lk.lk_unit"
    else:
        join = ""
        unit_expr = "sp.area"
    band = ""
    group = "unit, period"
    if age_bands is not None:
        band = f", {Bands(Col('age'), tuple(age_bands)).sql(dialect)} AS age_band"
        group += ", age_band"
    inc = included.sql(dialect)
    terms = ",\n  ".join(
        f"SUM(CASE WHEN {inc} THEN {e.sql(dialect)} ELSE 0 END) AS {name}"
        for name, e in SPELL_TERMS.items())
    quality = ",\n  ".join(f"SUM({e.sql(dialect)}) AS {name}"
                           for name, (e, _) in QUALITY_TERMS.items())
    return f"""
WITH ep AS (
  SELECT {c('spell_id')} AS spell, {c('patient_id')} AS patient, {c('episode_order')} AS ord,
         CAST({c('admission_date')} AS DATE) AS admit, CAST({c('discharge_date')} AS DATE) AS disch,
         {ready} AS ready, {code_sql(c('admission_method'), dialect)} AS method,
         {code_sql(area, dialect)} AS area{age_sel}
  FROM {source}
), sp AS (
  SELECT spell, min(patient) AS patient, max(patient) AS patient_last, count(*) AS n_episodes, min(admit) AS admit,
         max(disch) AS disch, max(ready) AS ready, {_first('method', dialect)} AS method,
         {_first('area', dialect)} AS area{age_agg}
  FROM ep GROUP BY spell
), sl AS (
  SELECT sp.*, {unit_expr} AS unit, {period_sql('sp.admit', freq, dialect)} AS period,
         CASE WHEN sp.patient IS NULL THEN NULL
              ELSE LAG(sp.disch) OVER (PARTITION BY sp.patient
                                       ORDER BY sp.admit ASC NULLS LAST, sp.spell ASC)
              END AS prev_disch
  FROM sp {join}
)
SELECT {group},
  COUNT(*) AS all_spells, SUM(n_episodes) AS all_episodes,
  SUM(CASE WHEN spell IS NULL THEN n_episodes ELSE 0 END) AS episodes_without_spell_id,
  {terms},
  {quality}
FROM (SELECT sl.*{band} FROM sl) t
GROUP BY {group}
"""
