"""The result of a simulation: the panel, its long frame and the known truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from evalint._typing import check_option
from evalint.data.panel import Panel
from evalint.datasets._calibration import OUTCOMES
from evalint.datasets._scenario import resolve_outcome
from evalint.errors import SpecificationError

__all__ = ["SimulatedPanel"]


@dataclass(frozen=True)
class SimulatedPanel:
    """A simulated panel and its known truth.

    Attributes
    ----------
    panel : Panel
        Outcomes ``emergency_admissions``, ``length_of_stay``, ``delayed_discharges`` (with
        those outcome kinds), ``population``, weights ``spells``; cohorts when adoption is set.
    data : pandas.DataFrame
        The long frame behind the panel, with names, regions, ``days_in_month``, ``cohort``
        and ``treated`` (when adoption is set).
    truth : pandas.DataFrame
        One row per unit, month and outcome: ``unit, month, outcome, cohort, rel_time,
        treated, expected_without, expected_with, effect, effect_relative``.
    settings : dict
        The arguments that produced it (seed included).
    """

    panel: Panel
    data: pd.DataFrame
    truth: pd.DataFrame
    settings: Mapping[str, Any] = field(default_factory=dict)

    def att(self, outcome: str, by: Literal["cohort", "rel_time", "month"] | None = None) -> pd.DataFrame:
        """The true average effect on the treated over treated (post-adoption) cells.

        Parameters
        ----------
        outcome : str
            ``"emergency_admissions"``, ``"length_of_stay"`` or ``"delayed_discharges"``.
        by : {None, "cohort", "rel_time", "month"}
            ``None``: one row over all treated cells (the Callaway-Sant'Anna "simple" ATT on a
            balanced panel: every treated unit-month weighs the same). ``"cohort"``: per
            adoption cohort ("group"); ``"rel_time"``: per month since adoption ("dynamic",
            event time 0 = first treated month); ``"month"``: per calendar month ("calendar").

        Returns
        -------
        pandas.DataFrame
            ``n_cells``; ``att`` (mean absolute effect per cell, natural scale);
            ``att_relative`` (sum of effects / sum of expected_without: the % change in the
            treated total); ``mean_relative`` (mean of the cell-level relative effects);
            ``expected_without`` and ``expected_with`` (cell means).
        """
        name = resolve_outcome(outcome, OUTCOMES, "att(outcome=...)")
        if by is not None:
            check_option("by", by, ("cohort", "rel_time", "month"))
        t = self.truth
        cells = t.loc[(t["outcome"] == name) & (t["treated"] == 1)]
        if cells.empty:
            raise SpecificationError(
                "att(): no treated cells. Simulate with adoption= (e.g. 'ics_waves' or "
                "{'QHG': '2019-04'}) to have an effect to average."
            )
        def summarise(g: pd.DataFrame) -> pd.Series:
            return pd.Series({
                "n_cells": len(g),
                "att": g["effect"].mean(),
                "att_relative": g["effect"].sum() / g["expected_without"].sum(),
                "mean_relative": g["effect_relative"].mean(),
                "expected_without": g["expected_without"].mean(),
                "expected_with": g["expected_with"].mean(),
            })
        if by is None:
            out = summarise(cells).to_frame().T
        else:
            key = cells[by].astype(int) if by == "rel_time" else cells[by]
            rows = {k: summarise(g) for k, g in cells.groupby(key, sort=True)}
            out = pd.DataFrame(rows).T
            out.index.name = by
            out = out.reset_index()
        out["n_cells"] = out["n_cells"].astype(int)
        return out.reset_index(drop=True)

    def true_effects(self, outcome: str) -> pd.DataFrame:
        """The truth rows of one outcome in treated cells (a copy)."""
        name = resolve_outcome(outcome, OUTCOMES, "true_effects(outcome=...)")
        t = self.truth
        return t.loc[(t["outcome"] == name) & (t["treated"] == 1)].reset_index(drop=True)
