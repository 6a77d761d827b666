"""What every ITS estimator shares: taking one series out of a panel, placing the
interruptions, the data checks, the diagnostics and the assembly of the EffectResult."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint._distributions import chi2_sf
from evalint.data.timeparse import FREQ_NAMES
from evalint.diagnostics.autocorrelation import residual_autocorrelation
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import (
    InvalidValueError,
    SpecificationError,
    UnbalancedPanelError,
    format_examples,
)
from evalint.estimators.template import CalendarOutcome, CalendarQuery
from evalint.estimators.its.backends import ModelFit
from evalint.estimators.its.counterfactual import CounterfactualResult, counterfactual_effects
from evalint.estimators.its.design import Design, DesignSpec, build_design, resolve_interventions, season_period
from evalint.estimators.its.state import ITSState
from evalint.estimators.its.lazy_result import lazy_result
from evalint.results.effect import EffectResult, make_result

__all__ = ["SeriesData", "extract_series", "resolve_dates", "prepare_design", "model_diagnostics", "warn_short_pre",
           "assemble_result", "its_calendar_query", "ITS_REFERENCES", "DEFAULT_MIN_PRE"]

DEFAULT_MIN_PRE = 8

ITS_REFERENCES = (
    "Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression analysis of interrupted "
    "time series studies in medication use research. J Clin Pharm Ther 27:299-309.",
    "Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the evaluation "
    "of public health interventions: a tutorial. Int J Epidemiol 46:348-355.",
)


@dataclass(frozen=True)
class SeriesData:
    """One unit's complete series of one outcome."""

    unit: Any
    outcome: str
    periods: pd.PeriodIndex
    y: np.ndarray
    population: np.ndarray | None
    freq: str
    from_panel_of: int   # number of units in the source panel


