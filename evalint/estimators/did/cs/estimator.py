"""Callaway & Sant'Anna (2021) group-time average treatment effects, ATT(g,t).

For each treated cohort ``g`` (units first treated in period ``g``) and period ``t`` the
estimator compares the outcome change of cohort ``g`` between a base period and ``t``
with the change of a comparison group (never-treated units, or units not yet treated by
the later of the two periods plus ``anticipation``). Without covariates each ATT(g,t) is
a difference of (weighted) means, computed here for all cells at once from the
units x periods matrix. With covariates each 2x2 comparison is estimated by outcome
regression (``"reg"``), standardised inverse probability weighting (``"ipw"``) or the
locally efficient doubly robust estimator (``"dr"``) of Sant'Anna & Zhao (2020) - the
same three estimators R ``did`` calls from DRDID (``reg_did_panel``,
``std_ipw_did_panel``, ``drdid_panel``).

Every cell keeps its influence function (one value per unit, zero for units outside the
cell's 2x2 comparison, scaled by n/n1 as R ``did``); :mod:`evalint.estimators.did.cs.aggregate`
combines them into the simple, dynamic, group and calendar summaries.

This module is the estimator (:class:`CallawaySantAnna`, :func:`callaway_santanna`). The
cells are computed in :mod:`evalint.estimators.did.cs.cells` (data preparation,
cell layout) with the 2x2 estimators of :mod:`evalint.estimators.did.cs.two_by_two`.

Algorithm (numbering as Callaway & Sant'Anna 2021, Section 4, panel data)

1. Cohorts g with no period before g - anticipation are dropped (warned, counted).
2. Base period: ``"varying"`` - for pre-periods t < g the previous period t-1, for
   post-periods g - anticipation - 1; ``"universal"`` - always g - anticipation - 1
   (that cell is reported as 0 with a zero influence function).
3. Comparison units: never treated; or (``"not_yet_treated"``) never treated plus cohorts
   g' != g with g' > max(t, base) + anticipation.
4. ATT(g,t) and its influence function from the 2x2 estimator on the units in cohort g
   or in the comparison group, using the outcome change between base and t.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.diagnostics.base import Flag
from evalint.errors import (
    DiagnosticWarning,
    FewClustersWarning,
    FewTreatedWarning,
    InferenceError,
    SpecificationError,
    format_examples,
)
from evalint.data.panel import Panel
from evalint.estimators.base import register_estimator, seeded_inference
from evalint.estimators.did.cs.aggregate import CSState, build_result, headline_numbers
from evalint.estimators.did.cs.cells import GroupTimeCells, estimate_group_time
from evalint.estimators.did.permutation import warn_few_treated, with_conley_taber
from evalint.estimators.template import CalendarOutcome, CalendarQuery, FitCore, FitTemplate
from evalint.results.effect import EffectResult
from evalint.inference.dispatch import infer
from evalint.inference.influence import UnitInfluence
from evalint.inference.multiplier import cluster_codes
from evalint.inference.permutation import ConleyTaber
from evalint.inference.specs import Analytic, Clustered, MultiplierBootstrap
from evalint.results.effect import InferenceInfo

__all__ = ["CallawaySantAnna", "callaway_santanna"]



# --------------------------------------------------------------------------- estimator
@dataclass(frozen=True)
class _CellsInfluence:
    """The ATT(g,t) cells seen by the inference layer (a UnitInfluence): their per-unit influence
    functions on request (the cohort-form operator is not expanded here) and the cluster codes."""

    cells: Any
    cluster: np.ndarray | None
    n_clusters: int | None
    cluster_label: str | None

    def influence_values(self) -> Any:
        return self.cells.influence


@register_estimator
@dataclass(frozen=True)
class CallawaySantAnna(FitTemplate):
    """Callaway & Sant'Anna (2021) staggered difference-in-differences.

    Parameters
    ----------
    control : {"never_treated", "not_yet_treated"}
        Comparison group for each ATT(g,t).
    estimation : {"dr", "ipw", "reg"}
        2x2 estimator with covariates: doubly robust (Sant'Anna & Zhao 2020, locally
        efficient, logit propensity score + OLS outcome model, as R ``did``'s default
        ``drdid_panel``), standardised IPW, or outcome regression. Without covariates all
        three equal the difference in mean outcome changes.
    covariates : sequence of str or None
        Time-invariant covariates (``None``: the panel's covariates; ``()``: none).
        Time-varying covariates are refused (see Notes).
    anticipation : int
        Periods before the cohort date in which effects may already occur.
    base_period : {"varying", "universal"}
    aggregation : {"simple", "dynamic", "group", "calendar"}
        Headline aggregation (others via :func:`~evalint.estimators.did.cs.aggregate.aggregate_att`).
    min_e, max_e : float
        Event-time window (dynamic; ``max_e`` also caps simple and group).
    balance_e : int, optional
        Dynamic aggregation on cohorts observed ``balance_e`` periods after treatment.
    unbalanced : {"balance", "error"}
        Unbalanced panels: ``"balance"`` drops units with missing cells (warned with the
        count - R ``did``'s default), ``"error"`` refuses.
    weights : bool
        Use the panel's ``weights`` column as (time-invariant) sampling weights.
    bootstrap_cells : bool
        With :class:`~evalint.inference.MultiplierBootstrap`, also bootstrap every
        ATT(g,t) (SEs and a simultaneous band in ``tables["att_gt"]``). Otherwise the
        ATT(g,t) table carries analytic (influence-function) SEs and only the reported
        aggregation is bootstrapped.
    pretrend : {"trend", "joint", "wald"}
        The pre-trend check (:mod:`evalint.diagnostics.pretrend`): ``"trend"`` (default)
        tests the linear pre-trend of the event-time aggregated pre-treatment ATTs on a t
        reference with Welch df (size <= 5% with few treated units, benchmarks/RESULTS.md);
        ``"joint"`` their Hotelling F; ``"wald"`` R ``did``'s chi-square Wald test on every
        pre-treatment ATT(g,t) (``pre_trend_wald``; it over-rejects with many pre-treatment
        cells and few units, kept for replication).

    Notes
    -----
    R ``did`` silently uses base-period values of time-varying covariates; evalint refuses
    them. Cohorts of a single unit get a warning: their treated-side variance is zero, so
    their SEs understate uncertainty (not identified).

    Coverage of the default interval (multiplier bootstrap clustered by the declared cluster,
    normal reference) with units nested in 42 ICBs, 21 treated: 93.3% at 95% over 2,000
    simulated panels (99% band of a correct interval 93.7-96.2%; SE/SD 0.97), slightly below
    nominal: the cluster-robust variance is about 3% too small with 42 clusters, half of them
    treated, and the normal reference does not allow for its noise (methods/did.md, "Simulation
    evidence"). With few clusters read the interval as slightly optimistic.

    References
    ----------
    Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.
    Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.
    """

    name: ClassVar[str] = "callaway_santanna"
    supported_inference: ClassVar[tuple[type, ...]] = (MultiplierBootstrap, Analytic, Clustered, ConleyTaber)
    inference_interface: ClassVar[type] = UnitInfluence
    inference_label: ClassVar[str] = "CallawaySantAnna"

    control: Literal["never_treated", "not_yet_treated"] = "never_treated"
    estimation: Literal["dr", "ipw", "reg"] = "dr"
    covariates: Sequence[str] | None = None
    anticipation: int = 0
    base_period: Literal["varying", "universal"] = "varying"
    aggregation: Literal["simple", "dynamic", "group", "calendar"] = "simple"
    min_e: float = -math.inf
    max_e: float = math.inf
    balance_e: int | None = None
    unbalanced: Literal["balance", "error"] = "balance"
    weights: bool = False
    bootstrap_cells: bool = False
    outcome: str | None = field(default=None)
    pretrend: Literal["trend", "joint", "wald"] = "trend"

    def __post_init__(self) -> None:
        check_option("control", self.control, ("never_treated", "not_yet_treated"))
        check_option("estimation", self.estimation, ("dr", "ipw", "reg"))
        check_option("base_period", self.base_period, ("varying", "universal"))
        check_option("aggregation", self.aggregation, ("simple", "dynamic", "group", "calendar"))
        check_option("unbalanced", self.unbalanced, ("balance", "error"))
        check_option("pretrend", self.pretrend, ("trend", "joint", "wald"))
        check_positive_int("anticipation", self.anticipation, minimum=0)
        if self.balance_e is not None:
            check_positive_int("balance_e", self.balance_e, minimum=0)
        if isinstance(self.covariates, str):
            object.__setattr__(self, "covariates", (self.covariates,))
        elif self.covariates is not None:
            object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.min_e > self.max_e:
            raise SpecificationError(f"min_e={self.min_e} is larger than max_e={self.max_e}.")

    def _fit_conley_taber(self, panel: Any, spec: ConleyTaber, calendar: Any, alpha: float) -> Any:
        return _cs_fit_conley_taber(self, panel, spec, calendar, alpha)

    @classmethod
    def contract_example(cls) -> tuple[CallawaySantAnna, Any, dict]:
        """A small simulated staggered panel (40 units x 8 years, 2 cohorts + never treated)."""
        rng = np.random.default_rng(1)
        units = np.arange(40)
        cohort = np.where(units < 12, 2014, np.where(units < 24, 2016, 0))
        years = np.arange(2010, 2018)
        u, t = np.meshgrid(units, years, indexing="ij")
        g = cohort[u]
        y = 0.3 * u / 40 + 0.1 * (t - 2010) + ((g > 0) & (t >= g)) * 1.0 + rng.normal(0, 0.2, u.shape)
        df = pd.DataFrame({"unit": u.ravel(), "year": t.ravel(), "y": y.ravel(), "cohort": g.ravel()})
        panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")
        return cls(aggregation="dynamic"), panel, {"calendar": False,
                                                    "inference": MultiplierBootstrap(reps=199, seed=3)}

    def default_inference(self) -> MultiplierBootstrap:
        """``inference=None``: the multiplier bootstrap with uniform bands (as R ``did``)."""
        return MultiplierBootstrap()

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> EffectResult:
        """Estimate every ATT(g,t) and report the chosen aggregation.

        Parameters
        ----------
        panel : Panel
            With treatment timing (``cohort=`` or ``treatment=``).
        inference : MultiplierBootstrap, Analytic, Clustered or ConleyTaber, optional
            Default ``MultiplierBootstrap()`` (999 reps, seed 0, simultaneous bands), as R
            ``did``. ``Analytic()``: influence-function SEs; ``Clustered(by=col)``:
            cluster-robust influence-function SEs (col constant within unit). Every form
            clusters by the panel's declared ``cluster`` (``Panel.from_frame(...,
            cluster=col)``) unless it names another column. ``ConleyTaber()``: permutation
            interval over placebo treated sets of never-treated units (the choice with 1-5
            treated units; other forms then warn, :class:`~evalint.errors.FewTreatedWarning`).
        calendar : PolicyCalendar, None or False
            Policy calendar for confounding flags (``False`` skips the check).
        alpha : float
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha)

    def _cells(self, panel: Any, spec_inf: Any) -> tuple[str, Any, tuple[str, ...], GroupTimeCells, dict]:
        """(outcome, cluster column, covariates, every ATT(g,t) with its influence function, notes)."""
        outcome = self.outcome or panel.outcome
        # explicit choice in the spec, else the panel's declared cluster (else units: None here)
        cluster_col = getattr(spec_inf, "by", None) if isinstance(spec_inf, Clustered) else getattr(
            spec_inf, "cluster", None)
        cluster_col = cluster_col or getattr(panel, "cluster", None)
        # covariates=None means the panel's covariates, except a column used only to cluster
        covs = (tuple(c for c in panel.covariates if c != cluster_col) if self.covariates is None
                else tuple(self.covariates))
        cells, notes = estimate_group_time(
            panel, outcome=outcome, control=self.control, method=self.estimation, covariates=covs,
            anticipation=self.anticipation, base_period=self.base_period, unbalanced=self.unbalanced,
            weights=self.weights,
        )
        return outcome, cluster_col, covs, cells, notes

    def point_estimate(self, panel: Any, *, inference: Any = None) -> float:
        """The aggregate ATT that :meth:`fit` reports, without inference, tables or diagnostics.

        For refits that read only the estimate (placebo refits, the robustness section's
        estimate-only rows): the same cells and aggregation as ``fit(panel, inference=...)``,
        so the same number; no calendar check and no warnings about the interval. The caller
        checks the panel (``fit``'s input guards do not run here).

        References
        ----------
        Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
        periods. Journal of Econometrics 225(2), 200-230.
        """
        from evalint.estimators.did.cs.aggregate import aggregate_cells

        spec_inf = self._resolve_inference(inference)
        if isinstance(spec_inf, ConleyTaber):
            spec_inf = Analytic()  # the permutation's base fit is the analytic one
        cells = self._cells(panel, spec_inf)[3]
        agg = aggregate_cells(cells, self.aggregation, min_e=self.min_e, max_e=self.max_e, balance_e=self.balance_e)
        return float(agg.overall)

    def headline(self, panel: Any, *, inference: Any = None, alpha: float = 0.05
                 ) -> tuple[float, float, tuple[float, float], float]:
        """``(estimate, se, ci, p_value)`` of :meth:`fit`'s headline row, without its tables,
        diagnostics (pre-trend check), calendar check or provenance.

        For refits that read only these (the robustness section's re-estimates): the same cells,
        inference plan, aggregation and Wald interval as ``fit``, so the same numbers. Not for
        ``ConleyTaber()`` (a permutation over refits). The caller checks the panel (``fit``'s
        input guards do not run here).

        References
        ----------
        Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
        periods. Journal of Econometrics 225(2), 200-230.
        """
        spec = self._resolve_inference(inference)
        if isinstance(spec, ConleyTaber):
            raise SpecificationError("headline() does not run the Conley-Taber permutation; use fit().")
        out = self._fit_core(panel, spec, alpha=alpha, calendar=False, headline=True)
        assert isinstance(out, tuple)
        return out

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, headline: bool = False
                  ) -> Any:
        spec_inf = inference

        a = check_alpha(alpha)
        if isinstance(spec_inf, ConleyTaber):
            return self._fit_conley_taber(panel, spec_inf, calendar, a)
        if isinstance(spec_inf, Clustered) and spec_inf.kind != "CR1":
            raise SpecificationError(
                "CallawaySantAnna supports Clustered(kind='CR1') (cluster sums of influence "
                "functions); CR2 is defined for linear regressions. Use kind='CR1' or "
                "MultiplierBootstrap(cluster=...)."
            )
        outcome, cluster_col, covs, cells, notes = self._cells(panel, spec_inf)
        flags: list[Flag] = []
        few = warn_few_treated("CallawaySantAnna", panel, f"{type(spec_inf).__name__} interval")
        if few is not None:
            flags.append(few)
        cluster = None
        n_clusters = None
        if cluster_col is not None and cluster_col != panel.unit:
            data = panel.data
            if cluster_col not in data.columns:
                raise InferenceError(
                    f"cluster column {cluster_col!r} is not in the panel (it keeps only declared "
                    f"columns: {format_examples(list(map(str, data.columns)), 20)}). Declare it when "
                    f"building the Panel: Panel.from_frame(..., cluster={cluster_col!r})."
                )
            per_unit = data.groupby(panel.unit, sort=False)[cluster_col].nunique()
            if (per_unit > 1).any():
                raise InferenceError(
                    f"cluster column {cluster_col!r} changes over time within "
                    f"{int((per_unit > 1).sum())} unit(s); clusters must contain whole units."
                )
            labels = data.groupby(panel.unit, sort=False)[cluster_col].first().reindex(cells.units)
            cluster, n_clusters = cluster_codes(labels.to_numpy(), cells.n_units)
            if n_clusters < 30:
                msg = (f"Only {n_clusters} clusters in {cluster_col!r}: cluster-robust SEs and the "
                       "cluster multiplier bootstrap can be unreliable with few clusters.")
                warnings.warn(msg, FewClustersWarning, stacklevel=2)
                flags.append(Flag("inference", "medium", msg, source="few_clusters"))
        for g in notes["singleton_cohorts"]:
            msg = (f"Cohort {pd.Period(ordinal=g, freq=panel.freq)} has a single unit: the variance of its "
                   "treated-side mean change is not identified, so the SEs of its ATT(g,t) (and of "
                   "aggregates using them) only reflect the comparison group and understate uncertainty.")
            warnings.warn(msg, DiagnosticWarning, stacklevel=2)
            flags.append(Flag("data", "medium", msg, source="singleton_cohort"))
        for key, what in (("dropped_units_unbalanced", "units dropped to balance the panel"),
                          ("dropped_units_no_pre_period", "units dropped (no pre-treatment period)"),
                          ("dropped_periods_no_comparison", "periods dropped (no comparison units)")):
            if notes[key]:
                flags.append(Flag("data", "low", f"{notes[key]} {what}.", source="callaway_santanna"))

        # the inference call site: the spec plus the cells' per-unit influence functions and
        # cluster codes (an adapter, _CellsInfluence) -> the plan the aggregation runs
        plan = infer(spec_inf, _CellsInfluence(cells, cluster, n_clusters, cluster_col))
        info = InferenceInfo(plan.name, plan.description, clusters=plan.clusters, reps=plan.reps, seed=plan.seed)
        if headline:
            return headline_numbers(cells, plan, info, self.aggregation, alpha=a, min_e=self.min_e, max_e=self.max_e,
                                    balance_e=self.balance_e)
        is_treated = ~np.isnan(cells.unit_cohort)
        cohort_period = {g: cells.period(g) for g in np.unique(cells.group)}
        query = None
        if calendar is not False:  # staggered: each treated unit's cohort date; comparison = units never treated
            labels = {g: str(p) for g, p in cohort_period.items()}
            dates = {str(u): labels[c] for u, c in zip(cells.units[is_treated], cells.unit_cohort[is_treated])}
            query = CalendarQuery(dates, outcome=outcome, treated_units=list(dates),
                                  comparison_units=[str(u) for u in cells.units[~is_treated]], design="did")
        def finish(cal: CalendarOutcome) -> EffectResult:
            check, cal_flags = cal.check, cal.flags
            spec = {"estimator": self.name, "control": self.control, "estimation": self.estimation,
                    "covariates": list(covs), "anticipation": self.anticipation,
                    "base_period": self.base_period, "aggregation": self.aggregation,
                    "unbalanced": self.unbalanced, "weights": self.weights, "outcome": outcome,
                    "pretrend": self.pretrend,
                    "inference": repr(spec_inf), "alpha": a}
            n_periods = panel.n_periods
            state = CSState(
                cells=cells, inference=spec_inf, inference_info=info, inference_plan=plan, cluster=cluster,
                bootstrap_cells=self.bootstrap_cells, outcome=outcome,
                outcome_label=panel.outcome_kinds[outcome].label if outcome in panel.outcome_kinds else outcome,
                spec=spec, notes=notes, base_diagnostics=(check,) if check is not None else (),
                base_flags=tuple(flags) + tuple(cal_flags),
                intervention="staggered: " + ", ".join(
                    f"{p} ({int(np.sum(cells.unit_cohort == g))} units)" for g, p in cohort_period.items()),
                n_obs=cells.n_units * n_periods, n_periods=n_periods,
                extra_info=_info_lines(self, covs, notes, len(cells.att), cells,
                                       cluster_col if cluster is not None else None),
                pretrend=self.pretrend,
            )
            return build_result(state, self.aggregation, alpha=a, min_e=self.min_e, max_e=self.max_e,
                                balance_e=self.balance_e, panel=panel)
        return FitCore(query, finish)


