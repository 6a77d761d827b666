"""How an :class:`~evalint.evaluate.core.Evaluation` is rendered: a registry the report layer fills.

The evaluate layer does not import the report (a higher layer): :mod:`evalint.report`
registers its renderers here when it is imported (on the first lookup, through the loader the
package root adds to :mod:`evalint._deferred`), and
``Evaluation.summary()``, ``Evaluation.figures()`` and ``Evaluation.report(path)`` look them up.

* ``register_renderer(kind, fn)``: ``"text"`` (``fn(ev) -> str``, the plain-text summary) and
  ``"figures"`` (``fn(ev, jobs=...) -> list``, the report's figures, drawn once);
* ``register_writer(suffixes, fn)``: ``fn(ev, path)`` writes a report file whose name ends in
  one of ``suffixes`` (``.html``, ``.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evalint import _deferred
from evalint.errors import SpecificationError

__all__ = ["register_renderer", "register_writer", "renderer", "writer", "writer_suffixes"]

_RENDERERS: dict[str, Callable[..., Any]] = {}
#: (suffixes, writer) in registration order; the first suffix of each names it in messages
_WRITERS: list[tuple[tuple[str, ...], Callable[..., Any]]] = []


def register_renderer(kind: str, fn: Callable[..., Any]) -> None:
    """Register the renderer of ``kind`` (``"text"``, ``"figures"``); a later one replaces it."""
    _RENDERERS[kind] = fn


def register_writer(suffixes: Sequence[str], fn: Callable[..., Any]) -> None:
    """Register ``fn(ev, path)`` for report files ending in ``suffixes`` (lower case, with the dot)."""
    sfx = tuple(s.lower() for s in suffixes)
    _WRITERS[:] = [(s, f) for s, f in _WRITERS if not set(s) & set(sfx)]
    _WRITERS.append((sfx, fn))


def _missing(what: str) -> SpecificationError:
    return SpecificationError(f"no {what} is registered: import evalint.report (``import evalint`` does) "
                              "to render an evaluation.")


def renderer(kind: str) -> Callable[..., Any]:
    """The registered renderer of ``kind``."""
    _deferred.load()  # the report registers itself on first use (evalint._deferred)
    if kind not in _RENDERERS:
        raise _missing(f"{kind!r} renderer")
    return _RENDERERS[kind]


def writer_suffixes() -> tuple[str, ...]:
    """The first suffix of every registered writer (``(".html", ".md")``)."""
    _deferred.load()
    return tuple(s[0] for s, _ in _WRITERS)


def writer(suffix: str) -> Callable[..., Any] | None:
    """The writer of report files ending in ``suffix`` (``None`` when none is registered)."""
    _deferred.load()
    return next((f for s, f in _WRITERS if suffix.lower() in s), None)
