"""Two-way fixed effects difference-in-differences (and the 2x2 DiD as its two-period case).

``y_it = alpha_i + lambda_t + beta D_it + x_it'gamma + e_it`` with ``D_it`` the absorbing
treatment indicator, unit effects ``alpha_i`` and period effects ``lambda_t`` absorbed
exactly (:mod:`evalint.estimators.did.fe`). Point estimates equal linearmodels
``PanelOLS(entity_effects=True, time_effects=True)`` and pyfixest ``feols("y ~ D | unit +
period")``. With staggered adoption and heterogeneous effects ``beta`` is a weighted
average of 2x2 comparisons, some using already-treated units as controls, with possibly
negative weights (Goodman-Bacon 2021; de Chaisemartin & D'Haultfoeuille 2020): see
methods/did.md and prefer Callaway-Sant'Anna, Sun-Abraham or the imputation estimator.

This module also holds the regression engine shared by the event study and dose forms
(:func:`fit_fe_regression`): unbalanced-panel handling, clusters, the default inference (the wild
cluster bootstrap below 50 clusters, CR1 otherwise), the few-cluster warning rule and the
policy-calendar query. The inference itself is the dispatcher's: the fit is handed over as a
:class:`~evalint.inference.contrasts.ClusteredLinearFit` and ``infer(spec, ...)`` returns the
covariance and the contrast tests (CR1/CR2, the wild cluster bootstrap, or any spec registered for
that interface); Conley-Taber refits the estimator on placebo assignments
(:mod:`evalint.estimators.did.permutation`, through ``infer`` as well).

References
----------
Angrist, J. D. & Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5.
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    Journal of Econometrics 225(2), 254-277.
de Chaisemartin, C. & D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with
    heterogeneous treatment effects. American Economic Review 110(9), 2964-2996.
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. Review of Economics and Statistics 90(3), 414-427.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.diagnostics.pretrend import pretrend_check, wald_check
from evalint.errors import (
    FewClustersWarning, InferenceError, SpecificationError, TreatmentError, UnbalancedPanelWarning,
    column_not_found, format_examples,
)
from evalint.estimators.base import SeededDefault, register_estimator
from evalint.estimators.did.clustering import cluster_column, cluster_phrase, with_cluster
from evalint.estimators.did.fe import FEFit, FixedEffects, fe_lstsq
from evalint.estimators.did.permutation import warn_few_treated, with_conley_taber
from evalint.estimators.template import CalendarOutcome, CalendarQuery, FitCore, FitTemplate
from evalint.inference.permutation import ConleyTaber
from evalint.estimators.did.staggered import describe_adoption
from evalint.inference.cluster import ClusterVcov
from evalint.inference.contrasts import ClusteredLinearFit, ClusteredRegression, LinearInference
from evalint.inference.dispatch import infer, registered_specs, resolve_inference
from evalint.inference.normal import wald
from evalint.inference.specs import Clustered, WildClusterBootstrap
from evalint.results.effect import EffectResult, InferenceInfo, make_result, tidy

__all__ = ["TWFE", "twfe", "fit_fe_regression", "RegressionFit", "FEW_CLUSTERS_BOOTSTRAP",
           "FEW_CLUSTERS_WARN", "FEW_TREATED_CLUSTERS_WARN",
           "check_treatment", "covariate_frame", "simulated_panel"]

#: CR1 small-sample rule when the inference does not choose one (fixest/Stata xtreg fe convention;
#: methods/did.md "Small-sample conventions")
DEFAULT_SMALL_SAMPLE = "nested"
#: below this many clusters the default inference is the wild cluster bootstrap
FEW_CLUSTERS_BOOTSTRAP = 50
#: below this many clusters a FewClustersWarning is raised whatever the inference
FEW_CLUSTERS_WARN = 20
#: fewer treated (or untreated) clusters than this also raise a FewClustersWarning
FEW_TREATED_CLUSTERS_WARN = 5

REFERENCES_TWFE = (
    "Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. J Econometrics 225(2).",
    "de Chaisemartin, C. & D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with heterogeneous "
    "treatment effects. AER 110(9).",
    "Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for inference with "
    "clustered errors. REStat 90(3).",
    "MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster sizes. "
    "J Applied Econometrics 32(2).",
    "Pustejovsky, J. E. & Tipton, E. (2018). Small-sample methods for cluster-robust variance estimation and "
    "hypothesis testing in fixed effects models. JBES 36(4).",
)


@dataclass(frozen=True, eq=False)
class RegressionFit:
    """What :func:`fit_fe_regression` returns: the fit, its covariance, the inference used.

    ``inference`` is what the dispatcher returned for ``spec`` (its covariance is ``vcov``).
    """

    fit: FEFit
    vcov: ClusterVcov
    spec: Any
    inference: LinearInference
    clusters: np.ndarray
    rows: pd.DataFrame
    info: dict[str, Any]
    flags: tuple[Flag, ...]
    diagnostics: tuple[CheckResult, ...]
    notes: list[str] = field(default_factory=list)
    treated_clusters: np.ndarray | None = None  # per cluster (vcov order): holds treated rows
    calendar: CalendarQuery | None = None  # where the fit template's calendar check looks

    def with_calendar(self, cal: CalendarOutcome) -> RegressionFit:
        """This fit with the calendar check the template ran appended to its diagnostics and flags."""
        return dataclasses.replace(self, diagnostics=tuple(self.diagnostics) + tuple(cal.checks),
                                   flags=tuple(self.flags) + tuple(cal.flags))

    def pretrend(self, pre_terms: list[str], event_times: list[float], *, method: str = "trend",
                 reference: float = -1.0, alpha: float = 0.05, severity: str = "high",
                 post_term: str | None = None) -> CheckResult:
        """Pre-trend check on pre-period coefficients (:mod:`evalint.diagnostics.pretrend`).

        ``"trend"``/``"joint"``: levels relative to ``reference``, each cluster's contribution
        from the cluster-robust scores, Welch df from treated and untreated clusters.
        ``"wald"``: joint Wald ``F(q, G-1)`` with the cluster-robust covariance.
        """
        if not pre_terms:
            return CheckResult("pre_trend" if method != "wald" else "pre_trend_wald", None,
                               "no pre-period coefficients to test (only the reference period).")
        idx = [self.fit.names.index(t) for t in pre_terms]
        if method == "wald":
            lin = (np.asarray(event_times, float) - reference) if len(event_times) == len(idx) else None
            return wald_check(self.fit.coef[idx], self.vcov.vcov[np.ix_(idx, idx)], df2=self.vcov.n_clusters - 1,
                              alpha=alpha, what=f"pre-period coefficient(s) ({self.vcov.kind} covariance)",
                              severity=severity, terms=pre_terms, linear=lin, reference=reference)
        treated = (self.treated_clusters if self.treated_clusters is not None
                   else np.ones(self.vcov.n_clusters, bool))
        post = (self.vcov.contributions([self.fit.names.index(post_term)])[:, 0]
                if post_term is not None and post_term in self.fit.names else None)
        return pretrend_check(event_times, self.fit.coef[idx], self.vcov.contributions(idx), treated,
                              method=method, form="levels", reference=reference, alpha=alpha, severity=severity,
                              post_contributions=post)

    def contrast_inference(self, c: np.ndarray, alpha: float) -> dict[str, Any]:
        """Estimate, SE, df, p-value and CI of ``c'b`` under the declared inference."""
        return self.inference.contrast(c, alpha).as_dict()

    def inference_info(self, df: float | None, reps: int | None = None) -> InferenceInfo:
        spec = self.spec
        note = " ".join(self.notes)
        seed = getattr(spec, "seed", None)
        by = self.info.get("cluster_by", "unit")
        desc = f"{spec.description}; {cluster_phrase(by, self.vcov.n_clusters)}"
        return InferenceInfo(name=type(spec).__name__, description=desc, df=df,
                             clusters=self.vcov.n_clusters, reps=reps, seed=seed, note=note)

    def coefficient_frame(self, alpha: float) -> pd.DataFrame:
        se = self.vcov.se
        stat, p, lo, hi = wald(self.fit.coef, se, alpha, None)
        rows = []
        for i, name in enumerate(self.fit.names):
            s, pv, l_, h_ = wald(self.fit.coef[i], se[i], alpha, float(self.vcov.df[i]))
            rows.append({"term": name, "estimate": self.fit.coef[i], "std_error": se[i], "statistic": s,
                         "p_value": pv, "conf_low": l_, "conf_high": h_, "df": float(self.vcov.df[i])})
        return tidy(pd.DataFrame(rows))


