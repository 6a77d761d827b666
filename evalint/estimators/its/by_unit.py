"""ITS for every unit of a panel, with a random-effects pooled estimate.

Each unit's series is fitted separately with the same estimator (its own trend, level
and seasonality). The headline estimates (log rate ratios for count models, absolute level
changes otherwise) are pooled by inverse-variance random-effects meta-analysis with the
DerSimonian-Laird between-unit variance; I^2 describes heterogeneity.

References
----------
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med 21:1539-1558.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option
from evalint.errors import DroppedRowsWarning, EvalintError, SpecificationError
from evalint.inference.normal import wald
from evalint.results.effect import EffectResult, InferenceInfo, make_result, tidy

__all__ = ["ITSByUnit", "its_by_unit", "pool_its"]


@dataclass(frozen=True)
class ITSByUnit:
    """Per-unit ITS results and their pooled estimate.

    Attributes
    ----------
    results : dict
        Unit id -> :class:`~evalint.results.EffectResult`.
    pooled : EffectResult or None
        Random-effects pooled headline (None with fewer than two fitted units).
    failed : dict
        Unit id -> error message, for units skipped with ``on_error="skip"``.
    """

    results: dict[Any, EffectResult]
    pooled: EffectResult | None
    failed: dict[Any, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per unit (``group`` = unit) plus the pooled row (``group`` = "pooled")."""
        rows = []
        for u, r in self.results.items():
            rows.append(r.to_frame("overall").assign(group=str(u)))
        if self.pooled is not None:
            rows.append(self.pooled.to_frame("overall").assign(group="pooled"))
        return tidy(pd.concat(rows, ignore_index=True)) if rows else tidy(None)

    def __getitem__(self, unit: Any) -> EffectResult:
        return self.results[unit]

    def __len__(self) -> int:
        return len(self.results)


def pool_its(results: dict[Any, EffectResult], alpha: float = 0.05) -> EffectResult:
    """DerSimonian-Laird random-effects pooling of per-unit ITS headline estimates."""
    a = check_alpha(alpha)
    if len(results) < 2:
        raise SpecificationError(f"pooling needs at least two unit results; got {len(results)}.")
    rs = list(results.values())
    scales = {r.scale for r in rs}
    terms = {r.term for r in rs}
    if len(scales) != 1 or len(terms) != 1:
        raise SpecificationError(f"cannot pool results on different scales/terms: {scales} / {terms}.")
    log = rs[0].scale == "rate_ratio"
    est = np.array([np.log(r.estimate) if log else r.estimate for r in rs])
    se = np.array([r.se / r.estimate if log else r.se for r in rs])
    w = 1 / se ** 2
    fixed = float(np.sum(w * est) / w.sum())
    q = float(np.sum(w * (est - fixed) ** 2))
    k = len(est)
    c = float(w.sum() - np.sum(w ** 2) / w.sum())
    tau2 = max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0
    wr = 1 / (se ** 2 + tau2)
    pooled = float(np.sum(wr * est) / wr.sum())
    pse = float(np.sqrt(1 / wr.sum()))
    _, p, lo, hi = wald(pooled, pse, a)
    i2 = max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0
    per = pd.DataFrame({"term": rs[0].term, "group": [str(u) for u in results],
                        "estimate": [r.estimate for r in rs], "std_error": [r.se for r in rs],
                        "conf_low": [r.ci[0] for r in rs], "conf_high": [r.ci[1] for r in rs],
                        "p_value": [r.p_value for r in rs], "weight": wr / wr.sum()})
    conf = {f.event_id: f for r in rs for f in r.flags if f.kind == "confounding"}  # each event once
    return make_result(
        method=f"Random-effects pooled ITS ({k} units, DerSimonian-Laird)",
        estimand=f"pooled {rs[0].estimand.split(' at ')[0]} across units",
        term=rs[0].term, outcome=rs[0].outcome, outcome_label=rs[0].outcome_label,
        estimate=float(np.exp(pooled)) if log else pooled,
        se=float(np.exp(pooled) * pse) if log else pse, alpha=a,
        ci=(float(np.exp(lo)), float(np.exp(hi))) if log else (lo, hi), p_value=p,
        inference=InferenceInfo("RandomEffects", "inverse-variance random-effects pooling of per-unit "
                                "estimates (DerSimonian-Laird tau^2)" + (" on the log scale" if log else "")),
        effects=tidy(per), scale=rs[0].scale, plot_kind="estimate", n_units=k,
        flags=tuple(conf.values()),
        info={"tau^2": tau2, "I^2 (%)": i2, "Cochran Q": q, "Units pooled": k},
        tables={"units": per},
        references=("DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.",
                    "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. "
                    "Stat Med 21:1539-1558."),
    )


def its_by_unit(panel: Any, intervention: Any = None, *, estimator: Any = None, outcome: str | None = None,
                units: Sequence[Any] | None = None, inference: Any = None, calendar: Any = None,
                alpha: float = 0.05, on_error: str = "raise", pool: bool = True, **options: Any) -> ITSByUnit:
    """Fit an ITS to each unit of ``panel`` and pool the headline estimates.

    Parameters
    ----------
    panel : Panel
    intervention : date or mapping name -> date, optional
        The same date(s) for every unit; ``None`` reads each unit's cohort from the panel
        (never-treated units are skipped, with a warning giving the count).
    estimator : SegmentedRegression, CountITS, optional
        Default: :class:`CountITS` for count outcomes, :class:`SegmentedRegression` otherwise,
        built from ``options``.
    outcome, units, inference, calendar, alpha :
        As for the estimators' ``fit``; ``units`` restricts the units fitted.
    on_error : {"raise", "skip"}
        Skip units whose fit fails (listed in ``.failed``, warned with the count).
    pool : bool
        Compute the random-effects pooled estimate.
    """
    from evalint.estimators.its.counts import CountITS
    from evalint.estimators.its.segmented import SegmentedRegression

    check_option("on_error", on_error, ("raise", "skip"))
    out_name = outcome or panel.outcome
    if estimator is None:
        kind = panel.outcome_kinds[out_name]
        estimator = CountITS(**options) if kind.is_count else SegmentedRegression(**options)
    elif options:
        raise SpecificationError("Give either estimator= or estimator options, not both.")
    todo = list(panel.units) if units is None else list(units)
    results: dict[Any, EffectResult] = {}
    failed: dict[Any, str] = {}
    skipped_never = 0
    for u in todo:
        date = intervention
        if date is None and getattr(estimator, "interventions", None) is None:
            if panel.timing is None or pd.isna(panel.timing.cohort.get(u, np.nan)):
                skipped_never += 1
                continue
        try:
            results[u] = estimator.fit(panel, inference=inference, calendar=calendar, alpha=alpha,
                                       outcome=out_name, unit=u, intervention=date)
        except EvalintError as exc:
            if on_error == "raise":
                raise type(exc)(f"unit {u!r}: {exc}") from None
            failed[u] = str(exc)
    if skipped_never:
        warnings.warn(f"Skipped {skipped_never} unit(s) with no intervention date (never treated); pass "
                      "intervention= to fit them all at one date.", DroppedRowsWarning, stacklevel=2)
    if failed:
        warnings.warn(f"ITS failed for {len(failed)} unit(s) ({', '.join(map(str, list(failed)[:5]))}); "
                      "see .failed for the reasons.", DroppedRowsWarning, stacklevel=2)
    pooled = pool_its(results, alpha) if pool and len(results) >= 2 else None
    return ITSByUnit(results=results, pooled=pooled, failed=failed)
