"""``match_comparisons``: choose comparison units like the treated ones before the intervention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evalint.data import Panel
from evalint.errors import SpecificationError, TreatmentError, format_examples
from evalint.matching.assign import assign
from evalint.matching.balance import balance_table, control_weights
from evalint.matching.distance import mahalanobis, propensity_distance, propensity_logit
from evalint.matching.features import as_list, describe_feature, pre_period_features

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REFERENCES = (
    ("Stuart EA (2010). Matching methods for causal inference: a review and a look forward. "
    "Statistical Science 25(1):1-21."),
    ("Austin PC (2011). Optimal caliper widths for propensity-score matching when estimating differences in "
    "means and differences in proportions in observational studies. Pharmaceutical Statistics 10(2):150-161."),
    ("Daw JR, Hatfield LA (2018). Matching and regression to the mean in difference-in-differences analysis. "
    "Health Services Research 53(6):4138-4156."),
    ("Steventon A, Bardsley M, Billings J, Dixon J, Doll H, Hirani S, et al. (2012). Effect of telehealth on use "
    "of secondary care and mortality: findings from the Whole System Demonstrator cluster randomised trial. "
    "BMJ 344:e3874; and the Health Foundation Improvement Analytics Unit statistical analysis protocols."),
)


@dataclass(frozen=True)
class MatchResult:
    """Matched comparison units and their balance.

    Attributes
    ----------
    panel : Panel
        The input panel restricted to the matched treated units and their matched controls
        (each control once, whatever its number of matches); run any DiD or synthetic control
        on it.
    pairs : DataFrame
        ``treated``, ``control``, ``distance``, ``round`` (1 for the first match of each treated unit).
    balance : DataFrame
        One row per feature: ``mean_treated``, ``mean_control_before``, ``smd_before``,
        ``mean_treated_after``, ``mean_control_after``, ``smd_after``, ``variance_ratio_after``,
        ``sd_before`` (see :func:`evalint.matching.balance.balance_table`).
    features : DataFrame
        The units x features table matched on.
    weights : Series
        Weight of each matched control (sums to the number of matched treated units).
    unmatched : list
        Treated units with no candidate within the caliper (left out of :attr:`panel`).
    treated, candidates : list
    method : str
    info : mapping
    """

    panel: Panel
    pairs: pd.DataFrame
    balance: pd.DataFrame
    features: pd.DataFrame
    weights: pd.Series
    unmatched: list
    treated: list
    candidates: list
    method: str
    info: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = REFERENCES

    @property
    def controls(self) -> list:
        """Matched controls, each once, in order of first match."""
        return list(pd.unique(self.pairs["control"])) if len(self.pairs) else []

    def to_frame(self, which: Literal["balance", "pairs", "features"] = "balance") -> pd.DataFrame:
        """The balance table (default), the matched pairs, or the features (copies)."""
        tables = {"balance": self.balance, "pairs": self.pairs, "features": self.features}
        if which not in tables:
            raise SpecificationError(f"which={which!r}; use 'balance', 'pairs' or 'features'.")
        return tables[which].copy()

    def summary(self) -> str:
        """Plain-text account: what was matched on, how, balance before/after, caveats."""
        i = self.info
        lines = [
            f"Matched {len(self.treated) - len(self.unmatched)} of {len(self.treated)} treated unit(s) to "
            f"{len(self.controls)} comparison unit(s) from {len(self.candidates)} candidates "
            f"({self.method}, ratio {i['ratio']}, {'with' if i['replace'] else 'without'} replacement, "
            f"{i['algorithm']}, caliper {i['caliper'] if i['caliper'] is not None else 'none'}), on the "
            f"pre-period before {i['pre_end']}: " + "; ".join(describe_feature(f) for f in i["on"]) + ".",
        ]
        if self.unmatched:
            lines.append(f"No candidate within the caliper for {format_examples(self.unmatched)}: these treated "
                         "units are left out, so the estimand is the effect in the matched treated units only.")
        worst = float(np.nanmax(np.abs(self.balance["smd_after"]))) if len(self.pairs) else float("nan")
        lines.append(f"Largest |SMD| after matching: {worst:.3f} "
                     + ("(all below 0.1)." if worst < 0.1
                        else "(above the usual 0.1 threshold: balance is not achieved)."))
        lines.append("Standard errors of a DiD or synthetic control on the matched set treat the matched units as "
                     "fixed: they do not include the uncertainty of the matching step (methods/matching.md).")
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            cols = ["feature", "mean_treated", "mean_control_before", "smd_before", "mean_control_after",
                    "smd_after"]
            lines.append(self.balance[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Any = None, threshold: float = 0.1) -> Figure:
        """Balance plot: |SMD| per feature before and after matching (see :mod:`evalint.matching.plot`)."""
        from evalint.matching.plot import balance_plot

        return balance_plot(self.balance, ax=ax, threshold=threshold)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _refuse_repeats(name: str, units: list) -> None:
    """A unit listed twice would be matched (or offered) twice and weigh double in the balance."""
    seen: set = set()
    twice = [u for u in units if u in seen or seen.add(u)]  # type: ignore[func-returns-value]
    if twice:
        raise SpecificationError(f"{name}= lists {format_examples(list(dict.fromkeys(twice)))} more than once; "
                                 "list each unit once.")


def match_comparisons(
    panel: Panel,
    treated: Any = None,
    *,
    on: Sequence[str] | str = ("level", "trend"),
    method: Literal["mahalanobis", "propensity"] = "mahalanobis",
    caliper: float | None = None,
    replace: bool = False,
    ratio: int = 1,
    algorithm: Literal["greedy", "optimal"] = "greedy",
    intervention: Any = None,
    outcome: str | None = None,
    candidates: Sequence[Any] | None = None,
    penalty: float = 1.0,
) -> MatchResult:
    """Select comparison units that resemble the treated units before the intervention.

    Parameters
    ----------
    panel : Panel
        Treated units either carry cohorts in the panel or are named by ``treated=``.
    treated : unit id or list, optional
        Default: the panel's treated units.
    on : str or sequence of str
        Features, computed per unit over the pre-period: ``"level"`` (mean outcome), ``"trend"``
        (OLS slope of the outcome per period) and/or numeric columns (their pre-period mean).
    method : {"mahalanobis", "propensity"}
        Mahalanobis distance on the pooled within-group covariance of the features, or the
        absolute difference of the logit of a ridge-penalised logistic propensity score.
    caliper : float, optional
        Largest allowed distance: Mahalanobis units, or standard deviations of the logit
        propensity score for ``method="propensity"`` (0.2 is Austin's 2011 recommendation).
        Treated units with no candidate within it are left unmatched (reported).
    replace : bool
        Whether a candidate may be matched to more than one treated unit.
    ratio : int
        Matches per treated unit.
    algorithm : {"greedy", "optimal"}
        Greedy nearest neighbour (treated units in panel order, ``ratio`` rounds), or the
        assignment minimising the total distance (without replacement only).
    intervention : date-like, optional
        End of the pre-period (exclusive); default the earliest treatment start.
    outcome : str, optional
        Outcome for level/trend; default the primary outcome.
    candidates : sequence, optional
        Candidate comparison units; default every never-treated unit (every other unit when
        ``treated=`` is given and the panel has no timing).
    penalty : float
        Ridge penalty of the propensity model (standardised features, intercept unpenalised).

    Returns
    -------
    MatchResult
        ``.panel`` (the matched subset), ``.balance`` (SMDs before/after), ``.pairs``,
        ``.summary()``, ``.plot()``.

    Raises
    ------
    TreatmentError
        A treated unit is not in the panel, or no treated units are known.
    SpecificationError
        Bad ``method``/``ratio``/``caliper``/``algorithm``, too few candidates without
        replacement, a constant or collinear feature.
    ColumnNotFoundError, MissingValuesError
        A feature column is missing, or a unit has no pre-period value for it.

    References
    ----------
    Stuart (2010); Austin (2011); Daw & Hatfield (2018); Health Foundation Improvement Analytics Unit.
    """
    if method not in ("mahalanobis", "propensity"):
        raise SpecificationError(f"method={method!r}; use 'mahalanobis' or 'propensity'.")
    if algorithm not in ("greedy", "optimal"):
        raise SpecificationError(f"algorithm={algorithm!r}; use 'greedy' or 'optimal'.")
    if algorithm == "optimal" and replace:
        raise SpecificationError("algorithm='optimal' is for matching without replacement; with replace=True each "
                                 "treated unit simply takes its nearest candidates (algorithm='greedy').")
    if not isinstance(ratio, (int, np.integer)) or isinstance(ratio, bool) or ratio < 1:
        raise SpecificationError(f"ratio={ratio!r} must be a positive integer.")
    if caliper is not None and not (_is_number(caliper) and np.isfinite(caliper) and caliper > 0):
        raise SpecificationError(f"caliper={caliper!r} must be a positive number (or None for no caliper).")
    if not (_is_number(penalty) and np.isfinite(penalty) and penalty >= 0):
        raise SpecificationError(f"penalty={penalty!r}: the ridge penalty of the propensity model must be a finite "
                                 "number >= 0 (default 1.0; 0 fits the unpenalised logistic model).")
    units = list(panel.units)
    unit_set = set(units)
    if treated is not None:
        tr = [treated] if isinstance(treated, (str, int, np.integer)) else list(treated)
        bad = [u for u in tr if u not in unit_set]
        if bad:
            raise TreatmentError(f"treated= names unit(s) not in the panel: {format_examples(bad)}. "
                                 f"Units: {format_examples(units, limit=10)}.")
        _refuse_repeats("treated", tr)
    elif panel.timing is not None:
        tr = list(panel.timing.treated_units)
    else:
        tr = []
    if not tr:
        raise TreatmentError("No treated units: pass treated=<unit or list>, "
                             "or build the panel with cohort=/treatment=.")
    if intervention is not None:
        pre_end = panel.period(intervention, "intervention")
    elif panel.timing is not None and panel.timing.cohort.reindex(tr).notna().any():
        pre_end = min(panel.timing.cohort.reindex(tr).dropna())
    else:
        raise SpecificationError("The pre-period is unknown: pass intervention=<date> (its first period is the "
                                 "first one excluded from matching).")
    if candidates is None:
        if panel.timing is not None and treated is None:
            cand = [u for u in panel.timing.never_treated if u not in set(tr)]
        elif panel.timing is not None:
            never = set(panel.timing.never_treated)
            cand = [u for u in units if u not in set(tr) and u in never]
        else:
            cand = [u for u in units if u not in set(tr)]
    else:
        cand = list(candidates)
        bad = [u for u in cand if u not in unit_set or u in set(tr)]
        if bad:
            raise SpecificationError(f"candidates= lists {format_examples(bad)}, "
                                     "which are treated or not in the panel.")
        _refuse_repeats("candidates", cand)
    if not cand:
        raise SpecificationError("No candidate comparison units (every unit is treated).")
    if not replace and len(cand) < ratio * len(tr):
        raise SpecificationError(
            f"Without replacement, {len(tr)} treated unit(s) x ratio {ratio} need {ratio * len(tr)} candidates; "
            f"there are {len(cand)}. Pass replace=True or a smaller ratio."
        )
    if replace and len(cand) < ratio:
        raise SpecificationError(
            f"With replacement each treated unit takes {ratio} different candidates (ratio={ratio}); there are "
            f"only {len(cand)}. Pass ratio <= {len(cand)} or more candidates."
        )
    names = as_list(on)
    feats = pre_period_features(panel, names, pre_end, outcome).loc[tr + cand]
    if method == "mahalanobis":
        dist = mahalanobis(feats, tr, cand)
        cal = caliper
        logit = None
    else:
        logit = propensity_logit(feats, tr, cand, penalty=penalty)
        dist = propensity_distance(logit, tr, cand)
        cal = None if caliper is None else caliper * float(logit.std(ddof=1))
    pairs = assign(dist, ratio=ratio, replace=replace, caliper=cal, algorithm=algorithm)
    matched_t = list(pd.unique(pairs["treated"])) if len(pairs) else []
    unmatched = [u for u in tr if u not in set(matched_t)]
    if not matched_t:
        raise SpecificationError(f"No treated unit has a candidate within caliper={caliper!r} (smallest distance "
                                 f"{float(np.nanmin(dist.to_numpy())):.4g}). Widen the caliper.")
    keep = set(matched_t) | set(pairs["control"])
    sub = panel.subset(units=[u for u in units if u in keep])
    bal = balance_table(feats, tr, cand, pairs)
    info = {"pre_end": str(pre_end), "ratio": int(ratio), "replace": bool(replace), "caliper": caliper,
            "caliper_distance": cal, "algorithm": algorithm, "on": names,
            "penalty": penalty if logit is not None else None}
    if logit is not None:
        feats = feats.assign(logit_propensity=logit)
    return MatchResult(panel=sub, pairs=pairs, balance=bal, features=feats, weights=control_weights(pairs),
                       unmatched=unmatched, treated=tr, candidates=cand, method=method, info=info)
