"""Inference from influence functions summed within clusters, through :class:`ClusterInfluence`.

An estimator that is (asymptotically) linear in cluster contributions hands over, for each
estimand, one contribution per cluster ``psi_g`` (the influence function summed within the
cluster, scaled so that ``sum_g psi_g`` is the estimate's deviation). The analytic cluster-robust
variance is then ``sum_g psi_g^2`` (Liang & Zeger 1986), with a normal reference: the variance
the imputation estimator's Theorem 3 gives (Borusyak, Jaravel & Spiess 2024), and that of any
estimator reduced to such contributions. Handlers registered for this interface:
``Analytic`` and ``Clustered`` (CR1 form, no small-sample factor).

References
----------
Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear models.
    Biometrika 73(1), 13-22.
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. Review of Economic Studies 91(6), 3253-3285, Theorem 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from evalint.inference.dispatch import register_inference
from evalint.inference.specs import Analytic, Clustered, InferenceSpec

__all__ = ["ClusterInfluence", "InfluenceInference", "cluster_sum_se"]


@runtime_checkable
class ClusterInfluence(Protocol):
    """Per-cluster influence contributions of one or more estimands.

    Attributes
    ----------
    contributions : sequence of (G,) arrays
        One array per estimand: each cluster's contribution ``psi_g``.
    n_clusters : int
    """

    @property
    def contributions(self) -> Sequence[np.ndarray]: ...

    @property
    def n_clusters(self) -> int: ...


@dataclass(frozen=True)
class InfluenceInference:
    """Standard errors of the estimands (in the order given) and the t df (``None``: normal)."""

    se: tuple[float, ...]
    df: float | None
    name: str


def cluster_sum_se(psi: np.ndarray) -> float:
    """``sqrt(sum_g psi_g^2)``: the cluster-robust standard error from cluster contributions."""
    return float(np.sqrt((np.asarray(psi) ** 2).sum()))


def _analytic(spec: InferenceSpec, fit: ClusterInfluence) -> InfluenceInference:
    return InfluenceInference(tuple(cluster_sum_se(psi) for psi in fit.contributions), None, spec.name)


register_inference(Analytic, ClusterInfluence, _analytic)
register_inference(Clustered, ClusterInfluence, _analytic)
