"""From a reader's tidy frame to monthly rows and to a :class:`~evalint.data.Panel`.

Readers return organisation x period rows (``org_code``, ``org_level``, ``period`` or ``date``,
measures). :func:`to_monthly` turns daily rows into months (stocks averaged over the days
reported, flows summed only over complete months, with the count of days behind each) and
:func:`to_panel` hands monthly rows to ``Panel.from_frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalint.data import Panel
from evalint.data.timeparse import local_dates, to_periods
from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    SpecificationError,
    TimeParseError,
    format_examples,
)

__all__ = ["to_monthly", "to_panel"]


def to_monthly(
    frame: pd.DataFrame,
    *,
    stocks: Sequence[str] = (),
    flows: Sequence[str] = (),
    unit: str = "org_code",
    time: str = "date",
) -> pd.DataFrame:
    """Daily organisation rows to monthly rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per organisation and day.
    stocks : sequence of str
        Snapshot counts (patients in hospital on the day): mean over the days with a value.
    flows : sequence of str
        Event counts (discharges on the day): the month's sum when every day has a value,
        else NaN.
    unit, time : str
        Organisation and date columns.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``org_level`` (when present), ``period`` (first of month),
        ``days_in_month``, ``days_reported`` (days with a value of the first stock, or of the
        first flow), then the stocks and flows.
    """
    stocks = [stocks] if isinstance(stocks, str) else list(stocks)
    flows = [flows] if isinstance(flows, str) else list(flows)
    cols = [*stocks, *flows]
    if not cols:
        raise SpecificationError("to_monthly needs at least one stock or flow column.")
    both = sorted(set(stocks) & set(flows))
    if both:
        raise SpecificationError(
            f"to_monthly: column(s) {format_examples(both)} given as both a stock (averaged) and a "
            "flow (summed); a count is one or the other.")
    miss = [c for c in (unit, time, *cols) if c not in frame.columns]
    if miss:
        raise ColumnNotFoundError(
            f"to_monthly: column(s) {format_examples(miss)} not in the frame; columns found: "
            f"{format_examples(list(frame.columns), 20)}.")
    work = frame[[unit, time, *cols] + (["org_level"] if "org_level" in frame.columns else [])].copy()
    # dates read as Panel.from_frame reads them: '01/04/2022' is 1 April, a missing date is refused
    if pd.api.types.is_datetime64_any_dtype(work[time].dtype):
        if work[time].isna().any():
            rows = work.index[work[time].isna().to_numpy()].tolist()
            raise TimeParseError(f"to_monthly: column {time!r} has {len(rows)} missing date(s) "
                                 f"(rows {format_examples(rows)}); drop or fill them first.")
        days = pd.Series(local_dates(pd.DatetimeIndex(work[time]), time).to_period("D"), index=work.index)
    else:
        days, _ = to_periods(work[time], "D", time)
    work["period"] = pd.PeriodIndex(days).asfreq("M").to_timestamp()
    keys = work[unit].astype(str) + " " + pd.PeriodIndex(days).astype(str)
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DuplicateRowsError(
            f"to_monthly: {int(dup.sum())} rows share an organisation and day, e.g. "
            f"{format_examples(keys[dup].unique())}; stocks would be averaged over them and flows "
            "counted twice. Keep one row per organisation and day.")
    g = work.groupby([unit, "period"], sort=True)
    out = g.size().rename("_n").reset_index().drop(columns="_n")
    if "org_level" in work.columns:
        out.insert(1, "org_level", g["org_level"].first().to_numpy())
    out["days_in_month"] = out["period"].dt.days_in_month.astype("int64")
    out["days_reported"] = g[cols[0]].count().to_numpy().astype("int64")
    for s in stocks:
        out[s] = g[s].mean().to_numpy()
    for f in flows:
        total = g[f].sum(min_count=1).to_numpy()
        full = g[f].count().to_numpy() == out["days_in_month"].to_numpy()
        out[f] = np.where(full, total, np.nan)
    return out


def to_panel(frame: pd.DataFrame, outcome: str | Sequence[str], *, unit: str = "org_code",
             time: str = "period", **kwargs: Any) -> Panel:
    """``Panel.from_frame`` with the readers' column names as defaults.

    A frame holding a single organisation (England series) becomes a single time series
    (``unit=None``). Other keyword arguments (``treatment``, ``cohort``, ``population``,
    ``missing``, ...) go to :meth:`Panel.from_frame`.
    """
    if unit in frame.columns and frame[unit].nunique() == 1:
        return Panel.from_frame(frame.drop(columns=[unit]), time=time, outcome=outcome, **kwargs)
    return Panel.from_frame(frame, unit=unit, time=time, outcome=outcome, **kwargs)
