"""Sun-Abraham interaction-weighted (IW) event study for staggered adoption.

Algorithm (Sun & Abraham 2021, Section 4):

1. Regress the outcome on unit and period fixed effects and a full set of cohort x
   relative-period indicators ``1{G_i = g} 1{t - g = l}`` for every treated cohort ``g``
   and every relative period ``l`` observed, except the reference period
   ``l = -1 - anticipation`` (the cohort-specific effects CATT(g, l) are the
   coefficients ``delta_{g,l}``). Controls: the never-treated units
   (``control="never_treated"``), or the last-treated cohort together with any
   never-treated units over the periods before the last cohort adopts
   (``control="last_treated"``).
2. Weight: ``nu_l = sum_g w_{g,l} delta_{g,l}`` with ``w_{g,l}`` the share of cohort
   ``g`` among the treated cells observed at relative period ``l`` (cell counts; unit
   counts on a balanced panel).
3. Variance: the cluster-robust covariance ``V`` of the ``delta`` (CR1 by unit,
   fixest's small-sample rule: ``G/(G-1) (n-1)/(n-K)`` with fixed effects nested in the
   clusters not counted in K; or CR2 with Satterthwaite df), then ``w' V w`` by the delta method treating the cohort
   shares as fixed (as fixest's ``sunab`` and diff-diff do; Sun & Abraham's Proposition 6
   adds a term for the estimated shares, which is omitted).

The headline is the average post-treatment effect ``sum_{g, l >= 0} n_{g,l}
delta_{g,l} / sum n_{g,l}`` (each treated cell weighted equally, the same estimand as the
imputation estimator's ATT), with its SE from the same covariance. The pre-period
``nu_l`` are tested jointly (Wald F with (k, G-1) degrees of freedom).

References
----------
Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option, check_positive_int
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import TreatmentError
from evalint.estimators.base import register_estimator
from evalint.estimators.did.fe import FixedEffects, fe_lstsq
from evalint.estimators.did.staggered import (
    staggered_calendar_query,
    cohort_size_checks,
    describe_adoption,
    example_staggered_panel,
    require_timing,
    staggered_frame,
    unbalanced_note,
)
from evalint.diagnostics.pretrend import pretrend_check, wald_check
from evalint.estimators.did.permutation import warn_few_treated
from evalint.estimators.did.clustering import cluster_column, cluster_phrase, unit_cluster_labels
from evalint.estimators.did.state import EventTimeState
from evalint.inference.dispatch import infer
from evalint.inference.interface import LinearFit
from evalint.inference.normal import wald
from evalint.estimators.template import CalendarOutcome, FitCore, FitTemplate
from evalint.inference.specs import Analytic, Clustered
from evalint.results.effect import InferenceInfo, make_result

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["SunAbraham", "sun_abraham"]

REFERENCES = (
    ("Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with "
     "heterogeneous treatment effects. Journal of Econometrics 225(2), 175-199."),
)


@register_estimator
@dataclass(frozen=True)
class SunAbraham(FitTemplate):
    """Sun-Abraham (2021) interaction-weighted event-study estimator.

    Parameters
    ----------
    control : {"never_treated", "last_treated"}
        Comparison cohort. ``"never_treated"`` (default) needs never-treated units.
        ``"last_treated"`` uses the last cohort to adopt (and any never-treated units) as
        controls and drops the periods from ``last cohort start - anticipation`` on.
    anticipation : int
        Periods of anticipation; the reference period is ``-1 - anticipation``.

    Notes
    -----
    Every observed cell is used (unbalanced panels allowed, with a counted warning;
    cohort shares are then cell counts). Covariates of the panel enter linearly with one
    coefficient (time-varying values cell by cell; they must not be affected by
    treatment; covariates constant within unit are absorbed and refused). Analytic
    weights are not used. Inference: ``Clustered(kind="CR1")`` by unit (default), with a
    t(G-1) reference, or ``Clustered(kind="CR2")`` (Bell-McCaffrey) with Satterthwaite
    degrees of freedom for each event-time effect and the headline. Clusters: the
    panel's declared ``cluster`` unless ``Clustered(by=...)`` names another column.
    ``pretrend``: the pre-trend check (:mod:`evalint.diagnostics.pretrend`) on the
    pre-period IW effects - linear trend on a Welch-t reference (default), Hotelling F
    (``"joint"``), or the joint Wald ``F(q, G-1)`` (``"wald"``, ``pre_trend_wald``).

    References
    ----------
    Sun, L. & Abraham, S. (2021). *Journal of Econometrics* 225(2), 175-199.
    """

    name: ClassVar[str] = "sun_abraham"
    supported_inference: ClassVar[tuple[type, ...]] = (Analytic, Clustered)
    #: what the fit hands the inference layer (specs registered for it are accepted too)
    inference_interface: ClassVar[type] = LinearFit
    inference_label: ClassVar[str] = "Sun-Abraham"
    control: Literal["never_treated", "last_treated"] = "never_treated"
    anticipation: int = 0
    pretrend: Literal["trend", "joint", "wald"] = "trend"

    def __post_init__(self) -> None:
        check_option("control", self.control, ("never_treated", "last_treated"))
        check_option("pretrend", self.pretrend, ("trend", "joint", "wald"))
        check_positive_int("anticipation", self.anticipation, minimum=0)

    @classmethod
    def contract_example(cls) -> tuple[SunAbraham, Panel, dict[str, Any]]:
        return cls(), example_staggered_panel(seed=2), {"calendar": False}

    def default_inference(self) -> Any:
        """``inference=None``: cluster-robust (CR1) standard errors, delta method for the aggregates."""
        return Clustered()

    def fit(self, panel: Panel, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> EffectResult:
        """Estimate the interaction-weighted event study.

        Parameters
        ----------
        panel : Panel
            Panel with treatment timing.
        inference : Clustered or Analytic, optional
            ``Clustered(kind="CR1")`` by unit (default; ``Analytic()`` means the same) or
            ``Clustered(kind="CR2")``.
        calendar : PolicyCalendar, None or False
        alpha : float

        Returns
        -------
        EffectResult
            Headline = average post-treatment effect; ``effects`` = event-time IW
            effects (the reference period as a zero row); ``coefficients`` = the
            cohort x relative-period effects with their IW weights.
            ``info["reference_period"]`` states the reference period.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any) -> FitCore:
        by = cluster_column(panel, inference)
        timing = require_timing(panel, "Sun-Abraham")
        flags = cohort_size_checks(timing)
        few = warn_few_treated("Sun-Abraham", panel, "cluster-robust interval")
        if few is not None:
            flags.append(few)
        note_unbal = unbalanced_note(panel, "Sun-Abraham")
        if panel.weights:
            flags.append(Flag("data", "info", f"weights column {panel.weights!r} is not used: the Sun-Abraham "
                              "regression here is unweighted.", source="sun_abraham"))
        fr = staggered_frame(panel)
        a = self.anticipation
        ref = -1 - a
        cohorts = sorted(int(g) for g in np.unique(fr["g"]) if g >= 0)
        labels = {int(c.ordinal - panel.periods[0].ordinal): str(c) for c in timing.cohorts}
        info: dict[str, Any] = {"reference_period": f"{ref} (the period before treatment"
                                + (f" and the {a} anticipation period(s)" if a else "") + ")"}
        if self.control == "never_treated":
            if len(timing.never_treated) == 0:
                raise TreatmentError(
                    "Sun-Abraham with control='never_treated' needs never-treated units, but every unit is "
                    "treated in the data. Use SunAbraham(control='last_treated') (the last cohort is the "
                    "control, periods before it adopts), or the imputation / Callaway-Sant'Anna "
                    "estimators with not-yet-treated comparisons."
                )
            treated_cohorts = cohorts
            info["control"] = f"never-treated units ({len(timing.never_treated)})"
        else:
            if len(cohorts) < 2:
                raise TreatmentError(
                    "Sun-Abraham with control='last_treated' needs at least two cohorts (one of them the "
                    f"control); the data have {len(cohorts)}. Use control='never_treated'."
                )
            last = cohorts[-1]
            keep = fr["t"].to_numpy() < last - a
            fr = fr.loc[keep].reset_index(drop=True)
            treated_cohorts = cohorts[:-1]
            info["control"] = (f"last-treated cohort {labels[last]}"
                               + (f" and {len(timing.never_treated)} never-treated unit(s)"
                                  if len(timing.never_treated) else "")
                               + f"; periods from {panel.periods[last - a]} on dropped")
        g = fr["g"].to_numpy()
        rel = fr["rel"].to_numpy()
        cells = sorted({(int(gg), int(rr)) for gg, rr in zip(g, rel) if gg in treated_cohorts and rr != ref})
        if not any(r >= 0 for _, r in cells):
            raise TreatmentError("Sun-Abraham: no treated cell after adoption is left in the estimation sample.")
        cell_index = {c: j for j, c in enumerate(cells)}
        xmat = np.zeros((len(fr), len(cells)))
        for i, (gg, rr) in enumerate(zip(g, rel)):
            j = cell_index.get((int(gg), int(rr))) if gg >= 0 else None
            if j is not None:
                xmat[i, j] = 1.0
        names = [f"cohort {labels[c]}, e={e}" for c, e in cells]
        covs = list(panel.covariates)
        if covs:
            xmat = np.column_stack([xmat, fr[covs].to_numpy(float)])
            names += covs
            info["covariates"] = ", ".join(covs) + " (one coefficient each; time-varying values cell by cell)"
        units = fr["u"].to_numpy()
        fe = FixedEffects.from_codes([units, fr["t"].to_numpy()], names=("unit", "period"))
        fit = fe_lstsq(fr["y"].to_numpy(), xmat, fe, names=names)
        cl_rows = units if by == panel.unit else unit_cluster_labels(panel, by, panel.units)[units]
        # the spec plus the fit (a LinearFit) -> the cluster-robust covariance, with fixest's
        # small-sample rule (unit effects nested in clusters not counted: pyfixest, diff-diff)
        cv = infer(inference, fit, clusters=cl_rows, small_sample="nested")
        kind = cv.kind
        vcov, n_clusters = cv.vcov, cv.n_clusters
        df = n_clusters - 1
        k = len(cells)
        delta, vdelta = fit.coef[:k], vcov[:k, :k]

        def contrast_df(c: np.ndarray) -> float:
            full = np.zeros(len(fit.coef))
            full[:len(c)] = c
            return float(df) if kind == "CR1" else cv.contrast(full)[1]

        counts = pd.Series(1, index=pd.MultiIndex.from_arrays([g, rel])).groupby(level=[0, 1]).size()
        n_cell = np.array([counts.get((c, float(e)), 0) for c, e in cells], dtype=float)
        rel_cells = np.array([e for _, e in cells])
        es_rows, wvecs = [], []
        for e in sorted(set(rel_cells.tolist())):
            m = rel_cells == e
            wv = np.where(m, n_cell, 0.0)
            wv = wv / wv.sum()
            wvecs.append((e, wv))
        iw_weight = np.zeros(k)
        for e, wv in wvecs:
            est = float(wv @ delta)
            se = float(np.sqrt(max(wv @ vdelta @ wv, 0.0)))
            es_rows.append({"term": f"e={e}", "estimate": est, "std_error": se, "rel_time": float(e),
                            "n_cohorts": int((wv > 0).sum()), "df": contrast_df(wv)})
            iw_weight += wv
        es_rows.append({"term": f"e={ref} (reference)", "estimate": 0.0, "std_error": np.nan,
                        "rel_time": float(ref), "n_cohorts": 0, "df": np.nan})
        effects = _with_wald(pd.DataFrame(es_rows).sort_values("rel_time").reset_index(drop=True), alpha)
        is_ref = effects["rel_time"] == ref
        effects.loc[is_ref, ["conf_low", "conf_high"]] = 0.0

        post = rel_cells >= 0
        w_att = np.where(post, n_cell, 0.0)
        w_att = w_att / w_att.sum()
        att = float(w_att @ delta)
        att_se = float(np.sqrt(max(w_att @ vdelta @ w_att, 0.0)))
        att_df = contrast_df(w_att)

        coef = pd.DataFrame({
            "term": names[:k], "estimate": delta, "std_error": np.sqrt(np.diag(vdelta)),
            "group": [labels[c] for c, _ in cells], "rel_time": rel_cells.astype(float),
            "iw_weight": iw_weight, "n_cells": n_cell.astype(int),
            "df": [contrast_df(np.eye(k)[j]) for j in range(k)],
        })
        if covs:
            coef = pd.concat([coef, pd.DataFrame({
                "term": covs, "estimate": fit.coef[k:], "std_error": np.sqrt(np.diag(vcov))[k:],
                "df": [float(df) if kind == "CR1" else float(cv.df[k + j]) for j in range(len(covs))],
            })], ignore_index=True)
        coef = _with_wald(coef, alpha)

        diagnostics: list[CheckResult] = []
        pre = [(e, wv) for e, wv in wvecs if e < ref]
        if pre:
            wmat = np.vstack([wv for _, wv in pre])
            b = wmat @ delta
            if self.pretrend == "wald":
                chk = wald_check(b, wmat @ vdelta @ wmat.T, df2=df, alpha=alpha, what="pre-period IW effects",
                                 linear=[float(e) - float(ref) for e, _ in pre], reference=float(ref))
            else:
                zall = cv.contributions(np.arange(k))
                w0 = next((wv for e, wv in wvecs if e == 0), None)
                chk = pretrend_check([e for e, _ in pre], b, zall @ wmat.T, cv.cluster_any(g >= 0),
                                     method=self.pretrend, form="levels", reference=float(ref), alpha=alpha,
                                     post_contributions=None if w0 is None else zall @ w0)
            diagnostics.append(chk)
            flags.extend(chk.flags)
        def finish(cal: CalendarOutcome) -> EffectResult:
            cal_check, cal_flags = cal.check, cal.flags
            if cal_check is not None:
                diagnostics.append(cal_check)
            if note_unbal:
                info["unbalanced panel"] = note_unbal
            info["anticipation"] = a
            info["effects_note"] = (f"Interaction-weighted event-time effects relative to e={ref}; cohort shares "
                                    "are treated as fixed in the SEs.")
            return make_result(
                method="Sun-Abraham interaction-weighted event study",
                estimand="average post-treatment effect: treated cells (e >= 0) weighted equally",
                term="ATT (post average)", outcome=panel.outcome, estimate=att, se=att_se, alpha=alpha,
                inference=InferenceInfo(kind, _describe(kind, by, att_df) + f"; {cluster_phrase(by, n_clusters)}",
                                        df=att_df, clusters=n_clusters),
                panel=panel, spec={"estimator": self.name, "control": self.control, "anticipation": a},
                effects=effects, coefficients=coef, diagnostics=tuple(diagnostics),
                tables={"event_time_vcov": _event_time_vcov(wvecs, vdelta)},
                flags=tuple(flags) + tuple(cal_flags), plot_kind="event_study",
                intervention=describe_adoption(panel),
                n_obs=len(fr), info=info, references=REFERENCES,
                state=EventTimeState(reference_period=info["reference_period"]),
            )
        return FitCore(staggered_calendar_query(panel, timing), finish)


