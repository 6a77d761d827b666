"""The short ranked list of calendar threats: at most five, each with a one-line reason.

One job: score the rows of a policy-calendar threat table and keep the top ones. The score
is a product of four factors in [0, 1] (``methods/policy_churn.md`` section 6):

- **co-timing** (:data:`TIMING_WEIGHT`): co_timed 1, anticipation 0.7, straddles 0.5,
  post_window 0.3, pre_window 0.2;
- **channel to the outcome** (:data:`CHANNEL_WEIGHT`): listed 1, indirect 0.4, unknown
  outcome 0.3;
- **size**: magnitude (small 0.3, medium 0.6, large 1) times the duration weight (the
  share of one data period the event lasts, capped at 1), times 0.5 for a data-definition
  change whose collection is not confirmed;
- **differential exposure**: 1 in single-series designs; in comparison designs 1 when the
  standardised difference of exposure is at least 0.25 (or the event's units are listed and
  differ), 0.5 when it cannot be told, 0.15 when the event hits the groups alike.

Rows with score >= :data:`MIN_SCORE` and severity high or medium are ranked (score, then
severity, then start date, then id); the first :data:`TOP_N` are the threats. Everything
else stays in the full table and the flags.

References
----------
Bernal, J. L., Cummins, S. and Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *International Journal of
Epidemiology* 46(1), 348-355 (co-interventions co-timed with the intervention are the main
threat).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["CHANNEL_WEIGHT", "MIN_SCORE", "THREAT_COLUMNS", "TIMING_WEIGHT", "TOP_N",
           "combine_threats", "rank_threats", "threat_score"]

TOP_N = 5
MIN_SCORE = 0.05
TIMING_WEIGHT = {"co_timed": 1.0, "anticipation": 0.7, "straddles": 0.5, "post_window": 0.3,
                 "pre_window": 0.2}
CHANNEL_WEIGHT = {"listed": 1.0, "indirect": 0.4, "unknown outcome": 0.3, "none": 0.0}
MAGNITUDE_WEIGHT = {"small": 0.3, "medium": 0.6, "large": 1.0}
_SEV = {"high": 0, "medium": 1, "low": 2, "info": 3}
THREAT_COLUMNS = ("rank", "event_id", "name", "score", "reason", "source", "severity", "overlap",
                  "channel", "direction", "differential", "smd", "start", "end")


def _channel_key(channel: str) -> str:
    return "indirect" if channel.startswith("indirect") else channel


def threat_score(overlap: str, channel: str, magnitude: str, weight: float,
                 differential: bool | None, comparison_design: bool,
                 unconfirmed_collection: bool = False) -> float:
    """The ranking score of one threat (product of the four factors; see module docstring)."""
    timing = TIMING_WEIGHT.get(overlap, 0.0)
    chan = CHANNEL_WEIGHT.get(_channel_key(channel), 0.0)
    size = MAGNITUDE_WEIGHT.get(magnitude, 0.6) * min(max(weight, 0.0), 1.0)
    if unconfirmed_collection:
        size *= 0.5
    if not comparison_design or differential is True:
        expo = 1.0
    elif differential is None:
        expo = 0.5
    else:
        expo = 0.15
    return float(timing * chan * size * expo)


def _one_line(r: pd.Series, unit: str) -> str:
    when = r["changes_in"]
    what = {"co_timed": f"changes in {when}, with the intervention",
            "anticipation": f"changes in {when}, just before the intervention",
            "straddles": "runs across the intervention date",
            "post_window": f"changes in {when}, inside the post-period",
            "pre_window": f"changes in {when}, inside the pre-period"}[r["overlap"]]
    chan = r["channel"]
    if chan == "listed":
        how = f"acts on the outcome ({r['direction'] or 'ambiguous'})"
    elif chan.startswith("indirect"):
        how = f"reaches the outcome {chan}"
    else:
        how = "outcome unknown to the calendar"
    size = f"{r['magnitude']} size"
    if r["weight"] < 1.0:
        size += f", lasts {r['weight']:.0%} of a {unit}"
    d = r["differential"]
    smd = r["smd"]
    if d is True:
        expo = "exposure differs" + ("" if pd.isna(smd) else f" (d={smd:+.2f})")
    elif d is False:
        expo = "hits the groups alike" + ("" if pd.isna(smd) else f" (d={smd:+.2f})")
    else:
        expo = "single series" if r["design"] == "single" else "exposure unknown"
    return f"{what}; {how}; {size}; {expo}."


def rank_threats(table: pd.DataFrame, *, limit: int = TOP_N, unit: str = "month") -> pd.DataFrame:
    """The top ``limit`` threats of a check's full table, ranked by score.

    ``table`` is the check's threat table (with ``score``, ``weight``, ``magnitude``,
    ``smd`` and ``design`` columns). Returns :data:`THREAT_COLUMNS`.
    """
    if table is None or table.empty:
        return pd.DataFrame(columns=list(THREAT_COLUMNS))
    score = table["score"].to_numpy(float)
    severity = table["severity"].tolist()
    keep = [i for i, (sev, sc) in enumerate(zip(severity, score)) if sev in ("high", "medium") and sc >= MIN_SCORE]
    if not keep:
        return pd.DataFrame(columns=list(THREAT_COLUMNS))
    # rank on the sort keys alone (score descending, then severity, start, event id; ties keep
    # table order), then take the few ranked rows of the wide table once
    start, event_id = table["start"].tolist(), table["event_id"].tolist()
    if any(pd.isna(start[i]) or pd.isna(event_id[i]) for i in keep):  # NaN keys: pandas' NaN placement
        keys = pd.DataFrame({"score": score, "_sev": [_SEV[v] for v in severity], "start": table["start"].to_numpy(),
                             "event_id": event_id}).iloc[keep]
        rows = list(keys.sort_values(["score", "_sev", "start", "event_id"], ascending=[False, True, True, True],
                                     kind="stable").index[:limit])
    else:
        rows = sorted(keep, key=lambda i: (-score[i], _SEV[severity[i]], start[i], event_id[i]))[:limit]
    t = table.iloc[rows]
    t["reason"] = [_one_line(r, unit) for _, r in t.iterrows()]
    t["rank"] = range(1, len(t) + 1)
    t["score"] = t["score"].round(3)
    return t[list(THREAT_COLUMNS)].reset_index(drop=True)


def combine_threats(checks: Iterable[Any], *, limit: int = TOP_N) -> pd.DataFrame:
    """One short list from several checks (e.g. every design and outcome of an evaluation).

    Each event keeps its highest score; the result is ranked again and cut to ``limit``,
    with a ``checks`` column counting how many checks ranked the event.
    """
    frames = []
    for c in checks:
        th = c.ranked_threats() if hasattr(c, "ranked_threats") else None
        if th is not None and len(th):
            frames.append(th)
    if not frames:
        return pd.DataFrame(columns=[*THREAT_COLUMNS, "checks"])
    allt = pd.concat(frames, ignore_index=True)
    counts = allt.groupby("event_id").size()
    # ties: prefer the check where the event is listed for the outcome with a known direction
    allt["_listed"] = ((allt["channel"] != "listed").astype(int) * 2
                       + allt.get("direction", pd.Series("", index=allt.index)).isin(["ambiguous", ""]).astype(int))
    best = (allt.sort_values(["score", "_listed", "event_id"], ascending=[False, True, True],
                             kind="stable")
            .drop_duplicates("event_id").head(limit).copy())
    best = best.drop(columns="_listed")
    best["checks"] = best["event_id"].map(counts).astype(int)
    best["rank"] = range(1, len(best) + 1)
    return best.reset_index(drop=True)


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
