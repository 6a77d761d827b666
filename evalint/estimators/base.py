"""What every estimator shares: the protocol, the registry, and the calendar hook.

Estimators are frozen dataclasses holding hyperparameters only (checked in
``__post_init__``). ``fit(panel, *, inference=None, calendar=None, alpha=0.05)`` returns a
new :class:`~evalint.results.EffectResult`; it never mutates the estimator or the data.

Register an estimator with :func:`register_estimator` so the contract test suite
(``tests/contract``) runs it: the class must provide ``contract_example()`` returning
``(estimator, panel, fit_kwargs)`` on a small simulated panel.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from evalint import _deferred
from evalint.data.guards import require_outcome, require_panel, require_varying
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import InferenceError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["Estimator", "ESTIMATORS", "register_estimator", "get_estimator", "calendar_check",
           "seeded_inference", "accepts_seed", "accepts_outcome"]


@runtime_checkable
class Estimator(Protocol):
    """The estimator protocol."""

    name: ClassVar[str]

    def fit(self, panel: Panel, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> EffectResult: ...


ESTIMATORS: dict[str, type] = {}


def register_estimator(cls: type) -> type:
    """Class decorator: add ``cls`` to :data:`ESTIMATORS` under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise SpecificationError(f"{cls.__name__} needs a class attribute `name` to be registered.")
    if not hasattr(cls, "contract_example"):
        raise SpecificationError(f"{cls.__name__} needs a `contract_example()` classmethod to be registered.")
    ESTIMATORS[name] = cls
    _guard_fit(cls)
    return cls


_TEMPLATE_FILE = os.path.join(os.path.dirname(__file__), "template.py")

#: how many guarded ``fit`` calls are running: inner fits (placebos, refits) are not re-checked
_FIT_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("evalint_fit_depth", default=0)


def _fit_keeping_warning_sites(fit: Any, self: Any, args: tuple, kwargs: dict) -> Any:
    """Call ``fit``; its warnings keep pointing where they pointed without the guard's frame.

    An estimator warns with a ``stacklevel`` counted from its ``fit``; the guard adds one frame,
    which would move every warning one frame inwards (onto this module). The warnings are
    recorded and re-issued one frame further out, with the caller's filters and registry.
    """
    import sys
    import warnings

    guard_frame = sys._getframe(1)
    recorded: list[Any] = []
    # the fit template adds frames (run_fit, _fit_core) between fit and the estimator's code: a
    # warning landing in the template, or on the line of fit that hands over to it, is meant for
    # fit's caller, as one landing on the guard is
    code = getattr(fit, "__code__", None)
    lines = [ln for *_, ln in code.co_lines() if ln is not None] if code is not None else []
    span = (code.co_filename, min(lines), max(lines)) if lines and hasattr(self, "run_fit") else None
    try:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                return fit(self, *args, **kwargs)
            finally:
                recorded = list(rec)
    finally:
        outer = []
        f = guard_frame.f_back
        while f is not None:
            outer.append(f)
            f = f.f_back
        for w in recorded:
            target = None
            if w.filename in (__file__, _TEMPLATE_FILE) or (
                    span is not None and w.filename == span[0] and span[1] <= w.lineno <= span[2]):
                target = outer[0] if outer else None  # pointed at the guard/template: its caller is meant
            else:
                for i, fr in enumerate(outer):
                    if fr.f_code.co_filename == w.filename and fr.f_lineno == w.lineno:
                        target = outer[i + 1] if i + 1 < len(outer) else fr
                        break
            if target is None:  # a site inside the fit: unchanged
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
            else:
                g = target.f_globals
                warnings.warn_explicit(w.message, w.category, target.f_code.co_filename, target.f_lineno,
                                       module=g.get("__name__"), registry=g.setdefault("__warningregistry__", {}),
                                       source=w.source)


#: registry name -> the public function users call, for messages
_PUBLIC_NAMES = {"its_count": "count_its", "its_segmented": "segmented_regression", "its_controlled": "controlled_its",
                 "imputation": "imputation_did", "bacon": "bacon_decomposition", "dose": "dose_response"}


