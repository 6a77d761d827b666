"""Goodman-Bacon decomposition of the two-way fixed-effects DiD estimate.

With a balanced panel and a binary absorbing treatment adopted at different times,
the TWFE coefficient on the treatment dummy (unit and period fixed effects, no
covariates) is a weighted average of every 2x2 DiD that can be formed from pairs of
timing groups (Goodman-Bacon 2021, Theorem 1):

* treated vs never treated (``k`` vs ``U``), over the whole panel;
* earlier vs later treated (``k`` treated, ``l`` not yet treated), over the periods
  before ``l`` starts;
* later vs earlier treated (``l`` treated, ``k`` *already* treated as control), over the
  periods from ``k``'s start. This is the "forbidden" comparison: when effects change
  with time since treatment, ``k``'s changing effect is subtracted from ``l``'s.

The weights are positive, sum to one, and depend only on group sizes and the timing of
treatment (the variance of treatment within each pair). The weighted sum of the 2x2
estimates equals the TWFE coefficient exactly (checked in the tests against
linearmodels' PanelOLS). When the forbidden comparisons carry more than
``forbidden_threshold`` of the weight (default 10%), the result carries a diagnostic
flag: TWFE is then at risk of bias under dynamic effects; prefer Callaway-Sant'Anna,
Sun-Abraham or the imputation estimator.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics* 225(2), 254-277.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import EvalintWarning, SpecificationError, TreatmentError
from evalint.estimators.base import register_estimator
from evalint.estimators.did.clustering import cluster_column, cluster_phrase, unit_cluster_labels
from evalint.estimators.did.fe import FixedEffects, fe_lstsq
from evalint.estimators.did.staggered import (
    staggered_calendar_query,
    cohort_size_checks,
    describe_adoption,
    require_timing,
)
from evalint.inference.dispatch import infer
from evalint.inference.interface import LinearFit
from evalint.estimators.template import CalendarOutcome, FitCore, FitTemplate
from evalint.inference.specs import Analytic, Clustered
from evalint.results.effect import InferenceInfo, make_result

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["BaconDecomposition", "bacon_decomposition"]

REFERENCES = (
    ("Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. "
     "Journal of Econometrics 225(2), 254-277."),
)

TREATED_VS_NEVER = "treated vs never treated"
EARLY_VS_LATE = "earlier vs later treated"
LATE_VS_EARLY = "later vs earlier treated (forbidden)"


@register_estimator
@dataclass(frozen=True)
class BaconDecomposition(FitTemplate):
    """Goodman-Bacon (2021) decomposition of the TWFE DiD coefficient.

    Parameters
    ----------
    forbidden_threshold : float
        Share of the TWFE weight on "later vs earlier treated" comparisons above which
        the result is flagged (``Flag(kind="diagnostic")``). Default 0.10: with one tenth
        of the weight on comparisons whose control group is already treated, a dynamic
        effect of the size of the ATT moves the TWFE estimate by a tenth of itself or
        more, which is material for policy reading. The flag is ``"high"`` severity above
        ``2 * forbidden_threshold``.

    Notes
    -----
    Needs a balanced panel (the theorem is for balanced panels) with an absorbing 0/1
    treatment; covariates and analytic weights are not used (the decomposition is of the
    unweighted no-covariate TWFE regression; a flag says so when the panel has them).
    The headline is the TWFE coefficient with a cluster-robust SE from
    :func:`evalint.inference.cluster.cluster_vcov`, clustered by the panel's declared
    ``cluster`` role when there is one (``Panel.from_frame(..., cluster="icb")``), by
    ``Clustered(by=...)`` when given, else by unit; the summary names the cluster. CR1S
    (``G/(G-1) (N-1)/(N-p)``, ``p`` counting the unit and period effects, t(G-1) reference)
    by default, or CR2 with a Satterthwaite df (``inference=Clustered(kind="CR2")``). The tests check the CR1S SE
    against linearmodels' uncorrected ``PanelOLS`` sandwich times that factor. The
    decomposition itself is descriptive and has no SEs.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment
    timing. *Journal of Econometrics* 225(2), 254-277.
    """

    name: ClassVar[str] = "bacon"
    supported_inference: ClassVar[tuple[type, ...]] = (Analytic, Clustered)
    #: what the fit hands the inference layer (specs registered for it are accepted too)
    inference_interface: ClassVar[type] = LinearFit
    inference_label: ClassVar[str] = "Goodman-Bacon decomposition"
    forbidden_threshold: float = 0.10

    def __post_init__(self) -> None:
        t = self.forbidden_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < 1:
            raise SpecificationError(f"forbidden_threshold must be a number in [0, 1); got {t!r}.")

    @classmethod
    def contract_example(cls) -> tuple[BaconDecomposition, Panel, dict[str, Any]]:
        from evalint.estimators.did.staggered import example_staggered_panel

        return cls(), example_staggered_panel(seed=3), {"calendar": False}

    def default_inference(self) -> Any:
        """``inference=None``: cluster-robust (CR1) standard errors of the TWFE coefficient."""
        return Clustered()

    def fit(self, panel: Panel, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> EffectResult:
        """Decompose the TWFE estimate of ``panel``'s primary outcome.

        Parameters
        ----------
        panel : Panel
            Balanced panel with treatment timing (``treatment=`` or ``cohort=``).
        inference : Analytic or Clustered, optional
            SE of the headline TWFE coefficient, clustered by ``Clustered(by=...)``, else the
            panel's declared cluster, else the unit: CR1 (the default) or
            ``Clustered(kind="CR2")``.
        calendar : PolicyCalendar, None or False
            Policy-calendar check (``False`` skips it).
        alpha : float

        Returns
        -------
        EffectResult
            Headline = TWFE coefficient; ``tables["bacon"]`` = every 2x2 comparison with
            its weight and estimate; ``tables["bacon_by_type"]`` = weight and weighted
            mean estimate per comparison type; ``plot_kind="bacon"``.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any) -> FitCore:
        by = cluster_column(panel, inference)
        timing = require_timing(panel, "Goodman-Bacon decomposition")
        panel.require_balanced("The Goodman-Bacon decomposition (Goodman-Bacon 2021, Theorem 1)")
        flags: list[Flag] = []
        if panel.covariates:
            flags.append(Flag("data", "info",
                              f"covariates {list(panel.covariates)} are not used: the decomposition is of "
                              "the no-covariate TWFE regression.", source="goodman_bacon"))
        if panel.weights:
            flags.append(Flag("data", "info", f"weights column {panel.weights!r} is not used: the "
                              "decomposition is of the unweighted TWFE regression.", source="goodman_bacon"))
        if len(timing.treated_units) == 0:
            raise TreatmentError("The Goodman-Bacon decomposition needs treated units; none are treated.")
        if len(timing.never_treated) == 0 and len(timing.cohorts) < 2:
            raise TreatmentError(
                "All units are treated at the same time and none is never treated: there is no "
                "comparison group and the TWFE coefficient is not identified. Add never-treated "
                "units or units treated at other times."
            )
        flags.extend(cohort_size_checks(timing, warn=False))

        ymat = panel.to_matrix(panel.outcome).to_numpy(dtype=float)
        periods = panel.periods
        start = _start_index(timing, panel)
        labels = unit_cluster_labels(panel, by, panel.units)
        twfe, se, df, cv = _twfe_and_se(ymat, start, inference, labels)
        kind = cv.kind
        where = "unit" if by == panel.unit else by
        table = decompose(ymat, start, [str(p) for p in periods])
        forbidden = float(table.loc[table["forbidden"], "weight"].sum())
        by_type = _by_type(table)

        thr = self.forbidden_threshold
        text = (f"{forbidden:.1%} of the TWFE weight is on later-vs-earlier-treated comparisons "
                f"(already-treated units as controls); threshold {thr:.0%}.")
        passed = forbidden <= thr
        if not passed:
            sev = "high" if forbidden > 2 * thr else "medium"
            flags.append(Flag(
                "diagnostic", sev,
                f"{forbidden:.0%} of the TWFE weight comes from 'forbidden' comparisons that use "
                "already-treated units as controls; with effects that change over time TWFE is "
                "biased. Prefer Callaway-Sant'Anna, Sun-Abraham or the imputation estimator.",
                source="bacon_forbidden_weight"))
        check = CheckResult("bacon_forbidden_weight", passed, text, table=by_type, statistic=forbidden)
        def finish(cal: CalendarOutcome) -> EffectResult:
            cal_check, cal_flags = cal.check, cal.flags
            diagnostics = tuple(d for d in (check, cal_check) if d is not None)

            effects = table.assign(
                term=[f"{r.comparison}: {r.treated} vs {r.control}" for r in table.itertuples()],
                std_error=np.nan, group=table["treated"], time=None,
            )[["term", "estimate", "std_error", "group", "time", "comparison", "treated", "control",
               "weight", "forbidden"]]
            info: dict[str, Any] = {
                "weight: treated vs never treated":
                    float(table.loc[table["comparison"] == TREATED_VS_NEVER, "weight"].sum()),
                "weight: earlier vs later treated":
                    float(table.loc[table["comparison"] == EARLY_VS_LATE, "weight"].sum()),
                "weight: later vs earlier treated (forbidden)": forbidden,
                "forbidden_threshold": thr,
                "sum of weights": float(table["weight"].sum()),
                "weighted sum of 2x2 estimates": float((table["weight"] * table["estimate"]).sum()),
                "effects_note": "Each row is one 2x2 DiD with its weight in the TWFE estimate (column 'weight' "
                                "in to_frame()/tables['bacon']); the 2x2 estimates have no SEs.",
            }
            return make_result(
                method="Goodman-Bacon decomposition of TWFE",
                estimand="TWFE coefficient on the treatment dummy (unit and period FE), decomposed into 2x2 DiDs",
                term="TWFE", outcome=panel.outcome, estimate=twfe, se=se, alpha=alpha,
                inference=InferenceInfo(
                    kind, (f"TWFE SE {cluster_phrase(where, cv.n_clusters)}, CR1S factor G/(G-1)(N-1)/(N-p) with "
                           f"p counting the unit and period effects, t({df:.0f}) reference" if kind == "CR1" else
                           f"TWFE SE {cluster_phrase(where, cv.n_clusters)}, CR2 (Bell-McCaffrey), Satterthwaite "
                           f"t({df:.1f}) reference"),
                    df=df, clusters=cv.n_clusters),
                panel=panel, spec={"estimator": self.name, "forbidden_threshold": thr},
                effects=effects, tables={"bacon": table, "bacon_by_type": by_type},
                diagnostics=diagnostics, flags=tuple(flags) + tuple(cal_flags), plot_kind="bacon",
                intervention=describe_adoption(panel),
                n_obs=int(ymat.size), info=info, references=REFERENCES,
            )
        return FitCore(staggered_calendar_query(panel, timing), finish)