def _cs_fit_conley_taber(est: CallawaySantAnna, panel: Any, spec: ConleyTaber, calendar: Any, alpha: float) -> Any:
    """C-S with Conley-Taber permutation inference (closed-form placebos when possible)."""
    import dataclasses

    from evalint.estimators.did.cs.aggregate import CSState

    with warnings.catch_warnings():  # both are about the SEs the permutation replaces
        warnings.filterwarnings("ignore", category=FewTreatedWarning)
        warnings.filterwarnings("ignore", message=".*has a single unit", category=DiagnosticWarning)
        base = est.fit(panel, inference=Analytic(), calendar=calendar, alpha=alpha)
    state = base.state_as(CSState)
    grouped = bool(getattr(panel, "cluster", None)) and panel.cluster != panel.unit
    closed = None
    if (est.control == "never_treated" and not state.covariates and not est.weights
            and est.aggregation == "simple" and not grouped and not state.notes["dropped_units_unbalanced"]
            and not state.notes["dropped_units_no_pre_period"]):
        closed = {"anticipation": est.anticipation, "max_e": est.max_e}
    plain = dataclasses.replace(est)

    def fit_one(p: Any) -> float:
        return plain.fit(p, inference=Analytic(), calendar=False, alpha=alpha).estimate

    return with_conley_taber(base, panel, spec, alpha, fit_one=fit_one, closed_form=closed)


