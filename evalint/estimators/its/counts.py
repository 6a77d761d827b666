"""Count ITS: Poisson, quasi-Poisson and negative binomial GLMs with a log(population) offset.

For counts ``y_t`` with population ``N_t`` (Lopez Bernal et al. 2017):

    log E[y_t] = log N_t + b0 + b1 t + sum_j [ b2j level_jt + b3j slope_jt ] + seasonal terms,

so ``exp(b2j)`` is the rate ratio of the level change and ``exp(b3j)`` the rate ratio per
period of the slope change. Variance: Poisson (= mean), quasi-Poisson (= phi * mean with
phi the Pearson chi-square over its degrees of freedom, McCullagh & Nelder 1989; t
reference with n - k df, as R's ``summary.glm``) or negative binomial NB2 (= mean + alpha
mean^2, maximum likelihood). Newey-West HAC standard errors (scores ``x_t (y_t - mu_t)``)
are available through ``inference=NeweyWest(...)``.

The Poisson and quasi-Poisson fits follow R's ``glm.fit`` iteration exactly, so
coefficients, standard errors and dispersion agree with R to machine precision.

References
----------
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. Int J Epidemiol 46:348-355.
McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
Bhaskaran K, Gasparrini A, Hajat S, Smeeth L, Armstrong B (2013). Time series regression
studies in environmental epidemiology. Int J Epidemiol 42:1187-1195.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option
from evalint.diagnostics.base import Flag
from evalint.errors import SpecificationError
from evalint.estimators.base import check_options, register_estimator
from evalint.estimators.its.backends import GLMSeriesFit
from evalint.estimators.its.common import (
    ITS_REFERENCES, assemble_result, check_count_series, extract_series, its_calendar_query, prepare_design,
    resolve_dates,
    warn_short_pre,
)
from evalint.estimators.its.segmented import NW_REFS, ITSDesignMixin
from evalint.estimators.template import FitCore
from evalint.inference.dispatch import infer
from evalint.inference.interface import TimeSeriesFit
from evalint.inference.specs import Analytic, ARErrors, NeweyWest
from evalint.results.effect import EffectResult

__all__ = ["CountITS", "count_its", "COUNT_MODELS"]

COUNT_MODELS = ("quasi_poisson", "poisson", "negative_binomial")
_LABELS = {"quasi_poisson": "quasi-Poisson", "poisson": "Poisson", "negative_binomial": "negative binomial"}
_GLM_REF = ("McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.",
            "Zeger SL (1988). A regression model for time series of counts. Biometrika 75:621-629.",
            "Kackar RN, Harville DA (1984). Approximations for standard errors of estimators of fixed and "
            "random effects in mixed linear models. JASA 79:853-862.")


@register_estimator
@dataclass(frozen=True)
class CountITS(ITSDesignMixin):
    """ITS for counts: Poisson / quasi-Poisson / negative binomial GLM with a log(population) offset.

    Parameters
    ----------
    model : {"quasi_poisson", "poisson", "negative_binomial"}, optional
        ``None``: the outcome kind's default (quasi-Poisson for admissions and delayed
        discharges).
    offset : bool
        Use log(population) as offset when the panel has a population column (default True).
    hac_lags, small_sample, prewhite :
        Used when ``inference=NeweyWest(...)`` is not given but ``errors="newey_west"``.
    errors : {"ar", "model", "newey_west"}, optional
        Deprecated, with ``hac_lags`` (a :class:`~evalint.errors.SettingDeprecationWarning`): pass
        ``fit(inference=ARErrors() | Analytic() | NeweyWest(lags=...))``; still honoured for one
        release. ``None`` (default): ``"ar"`` for the quasi-Poisson model, ``"model"`` for Poisson and
        negative binomial. ``"ar"``: quasi-Poisson GLM with AR(``ar_order``) errors estimated
        jointly (iteratively reweighted GLS, REML), widened for the estimated AR coefficient,
        t reference with Satterthwaite df: the interval that held 93-97% coverage on
        autocorrelated monthly series (methods/its.md section 10). ``"model"``: model-based
        standard errors assuming independent months (R's ``glm``; 73-91% coverage when the log
        rate has AR(1) noise with rho 0.3-0.6). ``"newey_west"``: HAC standard errors.
    ar_order : int
        AR order for ``errors="ar"`` (fixed in advance; default 1).
    ar_method : {"reml", "ml"}
    ar_adjust : bool
        Widen for the estimated AR coefficients (Kackar-Harville) with Satterthwaite df.
    (design parameters: see :class:`~evalint.estimators.its.segmented.ITSDesignMixin`)

    References
    ----------
    Lopez Bernal et al. (2017); McCullagh & Nelder (1989); Bhaskaran et al. (2013).
    """

    name: ClassVar[str] = "its_count"
    supported_inference: ClassVar[tuple[type, ...]] = (Analytic, NeweyWest, ARErrors)
    inference_interface: ClassVar[type] = TimeSeriesFit

    model: Literal["quasi_poisson", "poisson", "negative_binomial"] | None = None
    offset: bool = True
    errors: Literal["ar", "model", "newey_west"] | None = None
    hac_lags: int | None = None
    small_sample: bool = False
    prewhite: bool = False
    ar_order: int | None = 1
    ar_method: Literal["reml", "ml"] = "reml"
    ar_adjust: bool = True

    def __post_init__(self) -> None:
        self._check_design()
        if self.model is not None:
            check_option("model", self.model, COUNT_MODELS)
        if self.errors is not None:
            check_option("errors", self.errors, ("ar", "model", "newey_west"))
        check_option("ar_method", self.ar_method, ("reml", "ml"))
        if self.errors == "ar" and self.model not in (None, "quasi_poisson"):
            raise SpecificationError(
                f"errors='ar' fits a quasi-Poisson GLM with AR errors; model={self.model!r} cannot be combined "
                "with it. Use model='quasi_poisson' (or leave model unset), or errors='model'/'newey_west'.")
        errors = self.errors
        self._warn_duplicate_inference(
            repr(NeweyWest(lags=self.hac_lags, small_sample=self.small_sample)) if errors == "newey_west" else
            repr(ARErrors(order=self.ar_order, method=self.ar_method, adjust=self.ar_adjust)) if errors == "ar"
            else "Analytic()" if errors == "model" else
            f"{NeweyWest(lags=self.hac_lags, small_sample=self.small_sample)!r} for Newey-West (hac_lags alone "
            "changes nothing)")

    @classmethod
    def contract_example(cls) -> tuple[CountITS, Any, dict[str, Any]]:
        """A 60-month admissions series with a 10% drop at 2021-01 (fast)."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(2)
        t = np.arange(60)
        pop = np.full(60, 250_000.0)
        mu = pop * 4e-3 * np.exp(0.002 * t - 0.1 * (t >= 36))
        df = pd.DataFrame({"month": pd.period_range("2018-01", periods=60, freq="M"),
                           "emergency_admissions": rng.poisson(mu), "population": pop})
        panel = Panel.from_frame(df, time="month", outcome="emergency_admissions", population="population")
        return cls(interventions="2021-01-01", impact="step"), panel, {"calendar": False}

    def default_inference(self) -> None:
        """``inference=None`` is chosen in :meth:`fit` from the model (itself from the outcome kind):
        AR(1) errors for the quasi-Poisson GLM, model-based otherwise, or what ``errors=`` names."""
        return None

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, unit: Any = None, intervention: Any = None) -> EffectResult:
        """Fit to one series of ``panel`` (see :meth:`SegmentedRegression.fit` for the arguments).

        ``inference``: :class:`~evalint.inference.ARErrors` (quasi-Poisson with AR errors, the
        default through ``errors``), :class:`~evalint.inference.Analytic` (model-based) or
        :class:`~evalint.inference.NeweyWest`.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome, unit=unit,
                            intervention=intervention)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, outcome: str | None = None,
                  unit: Any = None, intervention: Any = None) -> FitCore:
        a = check_alpha(alpha)
        series = extract_series(panel, outcome, unit)
        kind = panel.outcome_kinds[series.outcome]
        model = self.model
        if model is None:
            model = kind.default_its_model if kind.default_its_model in COUNT_MODELS else "quasi_poisson"
        if np.any(series.y < 0) or not np.all(np.isfinite(series.y)):
            raise SpecificationError(
                f"outcome {series.outcome!r} has negative values; count models need counts >= 0. "
                "Use segmented_regression() for a continuous outcome."
            )
        if inference is None:
            errors = self.errors or ("ar" if model == "quasi_poisson" else "model")
            if errors == "ar" and model != "quasi_poisson":
                raise SpecificationError(
                    f"errors='ar' fits a quasi-Poisson GLM with AR errors; the outcome kind's model is {model!r}. "
                    "Pass model='quasi_poisson' or errors='model'.")
            inference = (NeweyWest(lags=self.hac_lags, small_sample=self.small_sample) if errors == "newey_west"
                         else ARErrors(order=self.ar_order, method=self.ar_method, adjust=self.ar_adjust)
                         if errors == "ar" else Analytic())
        if isinstance(inference, ARErrors) and model != "quasi_poisson":
            raise SpecificationError(
                f"inference=ARErrors fits a quasi-Poisson GLM with AR errors; model={model!r} cannot be combined "
                "with it. Use model='quasi_poisson'.")
        dates = resolve_dates(self.interventions, intervention, panel, series)
        design, focus = prepare_design(series, dates, self.design_spec(), min_pre=self.min_pre, focus=self.focus)
        short = warn_short_pre(design, series, inference)
        flags: list[Flag] = list(check_count_series(series, design)) + list(short)
        offset = None
        if self.offset and series.population is not None:
            offset = np.log(series.population)
        elif kind.exposure == "population":
            why = "offset=False was set" if not self.offset else "the panel has no population column"
            flags.append(Flag(kind="data", severity="low", source="count_offset",
                              message=f"No log(population) offset ({why}): the model describes counts, so "
                              "population growth is absorbed into the trend. Build the panel with "
                              "population= to model rates."))
        # the spec plus the GLM's scores/bread (or its AR-errors refit hook) -> the fitted model
        fit = infer(inference, GLMSeriesFit(series.y, design.X, design.include, offset, model,
                                            prewhite=self.prewhite))
        nw = fit.inference.name == "NeweyWest"
        method = f"Count ITS ({_LABELS[model]} GLM" + (", log(population) offset" if offset is not None else "") + \
            (", Newey-West)" if nw else
             f", AR({fit.info['ar_order']}) errors)" if fit.model == "quasi_poisson_ar" else
             ")" if fit.inference.name == "Analytic" else f", {fit.inference.name})")
        refs = ITS_REFERENCES + _GLM_REF + (NW_REFS if nw else ())
        extra: dict[str, Any] = {}
        if offset is not None:
            extra["Exposure"] = f"log({panel.population}) offset"
        return FitCore(its_calendar_query(panel, series, design, focus), lambda cal: assemble_result(
            estimator=self, method=method, panel=panel, series=series, design=design, fit=fit, focus=focus,
            alpha=a, cal=cal, extra_flags=tuple(flags), references=refs, extra_info=extra))


def count_its(panel: Any, intervention: Any = None, *, outcome: str | None = None, unit: Any = None,
              inference: Any = None, calendar: Any = None, alpha: float = 0.05, **options: Any) -> EffectResult:
    """Fit :class:`CountITS` to one series; ``options`` are its parameters.

    Examples
    --------
    >>> res = count_its(national, "2022-07-01", seasonality="fourier", harmonics=2)  # doctest: +SKIP
    >>> res.estimate   # rate ratio of the level change  # doctest: +SKIP
    """
    if "interventions" in options:
        if intervention is not None:
            raise SpecificationError("Give intervention= or interventions=, not both.")
        intervention = options.pop("interventions")
    check_options("count_its", CountITS, options,
                  ("intervention", "unit", "outcome", "inference", "calendar", "alpha"))
    est = CountITS(**options)
    return est.fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome, unit=unit,
                   intervention=intervention)
