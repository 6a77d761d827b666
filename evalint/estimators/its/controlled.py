"""Controlled interrupted time series: the series against a comparison series.

The treated series (group ``Z = 1``) and a comparison series (``Z = 0``: an unaffected
region, or an outcome the intervention should not move) are stacked and every design term
is interacted with ``Z`` (Linden 2015, eq. 2):

    y_zt = x_t'a + Z x_t'd + e_zt,

so the ``treated:`` terms are the *differences* between the series: ``treated:level_j`` is
the differential level change and ``treated:slope_j`` the differential slope change of
interruption ``j``; with a log-link count model their exponentials are ratios of rate
ratios. The counterfactual of the treated series keeps its own pre-period level and trend
and adds the change seen in the comparison series (the ``treated:`` intervention terms set to
zero). Newey-West scores are summed over the two series at each time point before the
Bartlett kernel is applied, so correlation between the series is allowed for.

References
----------
Linden A (2015). Conducting interrupted time-series analysis for single- and multiple-group
comparisons. Stata Journal 15(2):480-500.
Lopez Bernal J, Cummins S, Gasparrini A (2018). The use of controls in interrupted time
series studies of public health interventions. Int J Epidemiol 47:2082-2093.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option
from evalint.diagnostics.base import Flag
from evalint.errors import SpecificationError
from evalint.estimators.base import check_options, register_estimator
from evalint.estimators.its.backends import OLSSeriesFit, fit_glm, fit_ols
from evalint.estimators.its.common import (
    ITS_REFERENCES, SeriesData, assemble_result, extract_series, its_calendar_query, prepare_design, resolve_dates,
)
from evalint.estimators.its.counterfactual import counterfactual_effects
from evalint.estimators.its.segmented import NW_REFS, ITSDesignMixin
from evalint.estimators.template import FitCore
from evalint.inference.dispatch import infer
from evalint.inference.specs import Analytic, ARErrors, ARNoiseErrors, NeweyWest
from evalint.results.effect import EffectResult

__all__ = ["ControlledITS", "controlled_its", "NW_UNDERCOVERAGE", "CONTRAST_DEFAULT"]

#: The default interval: the contrast series with AR(1)-plus-noise errors (methods/its.md section 5).
CONTRAST_DEFAULT = ARNoiseErrors()

#: What simulation says about the default interval (benchmarks/controlled_its_coverage.py).
NW_UNDERCOVERAGE = (
    "Newey-West intervals of the stacked controlled ITS are too narrow on autocorrelated monthly series: in "
    "simulations of two ICBs over 72 months they covered the true effect 78-88% of the time for a nominal "
    "95% (methods/its.md section 5). Read the interval as optimistic, or use the default (inference=None): "
    "the contrast series (log rate ratio of treated to comparison, or their difference) with AR(1)-plus-noise "
    "errors, which covered 94.4-95.6%.")

_MODELS = ("ols", "quasi_poisson", "poisson", "negative_binomial")
_REFS = ("Linden A (2015). Conducting interrupted time-series analysis for single- and multiple-group "
         "comparisons. Stata Journal 15(2):480-500.",
         "Lopez Bernal J, Cummins S, Gasparrini A (2018). The use of controls in interrupted time series "
         "studies of public health interventions. Int J Epidemiol 47:2082-2093.")


@register_estimator
@dataclass(frozen=True)
class ControlledITS(ITSDesignMixin):
    """Controlled ITS: differential level and slope changes against a comparison series.

    Parameters
    ----------
    model : {"ols", "quasi_poisson", "poisson", "negative_binomial"}, optional
        The stacked model (used with ``inference=NeweyWest()`` or ``Analytic()``); ``None``:
        quasi-Poisson for count outcomes, OLS otherwise. Giving it without ``inference=`` asks
        for the stacked model with Newey-West standard errors.
    errors : {"newey_west", "model"}, optional
        Deprecated, with ``hac_lags`` (a :class:`~evalint.errors.SettingDeprecationWarning`): pass
        ``fit(inference=NeweyWest(lags=...) | Analytic())``. ``"newey_west"``: the stacked model
        with Newey-West HAC over time, ``"model"``: model-based standard errors.
    hac_lags, small_sample :
        Newey-West options (``hac_lags`` deprecated: ``NeweyWest(lags=...)``).
    offset : bool
        Rates per resident when the panel has population (the contrast's log rate ratio, or the
        stacked count model's log(population) offset).
    (design parameters: see :class:`~evalint.estimators.its.segmented.ITSDesignMixin`)

    Notes
    -----
    **The default** (``inference=None``, i.e. ``ARNoiseErrors()``) fits the contrast series: the
    log of the treated/comparison rate ratio for counts (per resident when both series have a
    population), the difference otherwise, as a single-series ITS (the same design) by GLS with
    AR(1)-plus-noise errors (REML, widened for the estimated error parameters, Satterthwaite t;
    :mod:`evalint.inference.ar_noise`). For counts **the headline is the ratio of rate ratios**,
    ``exp()`` of the change in the log rate ratio: 0.95 means the treated area's rate fell 5%
    relative to the comparison's (``term`` starts "ratio of rate ratios", ``info["Headline"]``
    gives the % change); per-period effects and coefficients stay on the log-contrast scale. For
    continuous outcomes the headline is the differential change in the outcome's units. Coverage
    at 95% in ``benchmarks/controlled_its_coverage.py`` (500 replications, two ICBs, 72 months):
    94.4-95.6% (SE/SD 0.94-1.01) on both designs, where ``ARErrors()`` (AR(1) alone) covered
    90.8-94.8% (the Poisson sampling noise of the counts hides the areas' persistent shocks from
    an AR(1) fit) and the stacked Newey-West interval 78-88% (an option; every result fitted with
    it carries a medium ``inference`` flag). Counts of zero in any month are refused by the
    contrast (use ``NeweyWest()`` or aggregate). ``NeweyWest(fixed_b=True)`` is refused (its
    critical values are for one series).

    References
    ----------
    Linden (2015); Lopez Bernal, Cummins & Gasparrini (2018).
    """

    name: ClassVar[str] = "its_controlled"
    supported_inference: ClassVar[tuple[type, ...]] = (ARNoiseErrors, ARErrors, NeweyWest, Analytic)

    model: Literal["ols", "quasi_poisson", "poisson", "negative_binomial"] | None = None
    errors: Literal["newey_west", "model"] | None = None
    hac_lags: int | None = None
    small_sample: bool = False
    offset: bool = True

    def __post_init__(self) -> None:
        self._check_design()
        if self.model is not None:
            check_option("model", self.model, _MODELS)
        if self.errors is not None:
            check_option("errors", self.errors, ("newey_west", "model"))
        self._warn_duplicate_inference(repr(self.default_inference()))

    @classmethod
    def contract_example(cls) -> tuple[ControlledITS, Any, dict[str, Any]]:
        """Two 60-month series; the treated one drops by 4 at 2021-01 (fast)."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(3)
        t = np.arange(60)
        common = 50 + 0.2 * t + rng.normal(0, 1, 60)
        rows = []
        for unit, eff in (("treated", -4.0), ("comparison", 0.0)):
            y = common + (3 if unit == "treated" else 0) + eff * (t >= 36) + rng.normal(0, 1, 60)
            rows.append(pd.DataFrame({"area": unit, "month": pd.period_range("2018-01", periods=60, freq="M"),
                                      "y": y}))
        panel = Panel.from_frame(pd.concat(rows, ignore_index=True), unit="area", time="month", outcome="y")
        return cls(interventions="2021-01-01"), panel, {"calendar": False, "unit": "treated",
                                                         "comparison": "comparison"}

    def default_inference(self) -> Any:
        """``inference=None``: the contrast series with AR(1)-plus-noise errors (:data:`CONTRAST_DEFAULT`).

        The deprecated settings keep their meaning: ``errors="model"`` gives model-based
        standard errors of the stacked model; ``errors="newey_west"``, ``hac_lags``,
        ``small_sample`` or an explicit ``model`` (which names a stacked model) give the
        stacked model with Newey-West standard errors, flagged as under-covering.
        """
        if self.errors == "model":
            return Analytic()
        if self.errors == "newey_west" or self.hac_lags is not None or self.small_sample or self.model is not None:
            return NeweyWest(lags=self.hac_lags, small_sample=self.small_sample)
        return CONTRAST_DEFAULT

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None, unit: Any = None, comparison: Any = None,
            comparison_outcome: str | None = None, intervention: Any = None) -> EffectResult:
        """Fit the treated series ``unit`` against ``comparison`` (a unit) or ``comparison_outcome``.

        With a two-unit panel built with ``cohort=``/``treatment=``, ``unit`` and
        ``comparison`` default to the treated and the never-treated unit.
        """
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome, unit=unit,
                            comparison=comparison, comparison_outcome=comparison_outcome, intervention=intervention)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any, outcome: str | None = None,
                  unit: Any = None, comparison: Any = None, comparison_outcome: str | None = None,
                  intervention: Any = None) -> FitCore | EffectResult:
        a = check_alpha(alpha)
        if isinstance(inference, NeweyWest) and inference.fixed_b:
            raise SpecificationError(
                "NeweyWest(fixed_b=True) is not available for the controlled ITS: its fixed-b critical values "
                "are simulated for one series, not for two series whose scores are summed within a month "
                "(the bandwidth without them covered 64-68% at 95% in simulation; methods/its.md section 5). "
                "Use NeweyWest() or Analytic(), or fit the contrast series as a single-series ITS.")
        unit, comparison = self._units(panel, unit, comparison, comparison_outcome)
        treated = extract_series(panel, outcome, unit)
        comp = extract_series(panel, comparison_outcome or treated.outcome, comparison)
        if comparison_outcome is None and comparison == unit:
            raise SpecificationError("comparison must differ from the treated unit (or give comparison_outcome=).")
        treated, comp = _common_span(treated, comp)
        kind = panel.outcome_kinds[treated.outcome]
        if isinstance(inference, (ARErrors, ARNoiseErrors)):
            return self._contrast_fit(panel, treated, comp, kind.is_count, inference, alpha=a, calendar=calendar,
                                      intervention=intervention)
        model = self.model or ("quasi_poisson" if kind.is_count else "ols")
        dates = resolve_dates(self.interventions, intervention, panel, treated)
        design, focus = prepare_design(treated, dates, self.design_spec(), min_pre=self.min_pre, focus=self.focus)
        T = len(treated.periods)
        base = design.X
        Xs = pd.concat([base, base], ignore_index=True)
        Z = np.r_[np.ones(T), np.zeros(T)]
        for c in base.columns:
            Xs[f"treated:{c}"] = Z * Xs[c].to_numpy()
        include = np.r_[design.include, design.include]
        y = np.r_[treated.y, comp.y]
        tix = np.r_[np.arange(T), np.arange(T)]
        if model == "ols":
            fit = fit_ols(y, Xs, include, inference, time_index=tix)
        else:
            if np.any(y < 0):
                raise SpecificationError("count models need non-negative outcomes in both series.")
            off = None
            if self.offset and treated.population is not None and comp.population is not None:
                off = np.log(np.r_[treated.population, comp.population])
            fit = fit_glm(y, Xs, include, off, model, inference, time_index=tix)
        diff_terms = {n: tuple(f"treated:{c}" for c in cols) for n, cols in design.terms.items()}
        X_cf = Xs.copy()
        for c in diff_terms[focus]:
            X_cf[c] = 0.0
        rows = np.arange(T)
        cf = counterfactual_effects(fit, design, treated.y, focus, alpha=a, X_model=Xs, X_cf=X_cf, rows=rows)
        n_treated_fit = int(design.include.sum())
        diag_fit = dataclasses.replace(fit, resid=fit.resid[:n_treated_fit])
        term = "treated:" + design.headline_term(focus)
        label = {"ols": "OLS", "quasi_poisson": "quasi-Poisson GLM", "poisson": "Poisson GLM",
                 "negative_binomial": "negative binomial GLM"}[model]
        vs = f"unit {comparison!r}" if comparison_outcome is None else f"outcome {comparison_outcome!r}"
        scale = "ratio of rate ratios" if fit.link == "log" else "difference"
        when = next(i.period for i in design.interruptions if i.name == focus)
        what = "level" if not term.split(":", 1)[1].startswith("slope_") else "slope"
        estimand = f"differential {what} change ({scale}) at {when} ({focus}): {treated.unit!r} vs {vs}"
        refs = ITS_REFERENCES + _REFS + (NW_REFS if isinstance(inference, NeweyWest) else ())
        method = f"Controlled ITS ({label}" + (", Newey-West)" if isinstance(inference, NeweyWest) else ")")
        honesty = (Flag("inference", "medium", NW_UNDERCOVERAGE, source="controlled ITS coverage"),) \
            if isinstance(inference, NeweyWest) else ()
        return FitCore(its_calendar_query(panel, treated, design, focus), lambda cal: assemble_result(
            estimator=self, method=method, panel=panel, series=treated, design=design, fit=diag_fit, focus=focus,
            alpha=a, cal=cal, cf=cf, term=term, estimand=estimand, references=refs, extra_info={"Comparison": vs},
            extra_flags=honesty))

    def _contrast_fit(self, panel: Any, treated: SeriesData, comp: SeriesData, is_count: bool,
                      inference: ARErrors | ARNoiseErrors, *, alpha: float, calendar: Any,
                      intervention: Any) -> FitCore | EffectResult:
        """The contrast series as a single-series ITS (the default and ``inference=ARErrors()``).

        The contrast is the log of the treated/comparison rate ratio for counts (rates per
        resident when both series have a population and ``offset``; else counts) and the
        difference for continuous outcomes; its segmented regression (the same design) is fitted
        by GLS with AR(1)-plus-noise errors (``ARNoiseErrors()``, the default) or AR(p) errors
        (``ARErrors()``), REML, adjusted. Its level and slope terms are the controlled ITS's
        differential changes; for counts the headline is their exponential, the ratio of rate
        ratios (0.95 = the treated area's rate fell 5% relative to the comparison's), while the
        per-period effects and the coefficients stay on the log scale of the contrast.
        """
        from evalint.data.panel import Panel
        from evalint.estimators.its.segmented import SegmentedRegression

        if is_count:
            y_t, y_c = np.asarray(treated.y, float), np.asarray(comp.y, float)
            if np.any(y_t <= 0) or np.any(y_c <= 0):
                bad = [str(p) for p, a, b in zip(treated.periods, y_t, y_c) if a <= 0 or b <= 0]
                raise SpecificationError(
                    "The controlled ITS fits the log rate ratio of the two series, which needs positive counts "
                    f"in every period of both; zero or negative in {len(bad)} period(s) ({', '.join(bad[:5])}). "
                    "Use inference=NeweyWest() (the stacked quasi-Poisson model; its interval under-covers, "
                    "methods/its.md section 5) or Analytic(), or aggregate to larger areas.")
            if self.offset and treated.population is not None and comp.population is not None:
                y_t, y_c = y_t / np.asarray(treated.population, float), y_c / np.asarray(comp.population, float)
            contrast, name = np.log(y_t) - np.log(y_c), f"log rate ratio {treated.unit} / {comp.unit}"
        else:
            contrast = np.asarray(treated.y, float) - np.asarray(comp.y, float)
            name = f"difference {treated.unit} - {comp.unit}"
        frame = pd.DataFrame({"series": f"{treated.unit} vs {comp.unit}", "period": treated.periods,
                              name: contrast})
        cpanel = Panel.from_frame(frame, unit="series", time="period", outcome=name, freq=treated.freq)
        what = "log ratio of rate ratios" if is_count else "difference"
        if isinstance(inference, ARErrors):
            design_kw = {f.name: getattr(self, f.name) for f in dataclasses.fields(ITSDesignMixin)}
            res = SegmentedRegression(**design_kw).fit(cpanel, inference=inference, calendar=calendar, alpha=alpha,
                                                       intervention=intervention)
            res = dataclasses.replace(res, method=f"Controlled ITS (contrast series, {res.method})",
                                      estimand=f"differential change ({what}): {res.estimand}")
            res = _contrast_info(res, panel)
            return _ratio_headline(res, treated, comp) if is_count else res
        series = extract_series(cpanel, name)
        dates = resolve_dates(self.interventions, intervention, panel, treated)
        design, focus = prepare_design(series, dates, self.design_spec(), min_pre=self.min_pre, focus=self.focus)
        # the dispatcher runs the ARNoiseErrors handler on the contrast series' least-squares fit
        fit = infer(inference, OLSSeriesFit(series.y, design.X, design.include))
        method = "Controlled ITS (contrast series, GLS with AR(1) errors plus noise)"
        term = design.headline_term(focus)
        inter = next(i for i in design.interruptions if i.name == focus)
        kind_of = "slope change per period" if term.startswith("slope_") else "level change"
        vs = f"unit {comp.unit!r}" if comp.outcome == treated.outcome else f"outcome {comp.outcome!r}"
        estimand = f"differential {kind_of} ({what}) at {inter.period} ({focus}): {treated.unit!r} vs {vs}"
        extra = {"Comparison": vs,
                 "Contrast series": name,
                 "Error model": f"AR(1) phi = {fit.info['phi']:.3f} plus independent noise; AR share of the error "
                                f"variance {fit.info['ar_share']:.2f}"}

        def finish(cal: Any) -> EffectResult:
            res = assemble_result(estimator=self, method=method, panel=cpanel, series=series, design=design, fit=fit,
                                  focus=focus, alpha=alpha, cal=cal, estimand=estimand,
                                  references=ITS_REFERENCES + _REFS + _AR_NOISE_REFS, extra_info=extra)
            res = _contrast_info(res, panel)
            return _ratio_headline(res, treated, comp) if is_count else res

        return FitCore(its_calendar_query(panel, treated, design, focus), finish)

    @staticmethod
    def _units(panel: Any, unit: Any, comparison: Any, comparison_outcome: str | None) -> tuple[Any, Any]:
        units = list(panel.units)
        if comparison_outcome is not None:
            if comparison is None:
                comparison = unit if unit is not None else (units[0] if len(units) == 1 else None)
            if unit is None:
                unit = comparison
        if unit is None and panel.timing is not None and len(panel.timing.treated_units) == 1:
            unit = panel.timing.treated_units[0]
        if comparison is None and panel.timing is not None and len(panel.timing.never_treated) == 1:
            comparison = panel.timing.never_treated[0]
        if unit is None and comparison is not None and len(units) == 2:
            unit = next(u for u in units if u != comparison)
        if comparison is None and unit is not None and len(units) == 2:
            comparison = next(u for u in units if u != unit)
        if unit is None or comparison is None:
            raise SpecificationError(
                "A controlled ITS needs the treated series and a comparison: pass unit=<treated unit> and "
                "comparison=<comparison unit>, or comparison_outcome=<an outcome the intervention should not "
                f"affect>. Units in the panel: {', '.join(map(str, units[:10]))}."
            )
        return unit, comparison