def _clusters_for(panel: Any, rows: pd.DataFrame, spec: Any, clusters: Any) -> tuple[np.ndarray, str]:
    """Cluster labels per row and the name of the clustering level.

    ``clusters=`` (a unit -> label mapping) wins; then the spec's ``by``; then the panel's
    declared cluster; then the unit (:func:`~evalint.estimators.did.clustering.cluster_column`).
    """
    if clusters is not None:
        mapping = pd.Series(clusters) if isinstance(clusters, Mapping) else clusters
        if not isinstance(mapping, pd.Series):
            raise SpecificationError("clusters= must be a mapping or Series from unit id to cluster label.")
        lab = rows[panel.unit].map(mapping)
        if lab.isna().any():
            miss = pd.unique(rows.loc[lab.isna(), panel.unit])
            raise InferenceError(f"clusters= has no cluster for {len(miss)} unit(s): {format_examples(list(miss))}.")
        return lab.to_numpy(), getattr(spec, "by", None) or mapping.name or "clusters= mapping"
    by = cluster_column(panel, spec)
    # labels keep their dtype: an object array of 10^6 integer labels would hold ~40 MB
    if by == panel.unit:
        return rows[panel.unit].to_numpy(), panel.unit
    if by not in rows.columns:
        raise column_not_found(by, "cluster", list(rows.columns))
    return rows[by].to_numpy(), by


