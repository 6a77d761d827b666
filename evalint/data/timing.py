"""Treatment timing: cohorts, never-treated units and relative time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["TreatmentTiming"]


@dataclass(frozen=True)
class TreatmentTiming:
    """When each unit was first treated.

    Attributes
    ----------
    cohort : pandas.Series
        Index = unit id, value = first treated period (``pd.Period``) or ``NaT`` for
        never-treated units. Treatment is absorbing: once treated, always treated.
    freq : str
        The panel's frequency code.
    """

    cohort: pd.Series
    freq: str

    @property
    def never_treated(self) -> pd.Index:
        """Units never treated in the data."""
        return cast(pd.Index, self.cohort.index[self.cohort.isna()])

    @property
    def treated_units(self) -> pd.Index:
        """Units treated at some point in the data."""
        return cast(pd.Index, self.cohort.index[self.cohort.notna()])

    @property
    def cohorts(self) -> list[pd.Period]:
        """Distinct first-treatment periods, earliest first."""
        return sorted(self.cohort.dropna().unique())

    @property
    def cohort_sizes(self) -> pd.Series:
        """Number of units in each cohort (index: cohort period)."""
        return self.cohort.dropna().value_counts().sort_index()

    @property
    def is_staggered(self) -> bool:
        """True when treated units start in more than one period."""
        return len(self.cohorts) > 1

    def cohort_ordinal(self) -> pd.Series:
        """Cohort as an integer period ordinal (NaN for never treated)."""
        return cast(pd.Series, pd.Series(_ordinals(self.cohort), index=self.cohort.index, name=self.cohort.name))

    def relative_time(self, units: pd.Series, times: pd.Series) -> pd.Series:
        """Periods since first treatment for each (unit, time) row; NaN if never treated.

        0 is the first treated period, -1 the last untreated one.
        """
        # plain floats: a nullable unit column (Int64, pyarrow strings) maps to a nullable
        # result whose pd.NA a 0/1 indicator cannot hold
        start = units.map(self.cohort_ordinal()).to_numpy(dtype=float, na_value=np.nan)
        rel: pd.Series = pd.Series(_ordinals(times) - start, index=times.index, name="rel_time")
        return rel

    def treated_indicator(self, units: pd.Series, times: pd.Series) -> pd.Series:
        """0/1 indicator of being treated in each (unit, time) row."""
        rel = self.relative_time(units, times)
        return cast(pd.Series, (rel >= 0).astype(int).rename("treated"))


def _ordinals(values: pd.Series) -> np.ndarray:
    """Period ordinals as floats (NaN for NaT), vectorised for period-dtype input."""
    if isinstance(values.dtype, pd.PeriodDtype):
        arr = values.array
        return np.where(arr.isna(), np.nan, arr.asi8.astype(float))
    return np.array([np.nan if pd.isna(p) else float(p.ordinal) for p in values], dtype=float)
