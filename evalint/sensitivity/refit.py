"""Refitting an estimator on a changed panel: the shared machinery of the robustness checks.

Placebo-in-time, negative-control and leave-one-out checks all refit the *same* design on a
changed input (an earlier date, another outcome, one comparison unit fewer). This module turns
an estimator name or a user's function into one calling convention, re-times a panel's treated
units, and reads an :class:`~evalint.results.EffectResult` on a scale where "no effect" is 0.

Only the estimators' public functions and the results' public attributes are used.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint.data import Panel
from evalint.errors import SpecificationError, TreatmentError, format_examples

#: Estimators that take the intervention date as an argument (one series, or ``unit=``).
DATE_ESTIMATORS = ("its", "count_its", "segmented_regression")
#: Estimators that read treated units and their start from the panel's treatment timing.
TIMING_ESTIMATORS = ("synthetic_control", "twfe", "callaway_santanna", "sun_abraham", "imputation_did",
                     "event_study")
ESTIMATORS = DATE_ESTIMATORS + TIMING_ESTIMATORS


@dataclass(frozen=True)
class Design:
    """One design, callable as ``fit(panel, intervention)``.

    Attributes
    ----------
    name : str
        The estimator's name (``"custom"`` for a user's function).
    uses_timing : bool
        True when the treated units and their start come from the panel's cohorts (synthetic
        control, DiD); the refits then get a re-timed panel.
    fit : callable
        ``fit(panel, intervention) -> EffectResult``.
    """

    name: str
    uses_timing: bool
    fit: Callable[[Panel, pd.Period], Any]


def resolve_design(estimator: str | Callable[..., Any], options: Mapping[str, Any],
                   uses_timing: bool | None = None) -> Design:
    """The design as ``fit(panel, intervention)``.

    Parameters
    ----------
    estimator : str or callable
        One of :data:`ESTIMATORS` (its public function is called with ``options``; refits skip
        the policy-calendar check unless ``calendar=`` is in ``options``), or a function
        ``fit(panel, intervention) -> EffectResult``.
    options : mapping
        Keyword arguments for the estimator.
    uses_timing : bool, optional
        For a function: whether it reads treatment from the panel's cohorts. Defaults to
        whether the panel has treatment timing (decided by the caller).
    """
    import evalint.estimators.its as its_mod
    from evalint.estimators import did, synth

    opts = dict(options)
    opts.setdefault("calendar", False)
    if callable(estimator) and not isinstance(estimator, str):
        return Design("custom", bool(uses_timing), lambda p, d: estimator(p, d))
    if not isinstance(estimator, str) or estimator not in ESTIMATORS:
        raise SpecificationError(
            f"estimator={estimator!r} is not known. Pass one of {format_examples(ESTIMATORS, limit=20)}, "
            "or a function fit(panel, intervention) -> EffectResult."
        )
    if estimator in DATE_ESTIMATORS:
        fn = getattr(its_mod, estimator)
        return Design(estimator, False, lambda p, d: fn(p, d, **opts))
    fn = getattr(synth if estimator == "synthetic_control" else did, estimator)
    return Design(estimator, True, lambda p, d: fn(p, **opts))


def treated_and_start(panel: Panel, treated: Any, intervention: Any) -> tuple[list[Any], pd.Period | None]:
    """The treated units and the common start, from the arguments or the panel's timing.

    Raises
    ------
    TreatmentError
        When the treated units start at different periods (a staggered adoption) and no
        ``intervention`` was given, or a named unit is not in the panel.
    """
    units = set(panel.units)
    if treated is not None:
        tr = [treated] if isinstance(treated, (str, int, np.integer)) else list(treated)
        missing = [u for u in tr if u not in units]
        if missing:
            raise TreatmentError(f"treated= names unit(s) not in the panel: {format_examples(missing)}. "
                                 f"Units: {format_examples(list(panel.units), limit=10)}.")
    elif panel.timing is not None:
        tr = list(panel.timing.treated_units)
    else:
        tr = []
    start = panel.period(intervention, "intervention") if intervention is not None else None
    if start is None and panel.timing is not None and len(panel.timing.treated_units):
        coh = panel.timing.cohort.reindex(tr).dropna() if tr else panel.timing.cohort.dropna()
        starts = sorted(set(coh))
        if len(starts) > 1:
            first = coh.groupby(coh).apply(lambda s: list(s.index)[:3])
            shown = "; ".join(f"{k}: {format_examples(v, 3)}" for k, v in first.items())
            raise TreatmentError(
                f"The treated units start at {len(starts)} different periods ({shown}). These checks "
                "shift one common start date; pass intervention= (the date to shift) and treated= "
                "(the units starting then), or subset the panel to one adoption cohort."
            )
        start = starts[0] if starts else None
    return tr, start


def without_other_treated(panel: Panel, treated: Sequence[Any]) -> tuple[Panel, list[Any]]:
    """The panel without units treated in its timing but not in ``treated`` (and those units).

    Refits re-time only ``treated``; a unit treated at another date must not become a control.
    """
    if panel.timing is None:
        return panel, []
    chosen = set(treated)
    other = [u for u in panel.timing.treated_units if u not in chosen]
    if not other:
        return panel, []
    return panel.subset(units=[u for u in panel.units if u not in set(other)]), other


def retime(panel: Panel, treated: Sequence[Any], start: pd.Period | None) -> Panel:
    """A copy of ``panel`` whose ``treated`` units are first treated at ``start`` (others never).

    The input panel is not changed; the treatment column, if any, is replaced by cohorts
    (:meth:`~evalint.data.panel.Panel.with_timing`).
    """
    cohort = {u: start for u in treated} if start is not None else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return panel.with_timing(cohort)


def check_level(alpha: Any) -> float:
    """``alpha`` as a float strictly between 0 and 1 (the level of a check's tests)."""
    ok = isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool)
    if not (ok and 0 < float(alpha) < 1):
        raise SpecificationError(f"alpha={alpha!r} must be a number between 0 and 1 (e.g. 0.05).")
    return float(alpha)