def _guard_fit(cls: type) -> None:
    """Wrap ``cls.fit`` so a user's call is checked first: a Panel, and a valid ``outcome``."""
    fit = cls.fit
    if getattr(fit, "_evalint_guarded", False):
        return
    where = _PUBLIC_NAMES.get(cls.name, cls.name)

    @functools.wraps(fit)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = _FIT_DEPTH.get()
        if depth == 0:
            panel = args[0] if args else kwargs.get("panel")
            require_panel(panel, where)
            outcome = kwargs.get("outcome")
            if outcome is None:
                own = getattr(self, "outcome", None)
                outcome = own if isinstance(own, str) else None
            require_outcome(panel, outcome, where, kwargs.get("comparison_outcome"))
            require_varying(panel, outcome, where)
        token = _FIT_DEPTH.set(depth + 1)
        try:
            if depth:
                return fit(self, *args, **kwargs)
            return _fit_keeping_warning_sites(fit, self, args, kwargs)
        except np.linalg.LinAlgError as exc:
            if depth:
                raise
            raise InferenceError(
                f"{where}: the linear algebra of the fit failed ({exc}). This usually means collinear "
                "covariates or fixed effects (a covariate constant within units, a unit with one period), "
                "or values so large that the arithmetic overflows. Check the covariates and the panel's "
                "values; Panel.describe() shows the panel."
            ) from exc
        finally:
            _FIT_DEPTH.reset(token)

    guarded._evalint_guarded = True  # type: ignore[attr-defined]
    cls.fit = guarded  # type: ignore[attr-defined]


@contextlib.contextmanager
def trusted_fits() -> Any:
    """Inside, estimator fits skip the user-input checks (evaluate() chooses outcomes itself)."""
    token = _FIT_DEPTH.set(_FIT_DEPTH.get() + 1)
    try:
        yield
    finally:
        _FIT_DEPTH.reset(token)


def get_estimator(name: str) -> type:
    """The registered estimator class called ``name``."""
    if name not in ESTIMATORS:
        _deferred.load()  # the estimator modules register on import (evalint._deferred)
    if name not in ESTIMATORS:
        raise SpecificationError(f"estimator {name!r} is not registered; known: {', '.join(sorted(ESTIMATORS))}.")
    return ESTIMATORS[name]


def calendar_check(
    panel: Panel,
    intervention: Any,
    *,
    outcome: str | None = None,
    pre: int | None = None,
    post: int | None = None,
    treated_units: Sequence[Any] | None = None,
    comparison_units: Sequence[Any] | None = None,
    calendar: Any = None,
    design: str | None = None,
) -> tuple[CheckResult | None, tuple[Flag, ...]]:
    """Run the policy-calendar check for a fit; return (check, flags).

    ``calendar=False`` skips it (the result then says so in its diagnostics);
    ``None`` uses :meth:`PolicyCalendar.default`. The outcome's registered kind name is
    what the calendar matches on (``emergency_admissions``...). ``pre``/``post`` default
    to the panel's periods before and after the (earliest/latest) intervention.
    """
    if calendar is False:
        return CheckResult("policy_calendar", None, "policy calendar check switched off (calendar=False)"), ()
    from evalint.calendar import PolicyCalendar

    cal = PolicyCalendar.default() if calendar is None or calendar is True else calendar
    outcome = outcome or panel.outcome
    kind = panel.outcome_kinds[outcome].name if outcome in panel.outcome_kinds else outcome
    periods = panel.periods
    if isinstance(intervention, Mapping):
        dates = [panel.period(v) for v in intervention.values()]
        first, last = min(dates), max(dates)
        inter = {u: panel.period(v) for u, v in intervention.items()}
    else:
        first = last = panel.period(intervention)
        inter = first
    if pre is None:
        pre = max(int((first - periods[0]).n), 1)
    if post is None:
        post = max(int((periods[-1] - last).n) + 1, 1)
    check = cal.check(inter, outcome=kind, pre=pre, post=post, freq=panel.freq,
                      treated_units=treated_units, comparison_units=comparison_units, design=design)
    return check, tuple(check.flags)


@dataclasses.dataclass(frozen=True)
class SeededDefault:
    """The estimator's own default inference, with ``seed`` for it when that default draws at random.

    For estimators whose default is chosen from the data at fit time (the fixed-effects
    regressions: the wild cluster bootstrap below 50 clusters, CR1 above), ``seed=`` cannot name
    a spec up front; this marker carries the seed to where the default is chosen.
    """

    seed: int


