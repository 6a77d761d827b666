"""A small expression language: each derived outcome is written once and rendered as SQL
(DuckDB or Spark SQL) or evaluated on a pandas frame.

Null semantics are made explicit in the definitions (``IsNull``/``NotNull``), so the SQL
three-valued logic and pandas' NaN-as-False agree: a condition that is NULL in SQL counts as
false, and the definitions never negate a nullable condition.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

__all__ = [
    "DIALECTS",
    "And",
    "Cmp",
    "Col",
    "Days",
    "Expr",
    "Flag",
    "IfElse",
    "In",
    "IsNull",
    "Lit",
    "NotNull",
    "Or",
]

DIALECTS = ("duckdb", "spark")


class Expr(ABC):
    """Base class: ``sql(dialect)`` renders, ``pandas(frame)`` evaluates."""

    @abstractmethod
    def sql(self, dialect: str) -> str:
        """The expression as SQL in ``dialect`` (one of :data:`DIALECTS`)."""

    @abstractmethod
    def pandas(self, df: pd.DataFrame) -> pd.Series:
        """The expression evaluated on the columns of ``df``."""


@dataclass(frozen=True)
class Col(Expr):
    name: str

    def sql(self, dialect: str) -> str:
        return self.name

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        return df[self.name]


@dataclass(frozen=True)
class Lit(Expr):
    value: int | float

    def sql(self, dialect: str) -> str:
        return repr(self.value)

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        return pd.Series(self.value, index=df.index)


def _quote(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


@dataclass(frozen=True)
class In(Expr):
    """``expr IN (values)`` (``negate=True``: NOT IN; pair it with IsNull for null rows)."""

    expr: Expr
    values: tuple[str, ...]
    negate: bool = False

    def sql(self, dialect: str) -> str:
        op = "NOT IN" if self.negate else "IN"
        return f"({self.expr.sql(dialect)} {op} ({', '.join(_quote(v) for v in self.values)}))"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        x = self.expr.pandas(df)
        hit = x.isin(self.values)
        return (~hit & x.notna()) if self.negate else hit


@dataclass(frozen=True)
class IsNull(Expr):
    expr: Expr

    def sql(self, dialect: str) -> str:
        return f"({self.expr.sql(dialect)} IS NULL)"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        return self.expr.pandas(df).isna()


@dataclass(frozen=True)
class NotNull(Expr):
    expr: Expr

    def sql(self, dialect: str) -> str:
        return f"({self.expr.sql(dialect)} IS NOT NULL)"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        return self.expr.pandas(df).notna()


@dataclass(frozen=True)
class And(Expr):
    parts: tuple[Expr, ...]

    def sql(self, dialect: str) -> str:
        return "(" + " AND ".join(p.sql(dialect) for p in self.parts) + ")"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        out = pd.Series(True, index=df.index)
        for p in self.parts:
            out = out & p.pandas(df).fillna(False).astype(bool)
        return out


@dataclass(frozen=True)
class Or(Expr):
    parts: tuple[Expr, ...]

    def sql(self, dialect: str) -> str:
        return "(" + " OR ".join(p.sql(dialect) for p in self.parts) + ")"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        out = pd.Series(False, index=df.index)
        for p in self.parts:
            out = out | p.pandas(df).fillna(False).astype(bool)
        return out


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


@dataclass(frozen=True)
class Cmp(Expr):
    """Comparison of two expressions; false when either side is null."""

    left: Expr
    op: str
    right: Expr

    def sql(self, dialect: str) -> str:
        return f"({self.left.sql(dialect)} {self.op} {self.right.sql(dialect)})"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        a, b = self.left.pandas(df), self.right.pandas(df)
        ok = a.notna() & b.notna()
        return pd.Series(_OPS[self.op](a.to_numpy(), b.to_numpy()), index=df.index) & ok


@dataclass(frozen=True)
class Days(Expr):
    """Whole days from ``start`` to ``end`` (dates); null when either is null."""

    start: Expr
    end: Expr

    def sql(self, dialect: str) -> str:
        s, e = self.start.sql(dialect), self.end.sql(dialect)
        if dialect == "duckdb":
            return f"date_diff('day', {s}, {e})"
        return f"datediff({e}, {s})"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        d = self.end.pandas(df) - self.start.pandas(df)
        return d.dt.days.astype("Int64")


@dataclass(frozen=True)
class IfElse(Expr):
    """``CASE WHEN cond THEN a ELSE b END`` (a null condition takes ``b``)."""

    cond: Expr
    then: Expr
    other: Expr

    def sql(self, dialect: str) -> str:
        return (f"(CASE WHEN {self.cond.sql(dialect)} THEN {self.then.sql(dialect)} "
                f"ELSE {self.other.sql(dialect)} END)")

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        c = self.cond.pandas(df).fillna(False).astype(bool).to_numpy()
        a = self.then.pandas(df).astype("Int64")
        b = self.other.pandas(df).astype("Int64")
        return a.where(c, b)


def Flag(cond: Expr) -> Expr:
    """1 where ``cond`` holds, else 0 (null -> 0)."""
    return IfElse(cond, Lit(1), Lit(0))


def codes(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


@dataclass(frozen=True)
class Bands(Expr):
    """Label of the band ``[breaks[i], breaks[i+1])`` holding ``expr`` (``'unknown'`` if null).

    Labels read ``'0-17'``, ..., ``'85+'``.
    """

    expr: Expr
    breaks: tuple[int, ...]

    def labels(self) -> list[str]:
        b = self.breaks
        return [f"{lo}-{hi - 1}" for lo, hi in pairwise(b)] + [f"{b[-1]}+"]

    def sql(self, dialect: str) -> str:
        x = self.expr.sql(dialect)
        labs = self.labels()
        parts = [f"WHEN {x} IS NULL OR {x} < {self.breaks[0]} THEN 'unknown'"]
        for hi, lab in zip(self.breaks[1:], labs[:-1], strict=True):
            parts.append(f"WHEN {x} < {hi} THEN {_quote(lab)}")
        return f"(CASE {' '.join(parts)} ELSE {_quote(labs[-1])} END)"

    def pandas(self, df: pd.DataFrame) -> pd.Series:
        x = pd.to_numeric(self.expr.pandas(df), errors="coerce").to_numpy(dtype=float)
        labs = np.array(self.labels() + ["unknown"], dtype=object)
        idx = np.searchsorted(np.asarray(self.breaks, float), x, side="right") - 1
        idx = np.where(np.isnan(x) | (idx < 0), len(labs) - 1, idx)
        return pd.Series(labs[idx], index=df.index)