def _start_index(timing: Any, panel: Panel) -> np.ndarray:
    """Per unit (panel order): index of the first treated period, or -1 if never treated."""
    first = panel.periods[0].ordinal
    coh = timing.cohort.reindex(panel.units)
    return np.array([-1 if pd.isna(c) else c.ordinal - first for c in coh], dtype=np.int64)


def _twfe_and_se(ymat: np.ndarray, start: np.ndarray, spec: Any,
                 unit_labels: np.ndarray | None = None) -> tuple[float, float, float, Any]:
    """TWFE coefficient, its clustered SE and df (fe.py solver; the spec's covariance from the
    inference dispatcher, CR1 with the CR1S factor).

    ``unit_labels``: one cluster label per unit (row of ``ymat``); ``None`` clusters by unit.
    """
    n, t = ymat.shape
    cols = np.arange(t)
    d = ((start[:, None] >= 0) & (cols[None, :] >= start[:, None])).astype(float)
    units = np.repeat(np.arange(n), t)
    periods = np.tile(cols, n)
    fe = FixedEffects.from_codes([units, periods], names=("unit", "period"))
    fit = fe_lstsq(ymat.ravel(), d.ravel()[:, None], fe, names=["treated"])
    clusters = units if unit_labels is None else np.repeat(np.asarray(unit_labels), t)
    cv = infer(spec, fit, clusters=clusters, small_sample="CR1S")
    var, df = cv.contrast(np.array([1.0]))
    return float(fit.coef[0]), float(np.sqrt(var)), float(df), cv