def seeded_inference(inference: Any, seed: Any, where: str, default: Any = None) -> Any:
    """The inference spec ``seed=`` asks for: the one way in for a randomised estimator's seed.

    ``inference=None`` takes ``default`` (a random spec class such as MultiplierBootstrap, or
    None when the estimator's default draws nothing); a spec with a ``seed`` field gets
    ``seed``; a spec seeded differently, or one that draws nothing, is a SpecificationError
    naming where the seed goes.
    """

    if seed is None:
        return inference
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecificationError(f"{where}: seed must be a non-negative integer; got {seed!r}.")
    if inference is None:
        if default is None:
            raise SpecificationError(
                f"{where}: seed={seed}: the default inference draws nothing at random, so there is nothing to "
                f"seed. For a bootstrap pass inference=WildClusterBootstrap(seed={seed}); otherwise drop seed=."
            )
        return default(seed=seed)
    fields = {f.name for f in dataclasses.fields(inference)} if dataclasses.is_dataclass(inference) else set()
    if "seed" not in fields:
        raise SpecificationError(
            f"{where}: seed={seed}: inference={type(inference).__name__}() draws nothing at random, so there is "
            "nothing to seed. Drop seed=, or choose a bootstrap/placebo inference and give it the seed."
        )
    own = getattr(inference, "seed", None)
    default_seed = next((f.default for f in dataclasses.fields(inference) if f.name == "seed"), None)
    if own not in (default_seed, seed):
        raise SpecificationError(
            f"{where}: seed={seed} and inference={type(inference).__name__}(seed={own}) disagree; give the seed "
            "once, either as seed= or inside the inference spec."
        )
    return dataclasses.replace(inference, seed=seed)


def accepts_seed(fn: Any, default: Any = None) -> Any:
    """Give a public estimator function a ``seed=`` keyword routed by :func:`seeded_inference`."""
    import inspect

    @functools.wraps(fn)
    def with_seed(*args: Any, seed: Any = None, **kwargs: Any) -> Any:
        if seed is not None:
            kwargs["inference"] = seeded_inference(kwargs.get("inference"), seed, fn.__name__, default)
        return fn(*args, **kwargs)

    sig = inspect.signature(fn)
    if "seed" not in sig.parameters:
        params = list(sig.parameters.values())
        extra = inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None)
        tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
        head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        with_seed.__signature__ = sig.replace(parameters=[*head, extra, *tail])  # type: ignore[attr-defined]
    return with_seed


def accepts_outcome(fn: Any) -> Any:
    """Give a public estimator function without one an ``outcome=`` keyword (``panel.with_outcome``)."""
    import inspect

    @functools.wraps(fn)
    def with_outcome(panel: Any, *args: Any, outcome: str | None = None, **kwargs: Any) -> Any:
        if outcome is not None:
            require_panel(panel, fn.__name__)
            require_outcome(panel, outcome, fn.__name__)
            panel = panel.with_outcome(outcome)
        return fn(panel, *args, **kwargs)

    sig = inspect.signature(fn)
    if "outcome" not in sig.parameters:
        params = list(sig.parameters.values())
        extra = inspect.Parameter("outcome", inspect.Parameter.KEYWORD_ONLY, default=None)
        tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
        head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        with_outcome.__signature__ = sig.replace(parameters=[*head, extra, *tail])  # type: ignore[attr-defined]
    return with_outcome


def check_options(function: str, estimator_cls: type, options: Mapping[str, Any],
                  also: Sequence[str] = ("inference", "calendar", "alpha")) -> None:
    """Refuse keyword options that ``estimator_cls`` (a dataclass) does not take, naming them.

    The convenience wrappers pass ``**options`` to the estimator's constructor; a misspelt option
    (``treated=`` for ``unit=``, ``intervention=`` to an estimator that reads the panel's cohorts)
    becomes a :class:`~evalint.errors.SpecificationError` listing the options and the closest
    match, instead of a bare ``TypeError`` from ``__init__``.
    """
    import difflib

    names = [f.name for f in dataclasses.fields(estimator_cls) if f.init]
    unknown = sorted(set(options) - set(names))
    if unknown:
        close = difflib.get_close_matches(unknown[0], [*names, *also], n=1)
        raise SpecificationError(
            f"{function} got unknown option(s) {', '.join(map(repr, unknown))}"
            f"{f'; did you mean {close[0]!r}?' if close else '.'} Options: {', '.join([*names, *also])}.")
