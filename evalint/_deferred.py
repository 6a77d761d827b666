"""Registrations deferred until a registry is first read, so that ``import evalint`` stays cheap.

Higher layers fill registries of lower ones when they are imported: the report its renderers
(:mod:`evalint.evaluate.renderers`), plotting the result plotter (:mod:`evalint.results.plots`),
the sensitivity layer the robustness checks (:mod:`evalint.evaluate.robustness`), and each
estimator module the estimator registry (:mod:`evalint.estimators.base`). ``import evalint``
imports none of them (they pull in pandas, SciPy and the estimators, about a second); instead the
package root adds one loader here, and a registry calls :func:`load` before it is read, which
imports those packages once. Every import stays downward: this module imports nothing of
evalint, and the loader is the package root's own function.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["add_loader", "load"]

_LOADERS: list[Callable[[], None]] = []


def add_loader(loader: Callable[[], None]) -> None:
    """Run ``loader()`` (once) the next time a registry is read."""
    _LOADERS.append(loader)


def load() -> None:
    """Run the pending loaders, each once (a loader that reads a registry does not re-enter)."""
    while _LOADERS:
        _LOADERS.pop(0)()