def _info_lines(est: CallawaySantAnna, covs: tuple[str, ...], notes: dict, n_cells: int,
                cells: GroupTimeCells, cluster_col: str | None) -> dict[str, str]:
    """Printable facts for the summary (one line each)."""
    info = {
        "comparison group": est.control.replace("_", "-") + " units",
        "2x2 estimator": {"dr": "doubly robust (Sant'Anna & Zhao 2020)", "ipw": "standardised IPW",
                          "reg": "outcome regression"}[est.estimation]
        + (f" with covariates {', '.join(covs)}" if covs else " (no covariates: difference in mean changes)"),
        "anticipation": f"{est.anticipation} period(s)",
        "ATT(g,t) cells": f"{n_cells} (table att_gt)",
    }
    dropped = [f"{notes[k]} {w}" for k, w in (("dropped_units_unbalanced", "unit(s) with missing cells"),
                                               ("dropped_units_no_pre_period", "unit(s) without a pre-period"),
                                               ("dropped_periods_no_comparison", "period(s) without comparison units"))
               if notes[k]]
    if dropped:
        info["dropped"] = "; ".join(dropped)
    if cluster_col:
        info["clusters"] = cluster_col
    return info


def callaway_santanna(panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
                      **options: Any) -> Any:
    """Fit :class:`CallawaySantAnna` with ``options`` (its parameters) in one call.

    Examples
    --------
    >>> res = callaway_santanna(panel, control="not_yet_treated", aggregation="dynamic")  # doctest: +SKIP

    ``seed=`` seeds the default multiplier bootstrap (as ``inference=MultiplierBootstrap(seed=...)``),
    the same argument as in ``synthetic_control``, ``synthetic_did`` and ``evaluate``.
    """
    if "seed" in options:
        inference = seeded_inference(inference, options.pop("seed"), "callaway_santanna", MultiplierBootstrap)
    import dataclasses
    import difflib

    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(CallawaySantAnna)})
    if unknown:
        close = difflib.get_close_matches(unknown[0], [f.name for f in dataclasses.fields(CallawaySantAnna)], n=1)
        raise SpecificationError(
            f"callaway_santanna got unknown option(s) {', '.join(map(repr, unknown))}"
            f"{f'; did you mean {close[0]!r}?' if close else '.'} Options: "
            f"{', '.join(f.name for f in dataclasses.fields(CallawaySantAnna))}, seed, inference, calendar, alpha."
        )
    return CallawaySantAnna(**options).fit(panel, inference=inference, calendar=calendar, alpha=alpha)