def _event_time_vcov(wvecs: list[tuple[int, np.ndarray]], vdelta: np.ndarray) -> pd.DataFrame:
    """Covariance ``W V W'`` of the IW event-time effects (rows of ``W``: each event time's cohort
    shares), indexed by event time; read by :mod:`evalint.sensitivity`."""
    w = np.vstack([wv for _, wv in wvecs])
    lab = pd.Index([float(e) for e, _ in wvecs], name="rel_time")
    return pd.DataFrame(w @ vdelta @ w.T, index=lab, columns=lab)


def _describe(kind: str, unit: str, df: float) -> str:
    if kind == "CR2":
        return (f"CR2 (Bell-McCaffrey) cluster-robust SEs by {unit}, Satterthwaite degrees of freedom per "
                f"contrast (headline t({df:.1f})), delta method with fixed cohort shares")
    return (f"CR1 cluster-robust SEs by {unit} (G/(G-1)(n-1)/(n-K), unit effects nested in clusters not "
            f"counted), delta method with fixed cohort shares, t({df:.0f}) reference")


def _with_wald(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Add statistic, p-value and CI per row, each with its own degrees of freedom."""
    out = []
    for est, se, df in zip(frame["estimate"], frame["std_error"], frame["df"]):
        out.append(wald(float(est), float(se), alpha, None if not np.isfinite(df) else float(df)))
    stat, p, lo, hi = (np.array(v, dtype=float) for v in zip(*out)) if out else ([],) * 4
    return frame.assign(statistic=stat, p_value=p, conf_low=lo, conf_high=hi)


def sun_abraham(panel: Panel, *, outcome: str | None = None, control: str = "never_treated",
                anticipation: int = 0, inference: Any = None, calendar: Any = None,
                alpha: float = 0.05, pretrend: str = "trend") -> EffectResult:
    """Sun-Abraham (2021) interaction-weighted event study (see :class:`SunAbraham`).

    Parameters
    ----------
    panel : Panel
    outcome : str, optional
        Outcome to use (default: the panel's primary outcome).
    control : {"never_treated", "last_treated"}
    anticipation : int
    inference : Clustered, optional
    calendar : PolicyCalendar, None or False
    alpha : float

    Returns
    -------
    EffectResult

    References
    ----------
    Sun, L. & Abraham, S. (2021). *Journal of Econometrics* 225(2), 175-199.
    """
    if outcome is not None:
        panel = panel.with_outcome(outcome)
    return SunAbraham(control=control, anticipation=anticipation, pretrend=pretrend).fit(   # type: ignore[arg-type]
        panel, inference=inference, calendar=calendar, alpha=alpha)