def _period_codes(col: pd.Series) -> np.ndarray:
    """Integer codes of a period column (Period ordinals, vectorised; other values as given)."""
    if isinstance(col.dtype, pd.PeriodDtype):
        return col.array.asi8
    return col.map(lambda p: p.ordinal if hasattr(p, "ordinal") else p).to_numpy()


def fit_fe_regression(
    panel: Any,
    design: pd.DataFrame,
    *,
    outcome: str,
    inference: Any,
    alpha: float,
    clusters: Any = None,
    treated_rows: np.ndarray | None = None,
    per_population: float | None = None,
    estimator_name: str = "TWFE",
    rows_mask: np.ndarray | None = None,
) -> RegressionFit:
    """Regress ``outcome`` on ``design`` columns with unit and period fixed effects.

    Parameters
    ----------
    panel : Panel
    design : DataFrame
        Regressors aligned with ``panel.data`` rows (treatment terms first, then covariates).
    outcome : str
    inference : Clustered, WildClusterBootstrap, a spec registered for ClusteredLinearFit, or None
        None: the wild cluster bootstrap (default spec) when there are fewer than
        ``FEW_CLUSTERS_BOOTSTRAP`` clusters, CR1 otherwise. The covariance and the contrast
        tests are ``infer(spec, ClusteredRegression(fit, clusters, DEFAULT_SMALL_SAMPLE))``.
    alpha : float
    clusters : mapping unit -> cluster, optional
        Cluster labels when the clustering level is not a panel column.
    treated_rows : bool array, optional
        Rows of treated units (for the few-treated-clusters rule).
    per_population : float, optional
        Analyse ``outcome / population * per_population`` (a rate) instead of the count.
    rows_mask : bool array, optional
        Rows to use (others dropped by the caller with its own warning).
    """
    # the result's provenance hashes the data (a transient copy of the frame): do it now, before
    # the demeaned design exists, so that the two never coincide in memory (the hash is cached)
    getattr(panel, "fingerprint", None)
    data = panel.data
    if rows_mask is not None:
        data = data.loc[rows_mask].reset_index(drop=True)
        design = design.loc[rows_mask].reset_index(drop=True)
        treated_rows = None if treated_rows is None else np.asarray(treated_rows)[rows_mask]
    y = data[outcome].to_numpy(dtype=float)
    if per_population is not None:
        if panel.population is None:
            raise SpecificationError("per_population needs a panel built with population=.")
        y = y / data[panel.population].to_numpy(dtype=float) * float(per_population)
    notes: list[str] = []
    info: dict[str, Any] = {}
    n_units = int(data[panel.unit].nunique())
    n_per = int(data[panel.time].nunique())
    missing = n_units * n_per - len(data)
    if missing > 0:
        warnings.warn(
            f"{estimator_name}: the panel is unbalanced ({missing} of {n_units * n_per} unit-period cells "
            f"missing). The regression uses the {len(data)} observed cells only (nothing is imputed); unit "
            "and period effects are estimated from observed cells, as PanelOLS/pyfixest do on the same rows.",
            UnbalancedPanelWarning, stacklevel=3)
        notes.append(f"Unbalanced panel: {missing} missing cells; observed cells used.")
        info["missing_cells"] = missing
    info["cells_used"] = "observed unit-period rows"
    w = None if panel.weights is None else data[panel.weights].to_numpy(dtype=float)
    fe = FixedEffects.from_codes([data[panel.unit].to_numpy(), _period_codes(data[panel.time])],
                                 weights=w, names=(panel.unit, panel.time))
    xmat = design.to_numpy()  # int8 when every column is a 0/1 dummy, float64 otherwise
    if xmat.dtype.kind not in "fiub":
        xmat = design.to_numpy(dtype=float)
    fit = fe_lstsq(y, xmat, fe, names=list(design.columns), weights=w)

    spec = inference  # resolved by the fit template (resolve_regression_inference)
    default_seed = spec.seed if isinstance(spec, SeededDefault) else None  # seed= with the default
    if isinstance(spec, SeededDefault):
        spec = inference = None
    cl, by = _clusters_for(panel, data, spec, clusters)
    spec = with_cluster(spec, by)
    n_cl = int(pd.Series(cl).nunique())
    if n_cl < 2:
        raise InferenceError(
            f"{estimator_name} clusters by {by!r}, which has {n_cl} cluster(s); cluster-robust inference "
            "needs at least 2 (and honest few-cluster inference many more). Cluster at a level with more groups.")
    if spec is None:
        if n_cl < FEW_CLUSTERS_BOOTSTRAP:
            spec = WildClusterBootstrap(by=by) if default_seed is None else WildClusterBootstrap(
                by=by, seed=default_seed)
            notes.append(
                f"With {n_cl} clusters (< {FEW_CLUSTERS_BOOTSTRAP}), cluster-robust t-tests over-reject "
                "(Cameron, Gelbach & Miller 2008), so the p-value and CI are from the restricted wild cluster "
                "bootstrap; the standard error shown is CR1.")
        else:
            spec = Clustered(by=by, kind="CR1")
            if default_seed is not None:
                notes.append(f"seed={default_seed} is unused: with {n_cl} clusters the default inference "
                             "(CR1) draws nothing at random.")
    elif isinstance(spec, Clustered) and n_cl < FEW_CLUSTERS_BOOTSTRAP:
        notes.append(f"Only {n_cl} clusters: consider WildClusterBootstrap() or Clustered(kind='CR2').")
    # the inference layer: the spec plus the fit with its clusters -> covariance and contrast tests
    li: LinearInference = infer(spec, ClusteredRegression(fit, cl, DEFAULT_SMALL_SAMPLE))
    if li.note and inference is not None:  # a default spec has its own note above
        notes.append(li.note)
    vc = li.vcov
    flags: list[Flag] = []
    n_tr_cl = None
    if treated_rows is not None:
        n_tr_cl = int(pd.Series(cl[np.asarray(treated_rows, bool)]).nunique())
        n_untr = int(pd.Series(cl[~np.asarray(treated_rows, bool)]).nunique())
        info["treated_clusters"], info["untreated_clusters"] = n_tr_cl, n_untr
    few = n_cl < FEW_CLUSTERS_WARN or (n_tr_cl is not None and (
        n_tr_cl < FEW_TREATED_CLUSTERS_WARN or info["untreated_clusters"] < FEW_TREATED_CLUSTERS_WARN))
    if few:
        msg = (f"{estimator_name}: {n_cl} clusters"
               + (f" ({n_tr_cl} with treated units, {info['untreated_clusters']} without)"
                  if n_tr_cl is not None else "")
               + ". With fewer than 20 clusters, or fewer than 5 treated or untreated clusters, even the wild "
               "cluster bootstrap can mis-size tests (MacKinnon & Webb 2017); read the p-value with care.")
        warnings.warn(msg, FewClustersWarning, stacklevel=3)
        flags.append(Flag(kind="inference", severity="medium", message=msg, source="MacKinnon & Webb (2017)"))
    info.update(clusters=n_cl, cluster_by=by, small_sample=vc.small_sample, n_absorbed=fit.n_absorbed)
    if panel.timing is not None:
        few_t = warn_few_treated(estimator_name, panel, f"{type(spec).__name__} interval", stacklevel=4)
        if few_t is not None:
            flags.append(few_t)

    timing = panel.timing
    present = set(pd.unique(data[panel.unit]))  # once: a set per unit made this O(units x rows)
    treated_units = [u for u in timing.treated_units if u in present]
    cohorts = timing.cohort.reindex(treated_units).to_dict()
    never = [u for u in timing.never_treated if u in present]
    query = CalendarQuery(cohorts, outcome=outcome, treated_units=[str(u) for u in treated_units],
                          comparison_units=[str(u) for u in never] or None, design="did")
    tr_cl = None if treated_rows is None else vc.cluster_any(np.asarray(treated_rows, bool))
    return RegressionFit(fit=fit, vcov=vc, spec=spec, inference=li, clusters=cl, rows=data, info=info,
                         flags=tuple(flags), diagnostics=(), notes=notes, treated_clusters=tr_cl, calendar=query)


