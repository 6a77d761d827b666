"""The one inference dispatcher: a declared spec plus what the estimator provides -> inference.

Estimators declare what they support, as linearmodels' covariance classes are chosen by name
and applied to any fitted model:

- ``supported_inference`` (a ClassVar: the spec classes the estimator accepts, the first
  being its default family) and ``inference_label`` (the name refusals use);
- ``default_inference(self)``: the spec used for ``inference=None`` (it may read the
  estimator's hyperparameters; ``None`` means the core chooses from the data, as TWFE does
  between CR1 and the wild cluster bootstrap by the number of clusters).

:func:`resolve_inference` turns ``inference=`` into a supported spec (or refuses with the
supported list, :func:`~evalint.inference.specs.require_supported`); an estimator that declares
``inference_interface`` (a Protocol of :mod:`evalint.inference.interface` or of a handler module)
also accepts every spec registered for that interface.

:func:`infer` is the one entry point an estimator calls with its spec and what it hands over
(scores and bread, influence functions, refit callbacks): it runs the handler registered with
:func:`register_inference` for the spec's class and the interface the object satisfies. The
handlers live in :mod:`~evalint.inference.time_series` (ITS), :mod:`~evalint.inference.replicates`
(synthetic DiD), :mod:`~evalint.inference.placebo_rank` (synthetic control),
:mod:`~evalint.inference.conformal` (augmented SC), :mod:`~evalint.inference.influence`
(imputation, Callaway-Sant'Anna), :mod:`~evalint.inference.permutation` (Conley-Taber),
:mod:`~evalint.inference.contrasts` (TWFE, event study, dose: CR1/CR2 and the restricted wild
cluster bootstrap on a ``ClusteredLinearFit``) and here (``Clustered``/``Analytic`` on a
``LinearFit``). A new spec for a family is a handler registered for that family's interface: no
estimator edit. For least-squares estimators, :func:`linear_covariance` turns the spec plus the
fit's :class:`~evalint.inference.interface.LinearFit` interface (scores, bread) and one cluster
label per row into the cluster-robust covariance (:mod:`~evalint.inference.cluster`), and
:class:`ContrastInference` is a contrast's estimate, standard error, degrees of freedom, p-value
and interval.

References
----------
Sheppard, K. et al. linearmodels (covariance estimators as classes applied to a fit).
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50(2), 317-372.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, overload, runtime_checkable

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.inference.cluster import ClusterVcov, cluster_vcov
from evalint.inference.interface import LinearFit
from evalint.inference.specs import Analytic, Clustered, InferenceSpec, require_supported

__all__ = ["SupportsInference", "resolve_inference", "ContrastInference", "linear_covariance",
           "supported_names", "register_inference", "registered_specs", "infer"]

#: (spec class, interface the estimator hands over, handler) in registration order
_RULES: list[tuple[type, type, Callable[..., Any]]] = []


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


@overload
def register_inference(spec: type, interface: type) -> Callable[[_Handler], _Handler]: ...


@overload
def register_inference(spec: type, interface: type, handler: _Handler) -> _Handler: ...


def register_inference(spec: type, interface: type, handler: Callable[..., Any] | None = None) -> Any:
    """Register how ``spec`` turns a fit seen through ``interface`` into inference.

    ``handler(spec, fit, **context)`` receives the spec instance, the estimator's object (an
    instance of ``interface``, a runtime-checkable Protocol of
    :mod:`evalint.inference.interface`) and the keywords the estimator passes to :func:`infer`;
    what it returns is what :func:`infer` returns (each interface documents it). Every estimator
    whose ``inference_interface`` is ``interface`` (or a sub-Protocol of it) then accepts
    ``inference=spec(...)`` without an edit of its own. A later registration of the same pair
    replaces the earlier one. Usable as a decorator: ``@register_inference(MySpec, TimeSeriesFit)``.
    """
    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        _RULES[:] = [r for r in _RULES if not (r[0] is spec and r[1] is interface)]
        _RULES.append((spec, interface, fn))
        return fn

    if handler is None:
        return add
    return add(handler)


def registered_specs(interface: type | None) -> tuple[type, ...]:
    """The spec classes registered for ``interface`` (or a Protocol it extends), in registration order."""
    if interface is None:
        return ()
    out: list[type] = []
    for spec, iface, _ in _RULES:
        if iface in getattr(interface, "__mro__", (interface,)) and spec not in out:
            out.append(spec)
    return tuple(out)


def infer(spec: InferenceSpec, fit: Any, **context: Any) -> Any:
    """Run the handler registered for ``spec``'s class (nearest in its MRO) and ``fit``'s interface.

    Raises
    ------
    SpecificationError
        No handler is registered for the spec and what the estimator handed over.
    """
    for cls in type(spec).__mro__:
        for spec_cls, iface, handler in reversed(_RULES):
            if spec_cls is cls and isinstance(fit, iface):
                return handler(spec, fit, **context)
    raise SpecificationError(
        f"No inference is registered for {type(spec).__name__} on {type(fit).__name__}; register one "
        "with evalint.inference.dispatch.register_inference(spec class, interface, handler).")


@runtime_checkable
class SupportsInference(Protocol):
    """An estimator that declares its inference."""

    supported_inference: ClassVar[tuple[type, ...]]

    def default_inference(self) -> InferenceSpec | None:
        """The spec used for ``inference=None`` (``None``: chosen by the core from the data)."""
        ...


def _label(estimator: Any) -> str:
    cls = estimator if isinstance(estimator, type) else type(estimator)
    label = getattr(cls, "inference_label", None) or getattr(cls, "name", None) or cls.__name__
    return str(label)


def supported_names(estimator: Any) -> tuple[str, ...]:
    """The names of the spec classes ``estimator`` (class or instance) supports."""
    cls = estimator if isinstance(estimator, type) else type(estimator)
    return tuple(t.__name__ for t in getattr(cls, "supported_inference", ()))


def resolve_inference(estimator: Any, inference: InferenceSpec | None, *,
                      supported: Sequence[type] | None = None) -> Any:
    """The spec a fit runs: ``inference`` if the estimator supports it, else its default.

    Parameters
    ----------
    estimator : SupportsInference
        The estimator instance (its ``default_inference()`` is called for ``None``).
    inference : InferenceSpec or None
    supported : sequence of spec classes, optional
        Narrower than the estimator's ``supported_inference`` (a code path that runs only some).

    Raises
    ------
    SpecificationError
        The spec is not supported; the message names the estimator and the supported specs.
    """
    spec = inference
    if spec is None:
        default = getattr(estimator, "default_inference", None)
        spec = default() if callable(default) else None
        if spec is None:
            return None
    if supported is not None:
        allowed = tuple(supported)
    else:
        allowed = tuple(getattr(estimator, "supported_inference", ()))
        extra = registered_specs(getattr(estimator, "inference_interface", None))
        allowed += tuple(t for t in extra if t not in allowed and isinstance(spec, t))
    return require_supported(_label(estimator), spec, allowed)


@dataclass(frozen=True)
class ContrastInference:
    """Inference on one contrast ``c'b`` of a linear fit.

    Attributes
    ----------
    estimate, se : float
        ``c'b`` and its cluster-robust standard error (CR1 under the wild bootstrap).
    df : float
        Degrees of freedom of the t reference (``G - 1`` for CR1, Satterthwaite for CR2).
    p_value : float
    ci : (float, float)
    reps : int or None
        Bootstrap replications (``2^G`` when enumerated), None for analytic inference.
    enumerated : bool or None
        Whether the wild bootstrap enumerated every Rademacher sign vector.
    """

    estimate: float
    se: float
    df: float
    p_value: float
    ci: tuple[float, float]
    reps: int | None = None
    enumerated: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (keys ``estimate, se, df, p_value, ci`` and, bootstrapped, ``reps, enumerated``)."""
        out: dict[str, Any] = {"estimate": self.estimate, "se": self.se, "df": self.df,
                               "p_value": self.p_value, "ci": self.ci}
        if self.reps is not None:
            out.update(reps=self.reps, enumerated=self.enumerated)
        return out


