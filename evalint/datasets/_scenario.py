"""Parse the scenario arguments of the simulators: adoption, intervention effects, shocks.

Everything here turns user arguments into arrays over (unit, month) and raises
:class:`~evalint.errors.SpecificationError` naming the argument, the rule and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint.data.timeparse import to_period
from evalint.errors import EvalintError, EvalintWarning, SpecificationError, format_examples
from evalint.outcomes import get_outcome

__all__ = ["resolve_outcome", "resolve_adoption", "effect_array", "shock_arrays", "ADOPTION_PRESETS"]

#: Named adoption schedules of the 42 ICBs.
ADOPTION_PRESETS = ("ics_golive_2022", "ics_waves")
_EFFECT_KEYS = ("level", "ramp", "by_cohort", "by_unit", "path")
_SHOCK_KEYS = ("start", "end", "outcome", "effect", "units", "regions")


def resolve_outcome(name: Any, allowed: Sequence[str], what: str) -> str:
    """Canonical outcome name (aliases such as ``"los"`` accepted) among ``allowed``."""
    try:
        canon = get_outcome(name).name if isinstance(name, str) else None
    except SpecificationError:
        canon = None
    if canon not in allowed:
        raise SpecificationError(
            f"{what}: {name!r} is not a simulated outcome. Use one of {', '.join(map(repr, allowed))}."
        )
    return canon


def _month(value: Any, what: str) -> pd.Period:
    try:
        return to_period(value, "M", what=what)
    except EvalintError as exc:
        raise SpecificationError(str(exc)) from None


def resolve_adoption(adoption: Any, units: pd.DataFrame, months: pd.PeriodIndex,
                     unit_col: str = "icb_code") -> list[pd.Period | None] | None:
    """First treated month of each unit (``None`` = never treated), or ``None`` for no adoption.

    Parameters
    ----------
    adoption : None, str, mapping or tuple
        ``None``; ``"ics_golive_2022"`` (every ICB at its statutory go-live, July 2022);
        ``"ics_waves"`` (each ICB at the month of its ICS designation, 2017-2021); a mapping
        ``{icb_code: date}``; or a tuple ``(codes, date)`` giving one date to one or more codes.
    units : DataFrame
        The simulated units (``unit_col``; for presets ``statutory_go_live`` and
        ``ics_designation_date``).
    months : PeriodIndex
        The simulated months.
    unit_col : str
        Unit id column of ``units``.
    """
    if adoption is None:
        return None
    codes = list(units[unit_col])
    if isinstance(adoption, str):
        if "statutory_go_live" not in units.columns:
            raise SpecificationError(f"adoption={adoption!r} is a preset for the 42 ICBs; here give "
                                     "a mapping {unit: first treated month}.")
        if adoption == "ics_golive_2022":
            raw = {c: d for c, d in zip(codes, units["statutory_go_live"])}
        elif adoption == "ics_waves":
            raw = {c: d for c, d in zip(codes, units["ics_designation_date"])}
        else:
            raise SpecificationError(
                f"adoption={adoption!r} is not a preset. Use one of {', '.join(map(repr, ADOPTION_PRESETS))}, "
                "a mapping {icb_code: first treated month} or a tuple (codes, month)."
            )
    elif isinstance(adoption, Mapping):
        raw = dict(adoption)
    elif isinstance(adoption, tuple) and len(adoption) == 2:
        who, when = adoption
        who = [who] if isinstance(who, str) else list(who)
        raw = {c: when for c in who}
    else:
        raise SpecificationError(
            f"adoption must be None, a preset name, a mapping {{icb_code: month}} or a tuple "
            f"(codes, month); got {type(adoption).__name__}."
        )
    unknown = [c for c in raw if c not in codes]
    if unknown:
        raise SpecificationError(
            f"adoption names unit(s) {format_examples(unknown)} that are not simulated. Simulated "
            f"units: {format_examples(codes, limit=42)}."
        )
    first, last = months[0], months[-1]
    cohorts: list[pd.Period | None] = []
    too_early, too_late = [], []
    for c in codes:
        if c not in raw or raw[c] is None or (not isinstance(raw[c], str) and pd.isna(raw[c])):
            cohorts.append(None)
            continue
        p = _month(raw[c], f"adoption month of {c!r}")
        if p <= first:
            too_early.append((c, p))
        if p > last:
            too_late.append(c)
            cohorts.append(None)
        else:
            cohorts.append(p)
    if too_early:
        shown = "; ".join(f"{c!r}: {p}" for c, p in too_early[:5])
        raise SpecificationError(
            f"adoption: {len(too_early)} unit(s) start treatment at or before the first simulated "
            f"month {first} ({shown}), leaving no untreated period. Set start= earlier, or leave "
            "those units out of the adoption mapping."
        )
    if too_late:
        warnings.warn(
            f"adoption: {len(too_late)} unit(s) start treatment after the last simulated month "
            f"{last} ({format_examples(too_late)}); they are never treated within the panel.",
            EvalintWarning, stacklevel=3,
        )
    return cohorts


@dataclass(frozen=True)
class _EffectSpec:
    level: float | None
    ramp: int
    by_cohort: Mapping[Any, float] | Callable[[pd.Period], float] | None
    by_unit: Mapping[str, float] | None
    path: tuple[float, ...] | None
    fn: Callable[..., Any] | None


def _number(value: Any, what: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not np.isfinite(value)):
        raise SpecificationError(f"{what} must be a finite number; got {value!r}.")
    return float(value)


def _parse_effect(outcome: str, spec: Any) -> _EffectSpec:
    what = f"effects[{outcome!r}]"
    if callable(spec):
        return _EffectSpec(None, 0, None, None, None, spec)
    if not isinstance(spec, Mapping):
        return _EffectSpec(_number(spec, what), 0, None, None, None, None)
    bad = [k for k in spec if k not in _EFFECT_KEYS]
    if bad:
        raise SpecificationError(
            f"{what} has unknown key(s) {format_examples(bad)}; allowed keys: {', '.join(_EFFECT_KEYS)}."
        )
    path = spec.get("path")
    if path is not None:
        if any(k in spec for k in ("level", "ramp", "by_cohort", "by_unit")):
            raise SpecificationError(f"{what}: 'path' gives the effect at each period since adoption; "
                                     "do not combine it with level/ramp/by_cohort/by_unit.")
        values = tuple(_number(v, f"{what}['path'] entry") for v in path)
        if not values:
            raise SpecificationError(f"{what}['path'] is empty; give at least one effect value.")
        return _EffectSpec(None, 0, None, None, values, None)
    ramp = spec.get("ramp", 0)
    if isinstance(ramp, bool) or not isinstance(ramp, (int, np.integer)) or ramp < 0:
        raise SpecificationError(f"{what}['ramp'] must be an integer >= 0 (periods to full effect); got {ramp!r}.")
    level = spec.get("level")
    by_cohort = spec.get("by_cohort")
    by_unit = spec.get("by_unit")
    if level is None and by_cohort is None and by_unit is None:
        raise SpecificationError(f"{what} needs 'level' (or 'by_cohort' / 'by_unit', or 'path').")
    if by_cohort is not None and not (callable(by_cohort) or isinstance(by_cohort, Mapping)):
        raise SpecificationError(f"{what}['by_cohort'] must be a mapping {{cohort month: effect}} or a callable.")
    if by_unit is not None and not isinstance(by_unit, Mapping):
        raise SpecificationError(f"{what}['by_unit'] must be a mapping {{icb_code: effect}}.")
    return _EffectSpec(None if level is None else _number(level, f"{what}['level']"), int(ramp),
                       by_cohort, by_unit, None, None)


def effect_array(outcome: str, spec: Any, codes: np.ndarray, cohorts: list[pd.Period | None],
                 rel: np.ndarray) -> np.ndarray:
    """Effect size per (unit, month): relative for counts, days for LOS; 0 where untreated.

    ``rel`` is months since adoption (NaN for never-treated units), shape (units, months).
    """
    es = _parse_effect(outcome, spec)
    out = np.zeros(rel.shape)
    treated = np.isfinite(rel) & (rel >= 0)
    if not treated.any():
        return out
    what = f"effects[{outcome!r}]"
    if es.fn is not None:
        ui, ti = np.nonzero(treated)
        cohort_str = np.array([str(cohorts[i]) for i in ui], dtype=object)
        try:
            vals = np.asarray(es.fn(rel[ui, ti].astype(np.int64), cohort_str, codes[ui]), dtype=float)
        except EvalintError:
            raise
        except Exception as exc:  # user callable failed: say which and how it is called
            raise SpecificationError(
                f"{what}: the callable raised {type(exc).__name__}: {exc}. It is called as "
                "f(rel_time, cohort, unit) with three equal-length arrays over the treated cells "
                "(int months since adoption, cohort 'YYYY-MM' strings, unit codes) and must return "
                "one effect per cell."
            ) from exc
        if vals.shape != ui.shape or not np.all(np.isfinite(vals)):
            raise SpecificationError(
                f"{what}: the callable must return {ui.size} finite values (one per treated cell); "
                f"got shape {vals.shape}."
            )
        out[ui, ti] = vals
        return out
    if es.path is not None:
        path = np.asarray(es.path)
        idx = np.minimum(np.where(treated, rel, 0).astype(np.int64), len(path) - 1)
        return np.where(treated, path[idx], 0.0)
    base = np.zeros(len(codes))
    cohort_map: dict[pd.Period, float] = {}
    if isinstance(es.by_cohort, Mapping):
        cohort_map = {_month(k, f"{what}['by_cohort'] key"): _number(v, f"{what}['by_cohort'][{k!r}]")
                      for k, v in es.by_cohort.items()}
    if es.by_unit is not None:
        unknown = [u for u in es.by_unit if u not in set(codes)]
        if unknown:
            raise SpecificationError(f"{what}['by_unit'] names unknown unit(s) {format_examples(unknown)}.")
    for i, (code, coh) in enumerate(zip(codes, cohorts)):
        if coh is None:
            continue
        if es.by_unit is not None and code in es.by_unit:
            base[i] = _number(es.by_unit[code], f"{what}['by_unit'][{code!r}]")
        elif callable(es.by_cohort):
            base[i] = _number(es.by_cohort(coh), f"{what}['by_cohort']({coh})")
        elif coh in cohort_map:
            base[i] = cohort_map[coh]
        elif es.level is not None:
            base[i] = es.level
        else:
            raise SpecificationError(
                f"{what}: unit {code!r} (cohort {coh}) gets no effect: it is not in 'by_unit' or "
                "'by_cohort' and no default 'level' is given. Add 'level'."
            )
    frac = np.ones(rel.shape) if es.ramp <= 1 else np.minimum(1.0, (np.where(treated, rel, 0) + 1) / es.ramp)
    return np.where(treated, base[:, None] * frac, 0.0)


def shock_arrays(shocks: Sequence[Mapping[str, Any]], outcomes: Sequence[str], codes: np.ndarray,
                 regions: np.ndarray, months: pd.PeriodIndex) -> dict[str, np.ndarray]:
    """Concurrent shocks per outcome, as arrays over (unit, month).

    Each shock is a mapping with ``start`` (first month), optional ``end`` (last month,
    inclusive; default: to the end), ``effect`` (relative change for counts, e.g. -0.08; days
    for length of stay; or a mapping outcome -> effect), optional ``outcome`` (one name or a
    list; default: the keys of an ``effect`` mapping, else every outcome), and optional
    ``units`` (ICB codes) and ``regions`` (NHS region names) to restrict it.

    Returns
    -------
    dict
        outcome -> array of summed log multipliers ``log(1 + effect)`` for counts, or summed
        days for length of stay; zeros where no shock applies.
    """
    if isinstance(shocks, Mapping):
        shocks = [shocks]
    out = {o: np.zeros((len(codes), len(months))) for o in outcomes}
    ords = np.array([p.ordinal for p in months])
    for k, shock in enumerate(shocks):
        what = f"shocks[{k}]"
        if not isinstance(shock, Mapping):
            raise SpecificationError(f"{what} must be a mapping with keys {', '.join(_SHOCK_KEYS)}; "
                                     f"got {type(shock).__name__}.")
        bad = [key for key in shock if key not in _SHOCK_KEYS]
        if bad:
            raise SpecificationError(f"{what} has unknown key(s) {format_examples(bad)}; "
                                     f"allowed: {', '.join(_SHOCK_KEYS)}.")
        if "start" not in shock or "effect" not in shock:
            raise SpecificationError(f"{what} needs 'start' (first month) and 'effect'.")
        start = _month(shock["start"], f"{what}['start']").ordinal
        end = _month(shock["end"], f"{what}['end']").ordinal if shock.get("end") is not None else ords[-1]
        if end < start:
            raise SpecificationError(f"{what}: 'end' is before 'start'.")
        effect = shock["effect"]
        sizes: dict[str, Any] = {}
        if isinstance(effect, Mapping):
            sizes = {resolve_outcome(o, outcomes, f"{what}['effect'] key"): v for o, v in effect.items()}
        targets = shock.get("outcome")
        if targets is None:
            targets = list(sizes) if sizes else list(outcomes)
        elif isinstance(targets, str):
            targets = [targets]
        targets = [resolve_outcome(t, outcomes, f"{what}['outcome']") for t in targets]
        if sizes and any(t not in sizes for t in targets):
            missing = [t for t in targets if t not in sizes]
            raise SpecificationError(f"{what}: 'effect' gives no size for outcome(s) {format_examples(missing)}.")
        unit_mask = np.ones(len(codes), dtype=bool)
        if shock.get("units") is not None:
            wanted = [shock["units"]] if isinstance(shock["units"], str) else list(shock["units"])
            unknown = [u for u in wanted if u not in set(codes)]
            if unknown:
                raise SpecificationError(f"{what}['units'] names unknown unit(s) {format_examples(unknown)}.")
            unit_mask &= np.isin(codes, wanted)
        if shock.get("regions") is not None:
            wanted = [shock["regions"]] if isinstance(shock["regions"], str) else list(shock["regions"])
            unknown = [r for r in wanted if r not in set(regions)]
            if unknown:
                raise SpecificationError(
                    f"{what}['regions'] names unknown region(s) {format_examples(unknown)}; regions: "
                    f"{format_examples(sorted(set(regions)), limit=10)}."
                )
            unit_mask &= np.isin(regions, wanted)
        time_mask = (ords >= start) & (ords <= end)
        cells = unit_mask[:, None] & time_mask[None, :]
        for o in targets:
            size = _number(sizes[o] if sizes else effect, f"{what}['effect']")
            if o == "length_of_stay":
                out[o] += np.where(cells, size, 0.0)
            else:
                if size <= -1:
                    raise SpecificationError(f"{what}: a relative effect on {o} must be > -1; got {size}.")
                out[o] += np.where(cells, np.log1p(size), 0.0)
    return out
