"""Trust x month series onto the 2022 ICBs, with a coverage report.

The ICB value in month ``t`` is ``sum_j w_jk * y_jt`` over the trusts ``j`` reporting in ``t``
(``w_jk``: the trust -> ICB weights of :func:`~evalint.geography.trust_icb_weights`, summing to
1 per trust, so the England total is preserved exactly).

Coverage of ICB ``k`` in month ``t`` is the share of the ICB's usual attributed volume that
reports: ``sum_{j reporting in t} w_jk V_j / sum_j w_jk V_j``, where ``V_j`` is trust ``j``'s mean
of the (first) value over the months it reports in the frame. A trust missing from the frame in
every month is invisible to this measure; a trust that starts late (a merger's new code, a late
submitter) lowers its ICBs' coverage in the months it is missing. Missing values in the value
column count as not reporting.

References
----------
NHS England. A&E Attendances and Emergency Admissions: provider-level and system-level (ICB)
monthly data. Nuffield Trust (2023) trust-to-ICS weights; OHID (2022) trust catchment populations.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.errors import (
    ColumnNotFoundError,
    DroppedRowsWarning,
    DuplicateRowsError,
    EmptyDataError,
    MissingValuesError,
    NonNumericError,
    format_examples,
)
from evalint.geography.errors import UnknownCodeError
from evalint.geography.icbs import icb_table
from evalint.geography.population import _months
from evalint.geography.trusts import WEIGHT_BASES, trust_icb_weights

__all__ = ["ICBAggregation", "trust_to_icb"]


@dataclass(frozen=True)
class ICBAggregation:
    """Result of :func:`trust_to_icb`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per ICB x month (all 42 ICBs, every month from the first to the last in the
        input; months no trust reports have NaN values and coverage 0): ``icb22_code``, the time
        column (Period[M]), the value column(s), ``coverage`` (0-1) and ``n_trusts`` (trusts
        contributing).
    weights : pandas.DataFrame
        The trust -> ICB weight rows used (``trust``, ``icb22_code``, ``weight``, ``basis``).
    dropped_trusts : list of str
        Trust codes with no weights, dropped under ``unknown="drop"``.
    basis : str
        The attribution asked for.
    """

    frame: pd.DataFrame
    weights: pd.DataFrame
    dropped_trusts: list[str] = field(default_factory=list)
    basis: str = "activity"

    def low_coverage(self, threshold: float = 0.95) -> pd.DataFrame:
        """The ICB-months whose coverage is below ``threshold``."""
        f = self.frame
        return f.loc[f["coverage"] < threshold].reset_index(drop=True)

    def coverage_table(self) -> pd.DataFrame:
        """Coverage as an ICB x month table (rows ICBs, columns months)."""
        time = [c for c in self.frame.columns if c not in ("icb22_code", "coverage", "n_trusts")][0]
        return self.frame.pivot(index="icb22_code", columns=time, values="coverage")


def trust_to_icb(
    frame: pd.DataFrame,
    value: str | Sequence[str],
    *,
    trust: str = "trust",
    time: str = "month",
    weights: str = "activity",
    vintage: str = "2022",
    unknown: str = "error",
    source_dir: str | Path | None = None,
) -> ICBAggregation:
    """Aggregate a trust x month frame to the 42 ICBs of 2022.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per trust and month. Never modified.
    value : str or sequence of str
        Count column(s) to attribute (counts, or other additive quantities such as
        patients not meeting the criteria to reside on a day). The first drives coverage.
    trust, time : str
        Trust code (ODS, 2022; map predecessors first with
        :func:`~evalint.geography.harmonise_trust_codes`) and month columns.
    weights : {"activity", "catchment", "main", "host"}
        Attribution (see :func:`~evalint.geography.trust_icb_weights`). ``"host"`` reproduces
        NHS England's ICB rows (provider-based); the others put activity where patients live,
        which is what a population denominator needs.
    unknown : {"error", "drop"}
        What to do with trusts absent from every lookup (and rows with no trust code): raise
        :class:`UnknownCodeError` / :class:`MissingValuesError` (default), or drop them with a
        :class:`DroppedRowsWarning` giving their share of the total.

    Returns
    -------
    ICBAggregation

    References
    ----------
    Nuffield Trust (2023) trust-to-ICS weights; OHID (2022) trust catchment populations.
    """
    check_option("weights", weights, WEIGHT_BASES)
    check_option("unknown", unknown, ("error", "drop"))
    values = [value] if isinstance(value, str) else list(value)
    for col in [trust, time, *values]:
        if col not in frame.columns:
            raise ColumnNotFoundError(
                f"column {col!r} not in the frame; columns: {format_examples(frame.columns)}")
    if frame.empty:
        raise EmptyDataError("the trust frame has no rows")
    no_code = frame[trust].isna().to_numpy()
    if no_code.any():
        if unknown == "error":
            raise MissingValuesError(
                f"column {trust!r} is missing in {int(no_code.sum())} row(s) (first at row "
                f"{frame.index[no_code].tolist()[0]!r}); drop them, or pass unknown='drop'.")
        warnings.warn(f"{int(no_code.sum())} row(s) with no trust code dropped",
                      DroppedRowsWarning, stacklevel=2)
        frame = frame.loc[~no_code]
    data = pd.DataFrame({"trust": frame[trust].astype(str).str.strip().str.upper().to_numpy(),
                         "month": _months(frame[time], time)})
    for col in values:
        numeric = pd.to_numeric(frame[col], errors="coerce")
        bad = numeric.isna() & frame[col].notna()
        if bad.any():
            raise NonNumericError(
                f"column {col!r} has {int(bad.sum())} non-numeric value(s), e.g. "
                f"{format_examples(frame.loc[bad, col].astype(str).unique())}")
        data[col] = numeric.to_numpy(dtype=float)
        infinite = np.isinf(data[col].to_numpy())
        if infinite.any():
            raise NonNumericError(
                f"column {col!r} has {int(infinite.sum())} infinite value(s) (first at row "
                f"{frame.index[infinite].tolist()[0]!r}); counts must be finite: correct or drop them.")
    # one order whatever the input's, so sums (floating point) do not depend on row order
    data = data.sort_values(["trust", "month"], kind="stable").reset_index(drop=True)
    dup = data.duplicated(["trust", "month"], keep=False)
    if dup.any():
        ex = data.loc[dup, ["trust", "month"]].astype(str).agg(" ".join, axis=1).unique()
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows share a trust and month, e.g. {format_examples(ex)}. Sum or "
            "de-duplicate them first (merged predecessors mapped with harmonise_trust_codes "
            "share the successor's code).")

    table = trust_icb_weights(weights, vintage=vintage, source_dir=source_dir)
    known = set(table["trust"])
    missing = sorted(set(data["trust"]) - known)
    dropped: list[str] = []
    if missing:
        lost = data.loc[data["trust"].isin(missing), values[0]].sum()
        share = lost / data[values[0]].sum() if data[values[0]].sum() else float("nan")
        if unknown == "error":
            raise UnknownCodeError(
                f"{len(missing)} trust code(s) have no ICB attribution in the {vintage} lookups: "
                f"{format_examples(missing)} ({share:.2%} of {values[0]!r}). Map predecessor "
                "codes with harmonise_trust_codes(), or pass unknown='drop' to leave them out.")
        warnings.warn(
            f"{len(missing)} trust(s) with no ICB attribution dropped: {format_examples(missing)} "
            f"({share:.2%} of {values[0]!r})", DroppedRowsWarning, stacklevel=2)
        data = data[~data["trust"].isin(missing)]
        dropped = missing

    used = table[table["trust"].isin(set(data["trust"]))].reset_index(drop=True)
    merged = data.merge(used[["trust", "icb22_code", "weight"]], on="trust", how="inner")
    # every month from the first to the last: a month no trust reports is a row with NaN values
    # and coverage 0, not a silent gap
    months = pd.period_range(data["month"].min(), data["month"].max(), freq="M")
    icbs = icb_table(vintage)["icb22_code"].tolist()
    grid = pd.MultiIndex.from_product([icbs, months], names=["icb22_code", "month"])

    out = pd.DataFrame(index=grid)
    for col in values:
        contrib = merged[col] * merged["weight"]
        summed = contrib.groupby([merged["icb22_code"], merged["month"]]).sum(min_count=1)
        out[col] = summed.reindex(grid).to_numpy()

    first = values[0]
    volume = data.groupby("trust")[first].mean()
    merged["vol"] = merged["trust"].map(volume) * merged["weight"]
    merged["reports"] = merged[first].notna()
    total = merged.drop_duplicates(["trust", "icb22_code"]).groupby("icb22_code")["vol"].sum()
    reported = merged[merged["reports"]].groupby(["icb22_code", "month"])["vol"].sum()
    n_trusts = merged[merged["reports"]].groupby(["icb22_code", "month"])["trust"].nunique()
    denom = total.reindex(grid.get_level_values(0)).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = reported.reindex(grid).fillna(0.0).to_numpy() / denom
    out["coverage"] = np.where(np.isfinite(cov), np.clip(cov, 0.0, 1.0), 0.0)
    out["n_trusts"] = n_trusts.reindex(grid).fillna(0).astype(int).to_numpy()
    result = out.reset_index().rename(columns={"month": time})
    return ICBAggregation(frame=result, weights=used, dropped_trusts=dropped, basis=weights)
