"""The imputation estimator of Borusyak, Jaravel & Spiess (2024) for staggered DiD.

Algorithm (BJS 2024, Theorem 2):

1. Fit ``Y_it = alpha_i + beta_t + X_it' gamma + e_it`` by OLS on the untreated cells
   Omega_0 (never-treated units, and not-yet-treated cells more than ``anticipation``
   periods before treatment).
2. Impute ``Y_it(0)`` for every treated cell (Omega_1) and take
   ``tau_hat_it = Y_it - Y_hat_it(0)``.
3. Average: the overall ATT gives equal weight to every treated cell (event time
   >= 0); horizon ``h`` gives equal weight to the cells ``h`` periods after adoption.

Every estimate is linear in the outcomes, ``tau_hat_w = sum_it v_it Y_it``, with
``v_it = w_it`` on Omega_1 and ``v_0 = -Z_0 (Z_0'Z_0)^{-1} Z_1' w_1`` on Omega_0.
The variance is the conservative unit-clustered estimator of Theorem 3
(by default with the leave-one-out refinement of Supplementary Appendix A.9):
``sum_i (sum_t v_it eps_tilde_it)^2`` with the Omega_0 residuals, and on Omega_1 the
auxiliary residuals ``tau_hat_it - tau_tilde_g`` where ``tau_tilde_g`` averages the
imputed effects within cohort x event-time groups (eq. 8, unit-clustered form).
The optional pre-trend test is BJS Test 1 (Section 4.4): on Omega_0 only, add
indicators for the ``K`` periods before treatment and test them jointly (cluster-robust
Wald F with (K, G - 1) degrees of freedom).

The untreated-cell fit (step 1) and the Theorem 3 cluster scores live in
:mod:`evalint.estimators.did.imputation.untreated_model`; this module runs the estimator
and the pre-trend test and builds the result; the helpers the staggered-adoption estimators
share are in :mod:`evalint.estimators.did.staggered`.

References
----------
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust
and efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option, check_positive_int
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import (
    DroppedRowsWarning,
    SpecificationError,
    TreatmentError,
)
from evalint.estimators.base import register_estimator
from evalint.estimators.template import CalendarOutcome, FitCore, FitTemplate
from evalint.estimators.did.staggered import (
    staggered_calendar_query,
    cohort_size_checks,
    describe_adoption,
    example_staggered_panel,
    require_timing,
    staggered_frame,
    unbalanced_note,
    unit_cluster_vcov,
)
from evalint.estimators.did.imputation.untreated_model import (
    _aux_groups,
    _cluster_scores,
    _fit_untreated,
)
from evalint.diagnostics.pretrend import lead_wald_check, pretrend_check
from evalint.estimators.did.permutation import warn_few_treated
from evalint.estimators.did.clustering import cluster_column, cluster_phrase, unit_cluster_labels
from evalint.estimators.did.state import EventTimeState
from evalint.inference.dispatch import infer
from evalint.inference.influence import ClusterInfluence
from evalint.inference.normal import wald
from evalint.inference.specs import Analytic, Clustered
from evalint.results.effect import InferenceInfo, make_result

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["ImputationDiD", "imputation_did"]

REFERENCES = (
    ("Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust and "
     "efficient estimation. Review of Economic Studies 91(6), 3253-3285."),
)


# ----------------------------------------------------------------------------- the estimator
@dataclass(frozen=True)
class _Scores:
    """The Theorem 3 cluster scores of each estimand, as a ClusterInfluence."""

    contributions: list[np.ndarray]
    n_clusters: int


@register_estimator
@dataclass(frozen=True)
class ImputationDiD(FitTemplate):
    """Borusyak-Jaravel-Spiess (2024) imputation estimator.

    Parameters
    ----------
    anticipation : int
        Periods before adoption in which units may already react. Those cells are left
        out of the untreated fit (Omega_0); their imputed effects are reported as event
        times ``-anticipation..-1`` and excluded from the overall ATT.
    horizon_max : int, optional
        Largest event time reported (default: all).
    pretrends : int
        ``K > 0`` runs BJS Test 1 with the ``K`` periods before treatment (before the
        anticipation window); 0 (default) skips it.
    pretrend_test : {"trend", "joint", "wald"}
        How the ``K`` lead coefficients are tested (:mod:`evalint.diagnostics.pretrend`):
        their linear trend on a Welch-t reference (default, check ``pre_trend``), Hotelling
        F, or BJS's joint F(K, G-1) (``"wald"``, check ``bjs_pretrend_test``, as pyfixest).
    aux_partition : {"cohort_horizon", "cohort", "horizon"}
        Groups over which the auxiliary ``tau_tilde`` of Theorem 3 averages imputed
        effects (default cohort x event time, as in the paper).
    use_covariates : bool
        Include the panel's covariates as ``X_it' gamma`` in the untreated fit (default
        True). Time-varying covariates are used period by period (they must not be
        affected by treatment); covariates constant within every unit are absorbed by
        the unit effects and refused.
    leave_one_out : bool
        Apply the leave-one-out refinement of BJS (2024) Supplementary Appendix A.9 to
        the Theorem 3 variance (default True): each unit is left out of its own
        ``tau_tilde`` average. Without it the auxiliary averages over-fit the noise and the
        variance is biased down when cohorts are small (a handful of ICBs per wave);
        with it the Theorem 3 variance is conservative as intended. ``False`` gives the
        plain Theorem 3 estimator (diff-diff's and did_imputation's default).

    Notes
    -----
    Every observed cell is used; unbalanced panels are allowed (counted warning).
    Treated cells that cannot be imputed (their period has no untreated cell, e.g. after
    the last cohort adopts when no unit is never treated) are dropped with a counted
    warning, which changes the estimand to the imputable cells (stated in ``info``).
    Analytic weights are not used. Inference: Theorem 3 variance clustered by unit,
    normal reference, no small-sample factor (as the paper and diff-diff).

    References
    ----------
    Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs:
    robust and efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
    """

    name: ClassVar[str] = "imputation"
    supported_inference: ClassVar[tuple[type, ...]] = (Analytic, Clustered)
    #: what the fit hands the inference layer (specs registered for it are accepted too)
    inference_interface: ClassVar[type] = ClusterInfluence
    inference_label: ClassVar[str] = "Imputation DiD (BJS)"
    anticipation: int = 0
    horizon_max: int | None = None
    pretrends: int = 0
    aux_partition: Literal["cohort_horizon", "cohort", "horizon"] = "cohort_horizon"
    use_covariates: bool = True
    leave_one_out: bool = True
    pretrend_test: Literal["trend", "joint", "wald"] = "trend"

    def __post_init__(self) -> None:
        check_positive_int("anticipation", self.anticipation, minimum=0)
        check_positive_int("pretrends", self.pretrends, minimum=0)
        check_option("pretrend_test", self.pretrend_test, ("trend", "joint", "wald"))
        if self.horizon_max is not None:
            check_positive_int("horizon_max", self.horizon_max, minimum=0)
        check_option("aux_partition", self.aux_partition, ("cohort_horizon", "cohort", "horizon"))

    @classmethod
    def contract_example(cls) -> tuple[ImputationDiD, Panel, dict[str, Any]]:
        return cls(pretrends=2), example_staggered_panel(seed=1), {"calendar": False}

    def default_inference(self) -> Any:
        """``inference=None``: the BJS Theorem 3 conservative variance, clustered by unit."""
        return Analytic()

    def fit(self, panel: Panel, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> EffectResult:
        """Estimate the overall ATT and event-time effects by imputation.

        Parameters
        ----------
        panel : Panel
            Panel with treatment timing.
        inference : Analytic or Clustered, optional
            Theorem 3 conservative variance clustered by unit (the only clustering
            available; ``Clustered(kind="CR1")`` and ``Analytic()`` both mean it).
        calendar : PolicyCalendar, None or False
        alpha : float

        Returns
        -------
        EffectResult
            Headline = overall ATT; ``effects`` = event-time effects, per-cohort ATTs
            (``kind="cohort"``) and the Test 1 pre-trend coefficients when
            ``pretrends > 0``; ``tables["imputed_effects"]`` = every imputed cell effect; ``influence`` = each
            cluster's contribution ``sum_t v_it eps_tilde_it`` to the overall ATT.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any) -> FitCore:
        if isinstance(inference, Clustered) and inference.kind != "CR1":
            raise SpecificationError(
                "Imputation DiD uses the BJS (2024) Theorem 3 variance (sums of scores by cluster); "
                f"Clustered(kind={inference.kind!r}) is not available. Use inference=None or Clustered()."
            )
        by = cluster_column(panel, inference)
        timing = require_timing(panel, "Imputation DiD (BJS)")
        flags = cohort_size_checks(timing)
        few = warn_few_treated("Imputation DiD", panel, "Theorem 3 interval")
        if few is not None:
            flags.append(few)
        note_unbal = unbalanced_note(panel, "Imputation DiD")
        if panel.weights:
            flags.append(Flag("data", "info", f"weights column {panel.weights!r} is not used: the "
                              "imputation estimator here is unweighted.", source="imputation"))
        covs = list(panel.covariates) if self.use_covariates else []
        fr = staggered_frame(panel)
        a = self.anticipation
        treated_all = (fr["g"].to_numpy() >= 0) & (fr["rel"].to_numpy() >= -a)
        fit = _fit_untreated(fr, ~treated_all, covs)
        imputable = treated_all & fit.can_impute
        n_lost = int((treated_all & ~fit.can_impute).sum())
        info: dict[str, Any] = {"reference_period": "none: Y(0) is imputed from unit and period effects fitted "
                                                    "on all untreated cells (no single base period)"}
        if n_lost:
            lost = fr.loc[treated_all & ~fit.can_impute]
            msg = (f"{n_lost} treated cell(s) cannot be imputed and are left out of every average "
                   f"({lost['u'].nunique()} unit(s)): their period has no untreated cell or their unit has "
                   "no untreated period (e.g. after the last cohort adopts when no unit is never "
                   "treated). The estimand is the ATT over the imputable treated cells.")
            warnings.warn(msg, DroppedRowsWarning, stacklevel=2)
            flags.append(Flag("data", "medium", msg, source="imputation"))
            info["treated cells not imputable"] = n_lost
        if not (imputable & (fr["rel"].to_numpy() >= 0)).any():
            raise TreatmentError(
                "No treated cell can be imputed: no period with treated units also has untreated "
                "units. Add never-treated units or later-treated cohorts."
            )
        tau = np.where(imputable, fr["y"].to_numpy() - fit.predict(fr, covs), np.nan)
        rel = fr["rel"].to_numpy()
        if by == panel.unit:
            clusters, n_clusters, cluster_index = fr["u"].to_numpy(), panel.n_units, pd.Index(panel.units)
        else:
            codes, uniq = pd.factorize(unit_cluster_labels(panel, by, panel.units), sort=True)
            clusters, n_clusters, cluster_index = codes[fr["u"].to_numpy()], len(uniq), pd.Index(uniq)

        # estimands: overall (event time >= 0) and each horizon
        targets: list[tuple[str, float | None, np.ndarray]] = []
        post = imputable & (rel >= 0)
        targets.append(("ATT", None, post / post.sum()))
        hmax = int(np.nanmax(rel[imputable]))
        if self.horizon_max is not None:
            hmax = min(hmax, self.horizon_max)
        for h in range(-a, hmax + 1):
            m = imputable & (rel == h)
            if m.any():
                targets.append((f"h={h}", float(h), m / m.sum()))
        g_arr = fr["g"].to_numpy()
        first = panel.periods[0]
        for gi in sorted(int(x) for x in np.unique(g_arr[post])):
            m = post & (g_arr == gi)
            targets.append((f"cohort {first + gi}", None, m / m.sum()))
        groups = _aux_groups(fr, self.aux_partition)
        rows = []
        # Theorem 3 cluster scores of every estimand; the inference layer turns them into SEs
        psis = [_cluster_scores(fit, fr, covs, w, tau, groups, clusters, n_clusters, self.leave_one_out)
                for _, _, w in targets]
        inf = infer(inference, _Scores(psis, n_clusters))
        headline_psi = None
        for j, (term, h, w) in enumerate(targets):
            est = float(np.nansum(w * np.nan_to_num(tau)))
            psi, se = psis[j], inf.se[j]
            n_cells = int((w > 0).sum())
            if j == 0:
                headline = (est, se)
                headline_psi = psi
            elif h is None:
                rows.append({"term": term, "estimate": est, "std_error": se, "group": term.split(" ", 1)[1],
                             "n_cells": n_cells, "kind": "cohort"})
            else:
                rows.append({"term": term, "estimate": est, "std_error": se, "rel_time": h,
                             "n_cells": n_cells, "kind": "imputation" if h >= 0 else "anticipation"})
        effects = pd.DataFrame(rows)
        diagnostics: list[CheckResult] = []
        if self.pretrends:
            unit_cl = (np.arange(panel.n_units) if by == panel.unit
                       else pd.factorize(unit_cluster_labels(panel, by, panel.units), sort=True)[0])
            check, pre_rows = _pretrend_test(fr, ~treated_all, covs, self.pretrends, a, alpha,
                                             method=self.pretrend_test, unit_cluster=unit_cl)
            diagnostics.append(check)
            effects = pd.concat([pd.DataFrame(pre_rows), effects], ignore_index=True)
            if check.passed is False:
                flags.append(Flag("diagnostic", "medium", check.text, source=check.name))
            info["reference_period"] += (f"; pre-trend coefficients are relative to untreated periods "
                                         f"more than {self.pretrends + a} before adoption and never-treated units")
        stat, p, lo, hi = wald(effects["estimate"].to_numpy(float), effects["std_error"].to_numpy(float), alpha)
        effects = effects.assign(statistic=stat, p_value=p, conf_low=lo, conf_high=hi)
        def finish(cal: CalendarOutcome) -> EffectResult:
            cal_check, cal_flags = cal.check, cal.flags
            if cal_check is not None:
                diagnostics.append(cal_check)
            if note_unbal:
                info["unbalanced panel"] = note_unbal
            if covs:
                info["covariates"] = ", ".join(covs) + " (time-varying values used cell by cell in the untreated fit)"
            info["anticipation"] = a
            info["effects_note"] = ("Event-time effects (kind 'imputation') average imputed effects over treated cells "
                                    "at that horizon; kind 'cohort' rows over each cohort's treated cells"
                                    + ("; kind 'pretrend' rows are BJS Test 1 coefficients."
                                       if self.pretrends else "."))
            tables = {"imputed_effects": pd.DataFrame({
                panel.unit: panel.units[fr["u"].to_numpy()], panel.time: panel.periods[fr["t"].to_numpy()],
                "rel_time": rel, "tau_hat": tau})[imputable].reset_index(drop=True)}
            est, se = headline
            return make_result(
                method="Imputation DiD (Borusyak-Jaravel-Spiess)",
                estimand="ATT: equally weighted average of effects over treated cells (event time >= 0)",
                term="ATT", outcome=panel.outcome, estimate=est, se=se, alpha=alpha,
                inference=InferenceInfo("BJS Theorem 3", "conservative variance of BJS (2024) Theorem 3, "
                                        f"{cluster_phrase(by, n_clusters)}, "
                                        f"{self.aux_partition.replace('_', ' x ')} auxiliary averaging"
                                        + (" with the leave-one-out refinement (App. A.9)"
                                           if self.leave_one_out else "")
                                        + ", normal reference", clusters=n_clusters),
                panel=panel, spec={"estimator": self.name, "anticipation": a, "horizon_max": self.horizon_max,
                                   "pretrends": self.pretrends, "aux_partition": self.aux_partition,
                                   "use_covariates": self.use_covariates, "leave_one_out": self.leave_one_out},
                effects=effects, coefficients=fit.coefficient_frame(covs), tables=tables,
                diagnostics=tuple(diagnostics), flags=tuple(flags) + tuple(cal_flags),
                influence=headline_psi, influence_index=cluster_index.rename(by),
                plot_kind="event_study", intervention=describe_adoption(panel),
                n_obs=len(fr), info=info, references=REFERENCES,
                state=EventTimeState(reference_period=info["reference_period"]),
            )
        return FitCore(staggered_calendar_query(panel, timing), finish)


