"""The shared inference layer: declarations, the one dispatcher and its handlers, Wald statistics.

Importing the package registers every built-in handler (each handler module registers its own
with :func:`~evalint.inference.dispatch.register_inference`).
"""

from evalint.inference import ar_noise as _ar_noise  # noqa: F401  (registers its handlers)
from evalint.inference import conformal as _conformal  # noqa: F401  (registers its handlers)
from evalint.inference import contrasts as _contrasts  # noqa: F401  (registers its handlers)
from evalint.inference import influence as _influence  # noqa: F401  (registers its handlers)
from evalint.inference import placebo_rank as _placebo_rank  # noqa: F401  (registers its handlers)
from evalint.inference import replicates as _replicates  # noqa: F401  (registers its handlers)
from evalint.inference import sieve as _sieve  # noqa: F401  (registers its handlers)
from evalint.inference import time_series as _time_series  # noqa: F401  (registers its handlers)
from evalint.inference.conformal import Conformal, JackknifePlus
from evalint.inference.dispatch import infer, register_inference
from evalint.inference.normal import critical_value, wald
from evalint.inference.permutation import ConleyTaber
from evalint.inference.specs import (
    Analytic, ARErrors, ARNoiseErrors, Bootstrap, Clustered, InferenceSpec, Jackknife, MultiplierBootstrap,
    NeweyWest, Placebo, SieveBootstrap, WildClusterBootstrap, require_supported,
)

__all__ = [
    "wald", "critical_value", "InferenceSpec", "Analytic", "NeweyWest", "ARErrors", "Clustered",
    "WildClusterBootstrap", "MultiplierBootstrap", "Placebo", "Jackknife", "Bootstrap",
    "require_supported", "ConleyTaber", "SieveBootstrap", "ARNoiseErrors", "Conformal", "JackknifePlus", "infer",
    "register_inference",
]
