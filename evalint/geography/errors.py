"""Typed errors of :mod:`evalint.geography` (all :class:`~evalint.errors.EvalintError`)."""

from __future__ import annotations

from evalint.errors import DataError, SpecificationError

__all__ = ["UnknownCodeError", "UnsupportedVintageError", "AmbiguousSuccessionError"]


class UnknownCodeError(DataError, KeyError):
    """An organisation or area code that the lookup of the chosen geography does not hold."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class UnsupportedVintageError(SpecificationError):
    """A geography vintage (boundary set) that evalint has no lookup for."""


class AmbiguousSuccessionError(DataError):
    """A predecessor organisation split into several successors, so a code cannot be mapped
    to one successor without being told which."""