_AR_NOISE_REFS = ("Harvey AC (1989). Forecasting, Structural Time Series Models and the Kalman Filter. Cambridge "
                  "University Press.",
                  "Kackar RN, Harville DA (1984). Approximations for standard errors of estimators of fixed and random "
                  "effects in mixed linear models. JASA 79:853-862.")


def _contrast_info(res: EffectResult, panel: Any) -> EffectResult:
    """The user's panel in the provenance; the cumulative line without its percentage (a
    contrast's counterfactual is near zero, so a percentage of it means nothing)."""
    info = {k: (v.split(" periods, ")[0] + " periods (on the contrast scale)"
                if k.startswith("Cumulative effect") and isinstance(v, str) and " periods, " in v else v)
            for k, v in res.info.items()}
    prov = dataclasses.replace(res.provenance, data_fingerprint=panel.fingerprint)
    return dataclasses.replace(res, info=info, provenance=prov)


def _ratio_headline(res: EffectResult, treated: SeriesData, comp: SeriesData) -> EffectResult:
    """Counts: the headline as a ratio of rate ratios, exp() of the log-contrast's term and interval."""
    b, lo, hi = float(res.estimate), float(res.ci[0]), float(res.ci[1])
    rr, rlo, rhi = float(np.exp(b)), float(np.exp(lo)), float(np.exp(hi))
    pct = int(round((1 - res.alpha) * 100))
    info = dict(res.info)
    info["Headline"] = (f"ratio of rate ratios {rr:.4f} ({pct}% CI {rlo:.4f} to {rhi:.4f}): the treated area's rate "
                        f"changed by {100 * (rr - 1):+.1f}% ({100 * (rlo - 1):+.1f}% to {100 * (rhi - 1):+.1f}%) "
                        f"relative to the comparison's; exp() of the change in log(rate {treated.unit} / rate "
                        f"{comp.unit})")
    info["effects_note"] = ("Per-period effects, coefficients and the counterfactual are on the log rate-ratio scale "
                            "of the contrast series (exp() gives ratios).")
    return dataclasses.replace(
        res, estimate=rr, se=rr * float(res.se), ci=(rlo, rhi), scale="rate_ratio",
        term=f"ratio of rate ratios ({res.term})",
        estimand=res.estimand.replace("log ratio of rate ratios", "ratio of rate ratios, exp of the log-contrast"),
        info=info)


