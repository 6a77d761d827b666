"""Continuous treatment intensity (dose) in TWFE and event-study form.

TWFE form: ``y_it = alpha_i + lambda_t + beta (dose_it * D_it) [+ delta D_it] + x_it'gamma + e_it``
where ``dose_it`` is the intensity (e.g. discharge-fund pounds per head) and ``D_it`` the
absorbing treatment indicator. ``beta`` is the change in the outcome per unit of dose.
With ``extensive_margin=True`` the binary ``D_it`` enters too, so ``beta`` is identified only
from dose differences among treated units (the intensive margin).

Event-study form: ``sum_e beta_e 1{t - G_i = e} dose_i`` with binned end points and a
reference period, as :class:`~evalint.estimators.did.event_study.EventStudy`.

Caveats (methods/did.md, "Dose"): the TWFE dose slope is a weighted average of
comparisons across units with different doses; it identifies an average causal response
per unit of dose only under *strong* parallel trends (the outcome paths units would have
had at any dose are the same on average), not under the usual parallel trends, and the
weights can be negative or put mass on doses with few units (Callaway, Goodman-Bacon &
Sant'Anna 2024). Under ordinary parallel trends the slope mixes causal responses with
selection into dose. The result carries this caveat as a flag.

References
----------
Callaway, B., Goodman-Bacon, A. & Sant'Anna, P. H. C. (2024). Difference-in-differences with a
    continuous treatment. NBER Working Paper 32117.
de Chaisemartin, C. & D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with
    heterogeneous treatment effects. American Economic Review 110(9), 2964-2996.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.diagnostics.base import Flag
from evalint.errors import SpecificationError, column_not_found
from evalint.estimators.base import register_estimator
from evalint.estimators.did.event_study import EventStudy, relative_time_design
from evalint.estimators.did.twfe import (
    REFERENCES_TWFE, check_treatment, covariate_frame, describe_adoption, fit_fe_regression,
    resolve_regression_inference,
)
from evalint.estimators.template import CalendarOutcome, FitCore, FitTemplate
from evalint.inference.contrasts import ClusteredLinearFit
from evalint.inference.specs import Clustered, WildClusterBootstrap
from evalint.results.effect import EffectResult, make_result

__all__ = ["DoseResponse", "dose_response"]

CAVEAT = ("Dose slope: identifies the average causal response per unit of dose only under strong parallel "
          "trends; under ordinary parallel trends it mixes causal responses with selection into dose, and TWFE "
          "weights across doses can be negative (Callaway, Goodman-Bacon & Sant'Anna 2024).")
REFERENCES_DOSE = ("Callaway, B., Goodman-Bacon, A. & Sant'Anna, P. H. C. (2024). Difference-in-differences with a "
                   "continuous treatment. NBER WP 32117.",) + REFERENCES_TWFE


@register_estimator
@dataclass(frozen=True)
class DoseResponse(FitTemplate):
    """TWFE with a continuous treatment intensity.

    Parameters
    ----------
    dose : str
        Intensity column of the panel (a covariate of the Panel), e.g. pounds per head.
        Used only in treated periods (``dose * D``); constant or time-varying within units.
    form : {"twfe", "event_study"}
    extensive_margin : bool
        Also include the binary treatment indicator (TWFE form only).
    leads, lags, reference, bin_endpoints :
        Event-study window, as :class:`EventStudy`.
    covariates : sequence of str or None
        Other covariates (None: the panel's covariates other than ``dose``).
    per_population : float, optional
    """

    name: ClassVar[str] = "dose_response"
    supported_inference: ClassVar[tuple[type, ...]] = (Clustered, WildClusterBootstrap)
    inference_label: ClassVar[str] = "DoseResponse"
    inference_interface: ClassVar[type] = ClusteredLinearFit
    dose: str = "dose"
    form: str = "twfe"
    extensive_margin: bool = False
    leads: int = 12
    lags: int = 24
    reference: int = -1
    bin_endpoints: bool = True
    covariates: tuple[str, ...] | None = None
    per_population: float | None = None

    def __post_init__(self) -> None:
        check_option("form", self.form, ("twfe", "event_study"))
        if self.form == "event_study" and self.extensive_margin:
            raise SpecificationError("extensive_margin=True is available in form='twfe' only.")
        if self.covariates is not None:
            object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.form == "event_study":
            self._es()  # validates the window

    def _es(self) -> EventStudy:
        return EventStudy(leads=self.leads, lags=self.lags, reference=self.reference,
                          bin_endpoints=self.bin_endpoints, covariates=self.covariates,
                          per_population=self.per_population)

    def default_inference(self) -> None:
        """``inference=None`` is chosen from the data by :func:`fit_fe_regression`: the restricted wild
        cluster bootstrap below ``FEW_CLUSTERS_BOOTSTRAP`` clusters, CR1 otherwise."""
        return None

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, clusters: Mapping[Any, Any] | pd.Series | None = None) -> EffectResult:
        """Fit the dose model; see the class docstring."""
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome,
                            clusters=clusters)

    def _resolve_inference(self, inference: Any) -> Any:
        return resolve_regression_inference(self, inference)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, outcome: str | None = None,
                  clusters: Mapping[Any, Any] | pd.Series | None = None) -> FitCore:
        outcome = outcome or panel.outcome
        check_treatment(panel, "DoseResponse")
        data = panel.data
        if self.dose not in data.columns:
            raise column_not_found(self.dose, "dose", list(data.columns))
        dose = data[self.dose].to_numpy(dtype=float)
        covs = self.covariates if self.covariates is not None else tuple(c for c in panel.covariates if c != self.dose)
        cov = covariate_frame(panel, covs)
        treated = panel.treated_indicator().to_numpy(dtype=float)
        treated_rows = data[panel.unit].isin(panel.timing.treated_units).to_numpy()
        if not np.any(dose[treated == 1] != 0):
            raise SpecificationError(f"dose column {self.dose!r} is zero in every treated period; nothing to estimate.")
        info = {"dose": self.dose, "caveat": CAVEAT}
        flags = [Flag(kind="diagnostic", severity="info", message=CAVEAT,
                      source="Callaway, Goodman-Bacon & Sant'Anna (2024)")]
        if self.form == "event_study":
            unit_dose = pd.Series(np.where(treated == 1, dose, np.nan)).groupby(data[panel.unit].to_numpy()).mean()
            scale = data[panel.unit].map(unit_dose).fillna(0.0).to_numpy(dtype=float)
            es = self._es()
            design, times, keep = relative_time_design(panel, self.leads, self.lags, es.references,
                                                       self.bin_endpoints, scale=scale)
            rf0 = fit_fe_regression(panel, pd.concat([design, cov], axis=1), outcome=outcome, inference=inference,
                                    alpha=alpha, clusters=clusters, treated_rows=treated_rows,
                                    per_population=self.per_population, estimator_name="DoseResponse",
                                    rows_mask=None if keep.all() else keep)

            def finish_es(cal: CalendarOutcome) -> EffectResult:
                rf = rf0.with_calendar(cal)
                rf = type(rf)(**{**rf.__dict__, "flags": tuple(rf.flags) + tuple(flags)})
                return es._result(panel, rf, times, outcome, alpha, method="TWFE dose event study",
                                  term_prefix="dose_", extra_info=info,
                                  estimand=f"average post-period effect per unit of {self.dose} "
                                           f"(unit's mean treated-period dose; reference period {self.reference})")
            return FitCore(rf0.calendar, finish_es)
        cols = {"dose": dose * treated}
        if self.extensive_margin:
            cols["treated"] = treated
        design = pd.concat([pd.DataFrame(cols), cov], axis=1)
        rf0 = fit_fe_regression(panel, design, outcome=outcome, inference=inference, alpha=alpha,
                                clusters=clusters, treated_rows=treated_rows, per_population=self.per_population,
                                estimator_name="DoseResponse")
        return FitCore(rf0.calendar,
                       lambda cal: self._result(panel, rf0.with_calendar(cal), outcome, alpha, flags, info))

    def _result(self, panel: Any, rf: Any, outcome: str, alpha: float, flags: list[Flag],
                info: dict[str, Any]) -> EffectResult:
        inf = rf.contrast_inference(np.eye(rf.fit.n_coef)[0], alpha)
        return make_result(
            method="TWFE dose-response", outcome=outcome,
            estimand=f"change in outcome per unit of {self.dose} in treated periods"
                     + (" (intensive margin, given treatment)" if self.extensive_margin else ""),
            term="dose", estimate=inf["estimate"], se=inf["se"], alpha=alpha,
            inference=rf.inference_info(inf["df"], inf.get("reps")), panel=panel,
            seed=getattr(rf.spec, "seed", None),
            spec={"estimator": self.name, "dose": self.dose, "form": self.form,
                  "extensive_margin": self.extensive_margin}, ci=inf["ci"], p_value=inf["p_value"],
            coefficients=rf.coefficient_frame(alpha), diagnostics=rf.diagnostics,
            flags=tuple(rf.flags) + tuple(flags), plot_kind="estimate", intervention=describe_adoption(panel),
            n_obs=rf.fit.n_obs, info=dict(rf.info, **info), references=REFERENCES_DOSE,
            scale=f"per unit of {self.dose}",
        )

    @classmethod
    def contract_example(cls) -> tuple[DoseResponse, Any, dict[str, Any]]:
        from evalint.data.panel import Panel

        rng = np.random.default_rng(3)
        rows = []
        for i in range(20):
            g = None if i < 8 else (4 if i % 2 else 6)
            dose = 0.0 if g is None else float(rng.uniform(1, 3))
            a = rng.normal()
            for t in range(10):
                d = g is not None and t >= g
                rows.append((f"u{i:02d}", pd.Period("2021-01", "M") + t, a + 0.1 * t + 0.5 * dose * d
                             + rng.normal(0, 0.5), int(d), dose))
        df = pd.DataFrame(rows, columns=["unit", "month", "y", "treated", "dose"])
        panel = Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated", covariates=["dose"])
        return cls(dose="dose"), panel, {"calendar": False, "inference": Clustered(kind="CR1")}


def dose_response(panel: Any, dose: str, *, form: str = "twfe", extensive_margin: bool = False,
                  leads: int = 12, lags: int = 24, reference: int = -1, bin_endpoints: bool = True,
                  covariates: Sequence[str] | None = None, per_population: float | None = None,
                  inference: Any = None, calendar: Any = None, alpha: float = 0.05,
                  clusters: Mapping[Any, Any] | pd.Series | None = None, outcome: str | None = None) -> EffectResult:
    """Fit :class:`DoseResponse` (convenience wrapper)."""
    return DoseResponse(dose=dose, form=form, extensive_margin=extensive_margin, leads=leads, lags=lags,
                        reference=reference, bin_endpoints=bin_endpoints,
                        covariates=None if covariates is None else tuple(covariates),
                        per_population=per_population).fit(panel, inference=inference, calendar=calendar,
                                                           alpha=alpha, clusters=clusters, outcome=outcome)
