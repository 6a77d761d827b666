"""Shared type aliases and the one validator for string options."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from evalint.errors import SpecificationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["FloatArray", "IntArray", "check_option", "check_positive_int", "check_alpha"]


def check_option(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise a clear error.

    Parameters
    ----------
    name : str
        Argument name, for the message.
    value : Any
        The value given.
    allowed : iterable of str
        Accepted values.
    """
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise SpecificationError(
            f"{name}={value!r} is not supported. Choose one of: {', '.join(map(repr, allowed))}."
        )
    return value


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``; else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SpecificationError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` if it is a float strictly between 0 and 0.5; else raise."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise SpecificationError(f"alpha must be a number in (0, 0.5); got {alpha!r}.") from None
    if not 0 < a < 0.5:
        raise SpecificationError(
            f"alpha must be in (0, 0.5) (e.g. 0.05 for 95% intervals); got {alpha!r}."
        )
    return a
