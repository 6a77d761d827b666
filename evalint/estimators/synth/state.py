"""The synthetic control and synthetic DiD result states (:class:`SCMState`, :class:`SDIDState`).

See :mod:`evalint.results.state` for what is state and what is display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from evalint.results.state import FamilyState

__all__ = ["SCMState", "SDIDState"]


@dataclass(frozen=True, eq=False)
class SCMState(FamilyState):
    """What an Abadie synthetic control fit leaves for downstream code, per treated unit.

    Attributes
    ----------
    weights : mapping of str -> pandas.Series
        Treated unit -> donor weights W (indexed by donor).
    v : mapping of str -> pandas.Series or None
        Treated unit -> predictor weights V (indexed by predictor); ``None`` without predictors.
    pre_mspe : mapping of str -> float
        Treated unit -> pre-period mean squared prediction error.
    """

    weights: Mapping[str, pd.Series]
    v: Mapping[str, pd.Series | None]
    pre_mspe: Mapping[str, float]


@dataclass(frozen=True, eq=False)
class SDIDState(FamilyState):
    """What a synthetic DiD / SC / DiD fit (Arkhangelsky et al. 2021) leaves for downstream code.

    Attributes
    ----------
    method : str
        ``"sdid"``, ``"sc"`` or ``"did"``.
    unit_weights : pandas.DataFrame
        Unit weights omega (columns ``unit``, ``weight``; plus ``cohort`` when adoption is
        staggered, one block per cohort).
    time_weights : pandas.DataFrame
        Time weights lambda (columns ``time``, ``weight``; plus ``cohort`` when staggered).
    effective_controls : float
        ``1 / sum(omega**2)`` of the first cohort: the number of equally weighted controls
        the unit weights amount to.
    effective_pre_periods : float
        ``1 / sum(lambda**2)`` of the first cohort (NaN when the time weights are all zero).
    """

    method: str
    unit_weights: pd.DataFrame
    time_weights: pd.DataFrame
    effective_controls: float
    effective_pre_periods: float
