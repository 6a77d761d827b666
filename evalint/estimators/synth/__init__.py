"""Synthetic control family: Abadie SCM, augmented (ridge) SCM and synthetic DiD.

Public names
------------
SyntheticControl, synthetic_control, Predictor
    Abadie SCM: predictors, nested or regression-based V, simplex donor weights, in-space
    and in-time placebos, leave-one-out.
AugmentedSyntheticControl, augmented_synthetic_control, Conformal, JackknifePlus
    Ridge-augmented SCM (Ben-Michael, Feller & Rothstein 2021) with conformal or jackknife+
    inference.
SyntheticDiD, synthetic_did
    Synthetic difference-in-differences (Arkhangelsky et al. 2021); SC and DiD as special
    cases; placebo, bootstrap and jackknife variance; block and staggered designs.
simplex_least_squares
    The shared exact simplex-constrained weight solver.

See ``methods/synthetic_control.md``.
"""

from evalint.estimators.synth.augmented.estimator import AugmentedSyntheticControl, augmented_synthetic_control
from evalint.inference.conformal import Conformal, JackknifePlus
from evalint.estimators.synth.matrices import Predictor
from evalint.estimators.synth.scm.estimator import SyntheticControl, synthetic_control
from evalint.estimators.synth.sdid.estimator import SyntheticDiD, synthetic_did

# outcome= like every other estimator (the choice on a multi-outcome panel)
from evalint.estimators.base import accepts_outcome as _accepts_outcome  # noqa: E402

synthetic_did = _accepts_outcome(synthetic_did)
from evalint.estimators.synth.simplex import simplex_least_squares

__all__ = [
    "AugmentedSyntheticControl",
    "Conformal",
    "JackknifePlus",
    "Predictor",
    "SyntheticControl",
    "SyntheticDiD",
    "augmented_synthetic_control",
    "simplex_least_squares",
    "synthetic_control",
    "synthetic_did",
]
