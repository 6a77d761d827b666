"""Per-unit matching features from the pre-period: outcome level, outcome trend, covariate means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from evalint.data import Panel
from evalint.errors import MissingValuesError, SpecificationError, column_not_found, format_examples


def pre_period_features(panel: Panel, on: Sequence[str], pre_end: pd.Period,
                        outcome: str | None = None) -> pd.DataFrame:
    """Units x features table computed on the periods before ``pre_end``.

    Parameters
    ----------
    panel : Panel
    on : sequence of str
        ``"level"`` (mean of the outcome over the pre-period), ``"trend"`` (OLS slope of the
        outcome on the period number, per period), or a numeric column of the panel's data
        (its pre-period mean per unit, e.g. a covariate or the population).
    pre_end : Period
        First period that is *not* in the pre-period (the earliest treatment start).
    outcome : str, optional
        Outcome for level/trend; default the panel's primary outcome.

    Raises
    ------
    ColumnNotFoundError
        A named feature is neither ``level``/``trend`` nor a column.
    MissingValuesError
        A unit has no pre-period value of a feature (the unit and column are named).
    """
    y = outcome or panel.outcome
    d = panel.data
    if y not in d.columns:
        raise column_not_found(y, "outcome", list(panel.outcomes))
    d = d.loc[d[panel.time] < pre_end]
    if d.empty:
        raise SpecificationError(f"No period precedes {pre_end}: matching needs a pre-period.")
    if not on:
        raise SpecificationError('on= lists no feature; use e.g. on=("level", "trend").')
    names = list(on)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecificationError(f"on= lists {format_examples(dup)} more than once.")
    out = pd.DataFrame(index=panel.units)
    for name in names:
        if name in ("level", "trend"):
            col = y
        else:
            col = name
            if col not in d.columns:
                raise column_not_found(col, "matching feature", list(d.columns))
            if col in (panel.unit, panel.time) or not pd.api.types.is_numeric_dtype(d[col]):
                raise SpecificationError(f"matching feature {col!r} is not a numeric column; match on numeric "
                                         "covariates (encode categories as 0/1 columns).")
        g = d[[panel.unit, panel.time, col]].dropna(subset=[col])
        if name == "trend":
            t = pd.Series(pd.PeriodIndex(g[panel.time]).asi8.astype(float), index=g.index)
            grp = g[panel.unit]
            tc = t - t.groupby(grp, sort=False).transform("mean")
            vc = g[col] - g[col].groupby(grp, sort=False).transform("mean")
            num = (tc * vc).groupby(grp, sort=False).sum()
            den = (tc * tc).groupby(grp, sort=False).sum()
            val = (num / den.where(den > 0)).astype(float)
        else:
            val = g.groupby(panel.unit, sort=False)[col].mean()
        val = val.reindex(out.index)
        miss = list(val.index[val.isna()])
        if miss:
            raise MissingValuesError(
                f"matching feature {name!r} (column {col!r}) has no pre-period value"
                f"{' (or fewer than 2 periods for a trend)' if name == 'trend' else ''} for unit(s) "
                f"{format_examples(miss)}. Drop these units (Panel.subset) or remove {name!r} from on=."
            )
        out[name] = val.astype(float)
    return out


def describe_feature(name: str) -> str:
    """Plain words for a feature name."""
    return {"level": "pre-period mean of the outcome", "trend": "pre-period slope of the outcome per period"}.get(
        name, f"pre-period mean of {name}")


def as_list(on: Any) -> list[str]:
    """``on`` as a list of names (a single string is one feature)."""
    return [on] if isinstance(on, str) else list(on)