class _PanelIndex:
    """One panel's rows grouped by unit, built once and reused by every per-unit fit.

    Fitting one series per unit (``its_by_unit``, a fleet of trusts) used to select the unit's
    rows from the whole panel on every fit (a comparison over every row, a PeriodIndex, a
    sort); this holds each unit's row positions, the period ordinals and the float columns.
    """

    __slots__ = ("data", "units", "positions", "ordinals", "columns", "ranges")

    def __init__(self, panel: Any) -> None:
        d = panel._data
        self.data = d   # held so that id(d) is not reused while the entry lives
        col = d[panel.unit]
        codes, uniques = pd.factorize(col, sort=False)
        self.units = list(uniques)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        self.positions = {u: order[bounds[i]:bounds[i + 1]] for i, u in enumerate(self.units)}
        per = d[panel.time]
        self.ordinals = (per.array.asi8 if isinstance(per.dtype, pd.PeriodDtype) and not per.isna().any()
                         else pd.PeriodIndex(per, freq=panel.freq).asi8)
        self.columns: dict[str, np.ndarray | None] = {}
        self.ranges: dict[tuple[int, int], pd.PeriodIndex] = {}

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Float values of column ``name`` at ``rows`` (the column converted once)."""
        if name not in self.columns:
            try:
                self.columns[name] = self.data[name].to_numpy(dtype=float)
            except (TypeError, ValueError):  # e.g. missing values somewhere: convert this unit's rows only
                self.columns[name] = None
        col = self.columns[name]
        return self.data[name].iloc[rows].to_numpy(dtype=float) if col is None else col[rows]


_INDEX_CACHE: dict[tuple[int, str, str, str], _PanelIndex] = {}


def _panel_index(panel: Any) -> _PanelIndex:
    """The :class:`_PanelIndex` of ``panel`` (the last few panels are kept)."""
    key = (id(panel._data), panel.unit, panel.time, panel.freq)
    hit = _INDEX_CACHE.get(key)
    if hit is None or hit.data is not panel._data:
        hit = _PanelIndex(panel)
        if len(_INDEX_CACHE) >= 4:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        _INDEX_CACHE[key] = hit
    return hit


def extract_series(panel: Any, outcome: str | None, unit: Any = None) -> SeriesData:
    """The series of ``outcome`` for ``unit`` (the only unit of a single-series panel).

    Raises
    ------
    SpecificationError
        Several units and no ``unit=``; unknown unit or outcome.
    UnbalancedPanelError
        Missing months inside the unit's series (listed).
    """
    outcome = outcome or panel.outcome
    if outcome not in panel.outcomes:
        raise SpecificationError(
            f"outcome={outcome!r} is not an outcome of this panel; outcomes: {', '.join(panel.outcomes)}."
        )
    index = _panel_index(panel)
    units = index.units
    if unit is None:
        if len(units) > 1:
            raise SpecificationError(
                f"This panel has {len(units)} units but an interrupted time series fits one series. "
                "Pass unit=<id> to fit one unit, use panel.aggregate('England') for the national series, "
                "or its_by_unit(panel, ...) to fit every unit."
            )
        unit = units[0]
    elif isinstance(unit, (list, tuple, set, dict, pd.Series, pd.Index, np.ndarray)):
        raise SpecificationError(
            f"{unit!r} is several units, but an interrupted time series (and each side of a controlled ITS: unit= "
            "and comparison=) takes one unit id. To use several units, sum them into one series first "
            "(panel.aggregate('comparison', units=[...])) or use a comparison design (synthetic_control, "
            "synthetic_did, callaway_santanna).")
    elif unit not in index.positions:
        raise SpecificationError(f"unit={unit!r} is not in the panel; units include {format_examples(units)}.")
    pos = index.positions[unit]
    have = index.ordinals[pos]
    lo, hi = int(have.min()), int(have.max())
    full = index.ranges.get((lo, hi))
    if full is None:
        full = pd.period_range(pd.Period(ordinal=lo, freq=panel.freq), pd.Period(ordinal=hi, freq=panel.freq),
                               freq=panel.freq)
        index.ranges[(lo, hi)] = full
    if len(full) != len(have):
        missing = full.difference(pd.PeriodIndex.from_ordinals(have, freq=panel.freq))
        raise UnbalancedPanelError(
            f"The {outcome!r} series of unit {unit!r} is missing {len(missing)} "
            f"{FREQ_NAMES[panel.freq]} period(s) inside its span ({full[0]}..{full[-1]}): "
            f"{format_examples([str(p) for p in missing], limit=12)}. A time-series model needs every "
            "period: fill them from the source (do not interpolate silently), or restrict the window "
            "with panel.subset(start=..., end=...)."
        )
    order = pos[np.argsort(have, kind="stable")]
    y = index.take(outcome, order)
    pop = None
    if panel.population is not None:
        pop = index.take(panel.population, order)
        bad = ~(np.isfinite(pop) & (pop > 0))
        if bad.any():
            raise InvalidValueError(
                f"population column {panel.population!r} of unit {unit!r} is zero, negative or missing in "
                f"{int(bad.sum())} period(s) ({format_examples([str(p) for p in full[bad]])}); count models "
                "use log(population) as an offset, which needs population > 0. Fix the population figures."
            )
    return SeriesData(unit=unit, outcome=outcome, periods=full, y=y, population=pop, freq=panel.freq,
                      from_panel_of=len(units))


class ResolvedDates(tuple):
    """(name, Period) pairs, plus the calendar presets some of them came from."""

    presets: dict[str, Any]
    #: the panel's time axis is ordinal (period numbers): no seasons, no calendar
    ordinal: bool = False


def _from_preset(value: Any, unit: Any) -> tuple[Any, Any]:
    """(date, Intervention) when ``value`` is a calendar preset name or Intervention; else (value, None)."""
    from evalint.calendar.presets import Intervention, list_presets, resolve_preset

    iv = value if isinstance(value, Intervention) else (
        resolve_preset(value) if isinstance(value, str) and value in list_presets() else None)
    if iv is None:
        return value, None
    if iv.date is not None:
        return iv.date, iv
    dates = dict(iv.unit_dates or {})
    if unit in dates:
        return dates[unit], iv
    raise SpecificationError(
        f"preset {iv.name!r} has a different date for each unit (staggered); unit {unit!r} is not one of "
        f"its units. Fit its units one by one (its_by_unit) or give a date."
    )


def resolve_dates(interventions: Any, intervention: Any, panel: Any, series: SeriesData) -> ResolvedDates:
    """The intervention date(s): the estimator's, else ``fit(intervention=)``, else the unit's cohort.

    Dates may be calendar presets (``"ics_golive_2022"``, ``"asc_discharge_fund_2022"`` or an
    :class:`~evalint.calendar.Intervention`): the date comes from the preset, the interruption is
    named after it, and the policy-calendar check receives the preset so that the intervention's
    own events are not reported as competing events.
    """
    if interventions is not None and intervention is not None:
        raise SpecificationError(
            "The intervention date is given twice (in the estimator and in fit()); give it once."
        )
    value = interventions if interventions is not None else intervention
    if value is None and panel.timing is not None and series.unit in panel.timing.cohort.index:
        c = panel.timing.cohort.loc[series.unit]
        if not pd.isna(c):
            value = c
    presets: dict[str, Any] = {}
    if isinstance(value, Mapping):
        mapped = {}
        for k, v in value.items():
            d, iv = _from_preset(v, series.unit)
            mapped[k] = d
            if iv is not None:
                presets[str(k)] = iv
        value = mapped
    elif value is not None and not isinstance(value, (list, tuple)):
        d, iv = _from_preset(value, series.unit)
        if iv is not None:
            value = {iv.name: d}
            presets[iv.name] = iv
    ordinal = bool(getattr(panel, "is_ordinal", False))
    out = ResolvedDates(resolve_interventions(value, series.freq, series.periods, ordinal=ordinal))
    out.presets = {_clean(k): v for k, v in presets.items()}
    out.ordinal = ordinal
    return out


def _clean(name: str) -> str:
    from evalint.estimators.its.design import _clean_name

    return _clean_name(name)


def prepare_design(series: SeriesData, dates: Any, spec: DesignSpec, *, min_pre: int,
                   focus: str | None) -> tuple[Design, str]:
    """Build the design and check the pre-period length; return (design, focus name)."""
    if getattr(dates, "ordinal", False) and spec.seasonality is not None:
        raise SpecificationError(
            f"seasonality={spec.seasonality!r} needs calendar periods, but this panel's time axis is ordinal "
            "(integer period numbers with no month or season). Use seasonality=None, or rebuild the panel "
            "with the dates the periods stand for.")
    design = build_design(series.periods, dates, spec, series.freq)
    if getattr(dates, "presets", None):
        design = dataclasses.replace(design, presets=dict(dates.presets))
    first = design.interruptions[0]
    n_pre = int(design.include[: first.index].sum())
    if n_pre < min_pre:
        raise SpecificationError(
            f"Only {n_pre} pre-intervention {FREQ_NAMES[series.freq]} point(s) before {first.period} "
            f"(series starts {series.periods[0]}); at least {min_pre} are needed to estimate the "
            "pre-existing level and trend reliably (Wagner et al. 2002 suggest 12 or more). Add earlier "
            f"data, or pass min_pre={max(n_pre, 3)} to accept the risk."
        )
    names = [i.name for i in design.interruptions]
    if focus is None:
        focus = names[0]
    elif focus not in names:
        raise SpecificationError(f"focus={focus!r} is not one of the interventions {names}.")
    return design, focus


def warn_short_pre(design: Design, series: SeriesData, inference: Any) -> tuple[Flag, ...]:
    """ShortSeriesWarning when the pre-period is short for the model asked of it.

    The pre-period identifies the intercept, the trend, the seasonal terms and the AR
    coefficients. The rule: at least 3 pre-period points per such coefficient, and two full
    seasonal cycles when seasonal terms are fitted. Below that the simulated coverage of the
    default interval is not established (methods/its.md section 10: the shortest series
    simulated had 32 pre-period months for 7 such coefficients). Returns the matching flag.
    """
    import warnings

    from evalint.errors import ShortSeriesWarning

    first = design.interruptions[0]
    n_pre = int(design.include[: first.index].sum())
    pre_terms = [c for c in design.X.columns if not c.startswith(("level_", "slope_", "ramp_"))]
    ar = 0
    order = getattr(inference, "order", None)
    if type(inference).__name__ == "ARErrors":
        ar = order if order is not None else getattr(inference, "max_order", 1)
    k = len(pre_terms) + ar
    seasonal = any(c.startswith(("sin", "cos", "season_")) for c in pre_terms)
    P = season_period(series.freq)
    need = max(3 * k, 2 * P if seasonal else 0)
    if n_pre >= need:
        return ()
    msg = (f"The pre-period of {series.outcome!r} (unit {series.unit!r}) has {n_pre} "
            f"{FREQ_NAMES[series.freq]} points for {k} pre-period coefficients ({', '.join(pre_terms)}"
            + (f", {ar} AR" if ar else "") + ")"
            + (f" and {P}-period seasonality" if seasonal else "")
            + f"; at least {need} are advised (3 per coefficient"
            + (", two seasonal cycles" if seasonal else "")
            + "). The interval's coverage is not established below that: add earlier data, fit fewer "
            "seasonal terms (harmonics=1) or no seasonality, or read the interval as approximate.")
    warnings.warn(msg, ShortSeriesWarning, stacklevel=4)
    return (Flag(kind="data", severity="medium", message=msg, source="short_pre_period"),)


def check_count_series(series: SeriesData, design: Design) -> tuple[Flag, ...]:
    """Zeros under a log link: allowed, but a segment of all zeros has no finite level."""
    y = series.y
    inc = design.include
    first = design.interruptions[0]
    pre = inc & (np.arange(len(y)) < first.index)
    post = inc & (np.arange(len(y)) >= first.start)
    for label, mask in (("pre-intervention", pre), ("post-intervention", post)):
        if mask.any() and np.all(y[mask] == 0):
            raise InvalidValueError(
                f"Every {label} value of {series.outcome!r} (unit {series.unit!r}) is zero: a log-link "
                "count model has no finite level there (the level change would be infinite). Check the "
                "data; a continuous model (segmented_regression) or a longer window may be appropriate."
            )
    n_zero = int(np.sum(y[inc] == 0))
    if n_zero:
        return (Flag(kind="data", severity="info",
                     message=f"{n_zero} fitted period(s) have a count of zero; the Poisson likelihood "
                     "handles zeros directly (no log(0), no continuity correction).",
                     source="count_zeros"),)
    return ()


def model_diagnostics(fit: ModelFit, series: SeriesData) -> tuple[list[CheckResult], list[Flag]]:
    """Autocorrelation checks on the fit's residuals and, for Poisson, overdispersion."""
    robust = {"NeweyWest": "hac", "ARErrors": "ar", "ARNoiseErrors": "ar"}.get(fit.inference.name, "none")
    what = {"gls_ar": "normalised (whitened) residuals", "gls_ar_noise": "normalised (whitened) residuals",
            "ols": "OLS residuals",
            "quasi_poisson_ar": "normalised (whitened) working residuals"}.get(fit.model, "Pearson residuals")
    period = season_period(series.freq) if series.freq != "Y" else None
    model_df = int(fit.info.get("ar_order", 0)) if fit.model in ("gls_ar", "quasi_poisson_ar") else \
        2 if fit.model == "gls_ar_noise" else 0
    checks = list(residual_autocorrelation(fit.resid, period=period, robust=robust, model_df=model_df, what=what))
    flags = [f for c in checks for f in c.flags]
    if fit.link == "log":
        disp = float(fit.info["pearson_dispersion"])
        dfr = int(fit.info["df_resid"])

        p = float(chi2_sf(fit.info["pearson_chi2"], dfr))
        if fit.model == "poisson":
            over = bool(disp > 1.5 and p < 0.05)
            fl: tuple[Flag, ...] = ()
            if over:
                fl = (Flag(kind="diagnostic", severity="high",
                           message=f"Overdispersion under plain Poisson: Pearson dispersion {disp:.2f} "
                           f"(chi-square p = {p:.2g}); Poisson standard errors are too small by a factor "
                           f"of about {np.sqrt(disp):.2f}. Use model='quasi_poisson' or 'negative_binomial'.",
                           source="pearson_dispersion"),)
            checks.append(CheckResult("overdispersion", not over, statistic=disp, p_value=p, flags=fl,
                                      text=f"Pearson dispersion {disp:.3f} on {dfr} df (1 = Poisson variance)"))
            flags.extend(fl)
        elif fit.model == "quasi_poisson_ar":
            checks.append(CheckResult("overdispersion", True, statistic=float(fit.info["ar_dispersion"]),
                                      text=f"dispersion {fit.info['ar_dispersion']:.3f} of the AR-whitened working "
                                      f"residuals (Pearson dispersion without AR errors {disp:.3f} on {dfr} df), "
                                      "used to scale the standard errors"))
        elif fit.model == "quasi_poisson":
            checks.append(CheckResult("overdispersion", True, statistic=disp, p_value=p,
                                      text=f"Pearson dispersion {disp:.3f} on {dfr} df, used to scale the "
                                      "standard errors (quasi-Poisson)"))
        else:
            checks.append(CheckResult("overdispersion", True, statistic=fit.info.get("nb_alpha"),
                                      text=f"negative binomial alpha {fit.info.get('nb_alpha', float('nan')):.4g} "
                                      f"(variance = mu + alpha mu^2); Poisson Pearson dispersion was {disp:.3f}"))
    return checks, flags


