"""Which column a DiD estimator clusters by, and how the summary names it.

An explicit choice in the inference specification wins (``Clustered(by=...)``,
``WildClusterBootstrap(by=...)``, ``MultiplierBootstrap(cluster=...)``); otherwise the
panel's declared ``cluster`` role (``Panel.from_frame(..., cluster="icb")``); otherwise the
unit. Clustering at the level at which treatment is assigned is what the design calls for
(Abadie, Athey, Imbens & Wooldridge 2023): when ICBs adopt a policy, practices in the same
ICB share the assignment and the ICB's shocks, and unit-clustered SEs understate the
uncertainty (see methods/did.md, "Clustering").

References
----------
Abadie, A., Athey, S., Imbens, G. W. & Wooldridge, J. M. (2023). When should you adjust
    standard errors for clustering? Quarterly Journal of Economics 138(1), 1-35.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import InferenceError, column_not_found, format_examples

__all__ = ["cluster_column", "cluster_phrase", "unit_cluster_labels", "with_cluster"]


def cluster_column(panel: Any, spec: Any = None) -> str:
    """The column to cluster by: the spec's explicit choice, the panel's cluster, else the unit."""
    explicit = getattr(spec, "by", None) if hasattr(spec, "by") else getattr(spec, "cluster", None)
    if explicit:
        return str(explicit)
    return getattr(panel, "cluster", None) or panel.unit


def with_cluster(spec: Any, by: str) -> Any:
    """``spec`` with its cluster field set to ``by`` (so its description names it)."""
    if spec is None:
        return None
    if hasattr(spec, "by") and dataclasses.is_dataclass(spec):
        return dataclasses.replace(spec, by=by)
    if hasattr(spec, "cluster") and dataclasses.is_dataclass(spec):
        return dataclasses.replace(spec, cluster=by)
    return spec


def cluster_phrase(by: str, n_clusters: int) -> str:
    """``"clustered by icb (42 clusters)"``."""
    return f"clustered by {by} ({n_clusters} clusters)"


def unit_cluster_labels(panel: Any, by: str, units: Any) -> np.ndarray:
    """One cluster label per unit in ``units`` (a column of the panel constant within unit).

    Raises
    ------
    ColumnNotFoundError
        ``by`` is not a panel column.
    InferenceError
        ``by`` changes within a unit, or a unit has no label.
    """
    units = pd.Index(units)
    if by == panel.unit:
        return units.to_numpy()
    data = panel.data
    if by not in data.columns:
        raise column_not_found(by, "cluster", list(data.columns))
    per_unit = data.groupby(panel.unit, sort=False)[by].nunique()
    if (per_unit > 1).any():
        bad = list(per_unit.index[per_unit > 1])
        raise InferenceError(f"cluster column {by!r} changes over time within {len(bad)} unit(s) "
                             f"({format_examples(bad)}); clusters must contain whole units.")
    labels = data.groupby(panel.unit, sort=False)[by].first().reindex(units)
    if labels.isna().any():
        raise InferenceError(f"cluster column {by!r} has no label for {int(labels.isna().sum())} unit(s).")
    return labels.to_numpy()
