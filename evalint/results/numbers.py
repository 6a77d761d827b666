"""Numbers as text: one formatter for every number of a report (:func:`fmt`), and p-values
honest to the procedure that produced them (:func:`fmt_p`).

A p-value from ``B`` random placebo, permutation or bootstrap draws cannot be smaller than
``1/(B + 1)``; anything below is an artefact (e.g. a normal approximation to a placebo SE), so
it is shown as a bound: "p < 0.033 (1/31)".
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SIG", "fmt", "fmt_ci", "fmt_level", "fmt_p", "p_value_draws"]

#: significant figures of every number in a report
SIG = 3

#: inference names whose p-value comes from a finite set of random draws
_DRAWN = ("placebo", "permutation", "bootstrap", "randomi")


def fmt(x: Any, sig: int = SIG) -> str:
    """Every number of the report: ``sig`` significant figures, thousands grouped, no exponent
    between 1e-4 and 1e15; "" for missing values.

    Examples: -41.336 -> "-41.3", -2.8095 -> "-2.81", -104431.65 -> "-104,000", 0.000999 -> "0.000999".
    """
    if x is None or isinstance(x, str):
        return "" if x is None else x
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return ""
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag < -4 or mag >= 15:
        return f"{v:.{sig - 1}e}"
    decimals = sig - 1 - mag
    r = round(v, decimals)
    if r != 0 and math.floor(math.log10(abs(r))) > mag:  # 9.996 -> 10.0: one digit fewer after the point
        decimals -= 1
        r = round(v, decimals)
    return f"{r:,.{max(decimals, 0)}f}"


def fmt_ci(lo: Any, hi: Any, unit: str = "") -> str:
    """"lo to hi" with one formatter ("" when either end is missing)."""
    a, b = fmt(lo), fmt(hi)
    return f"{a}{unit} to {b}{unit}" if a and b else ""


def fmt_level(alpha: float) -> str:
    """The confidence level of ``1 - alpha`` intervals in per cent, never rounded to a wrong level:
    0.05 -> "95", 0.1 -> "90", 0.025 -> "97.5" (not "98"), 0.005 -> "99.5" (not "100")."""
    return f"{(1 - float(alpha)) * 100:.10g}"


def _fmt(x: float) -> str:
    return fmt(x, 2)


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


