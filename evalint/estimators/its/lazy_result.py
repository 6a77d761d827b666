"""An :class:`~evalint.results.effect.EffectResult` whose tables and checks are built on first access.

An ITS fit's estimate, interval and p-value come straight from the model; its tables (the
counterfactual series, per-period effects, coefficients, rate ratios) and its residual
diagnostics (with the flags they raise) cost several times the fit itself. A fleet of fits
(hundreds of trusts x outcomes) that reads only the headline should not pay for them, so the ITS
estimators return this subclass: the same fields, the same values, each group computed once, when
any of its fields is first read (``effects``, ``coefficients``, ``series``, ``tables``; or
``diagnostics``, ``flags``). Pickling, copying, ``dataclasses.replace`` and ``repr`` build
everything first, so the object behaves as a plain EffectResult everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalint.results.effect import EffectResult

__all__ = ["LazyEffectResult", "lazy_result"]

#: field -> the group that builds it
_GROUPS = {"effects": "tables", "coefficients": "tables", "series": "tables", "tables": "tables",
           "diagnostics": "checks", "flags": "checks"}
_BUILDERS = "_evalint_lazy_builders"


class _Deferred:
    """Non-data descriptor: the instance's own value once built (it then shadows this)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        d = obj.__dict__
        if self.name not in d:
            _build(obj, _GROUPS[self.name])
        return d[self.name]


def _build(obj: Any, group: str) -> None:
    builders = obj.__dict__.get(_BUILDERS) or {}
    make = builders.pop(group, None)
    if make is None:  # pragma: no cover - a field neither built nor deferred cannot happen
        raise AttributeError(group)
    for name, value in make().items():
        obj.__dict__.setdefault(name, value)  # a value already set (e.g. by object.__setattr__) is kept


class LazyEffectResult(EffectResult):
    """EffectResult with its ``tables`` and ``checks`` field groups built on first access."""

    effects = _Deferred()
    coefficients = _Deferred()
    series = _Deferred()
    tables = _Deferred()
    diagnostics = _Deferred()
    flags = _Deferred()

    def materialise(self) -> LazyEffectResult:
        """Build every deferred field now; returns self."""
        for group in list(self.__dict__.get(_BUILDERS) or {}):
            _build(self, group)
        return self

    def __getstate__(self) -> dict[str, Any]:
        self.materialise()
        return {k: v for k, v in self.__dict__.items() if k != _BUILDERS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        self.materialise()
        return super().__repr__()


def lazy_result(result: EffectResult, tables: Callable[[], dict[str, Any]],
                checks: Callable[[], dict[str, Any]]) -> LazyEffectResult:
    """``result`` as a :class:`LazyEffectResult` whose table fields come from ``tables()`` and whose
    ``diagnostics``/``flags`` come from ``checks()``, each called once, on first access."""
    out = object.__new__(LazyEffectResult)
    state = {k: v for k, v in result.__dict__.items() if k not in _GROUPS}
    state[_BUILDERS] = {"tables": tables, "checks": checks}
    out.__dict__.update(state)
    return out