def its_calendar_query(panel: Any, series: SeriesData, design: Design, focus: str) -> CalendarQuery:
    """Where the policy-calendar check of an ITS fit looks: the series' window around the focus
    interruption (a preset intervention with its own dates, phases and units)."""
    inter = next(i for i in design.interruptions if i.name == focus)
    pre = int(inter.index)
    post = int(len(series.periods) - inter.index)
    treated = [series.unit] if series.from_panel_of > 1 else None
    preset = design.presets.get(focus)
    if preset is not None:
        return CalendarQuery(inter.period, outcome=series.outcome, pre=max(pre, 1), post=max(post, 1),
                             treated_units=treated if treated and preset.units and series.unit in preset.units
                             else None, design="its", preset=preset, freq=series.freq)
    return CalendarQuery(inter.period, outcome=series.outcome, pre=max(pre, 1), post=max(post, 1),
                         treated_units=treated, design="its")


def coefficient_frame(fit: ModelFit, alpha: float) -> pd.DataFrame:
    """Model coefficients in the tidy schema (plus rate ratios under a log link)."""
    from evalint.inference.normal import wald

    se = np.sqrt(np.diag(fit.cov.to_numpy()))
    b = fit.params.to_numpy()
    stat, p, lo, hi = wald(b, se, alpha, fit.df)
    k = len(b)
    cols: dict[str, Any] = {"term": list(fit.params.index), "estimate": b, "std_error": se, "statistic": stat,
                            "p_value": p, "conf_low": lo, "conf_high": hi, "group": [None] * k,
                            "time": [None] * k, "rel_time": np.full(k, np.nan), "band_low": np.full(k, np.nan),
                            "band_high": np.full(k, np.nan)}
    if fit.link == "log":
        cols.update({"rate_ratio": np.exp(b), "rr_low": np.exp(lo), "rr_high": np.exp(hi)})
    return pd.DataFrame(cols)