# ----------------------------------------------------------------------------- pre-trend test
def _pretrend_test(fr: pd.DataFrame, mask0: np.ndarray, covs: list[str], k: int, a: int,
                   alpha: float, *, method: str = "trend", unit_cluster: np.ndarray | None = None
                   ) -> tuple[CheckResult, list[dict[str, Any]]]:
    """BJS Test 1: lead indicators on Omega_0 with CR1 (fixest rule) cluster-robust scores.

    ``method="wald"``: joint F(K, G-1) (``bjs_pretrend_test``, as BJS and pyfixest);
    ``"trend"``/``"joint"``: :func:`evalint.diagnostics.pretrend.pretrend_check` on the lead
    coefficients (``pre_trend``; levels relative to the cells more than K periods before).
    """
    rows0 = np.flatnonzero(mask0)
    d0 = fr.iloc[rows0]
    u0 = d0["u"].to_numpy()
    rel = d0["rel"].to_numpy()
    leads = [h for h in range(-a - 1, -a - k - 1, -1) if np.any(rel == h)]
    name = "bjs_pretrend_test" if method == "wald" else "pre_trend"
    if not leads:
        return CheckResult(name, None, "BJS pre-trend test not run: no untreated cells of "
                           "treated units in the lead window."), []
    from evalint.estimators.did.fe import FixedEffects, fe_lstsq

    lead_mat = np.column_stack([(rel == h).astype(float) for h in leads])
    x = np.column_stack([lead_mat] + ([d0[covs].to_numpy(float)] if covs else []))
    names = [f"pre[{h}]" for h in leads] + covs
    fe = FixedEffects.from_codes([u0, d0["t"].to_numpy()], names=("unit", "period"))
    try:
        fit = fe_lstsq(d0["y"].to_numpy(float), x, fe, names=names)
    except SpecificationError as exc:
        return CheckResult(name, None, f"BJS pre-trend test not run: {exc}"), []
    cl0 = u0 if unit_cluster is None else np.asarray(unit_cluster)[u0]
    cv = unit_cluster_vcov(fit, cl0, "CR1")
    n_lead = len(leads)
    g = cv.n_clusters
    b = fit.coef[:n_lead]
    v = cv.vcov[:n_lead, :n_lead]
    se = np.sqrt(np.diag(v))
    rows = [{"term": f"pre[{h}]", "estimate": float(b[i]), "std_error": float(se[i]), "rel_time": float(h),
             "kind": "pretrend"} for i, h in enumerate(leads)]
    if method != "wald":
        chk = pretrend_check(leads, b, cv.contributions(np.arange(n_lead)), cv.cluster_any(d0["g"].to_numpy() >= 0),
                             method=method, form="levels", reference=float(-a - k - 1), alpha=alpha)
        return dataclasses.replace(chk, text="BJS (2024) Test 1 leads: " + chk.text, flags=()), rows
    return lead_wald_check(leads, b, v, g, alpha=alpha), rows