def _two_way_demean(m: np.ndarray) -> np.ndarray:
    return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()


def decompose(ymat: np.ndarray, start: np.ndarray, period_labels: list[str] | None = None) -> pd.DataFrame:
    """Every 2x2 comparison of the Goodman-Bacon decomposition, with weights and estimates.

    Parameters
    ----------
    ymat : ndarray (units x periods)
        Balanced outcome matrix.
    start : ndarray of int
        Index of each unit's first treated period (0-based column), -1 if never treated.
        Start 0 (always treated) is not allowed.
    period_labels : list of str, optional
        Labels of the columns, used to name the timing groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``comparison, treated, control, weight, estimate, forbidden,
        window_start, window_end``. Weights sum to one; ``sum(weight * estimate)`` is the
        TWFE coefficient (Goodman-Bacon 2021, Theorem 1, eqs. 10a-10g).
    """
    _, t = ymat.shape
    labels = period_labels or [str(i) for i in range(t)]
    if np.any(start == 0):
        raise TreatmentError("Goodman-Bacon decomposition: units treated in the first period have no "
                             "untreated period; drop them (Panel.from_frame does so with a warning).")
    groups = sorted(int(s) for s in np.unique(start[start > 0]))
    share = {s: float(np.mean(start == s)) for s in groups}
    share_u = float(np.mean(start < 0))
    mean_path = {s: ymat[start == s].mean(axis=0) for s in groups}
    if share_u > 0:
        mean_path[-1] = ymat[start < 0].mean(axis=0)
    dbar = {s: (t - s) / t for s in groups}  # share of periods treated
    cols = np.arange(t)
    d = ((start[:, None] >= 0) & (cols[None, :] >= start[:, None])).astype(float)
    vd = float((_two_way_demean(d) ** 2).mean())  # variance of the two-way-demeaned treatment

    def seg_mean(s: int, a: int, b: int) -> float:
        return float(mean_path[s][a:b].mean())

    rows: list[dict[str, Any]] = []
    for k in groups:
        if share_u > 0:
            nk = share[k] / (share[k] + share_u)
            w = (share[k] + share_u) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k]) / vd
            est = (seg_mean(k, k, t) - seg_mean(k, 0, k)) - (seg_mean(-1, k, t) - seg_mean(-1, 0, k))
            rows.append(_row(TREATED_VS_NEVER, labels[k], "never treated", w, est, False, labels[0], labels[t - 1]))
    for i, k in enumerate(groups):
        for l in groups[i + 1:]:
            nkl = share[k] / (share[k] + share[l])
            dk, dl = dbar[k], dbar[l]
            # earlier k treated, later l as not-yet-treated control: periods [0, l)
            w_k = (((share[k] + share[l]) * (1 - dl)) ** 2 * nkl * (1 - nkl)
                   * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl) / vd)
            est_k = (seg_mean(k, k, l) - seg_mean(k, 0, k)) - (seg_mean(l, k, l) - seg_mean(l, 0, k))
            rows.append(_row(EARLY_VS_LATE, labels[k], labels[l], w_k, est_k, False, labels[0], labels[l - 1]))
            # later l treated, earlier k (already treated) as control: periods [k, T)
            w_l = (((share[k] + share[l]) * dk) ** 2 * nkl * (1 - nkl)
                   * (dl / dk) * (dk - dl) / dk / vd)
            est_l = (seg_mean(l, l, t) - seg_mean(l, k, l)) - (seg_mean(k, l, t) - seg_mean(k, k, l))
            rows.append(_row(LATE_VS_EARLY, labels[l], labels[k], w_l, est_l, True, labels[k], labels[t - 1]))
    table = pd.DataFrame(rows, columns=["comparison", "treated", "control", "weight", "estimate",
                                        "forbidden", "window_start", "window_end"])
    total = float(table["weight"].sum())
    if not np.isclose(total, 1.0, atol=1e-8):  # pragma: no cover - a theorem, kept as a guard
        warnings.warn(f"Goodman-Bacon weights sum to {total:.10f}, not 1; check the panel.",
                      EvalintWarning, stacklevel=2)
    return table