def _common_span(a: SeriesData, b: SeriesData) -> tuple[SeriesData, SeriesData]:
    start = max(a.periods[0], b.periods[0])
    end = min(a.periods[-1], b.periods[-1])
    if start > end:
        raise SpecificationError(f"The treated ({a.periods[0]}..{a.periods[-1]}) and comparison "
                                 f"({b.periods[0]}..{b.periods[-1]}) series do not overlap in time.")

    def cut(s: SeriesData) -> SeriesData:
        m = (s.periods >= start) & (s.periods <= end)
        return dataclasses.replace(s, periods=s.periods[m], y=s.y[m],
                                   population=None if s.population is None else s.population[m])

    return cut(a), cut(b)


def controlled_its(panel: Any, intervention: Any = None, *, unit: Any = None, comparison: Any = None,
                   outcome: str | None = None, comparison_outcome: str | None = None, inference: Any = None,
                   calendar: Any = None, alpha: float = 0.05, **options: Any) -> EffectResult:
    """Fit :class:`ControlledITS`; ``options`` are its parameters."""
    if "interventions" in options:
        if intervention is not None:
            raise SpecificationError("Give intervention= or interventions=, not both.")
        intervention = options.pop("interventions")
    check_options("controlled_its", ControlledITS, options,
                  ("intervention", "unit", "comparison", "outcome", "comparison_outcome", "inference", "calendar",
                   "alpha"))
    return ControlledITS(**options).fit(panel, inference=inference, calendar=calendar, alpha=alpha,
                                        outcome=outcome, unit=unit, comparison=comparison,
                                        comparison_outcome=comparison_outcome, intervention=intervention)
