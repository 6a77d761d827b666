"""p-values as text, honest to the procedure that produced them.

A p-value from ``B`` random placebo, permutation or bootstrap draws cannot be smaller than
``1/(B + 1)``; anything below is an artefact (e.g. a normal approximation to a placebo SE), so
it is shown as a bound: "p < 0.033 (1/31)".
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt_p", "p_value_draws"]

#: inference names whose p-value comes from a finite set of random draws
_DRAWN = ("placebo", "permutation", "bootstrap", "randomi")


def _fmt(x: float, sig: int = 2) -> str:
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(sig - 1 - mag, 0)
    return f"{round(x, decimals):,.{decimals}f}"


def p_value_draws(result: Any) -> int | None:
    """Number of random draws behind ``result``'s p-value when it comes from placebo,
    permutation or bootstrap draws (``InferenceInfo.draws``, else ``reps``); None otherwise."""
    info = getattr(result, "inference", None)
    if info is None:
        return None
    name = f"{getattr(info, 'name', '')} {getattr(info, 'description', '')}".lower()
    if not any(k in name for k in _DRAWN):
        return None
    n = getattr(info, "draws", None) or getattr(info, "reps", None)
    return int(n) if n else None


def fmt_p(p: Any, draws: int | None = None) -> str:
    """A p-value honest to its method.

    With ``draws`` random placebo/permutation/bootstrap draws the smallest p-value the draws
    can support is ``1/(draws + 1)``; anything at or below it is shown as a bound,
    "p < 0.032 (1/31)". Otherwise three significant figures, and "p < 0.0001" below that.

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
    case studies. JASA 105(490), 493-505 (rank p-values from J placebos: 1/(J+1) at best).
    Phipson, B. & Smyth, G.K. (2010). Permutation p-values should never be zero. Stat. Appl.
    Genet. Mol. Biol. 9(1), 39.
    """
    if p is None:
        return ""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    if draws:
        floor = 1.0 / (draws + 1)
        if v < floor * (1 - 1e-9):
            return f"p < {_ceil2(floor)} (1/{draws + 1})"
        if v <= floor * (1 + 1e-9):
            return f"p = 1/{draws + 1} = {_fmt(floor)}, the smallest possible"
        return f"p = {_fmt(v)} ({draws} draws)"
    if v < 1e-4:
        return "p < 0.0001"
    return f"p = {_fmt(v)}"


def _ceil2(x: float) -> str:
    """``x`` rounded up to two significant figures (a bound must not be rounded down)."""
    mag = math.floor(math.log10(x))
    step = 10.0 ** (mag - 1)
    return _fmt(math.ceil(x / step - 1e-9) * step)