def _row(comparison: str, treated: str, control: str, weight: float, estimate: float, forbidden: bool,
         window_start: str, window_end: str) -> dict[str, Any]:
    return {"comparison": comparison, "treated": treated, "control": control, "weight": weight,
            "estimate": estimate, "forbidden": forbidden, "window_start": window_start,
            "window_end": window_end}


def _by_type(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for kind in (TREATED_VS_NEVER, EARLY_VS_LATE, LATE_VS_EARLY):
        sub = table.loc[table["comparison"] == kind]
        if len(sub) == 0:
            continue
        w = float(sub["weight"].sum())
        out.append({"comparison": kind, "n_comparisons": len(sub), "weight": w,
                    "estimate": float((sub["weight"] * sub["estimate"]).sum() / w) if w > 0 else np.nan})
    return pd.DataFrame(out, columns=["comparison", "n_comparisons", "weight", "estimate"])


def bacon_decomposition(panel: Panel, *, outcome: str | None = None, forbidden_threshold: float = 0.10,
                        calendar: Any = None, alpha: float = 0.05) -> EffectResult:
    """Goodman-Bacon decomposition of the TWFE estimate (see :class:`BaconDecomposition`).

    Parameters
    ----------
    panel : Panel
    outcome : str, optional
        Outcome to use (default: the panel's primary outcome).
    forbidden_threshold : float
        Flag when later-vs-earlier comparisons carry more weight than this (default 0.10).
    calendar : PolicyCalendar, None or False
    alpha : float

    Returns
    -------
    EffectResult

    References
    ----------
    Goodman-Bacon, A. (2021). *Journal of Econometrics* 225(2), 254-277.
    """
    if outcome is not None:
        panel = panel.with_outcome(outcome)
    return BaconDecomposition(forbidden_threshold=forbidden_threshold).fit(panel, calendar=calendar, alpha=alpha)
