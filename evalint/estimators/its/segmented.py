"""Segmented regression for continuous outcomes: OLS with Newey-West HAC, or GLS with AR(p) errors.

The model for one series (Wagner et al. 2002), for each interruption j,

    y_t = b0 + b1 t + sum_j [ b2j level_jt + b3j slope_jt ] + seasonal terms + e_t,

with the impact terms of :mod:`evalint.estimators.its.design`. The errors ``e_t`` are
handled in one of three ways:

* ``errors="newey_west"``: OLS coefficients with Newey-West HAC standard errors (Bartlett
  kernel; lag ``floor(4 (T/100)^(2/9))`` unless ``hac_lags`` is given; optional small-sample
  factor T/(T-k) and VAR(1) prewhitening as in R's ``sandwich::NeweyWest``);
* ``errors="ar"``: GLS with AR(p) errors by exact maximum likelihood (``ar_order=None``
  chooses p in 0..``max_ar_order`` by AIC), model-based standard errors;
* ``errors="ols"``: classical OLS standard errors (independent errors; for comparison).

t reference distributions use n - k degrees of freedom.

References
----------
Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression analysis of
interrupted time series studies in medication use research. J Clin Pharm Ther 27:299-309.
Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55:703-708.
Newey WK, West KD (1994). Automatic lag selection in covariance matrix estimation. Rev Econ
Stud 61:631-653.
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. Int J Epidemiol 46:348-355.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.errors import SpecificationError, warn_deprecated_setting
from evalint.estimators.base import check_options, register_estimator
from evalint.estimators.its.backends import OLSSeriesFit
from evalint.estimators.its.common import (
    warn_short_pre,
    DEFAULT_MIN_PRE, ITS_REFERENCES, assemble_result, extract_series, its_calendar_query, prepare_design, resolve_dates,
)
from evalint.estimators.its.design import DesignSpec
from evalint.estimators.template import FitCore, FitTemplate
from evalint.inference.dispatch import infer
from evalint.inference.interface import TimeSeriesFit
from evalint.inference.specs import Analytic, ARErrors, NeweyWest, SieveBootstrap
from evalint.results.effect import EffectResult

__all__ = ["ITSDesignMixin", "SegmentedRegression", "segmented_regression"]

NW_REFS = (
    "Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity and autocorrelation "
    "consistent covariance matrix. Econometrica 55:703-708.",
    "Newey WK, West KD (1994). Automatic lag selection in covariance matrix estimation. Rev Econ Stud 61:631-653.",
)


@dataclass(frozen=True)
class ITSDesignMixin(FitTemplate):
    """Design hyperparameters shared by every ITS estimator (see :class:`DesignSpec`).

    Parameters
    ----------
    interventions : date, sequence of dates, or mapping name -> date, optional
        Interruption dates (mapped to the panel's periods). ``None``: give
        ``fit(intervention=...)`` or build the panel with ``cohort=``/``treatment=``.
    impact : {"step", "slope", "step_slope", "ramp"}
    lag : int
        Periods between each date and the start of its effect.
    transition : int
        Transition window after the (lagged) start, excluded from the fit or ramped.
    transition_mode : {"exclude", "ramp"}
    seasonality : {None, "fourier", "month"}
    harmonics : int
        Fourier pairs for ``seasonality="fourier"``.
    focus : str, optional
        Which interruption the headline, counterfactual and cumulative effect refer to
        (default: the first).
    min_pre : int
        Minimum number of pre-intervention periods (default 8).
    """

    interventions: Any = None
    impact: Literal["step", "slope", "step_slope", "ramp"] = "step_slope"
    lag: int = 0
    transition: int = 0
    transition_mode: Literal["exclude", "ramp"] = "exclude"
    seasonality: Literal["fourier", "month"] | None = None
    harmonics: int = 2
    focus: str | None = None
    min_pre: int = DEFAULT_MIN_PRE


    def _warn_duplicate_inference(self, replacement: str) -> None:
        """``errors=``/``hac_lags=`` duplicate the inference spec: still honoured (through
        ``default_inference``) for one release, with a warning naming the spec to pass instead."""
        given = [f"{k}={getattr(self, k)!r}" for k in ("errors", "hac_lags") if getattr(self, k) is not None]
        if given:
            warn_deprecated_setting(f"{type(self).__name__}({', '.join(given)})", f"fit(inference={replacement})")
    def design_spec(self) -> DesignSpec:
        return DesignSpec(impact=self.impact, lag=self.lag, transition=self.transition,
                          transition_mode=self.transition_mode, seasonality=self.seasonality,
                          harmonics=self.harmonics)

    def _check_design(self) -> None:
        if self.seasonality in ("none", "None"):
            object.__setattr__(self, "seasonality", None)
        self.design_spec()  # validates
        check_positive_int("min_pre", self.min_pre, minimum=1)


@register_estimator
@dataclass(frozen=True)
class SegmentedRegression(ITSDesignMixin):
    """Segmented regression ITS on one series (OLS + Newey-West, GLS with AR(p) errors, or OLS).

    Parameters
    ----------
    errors : {"ar", "newey_west", "ols"}, optional
        Deprecated (a :class:`~evalint.errors.SettingDeprecationWarning`): pass
        ``fit(inference=ARErrors() | NeweyWest(lags=...) | Analytic())`` instead; still honoured
        for one release. How autocorrelated errors are handled. ``None`` (default): ``"ar"``, GLS with AR(1)
        errors estimated by REML, widened for the estimated AR coefficient, t reference with
        Satterthwaite df: the interval that held 93-97% coverage in simulation (methods/its.md
        section 10; benchmarks/coverage_its_synth.py). ``"newey_west"``: OLS + Newey-West
        (under-covers in series of 48-120 months: 75-90%); ``"ols"``: independent errors.
    hac_lags : int, optional
        Deprecated: ``inference=NeweyWest(lags=...)``. Newey-West truncation lag; ``None`` uses floor(4 (T/100)^(2/9)).
    small_sample : bool
        Newey-West small-sample factor T/(T-k) (R ``adjust=TRUE``).
    prewhite : bool
        VAR(1) prewhitening of the Newey-West scores (R's ``prewhite=TRUE``).
    ar_order : int or None
        AR order for ``errors="ar"`` (default 1, fixed in advance: no residual pretest decides
        the interval); ``None`` chooses it by AIC up to ``max_ar_order``.
    max_ar_order : int
    ar_method : {"reml", "ml"}
        How the AR coefficients are estimated (``"ml"`` as ``nlme::gls(method="ML")``).
    ar_adjust : bool
        Widen for the estimated AR coefficients (Kackar-Harville) with Satterthwaite df.
    (design parameters: see :class:`ITSDesignMixin`)

    References
    ----------
    Wagner et al. (2002); Newey & West (1987, 1994); Lopez Bernal et al. (2017).
    """

    name: ClassVar[str] = "its_segmented"
    supported_inference: ClassVar[tuple[type, ...]] = (NeweyWest, ARErrors, Analytic, SieveBootstrap)
    #: what the fit hands the inference layer (specs registered for it are accepted too)
    inference_interface: ClassVar[type] = TimeSeriesFit

    errors: Literal["newey_west", "ar", "ols"] | None = None
    hac_lags: int | None = None
    small_sample: bool = False
    prewhite: bool = False
    ar_order: int | None = 1
    max_ar_order: int = 4
    ar_method: Literal["reml", "ml"] = "reml"
    ar_adjust: bool = True

    def __post_init__(self) -> None:
        self._check_design()
        check_option("ar_method", self.ar_method, ("reml", "ml"))
        if self.errors is not None:
            check_option("errors", self.errors, ("newey_west", "ar", "ols"))
        if self.hac_lags is not None:
            check_positive_int("hac_lags", self.hac_lags, minimum=0)
        if self.ar_order is not None:
            check_positive_int("ar_order", self.ar_order, minimum=1)
        check_positive_int("max_ar_order", self.max_ar_order, minimum=1)
        self._warn_duplicate_inference(repr(self.default_inference()))

    @classmethod
    def contract_example(cls) -> tuple[SegmentedRegression, Any, dict[str, Any]]:
        """A 60-month series with a level drop of 5 at 2021-01 (fast)."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(1)
        t = np.arange(60)
        y = 100 + 0.3 * t - 5 * (t >= 36) + rng.normal(0, 2, 60)
        df = pd.DataFrame({"month": pd.period_range("2018-01", periods=60, freq="M"), "y": y})
        panel = Panel.from_frame(df, time="month", outcome="y")
        return cls(interventions="2021-01-01"), panel, {"calendar": False}

    def default_inference(self) -> Any:
        """``inference=None``: GLS with AR errors (REML, adjusted), or what ``errors=`` names."""
        errors = self.errors or "ar"
        if errors == "newey_west":
            return NeweyWest(lags=self.hac_lags, small_sample=self.small_sample)
        if errors == "ar":
            return ARErrors(order=self.ar_order, max_order=self.max_ar_order, method=self.ar_method,
                            adjust=self.ar_adjust)
        return Analytic()

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, unit: Any = None, intervention: Any = None) -> EffectResult:
        """Fit to one series of ``panel``.

        Parameters
        ----------
        panel : Panel
            A single series, or a panel with ``unit=`` naming the series to fit.
        inference : NeweyWest, ARErrors or Analytic, optional
            Overrides ``errors``.
        calendar : PolicyCalendar, None or False
            Policy calendar for the confounding check (``False`` skips it).
        alpha : float
        outcome, unit : optional
            Which outcome column and unit (defaults: the primary outcome, the only unit).
        intervention : date or mapping, optional
            The date(s), when not given to the estimator.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome, unit=unit,
                            intervention=intervention)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, outcome: str | None = None,
                  unit: Any = None, intervention: Any = None) -> FitCore:
        a = check_alpha(alpha)
        inf = inference
        series = extract_series(panel, outcome, unit)
        dates = resolve_dates(self.interventions, intervention, panel, series)
        design, focus = prepare_design(series, dates, self.design_spec(), min_pre=self.min_pre, focus=self.focus)
        short = warn_short_pre(design, series, inf)
        # the inference layer turns the spec plus the OLS fit's scores/bread (or its GLS refit
        # hook) into the fitted model: a spec registered for TimeSeriesFit needs no edit here
        fit = infer(inf, OLSSeriesFit(series.y, design.X, design.include, prewhite=self.prewhite))
        if fit.model == "gls_ar":
            method = "Segmented regression (GLS, AR errors)"
            refs = ITS_REFERENCES
        elif fit.inference.name == "SieveBootstrap":
            method, refs = "Segmented regression (OLS, AR-sieve bootstrap)", ITS_REFERENCES
        else:
            nw = fit.inference.name == "NeweyWest"
            method = "Segmented regression (OLS" + (", Newey-West)" if nw else ")" if fit.inference.name == "Analytic"
                                                     else f", {fit.inference.name})")
            refs = ITS_REFERENCES + (NW_REFS if nw else ())
        return FitCore(its_calendar_query(panel, series, design, focus), lambda cal: assemble_result(
            estimator=self, method=method, panel=panel, series=series, design=design, fit=fit, focus=focus,
            alpha=a, cal=cal, references=refs, extra_flags=short))


def segmented_regression(panel: Any, intervention: Any = None, *, outcome: str | None = None,
                         unit: Any = None, inference: Any = None, calendar: Any = None,
                         alpha: float = 0.05, **options: Any) -> EffectResult:
    """Fit :class:`SegmentedRegression` to one series; ``options`` are its parameters.

    Examples
    --------
    >>> res = segmented_regression(panel, "2022-07-01", errors="ar", seasonality="fourier")  # doctest: +SKIP
    """
    if "interventions" in options:
        if intervention is not None:
            raise SpecificationError("Give intervention= or interventions=, not both.")
        intervention = options.pop("interventions")
    check_options("segmented_regression", SegmentedRegression, options,
                  ("intervention", "unit", "outcome", "inference", "calendar", "alpha"))
    est = SegmentedRegression(**options)
    return est.fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome, unit=unit,
                   intervention=intervention)
