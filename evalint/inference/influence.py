"""Inference from influence functions summed within clusters, through :class:`ClusterInfluence`.

An estimator that is (asymptotically) linear in cluster contributions hands over, for each
estimand, one contribution per cluster ``psi_g`` (the influence function summed within the
cluster, scaled so that ``sum_g psi_g`` is the estimate's deviation). The analytic cluster-robust
variance is then ``sum_g psi_g^2`` (Liang & Zeger 1986), with a normal reference: the variance
the imputation estimator's Theorem 3 gives (Borusyak, Jaravel & Spiess 2024), and that of any
estimator reduced to such contributions. Handlers registered for this interface:
``Analytic`` and ``Clustered`` (CR1 form, no small-sample factor).

An estimator whose influence functions are per unit (``n x k``, Callaway-Sant'Anna's) hands
over a :class:`UnitInfluence` (the values on request, and cluster codes per unit or ``None``);
the handlers (``MultiplierBootstrap``, ``Analytic``, ``Clustered``) return an
:class:`InfluencePlan`: the inference in words and the standard errors (and sup-t band
critical value) of any influence matrix, by :func:`~evalint.inference.multiplier.influence_se`
or :func:`~evalint.inference.multiplier.multiplier_bootstrap` with the spec's one seed. The
estimator keeps the plan and runs every aggregation's (and the ATT(g,t) cells') standard errors
through it; a handler registered for :class:`UnitInfluence` returns an :class:`InfluencePlan`
(a subclass may override :meth:`InfluencePlan.standard_errors` and
:meth:`InfluencePlan.cell_standard_errors`).

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230 (multiplier bootstrap, sup-t bands).
Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear models.
    Biometrika 73(1), 13-22.
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. Review of Economic Studies 91(6), 3253-3285, Theorem 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from evalint.inference.dispatch import register_inference
from evalint.inference.multiplier import influence_se, multiplier_bootstrap, sup_t_critical
from evalint.inference.specs import Analytic, Clustered, InferenceSpec, MultiplierBootstrap

__all__ = ["ClusterInfluence", "InfluenceInference", "cluster_sum_se", "UnitInfluence", "InfluencePlan"]


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


@runtime_checkable
class UnitInfluence(Protocol):
    """Per-unit influence functions with one cluster code per unit.

    Attributes
    ----------
    cluster : (n,) int array or None
        Cluster codes 0..G-1 per unit (``None``: units independent).
    n_clusters : int or None
    cluster_label : str or None
        The column clustered by (for the description).
    """

    @property
    def cluster(self) -> np.ndarray | None: ...

    @property
    def n_clusters(self) -> int | None: ...

    @property
    def cluster_label(self) -> str | None: ...

    def influence_values(self) -> Any:
        """The ``n x k`` influence function (an array or a structured influence operator)."""
        ...


@dataclass(frozen=True)
class InfluencePlan:
    """How a :class:`UnitInfluence` is turned into inference, and the arithmetic itself.

    Attributes
    ----------
    spec : InferenceSpec
    name, description : str
        The inference in words (the result's ``inference``).
    clusters, reps, seed : int or None
    cluster : (n,) int array or None
    """

    spec: InferenceSpec
    name: str
    description: str
    clusters: int | None
    reps: int | None
    seed: int | None
    cluster: np.ndarray | None

    def standard_errors(self, psi: Any, alpha: float = 0.05, seed_offset: int = 0
                        ) -> tuple[np.ndarray, float | None]:
        """SEs of the columns of ``psi`` and (multiplier bootstrap, uniform) the sup-t critical
        value over columns 1... (column 0 being the overall estimate)."""
        spec = self.spec
        if isinstance(spec, MultiplierBootstrap):
            seed = None if spec.seed is None else spec.seed + seed_offset
            bd = multiplier_bootstrap(psi, reps=spec.reps, seed=seed, alpha=alpha, cluster=self.cluster)
            crit = None
            if spec.uniform and bd.se.shape[0] > 1:
                crit = sup_t_critical(bd.draws[:, 1:], bd.se[1:], alpha)
            return bd.se, crit
        return influence_se(psi, self.cluster), None

    def cell_standard_errors(self, psi: Any, alpha: float = 0.05, bootstrap: bool = False,
                             seed_offset: int = 1) -> tuple[np.ndarray, float | None]:
        """SEs of every column of ``psi`` (the ATT(g,t) cells) and, when ``bootstrap`` asks for
        the multiplier bootstrap of the cells (uniform), the sup-t critical value over all columns;
        otherwise the analytic (cluster-robust) SEs."""
        spec = self.spec
        if isinstance(spec, MultiplierBootstrap) and bootstrap:
            seed = None if spec.seed is None else spec.seed + seed_offset
            bd = multiplier_bootstrap(psi, reps=spec.reps, seed=seed, alpha=alpha, cluster=self.cluster)
            return bd.se, (bd.crit_value if spec.uniform else None)
        return influence_se(psi, self.cluster), None


def _phrase(fit: UnitInfluence) -> str:
    return f"clustered by {fit.cluster_label} ({fit.n_clusters} clusters)"


@register_inference(MultiplierBootstrap, UnitInfluence)
def _multiplier(spec: MultiplierBootstrap, fit: UnitInfluence) -> InfluencePlan:
    c = f", {_phrase(fit)}" if fit.cluster is not None else ""
    return InfluencePlan(spec, "MultiplierBootstrap",
                         f"multiplier bootstrap on influence functions ({spec.reps} reps, Rademacher weights, "
                         f"seed {spec.seed}{c}); SE = IQR/1.349; simultaneous bands by sup-t",
                         fit.n_clusters, spec.reps, spec.seed, fit.cluster)


def _unit_analytic(spec: InferenceSpec, fit: UnitInfluence) -> InfluencePlan:
    if fit.cluster is not None:
        return InfluencePlan(spec, "Clustered", f"cluster-robust influence-function SEs, {_phrase(fit)}, "
                             "normal reference", fit.n_clusters, None, None, fit.cluster)
    return InfluencePlan(spec, "Analytic", "analytic influence-function SEs (units independent), normal reference",
                         None, None, None, None)


register_inference(Analytic, UnitInfluence, _unit_analytic)
register_inference(Clustered, UnitInfluence, _unit_analytic)