def headline(fit: ModelFit, term: str, alpha: float) -> dict[str, Any]:
    """Headline estimate: absolute coefficient, or rate ratio under a log link."""
    from evalint.inference.normal import wald

    b = float(fit.params[term])
    se = float(np.sqrt(fit.cov.loc[term, term]))
    _, p, lo, hi = wald(b, se, alpha, fit.df)
    if fit.link == "log":
        return {"estimate": float(np.exp(b)), "se": float(np.exp(b) * se), "ci": (float(np.exp(lo)), float(np.exp(hi))),
                "p_value": p, "scale": "rate_ratio"}
    return {"estimate": b, "se": se, "ci": None, "p_value": None, "scale": "absolute"}


def assemble_result(*, estimator: Any, method: str, panel: Any, series: SeriesData, design: Design,
                    fit: ModelFit, focus: str, alpha: float, cal: CalendarOutcome, extra_flags: tuple[Flag, ...] = (),
                    cf: CounterfactualResult | None = None, term: str | None = None,
                    estimand: str | None = None, references: tuple[str, ...] = ITS_REFERENCES,
                    extra_info: dict[str, Any] | None = None) -> EffectResult:
    """Counterfactual and the EffectResult of one ITS fit.

    ``cal`` is the calendar check the fit template ran on :func:`its_calendar_query`. The headline
    and the info are computed here; the tables (counterfactual
    series, effects, coefficients, rate ratios) and the residual diagnostics with their flags are
    built when first read (:mod:`evalint.estimators.its.lazy_result`): same values, same order.
    """
    cal_checks, cal_flags = cal.checks, cal.flags
    if cf is None:
        cf = counterfactual_effects(fit, design, series.y, focus, alpha=alpha)
    term = term or design.headline_term(focus)
    head = headline(fit, term, alpha)
    inter = next(i for i in design.interruptions if i.name == focus)
    kind = panel.outcome_kinds[series.outcome]
    pct = int(round((1 - alpha) * 100))
    cum = cf.cumulative_row
    what = "rate ratio of the level change" if head["scale"] == "rate_ratio" else "level change"
    if term.startswith("slope_"):
        what = ("rate ratio of the slope change per period" if head["scale"] == "rate_ratio"
                else "slope change per period")
    if term.startswith("ramp_"):
        what = what.replace("level change", "level change (fully phased in)")
    est = estimand or f"{what} at {inter.period} ({focus})"
    info: dict[str, Any] = {
        "Unit": str(series.unit),
        "Impact model": estimator.impact + (f", lag {estimator.lag}" if estimator.lag else "")
        + (f", transition {estimator.transition} ({estimator.transition_mode})" if estimator.transition else ""),
        "Seasonality": ("none" if estimator.seasonality is None else
                        f"{estimator.harmonics} Fourier pair(s)" if estimator.seasonality == "fourier"
                        else "calendar dummies"),
        "Pre / post periods": f"{int(design.include[: design.interruptions[0].index].sum())} / "
                              f"{int(cum['periods'])}",
        "Cumulative effect" + (f" (negative = {kind.cumulative_label})" if kind.is_count
                               else " (sum of period effects)"):
            f"{cum['estimate']:,.1f} ({pct}% CI {cum['conf_low']:,.1f} to {cum['conf_high']:,.1f}) over "
            f"{int(cum['periods'])} periods, {cum['percent']:+.1f}% vs counterfactual",
    }
    if fit.model in ("quasi_poisson", "poisson", "quasi_poisson_ar"):
        info["Pearson dispersion"] = float(fit.info["pearson_dispersion"])
    if fit.model in ("gls_ar", "quasi_poisson_ar"):
        phi = list(fit.info["ar_coefficients"])
        info["AR error coefficients"] = ", ".join(f"{v:.4f}" for v in phi) if phi else "none (AR(0))"
    info.update(extra_info or {})

    def tables() -> dict[str, Any]:
        coefs = coefficient_frame(fit, alpha)
        out: dict[str, pd.DataFrame] = {"counterfactual": cf.series, "cumulative": cf.cumulative}
        if fit.model in ("gls_ar", "quasi_poisson_ar"):
            phi = list(fit.info["ar_coefficients"])
            out["ar_errors"] = pd.DataFrame({"lag": np.arange(1, len(phi) + 1), "phi": phi})
        if fit.link == "log":
            terms = [c for t in design.terms.values() for c in t if c in fit.params.index]
            keep = coefs["term"].isin(terms).to_numpy()
            out["rate_ratios"] = coefs.loc[keep, ["term", "rate_ratio", "rr_low", "rr_high", "p_value"]].reset_index(
                drop=True)
        if "ar_order_table" in fit.info:
            out["ar_order_selection"] = fit.info["ar_order_table"]
        return {"effects": cf.effects, "coefficients": coefs, "series": cf.series, "tables": out}

    def checks() -> dict[str, Any]:
        model_checks, model_flags = model_diagnostics(fit, series)
        flags = list(cal_flags) + model_flags + list(extra_flags)
        if fit.info.get("ar_at_bound"):
            flags.append(Flag(kind="diagnostic", severity="medium", source="ar_at_bound",
                              message="The AR(1) error coefficient reached its bound (0.99): the series wanders "
                              "around its trend like a random walk over this window, so the interval is wide; "
                              "a longer pre-period or a different trend model may be needed."))
        return {"diagnostics": tuple(cal_checks + model_checks), "flags": tuple(flags)}

    spec = {k: (v if not isinstance(v, dict) else dict(v)) for k, v in dataclasses.asdict(estimator).items()}
    spec.update({"outcome": series.outcome, "unit": str(series.unit),
                 "interventions": {i.name: str(i.period) for i in design.interruptions}, "focus": focus,
                 "estimator": type(estimator).__name__})
    inter_str = ", ".join(f"{i.name} {i.period}" for i in design.interruptions)
    result = make_result(
        method=method, estimand=est, term=term, outcome=series.outcome,
        estimate=head["estimate"], se=head["se"], alpha=alpha, inference=fit.inference, panel=panel,
        spec=spec, ci=head["ci"], p_value=head["p_value"],
        effects=None, coefficients=None, series=None, tables={}, diagnostics=(), flags=(),
        scale=head["scale"], plot_kind="its",
        intervention=inter_str, n_obs=int(design.include.sum()), n_units=1, n_periods=len(series.periods),
        info=info, references=references,
        state=ITSState(unit=str(series.unit), model=fit.model,
                       pearson_dispersion=(float(fit.info["pearson_dispersion"]) if fit.model in (
                           "quasi_poisson", "poisson", "quasi_poisson_ar") else None),
                       ar_coefficients=tuple(float(v) for v in fit.info.get("ar_coefficients", ()))),
        outcome_label=f"{kind.label} ({kind.unit_label})" if kind.name != "continuous" else series.outcome,
    )
    return lazy_result(result, tables, checks)