def check_once(name: str, values: Sequence[Any]) -> None:
    """Refuse a list naming an item twice (it would be refitted, counted or adjusted for twice)."""
    seen: set[Any] = set()
    twice = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if twice:
        raise SpecificationError(f"{name}= lists {format_examples(list(dict.fromkeys(twice)))} more than once; "
                                 "list each once.")


def check_count(name: str, value: Any) -> int:
    """A whole number of periods (``2.5`` is refused, not truncated to 2; ``'6'`` is 6, as ``int``
    read it before these checks)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecificationError(f"{name}={value!r} must be a whole number of periods.")
    return int(value)


def effect_scale(result: Any) -> tuple[float, bool]:
    """(null value, log scale?) of a result: rate ratios have null 1 and are compared in logs."""
    ratio = "ratio" in str(getattr(result, "scale", "")).lower()
    return (1.0, True) if ratio else (0.0, False)


def centred(value: float, log: bool) -> float:
    """``log(value)`` for ratios (``nan`` if not positive), else the value itself."""
    if not log:
        return float(value)
    return float(np.log(value)) if value > 0 else float("nan")


def result_row(result: Any, alpha: float) -> dict[str, Any]:
    """The headline numbers of an EffectResult as a flat row."""
    missing = [a for a in ("estimate", "se", "ci", "p_value") if not hasattr(result, a)]
    if missing:
        raise SpecificationError(
            f"the estimator returned {type(result).__name__}, which has no {', '.join(missing)}: a function "
            "passed as estimator= must return an EffectResult (e.g. evalint.twfe(panel, ...)).")
    lo, hi = result.ci
    return {"estimate": float(result.estimate), "std_error": float(result.se), "conf_low": float(lo),
            "conf_high": float(hi), "p_value": float(result.p_value),
            "significant": bool(np.isfinite(result.p_value) and result.p_value < alpha)}