def resolve_regression_inference(estimator: Any, inference: Any) -> Any:
    """The spec of a fixed-effects regression DiD (TWFE, event study, dose-response): ConleyTaber as
    it is (the permutation refits the estimator), otherwise a spec the dispatcher runs on a
    :class:`~evalint.inference.contrasts.ClusteredLinearFit`: the declared ``Clustered`` or
    ``WildClusterBootstrap``, or any spec registered for that interface (``None``: chosen from the
    data by :func:`fit_fe_regression`). A refusal lists the declared cluster-robust specs."""
    if isinstance(inference, ConleyTaber) and ConleyTaber in estimator.supported_inference:
        return inference
    if isinstance(inference, SeededDefault):  # the default, chosen at fit time, with seed=
        return inference
    declared = tuple(t for t in estimator.supported_inference if t is not ConleyTaber)
    extra = tuple(t for t in registered_specs(estimator.inference_interface)
                  if t not in declared and isinstance(inference, t))
    return resolve_inference(estimator, inference, supported=declared + extra)


def conley_taber_fit(est: Any, panel: Any, spec: ConleyTaber, *, calendar: Any, alpha: float,
                     outcome: str | None, clusters: Any) -> EffectResult:
    """A regression DiD (TWFE, event study) with Conley-Taber permutation inference: the headline
    estimate refitted on placebo panels (point estimates only, CR1 for speed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FewClustersWarning)
        base = est.fit(panel, inference=Clustered(), calendar=calendar, alpha=alpha, outcome=outcome,
                       clusters=clusters)

    def fit_one(p: Any) -> float:
        return est.fit(p, inference=Clustered(), calendar=False, alpha=alpha, outcome=outcome).estimate

    return with_conley_taber(base, panel, spec, alpha, fit_one=fit_one)


def check_treatment(panel: Any, estimator_name: str) -> None:
    """Errors for panels TWFE cannot use: no timing, no treated units, no comparison."""
    if panel.timing is None:
        raise SpecificationError(f"{estimator_name} needs a panel with treatment= or cohort= (Panel.from_frame).")
    timing = panel.timing
    if len(timing.treated_units) == 0:
        dropped = panel.dropped.get("treated_in_first_period", 0)
        extra = (f" {dropped} unit(s) treated in their first period were dropped when the panel was built "
                 "(no pre-treatment data)." if dropped else "")
        raise TreatmentError(f"{estimator_name}: no treated units are left in the panel.{extra} "
                             "Add earlier periods so treated units have a pre-period.")
    if len(timing.never_treated) == 0 and len(timing.cohorts) == 1:
        raise TreatmentError(
            f"{estimator_name}: every unit is treated at once ({timing.cohorts[0]}) and none is left "
            "untreated, so the treatment effect cannot be separated from the period effects. Add a "
            "comparison group (never- or later-treated units), or use an interrupted time series design.")


def covariate_frame(panel: Any, covariates: Sequence[str] | None) -> pd.DataFrame:
    covs = list(panel.covariates if covariates is None else covariates)
    data = panel.data
    for c in covs:
        if c not in data.columns:
            raise column_not_found(c, "covariate", list(data.columns))
    return data[covs].astype(float).reset_index(drop=True) if covs else pd.DataFrame(index=range(len(data)))


@register_estimator
@dataclass(frozen=True)
class TWFE(FitTemplate):
    """Two-way fixed effects DiD: unit and period effects, absorbing treatment, covariates.

    Parameters
    ----------
    covariates : sequence of str or None
        Time-varying covariates (columns of the panel); None uses the panel's covariates.
        Covariates explained by the fixed effects (time-invariant) raise an error naming them.
    per_population : float, optional
        Model the rate ``outcome / population * per_population``.

    References
    ----------
    Goodman-Bacon (2021); de Chaisemartin & D'Haultfoeuille (2020); Cameron, Gelbach &
    Miller (2008); Pustejovsky & Tipton (2018).
    """

    name: ClassVar[str] = "twfe"
    supported_inference: ClassVar[tuple[type, ...]] = (Clustered, WildClusterBootstrap, ConleyTaber)
    inference_label: ClassVar[str] = "TWFE"
    inference_interface: ClassVar[type] = ClusteredLinearFit
    covariates: tuple[str, ...] | None = None
    per_population: float | None = None

    def __post_init__(self) -> None:
        if self.covariates is not None:
            object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.per_population is not None and not float(self.per_population) > 0:
            raise SpecificationError(f"per_population must be > 0; got {self.per_population!r}.")

    def default_inference(self) -> None:
        """``inference=None`` is chosen from the data by :func:`fit_fe_regression`: the restricted wild
        cluster bootstrap below ``FEW_CLUSTERS_BOOTSTRAP`` clusters, CR1 otherwise."""
        return None

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, clusters: Mapping[Any, Any] | pd.Series | None = None) -> EffectResult:
        """Fit TWFE; see the class docstring.

        Clusters: ``clusters`` (a unit -> cluster label mapping), else the inference's
        ``by``, else the panel's declared ``cluster``, else the unit. ``inference``:
        ``Clustered``, ``WildClusterBootstrap`` (default below 50 clusters) or
        ``ConleyTaber`` (permutation over placebo treated sets; the choice with 1-5 treated
        units, for which the others warn).
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome,
                            clusters=clusters)

    def _resolve_inference(self, inference: Any) -> Any:
        return resolve_regression_inference(self, inference)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, outcome: str | None = None,
                  clusters: Mapping[Any, Any] | pd.Series | None = None) -> FitCore | EffectResult:
        if isinstance(inference, ConleyTaber):
            return conley_taber_fit(self, panel, inference, calendar=calendar, alpha=alpha, outcome=outcome,
                                    clusters=clusters)
        outcome = outcome or panel.outcome
        check_treatment(panel, "TWFE")
        d = panel.treated_indicator().astype(float).reset_index(drop=True)
        design = pd.concat([d.rename("treated"), covariate_frame(panel, self.covariates)], axis=1)
        treated_rows = panel.data[panel.unit].isin(panel.timing.treated_units).to_numpy()
        rf0 = fit_fe_regression(panel, design, outcome=outcome, inference=inference, alpha=alpha,
                                clusters=clusters, treated_rows=treated_rows, per_population=self.per_population)
        return FitCore(rf0.calendar, lambda cal: self._result(panel, rf0.with_calendar(cal), outcome, alpha))

    def _result(self, panel: Any, rf: RegressionFit, outcome: str, alpha: float) -> EffectResult:
        c = np.eye(rf.fit.n_coef)[0]
        inf = rf.contrast_inference(c, alpha)
        two_by_two = panel.n_periods == 2 and len(panel.timing.cohorts) == 1
        flags = list(rf.flags)
        if panel.timing.is_staggered:
            flags.append(Flag(kind="diagnostic", severity="medium", source="Goodman-Bacon (2021)",
                              message="Staggered adoption: TWFE averages 2x2 comparisons that include already-"
                                      "treated units as controls; with effects that change over time it can be "
                                      "biased (even sign-reversed). Compare with Callaway-Sant'Anna or the "
                                      "imputation estimator, and see the Bacon decomposition."))
        info = dict(rf.info, two_by_two=two_by_two, staggered=panel.timing.is_staggered)
        return make_result(
            method="2x2 difference-in-differences" if two_by_two else "Two-way fixed effects DiD",
            estimand="ATT under parallel trends" + (" (TWFE-weighted average over cohorts and periods)"
                                                     if panel.timing.is_staggered else ""),
            term="treated", outcome=outcome, estimate=inf["estimate"], se=inf["se"], alpha=alpha,
            inference=rf.inference_info(inf["df"], inf.get("reps")), panel=panel,
            seed=getattr(rf.spec, "seed", None), spec={"estimator": "twfe", "covariates": self.covariates,
                                                       "per_population": self.per_population},
            ci=inf["ci"], p_value=inf["p_value"], coefficients=rf.coefficient_frame(alpha),
            diagnostics=rf.diagnostics, flags=tuple(flags), plot_kind="estimate",
            intervention=describe_adoption(panel),
            n_obs=rf.fit.n_obs, info=info, references=REFERENCES_TWFE,
            scale="rate per " + f"{self.per_population:g}" if self.per_population else "absolute",
        )

    @classmethod
    def contract_example(cls) -> tuple[TWFE, Any, dict[str, Any]]:
        panel = simulated_panel(n_units=24, n_periods=10, seed=1)
        return cls(), panel, {"calendar": False, "inference": Clustered(kind="CR1")}


