"""TWFE event study: leads and lags of treatment with unit and period fixed effects.

``y_it = alpha_i + lambda_t + sum_{e != ref} beta_e 1{t - G_i = e} + x_it'gamma + e_it``
for treated units (never-treated units have all dummies zero). Relative times outside
``[-leads, lags]`` are binned into the end points by default (``bin_endpoints=True``: the
first dummy is "``<= -leads``", the last "``>= lags``"), or their rows are dropped with a
counted warning (``bin_endpoints=False``). The reference period (default -1, the last
untreated period) is omitted and stated in every summary and kept in ``result.state.reference_period``.

Reported:

- per event time ``beta_e`` with cluster-robust SEs (CR1, or CR2 with Satterthwaite df);
- the headline: the average of the post-period coefficients ``e = 0..lags-1`` (``0..lags``
  when end points are not binned; the binned ``>= lags`` bin is left out because it pools
  different horizons), with its SE from the full covariance (``c'Vc``) and, below 50
  clusters by default, the wild cluster bootstrap p-value and CI for the same contrast;
- a joint Wald test of the pre-period coefficients (F(q, G-1) with the cluster-robust
  covariance) as a CheckResult. Passing it is weak evidence (Roth 2022; Roth et al. 2023):
  pre-tests have low power and conditioning on passing them distorts inference.

With staggered adoption and heterogeneous effects, each ``beta_e`` can be contaminated by
effects at other horizons (Sun & Abraham 2021); use the interaction-weighted or
Callaway-Sant'Anna event study for the estimand, and this one as the familiar benchmark.

References
----------
Roth, J., Sant'Anna, P. H. C., Bilinski, A. & Poe, J. (2023). What's trending in
    difference-in-differences? Journal of Econometrics 235(2), 2218-2244.
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. American Economic Review: Insights 4(3), 305-322.
Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. Journal of Econometrics 225(2), 175-199.
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. Review of Economic Studies 91(6), 3253-3285.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalint._typing import check_option, check_positive_int
from evalint.diagnostics.base import Flag
from evalint.errors import DroppedRowsWarning, SpecificationError
from evalint.estimators.base import register_estimator
from evalint.estimators.did.twfe import (
    REFERENCES_TWFE, RegressionFit, check_treatment, conley_taber_fit, covariate_frame, describe_adoption,
    fit_fe_regression, resolve_regression_inference,
    simulated_panel,
)
from evalint.estimators.template import FitCore, FitTemplate
from evalint.inference.contrasts import ClusteredLinearFit
from evalint.inference.normal import wald
from evalint.inference.permutation import ConleyTaber
from evalint.estimators.did.state import EventTimeState
from evalint.inference.specs import Clustered, WildClusterBootstrap
from evalint.results.effect import EffectResult, make_result, tidy

__all__ = ["EventStudy", "event_study", "relative_time_design"]

REFERENCES_ES = (
    "Roth, J., Sant'Anna, P. H. C., Bilinski, A. & Poe, J. (2023). What's trending in difference-in-differences? "
    "J Econometrics 235(2).",
    "Roth, J. (2022). Pretest with caution. AER: Insights 4(3).",
    "Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous "
    "treatment effects. J Econometrics 225(2).",
) + REFERENCES_TWFE


def term_name(e: int) -> str:
    return f"rel_{e}"


def relative_time_design(panel: Any, leads: int, lags: int, reference: Sequence[int], bin_endpoints: bool,
                         scale: np.ndarray | None = None) -> tuple[pd.DataFrame, list[int], np.ndarray]:
    """Relative-time dummies (times ``scale``, e.g. a dose) aligned with ``panel.data``.

    Returns the design frame (columns ``rel_e``), the event times it holds, and a boolean
    mask of rows kept (all True when binning).
    """
    rel = panel.relative_time().reset_index(drop=True).to_numpy(dtype=float)
    keep = np.ones(len(rel), bool)
    treated = ~np.isnan(rel)
    if bin_endpoints:
        relc = np.where(treated, np.clip(rel, -leads, lags), np.nan)
    else:
        out = treated & ((rel < -leads) | (rel > lags))
        keep = ~out
        relc = rel
        if out.any():
            warnings.warn(
                f"Dropped {int(out.sum())} row(s) of treated units more than {leads} period(s) before or {lags} "
                "after treatment (bin_endpoints=False). Pass bin_endpoints=True to keep them in end-point bins.",
                DroppedRowsWarning, stacklevel=3)
    s = None if scale is None else np.asarray(scale, dtype=float)
    seen = np.unique(relc[~np.isnan(relc) & keep])
    times = [e for e in range(-leads, lags + 1) if e not in reference and e in seen]
    # one column-major block: 0/1 dummies stay int8 (an eighth of the memory; the solver converts
    # block by block), and the DataFrame wraps the array without a consolidating copy
    mat = np.zeros((len(rel), len(times)), dtype=np.int8 if s is None else float, order="F")
    for j, e in enumerate(times):
        ind = (relc == e) & keep
        mat[:, j] = ind if s is None else ind * s
    return pd.DataFrame(mat, columns=[term_name(e) for e in times], copy=False), times, keep


@register_estimator
@dataclass(frozen=True)
class EventStudy(FitTemplate):
    """TWFE event study with binned end points and a chosen reference period.

    Parameters
    ----------
    leads, lags : int
        Event window ``-leads .. lags`` (e.g. 12 and 24 months).
    reference : int or tuple of int
        Omitted relative period(s); default -1.
    bin_endpoints : bool
        Bin relative times beyond the window into the end points (default) or drop them.
    covariates : sequence of str or None
        Time-varying covariates (None: the panel's covariates).
    per_population : float, optional
        Model ``outcome / population * per_population``.
    average_post : (int, int), optional
        Event times averaged for the headline (default ``0..lags-1`` when binned, else ``0..lags``).
    pretrend : {"trend", "joint", "wald"}
        Pre-trend check (:mod:`evalint.diagnostics.pretrend`): the linear trend of the lead
        coefficients on a Welch-t reference (default), their Hotelling F, or the joint Wald
        ``F(q, G-1)`` (``pre_trend_wald``, over-rejects with many leads and few treated clusters).
    """

    name: ClassVar[str] = "event_study"
    supported_inference: ClassVar[tuple[type, ...]] = (Clustered, WildClusterBootstrap, ConleyTaber)
    inference_label: ClassVar[str] = "EventStudy"
    inference_interface: ClassVar[type] = ClusteredLinearFit
    leads: int = 12
    lags: int = 24
    reference: int | tuple[int, ...] = -1
    bin_endpoints: bool = True
    covariates: tuple[str, ...] | None = None
    per_population: float | None = None
    average_post: tuple[int, int] | None = None
    pretrend: str = "trend"

    def __post_init__(self) -> None:
        check_option("pretrend", self.pretrend, ("trend", "joint", "wald"))
        check_positive_int("leads", self.leads, minimum=1)
        check_positive_int("lags", self.lags, minimum=0)
        ref = (self.reference,) if isinstance(self.reference, (int, np.integer)) else tuple(self.reference)
        if not ref or any(not (-self.leads <= int(r) <= self.lags) for r in ref):
            raise SpecificationError(
                f"reference={self.reference!r} must lie in the event window -{self.leads}..{self.lags}.")
        if self.covariates is not None:
            object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.average_post is not None:
            a, b = self.average_post
            if not (0 <= a <= b <= self.lags):
                raise SpecificationError(f"average_post={self.average_post!r} must satisfy 0 <= first <= last <= lags.")

    @property
    def references(self) -> tuple[int, ...]:
        if isinstance(self.reference, (int, np.integer)):
            return (int(self.reference),)
        return tuple(map(int, self.reference))

    def post_window(self) -> tuple[int, int]:
        if self.average_post is not None:
            return self.average_post
        last = self.lags - 1 if (self.bin_endpoints and self.lags > 0) else self.lags
        return 0, last

    def default_inference(self) -> None:
        """``inference=None`` is chosen from the data by :func:`fit_fe_regression`: the restricted wild
        cluster bootstrap below ``FEW_CLUSTERS_BOOTSTRAP`` clusters, CR1 otherwise."""
        return None

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, clusters: Mapping[Any, Any] | pd.Series | None = None) -> EffectResult:
        """Fit the event study; ``clusters`` maps unit -> cluster label when not clustering by unit.

        ``inference=ConleyTaber()`` replaces the headline (average post-period effect) interval by
        the permutation one; the event-time rows keep their cluster-robust intervals.
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
        check_treatment(panel, "EventStudy")
        design, times, keep = relative_time_design(panel, self.leads, self.lags, self.references, self.bin_endpoints)
        covs = covariate_frame(panel, self.covariates)
        full = pd.concat([design, covs], axis=1)
        treated_rows = panel.data[panel.unit].isin(panel.timing.treated_units).to_numpy()
        rf = fit_fe_regression(panel, full, outcome=outcome, inference=inference, alpha=alpha,
                               clusters=clusters, treated_rows=treated_rows, per_population=self.per_population,
                               estimator_name="EventStudy", rows_mask=None if keep.all() else keep)
        return FitCore(rf.calendar, lambda cal: self._result(panel, rf.with_calendar(cal), times, outcome, alpha))

    def _result(self, panel: Any, rf: RegressionFit, times: list[int], outcome: str, alpha: float,
                method: str = "TWFE event study", term_prefix: str = "", extra_info: dict | None = None,
                estimand: str | None = None) -> EffectResult:
        k = rf.fit.n_coef
        lo_e, hi_e = self.post_window()
        post = [e for e in times if lo_e <= e <= hi_e]
        if not post:
            raise SpecificationError(f"no post-period event times {lo_e}..{hi_e} are observed; widen the window.")
        c = np.zeros(k)
        for e in post:
            c[rf.fit.names.index(term_name(e))] = 1.0 / len(post)
        inf = rf.contrast_inference(c, alpha)
        rows = []
        for e in sorted(times + list(self.references)):
            if e in self.references:
                rows.append({"term": f"{term_prefix}{term_name(e)}", "estimate": 0.0, "rel_time": float(e),
                             "reference": True, "binned": False})
                continue
            i = rf.fit.names.index(term_name(e))
            est, se, df = rf.fit.coef[i], float(rf.vcov.se[i]), float(rf.vcov.df[i])
            st, p, lo, hi = wald(est, se, alpha, df)
            binned = self.bin_endpoints and e in (-self.leads, self.lags)
            rows.append({"term": f"{term_prefix}{term_name(e)}", "estimate": est, "std_error": se, "statistic": st,
                         "p_value": p, "conf_low": lo, "conf_high": hi, "rel_time": float(e), "df": df,
                         "reference": False, "binned": binned})
        effects = tidy(pd.DataFrame(rows))
        if self.pretrend == "wald":
            # joint Wald F(q, G-1) on every lead (diagnostics.pretrend.wald_check); it over-rejects
            # with many leads and few treated clusters (methods/did.md, "Pre-trend tests")
            pre_w = [e for e in times if e < 0]
            pre = rf.pretrend([term_name(e) for e in pre_w], [float(e) for e in pre_w], method="wald", alpha=0.05,
                              reference=float(max((r for r in self.references if r < 0), default=-1)))
        else:  # the binned end point pools several event times: left out of the linear trend
            pre_t = [e for e in times if e < 0 and not (self.bin_endpoints and e == -self.leads)]
            pre = rf.pretrend([term_name(e) for e in pre_t], pre_t, method=self.pretrend,
                              reference=float(max(r for r in self.references if r < 0) if any(
                                  r < 0 for r in self.references) else -1), alpha=0.05,
                              post_term=term_name(0) if 0 in times else None)
        flags = list(rf.flags) + list(pre.flags)
        if panel.timing.is_staggered:
            flags.append(Flag(kind="diagnostic", severity="medium", source="Sun & Abraham (2021)",
                              message="Staggered adoption: TWFE event-study coefficients can mix effects from other "
                                      "event times when effects differ across cohorts; compare with Sun-Abraham or "
                                      "Callaway-Sant'Anna."))
        ref_txt = ", ".join(str(r) for r in self.references)
        note_ref = f"Coefficients are relative to period {ref_txt} (reference)."
        info = dict(rf.info, reference_period=self.references[0] if len(self.references) == 1 else self.references,
                    window=(-self.leads, self.lags), bin_endpoints=self.bin_endpoints,
                    averaged_event_times=(post[0], post[-1]), pre_trend_p_value=pre.p_value, **(extra_info or {}))
        rf.notes.insert(0, note_ref)
        return make_result(
            method=method,
            estimand=estimand or (f"average of event-time effects {post[0]}..{post[-1]} (reference period {ref_txt})"),
            term=f"{term_prefix}avg_post", outcome=outcome, estimate=inf["estimate"], se=inf["se"], alpha=alpha,
            inference=rf.inference_info(inf["df"], inf.get("reps")), panel=panel, seed=getattr(rf.spec, "seed", None),
            spec={"estimator": self.name, "leads": self.leads, "lags": self.lags, "reference": self.references,
                  "bin_endpoints": self.bin_endpoints, "covariates": self.covariates},
            ci=inf["ci"], p_value=inf["p_value"], effects=effects, coefficients=rf.coefficient_frame(alpha),
            tables={"event_time_vcov": _event_time_vcov(rf, times)},
            diagnostics=tuple(rf.diagnostics) + (pre,), flags=tuple(flags), plot_kind="event_study",
            intervention=describe_adoption(panel), n_obs=rf.fit.n_obs, info=info, references=REFERENCES_ES,
            state=EventTimeState(reference_period=self.references[0] if len(self.references) == 1
                                 else self.references, window=(-self.leads, self.lags),
                                 bin_endpoints=self.bin_endpoints),
            scale=f"rate per {self.per_population:g}" if self.per_population else "absolute",
        )

    @classmethod
    def contract_example(cls) -> tuple[EventStudy, Any, dict[str, Any]]:
        panel = simulated_panel(n_units=24, n_periods=10, seed=2)
        return cls(leads=3, lags=3), panel, {"calendar": False, "inference": Clustered(kind="CR1")}


def _event_time_vcov(rf: RegressionFit, times: list[int]) -> pd.DataFrame:
    """Covariance of the event-time coefficients (the fit's cluster-robust one), indexed by event
    time; read by :mod:`evalint.sensitivity` (HonestDiD, pre-trend power)."""
    ts = sorted(times)
    idx = [rf.fit.names.index(term_name(e)) for e in ts]
    lab = pd.Index([float(e) for e in ts], name="rel_time")
    return pd.DataFrame(rf.vcov.vcov[np.ix_(idx, idx)], index=lab, columns=lab)


def event_study(panel: Any, *, leads: int = 12, lags: int = 24, reference: int | Sequence[int] = -1,
                bin_endpoints: bool = True, covariates: Sequence[str] | None = None,
                per_population: float | None = None, average_post: tuple[int, int] | None = None,
                inference: Any = None, calendar: Any = None, alpha: float = 0.05,
                clusters: Mapping[Any, Any] | pd.Series | None = None, outcome: str | None = None,
                pretrend: str = "trend") -> EffectResult:
    """Fit :class:`EventStudy` (convenience wrapper)."""
    ref = reference if isinstance(reference, (int, np.integer)) else tuple(reference)
    return EventStudy(leads=leads, lags=lags, reference=ref, bin_endpoints=bin_endpoints,
                      covariates=None if covariates is None else tuple(covariates), per_population=per_population,
                      average_post=average_post, pretrend=pretrend).fit(panel, inference=inference, calendar=calendar,
                                                                        alpha=alpha, clusters=clusters, outcome=outcome)