def linear_covariance(fit: LinearFit, clusters: np.ndarray | pd.Series, spec: InferenceSpec,
                      default_small_sample: str) -> ClusterVcov:
    """The cluster-robust covariance a linear spec asks for (CR1 under the wild bootstrap)."""
    kind = spec.kind if isinstance(spec, Clustered) else "CR1"
    rule = spec.small_sample if isinstance(spec, Clustered) else default_small_sample
    return cluster_vcov(fit, clusters, kind=kind, small_sample=rule)


def _cluster_robust(spec: InferenceSpec, fit: LinearFit, *, clusters: np.ndarray | pd.Series,
                    small_sample: str | None = None, default_small_sample: str = "nested") -> ClusterVcov:
    """``infer(Clustered | Analytic, LinearFit, clusters=...)``: the cluster-robust covariance.

    ``Clustered(kind=...)`` (``Analytic``: CR1); the CR1 small-sample rule is the estimator's
    fixed ``small_sample`` when it passes one (Sun-Abraham's fixest rule, the Bacon TWFE's
    CR1S), else the spec's, else ``default_small_sample``.
    """
    kind = spec.kind if isinstance(spec, Clustered) else "CR1"
    rule = small_sample or (spec.small_sample if isinstance(spec, Clustered) else default_small_sample)
    return cluster_vcov(fit, clusters, kind=kind, small_sample=rule)


register_inference(Clustered, LinearFit, _cluster_robust)
register_inference(Analytic, LinearFit, _cluster_robust)