def simulated_panel(n_units: int = 24, n_periods: int = 10, seed: int = 0, effect: float = 2.0,
                    cohorts: Sequence[int] = (4, 6), never_share: float = 0.5) -> Any:
    """A small monthly panel with staggered adoption and a constant effect (for examples/tests)."""
    from evalint.data.panel import Panel

    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(n_units)]
    n_never = int(round(n_units * never_share))
    start = {u: (None if i < n_never else cohorts[i % len(cohorts)]) for i, u in enumerate(units)}
    rows = []
    for u in units:
        a = rng.normal(0, 1)
        for t in range(n_periods):
            d = start[u] is not None and t >= start[u]
            rows.append((u, pd.Period("2020-01", "M") + t, a + 0.1 * t + rng.normal(0, 1) + effect * d, int(d),
                         rng.normal()))
    df = pd.DataFrame(rows, columns=["unit", "month", "y", "treated", "x"])
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated", covariates=["x"])


def twfe(panel: Any, *, covariates: Sequence[str] | None = None, per_population: float | None = None,
         inference: Any = None, calendar: Any = None, alpha: float = 0.05,
         clusters: Mapping[Any, Any] | pd.Series | None = None, outcome: str | None = None) -> EffectResult:
    """Fit :class:`TWFE` (convenience wrapper)."""
    return TWFE(covariates=None if covariates is None else tuple(covariates), per_population=per_population).fit(
        panel, inference=inference, calendar=calendar, alpha=alpha, clusters=clusters, outcome=outcome)
