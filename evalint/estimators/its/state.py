"""The interrupted-time-series result state (:class:`ITSState`), read by downstream code.

See :mod:`evalint.results.state` for what is state and what is display.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalint.results.state import FamilyState

__all__ = ["ITSState"]


@dataclass(frozen=True, eq=False)
class ITSState(FamilyState):
    """What a single-series ITS fit leaves for downstream code.

    Attributes
    ----------
    unit : str
        The unit whose series was fitted.
    model : str
        The fitted model (``"ols"``, ``"gls_ar"``, ``"quasi_poisson"``, ``"quasi_poisson_ar"``,
        ``"poisson"``, ``"negative_binomial"``...).
    pearson_dispersion : float or None
        Pearson chi-square over residual df of a Poisson-family fit; ``None`` otherwise.
    ar_coefficients : tuple of float
        The AR error coefficients of a GLS-AR or quasi-Poisson-AR fit (empty otherwise).
    """

    unit: str
    model: str
    pearson_dispersion: float | None = None
    ar_coefficients: tuple[float, ...] = ()
