"""The shared inference layer: declarations and Wald statistics."""

from evalint.inference.normal import critical_value, wald
from evalint.inference.permutation import ConleyTaber
from evalint.inference.specs import (
    Analytic, ARErrors, ARNoiseErrors, Bootstrap, Clustered, InferenceSpec, Jackknife, MultiplierBootstrap,
    NeweyWest, Placebo, SieveBootstrap, WildClusterBootstrap, require_supported,
)

__all__ = [
    "wald", "critical_value", "InferenceSpec", "Analytic", "NeweyWest", "ARErrors", "Clustered",
    "WildClusterBootstrap", "MultiplierBootstrap", "Placebo", "Jackknife", "Bootstrap",
    "require_supported", "ConleyTaber", "SieveBootstrap", "ARNoiseErrors",
]