def imputation_did(panel: Panel, *, outcome: str | None = None, anticipation: int = 0,
                   horizon_max: int | None = None, pretrends: int = 0, pretrend_test: str = "trend",
                   use_covariates: bool = True,
                   leave_one_out: bool = True, calendar: Any = None, alpha: float = 0.05) -> EffectResult:
    """Borusyak-Jaravel-Spiess (2024) imputation estimator (see :class:`ImputationDiD`).

    Parameters
    ----------
    panel : Panel
    outcome : str, optional
        Outcome to use (default: the panel's primary outcome).
    anticipation, horizon_max, pretrends, use_covariates, leave_one_out
        See :class:`ImputationDiD`.
    calendar : PolicyCalendar, None or False
    alpha : float

    Returns
    -------
    EffectResult

    References
    ----------
    Borusyak, Jaravel & Spiess (2024). *Review of Economic Studies* 91(6), 3253-3285.
    """
    if outcome is not None:
        panel = panel.with_outcome(outcome)
    est = ImputationDiD(anticipation=anticipation, horizon_max=horizon_max, pretrends=pretrends,
                        use_covariates=use_covariates, leave_one_out=leave_one_out,
                        pretrend_test=pretrend_test)  # type: ignore[arg-type]
    return est.fit(panel, calendar=calendar, alpha=alpha)
