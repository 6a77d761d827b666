"""Standard errors from replicate estimates, through :class:`ReplicateRefit`.

The handlers :func:`evalint.inference.dispatch.infer` runs for an estimator that can
re-estimate its effect on reassigned, resampled or left-out units (the synthetic DiD family):

- ``Placebo``: treatment reassigned at random to control units ``reps`` times;
  ``V = (B-1)/B var(tau_b)`` (Arkhangelsky et al. 2021, Algorithm 4);
- ``Bootstrap``: units resampled with replacement; ``V = (B-1)/B var(tau_b)`` (Algorithm 2);
- ``Jackknife``: each unit left out in turn; ``V = (N-1)/N sum (tau_(-i) - mean)^2``
  (Algorithm 3; Efron & Stein 1981).

The one random generator is built here from the spec's ``seed`` (numpy ``default_rng``) and
handed to the estimator's callback, so results are identical run to run. Each handler returns
a :class:`~evalint.inference.interface.ReplicateEstimate`.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021). Synthetic
    Difference-in-Differences. American Economic Review 111(12), 4088-4118, Algorithms 2-4.
Efron, B. & Stein, C. (1981). The jackknife estimate of variance. Annals of Statistics 9(3),
    586-596.
"""

from __future__ import annotations

import numpy as np

from evalint.inference.dispatch import register_inference
from evalint.inference.interface import ReplicateEstimate, ReplicateRefit
from evalint.inference.specs import Bootstrap, Jackknife, Placebo

__all__ = ["replicate_se", "jackknife_se", "DEFAULT_PLACEBO_REPS"]

#: placebo replications when ``Placebo(reps=None)`` and the estimator names no other number
DEFAULT_PLACEBO_REPS = 200


def replicate_se(replicates: np.ndarray) -> float:
    """``sqrt((B-1)/B var(tau_b))``: the SD of the replicates with divisor ``B``."""
    return float(np.std(replicates, ddof=0))


def jackknife_se(replicates: np.ndarray) -> float:
    """``sqrt((N-1)/N sum (tau_(-i) - mean)^2)`` over the ``N`` leave-one-out estimates."""
    est = np.asarray(replicates, dtype=float)
    n = est.size
    return float(np.sqrt((n - 1) / n * np.sum((est - est.mean()) ** 2)))


@register_inference(Placebo, ReplicateRefit)
def _placebo(spec: Placebo, fit: ReplicateRefit, *, default_reps: int = DEFAULT_PLACEBO_REPS) -> ReplicateEstimate:
    reps = default_reps if spec.reps is None else spec.reps
    est = fit.placebo_replicates(reps, np.random.default_rng(spec.seed))
    return ReplicateEstimate("placebo", replicate_se(est), est, reps, spec.seed, fit.replicate_note("placebo", reps))


@register_inference(Bootstrap, ReplicateRefit)
def _bootstrap(spec: Bootstrap, fit: ReplicateRefit, **_: object) -> ReplicateEstimate:
    est = fit.bootstrap_replicates(spec.reps, np.random.default_rng(spec.seed))
    return ReplicateEstimate("bootstrap", replicate_se(est), est, spec.reps, spec.seed,
                             fit.replicate_note("bootstrap", spec.reps))


@register_inference(Jackknife, ReplicateRefit)
def _jackknife(spec: Jackknife, fit: ReplicateRefit, **_: object) -> ReplicateEstimate:
    est = fit.jackknife_replicates()
    return ReplicateEstimate("jackknife", jackknife_se(est), est, None, None, fit.replicate_note("jackknife", None))
