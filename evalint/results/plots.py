"""Where :meth:`EffectResult.plot() <evalint.results.EffectResult.plot>` finds its plot function.

``results`` sits below ``plotting`` in the layer order, so it cannot import it. Instead the
plotting package registers its dispatcher here when it is imported
(``evalint.plotting`` calls :func:`register_result_plotter` with
:func:`evalint.plotting.plot_result`); ``import evalint`` does not import it, but adds a loader to
:mod:`evalint._deferred` that :func:`result_plotter` runs first. So any process that imported
evalint can call ``result.plot()``; a process where nothing registered gets an error saying to
import :mod:`evalint.plotting`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalint import _deferred
from evalint.errors import SpecificationError

__all__ = ["ResultPlotter", "register_result_plotter", "result_plotter"]

#: ``plotter(result, kind=None, **kwargs) -> matplotlib Figure``
ResultPlotter = Callable[..., Any]

_REGISTERED: list[ResultPlotter] = []


def register_result_plotter(plotter: ResultPlotter) -> None:
    """Make ``plotter`` the function :meth:`EffectResult.plot` calls (the last registered wins)."""
    if not callable(plotter):
        raise SpecificationError(
            f"the result plotter must be callable; got {type(plotter).__name__}.")
    _REGISTERED.append(plotter)


def result_plotter() -> ResultPlotter:
    """The registered result plotter.

    Raises
    ------
    SpecificationError
        None is registered (``evalint.plotting`` was not imported).
    """
    _deferred.load()  # evalint.plotting registers itself on first use (evalint._deferred)
    if not _REGISTERED:
        raise SpecificationError(
            "no plotting function is registered for results; import evalint.plotting "
            "(import evalint does) before calling result.plot().")
    return _REGISTERED[-1]
