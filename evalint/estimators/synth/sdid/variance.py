"""Variance of synthetic DiD, SC and DiD estimates: Arkhangelsky et al. (2021), Algorithms 2-4.

Each algorithm re-estimates the same design on resampled or reassigned units:

* **Bootstrap** (Algorithm 2): draw ``N`` units with replacement (redraw when the sample
  has no treated or no control unit), re-estimate the weights (penalties fixed at the
  full-sample values, Frank-Wolfe started from the full-sample weights) and the effect;
  ``V = (B-1)/B * var(tau_b)``. Needs more than one treated unit.
* **Jackknife** (Algorithm 3): drop each unit in turn, keep the full-sample weights (unit
  weights renormalised over the remaining controls) and recompute the effect;
  ``V = (N-1)/N * sum (tau_(-i) - mean)^2``. Needs more than one treated unit in every
  cohort and more than one control with positive weight. Not recommended for SC (paper,
  Section 5).
* **Placebo** (Algorithm 4): permute the control units, give the last ``N_tr`` of them the
  treated units' adoption dates, estimate the placebo effect on controls only;
  ``V = (B-1)/B * var(tau_b)``. The only option with one treated unit; needs more
  controls than treated units, and rests on homoskedasticity across units.

This module holds the replications (the estimator's refits); the standard errors are worked
out from them by :mod:`evalint.inference.replicates`, which the estimator reaches through
:func:`evalint.inference.dispatch.infer` with a :class:`SdidReplicates` (a
:class:`~evalint.inference.interface.ReplicateRefit`). Replications of equal shape are solved
together as one batch of weight problems
(:func:`evalint.estimators.synth.sdid.core.replicate_estimates`), which is what makes 200
placebo replications cost little more than one fit. Randomness comes from the spec's one ``seed``
through :func:`numpy.random.default_rng` (built by the inference layer), so results are
identical run to run.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118,
Section 5 and Algorithms 2-4.
Clarke, D., Pailanir, D., Athey, S. & Imbens, G. (2023). On synthetic
difference-in-differences and related estimation methods in Stata. IZA DP 16437
(the staggered-adoption versions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalint._typing import FloatArray, check_positive_int
from evalint.errors import InferenceError
from evalint.estimators.synth.sdid.core import (
    DesignFit,
    SdidSettings,
    block_tau,
    padded_replicate_estimates,
    replicate_estimates,
)

__all__ = ["VARIANCE_METHODS", "SdidReplicates"]

VARIANCE_METHODS = ("placebo", "bootstrap", "jackknife")


def _treated(fit: DesignFit) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rows = np.concatenate([c.treated_rows for c in fit.cohorts])
    sizes = [(c.start, c.treated_rows.size) for c in fit.cohorts]
    return rows, sizes


@dataclass(frozen=True)
class SdidReplicates:
    """A fitted synthetic DiD design as :class:`~evalint.inference.interface.ReplicateRefit`.

    Each callback raises :class:`~evalint.errors.InferenceError` when its algorithm is not
    applicable to the design (never a silent NaN).
    """

    Y: FloatArray
    fit: DesignFit
    settings: SdidSettings
    start: np.ndarray

    def placebo_replicates(self, reps: int, rng: np.random.Generator) -> FloatArray:
        """Placebo estimates (Algorithm 4), all replications in one batch per cohort."""
        Y, fit, settings = self.Y, self.fit, self.settings
        reps = check_positive_int("reps", reps, minimum=2)
        controls = fit.cohorts[0].control_rows
        _, sizes = _treated(fit)
        n_tr = sum(n for _, n in sizes)
        if controls.size <= n_tr:
            raise InferenceError(
                f"variance='placebo' needs more control units than treated units (Algorithm 4 assigns "
                f"placebo treatment to {n_tr} of the controls and keeps the rest as controls); this design "
                f"has {controls.size} control(s) and {n_tr} treated unit(s). Use variance='bootstrap' or "
                "'jackknife' (several treated units), or add control units."
            )
        if controls.size - n_tr < 2:
            raise InferenceError(
                f"variance='placebo' would leave {controls.size - n_tr} control unit(s) in each placebo "
                "replication; at least 2 are needed to fit weights. Add control units or use "
                "variance='bootstrap'/'jackknife'."
            )
        perms = rng.permuted(np.tile(controls, (reps, 1)), axis=1)
        n_co = controls.size - n_tr
        cohort_rows, pos = [], n_co
        for start, n in sizes:
            cohort_rows.append((start, perms[:, pos:pos + n]))
            pos += n
        est: FloatArray = replicate_estimates(Y, fit, perms[:, :n_co], cohort_rows, settings)
        return est

    def bootstrap_replicates(self, reps: int, rng: np.random.Generator) -> FloatArray:
        """Unit bootstrap estimates (Algorithm 2); all replications solved as one padded batch.

        A resample without a treated or without a control unit is redrawn, as in synthdid.
        """
        Y, fit, settings, start = self.Y, self.fit, self.settings, self.start
        reps = check_positive_int("reps", reps, minimum=2)
        treated, sizes = _treated(fit)
        if treated.size < 2:
            raise InferenceError(
                "variance='bootstrap' needs more than one treated unit (Arkhangelsky et al. 2021, "
                "Algorithm 2: with one treated unit, resampling cannot reflect its variability); this "
                "design has 1. Use variance='placebo'."
            )
        N, T = Y.shape
        draws = []
        while len(draws) < reps:
            ind = np.sort(rng.integers(0, N, size=N))
            is_tr = start[ind] < T
            if (~is_tr).any() and is_tr.any():
                draws.append(ind)
        drawn = np.vstack(draws)
        st = start[drawn]

        def padded(mask: np.ndarray) -> np.ndarray:
            width = max(int(mask.sum(axis=1).max()), 1)
            out = np.full((reps, width), -1, dtype=np.int64)
            for k in range(reps):
                picked = drawn[k][mask[k]]
                out[k, :picked.size] = picked
            return out

        ctrl = padded(st >= T)
        cohort_rows = [(s0, padded(st == s0)) for s0, _ in sizes]
        est: FloatArray = padded_replicate_estimates(Y, fit, ctrl, cohort_rows, settings)
        return est

    def jackknife_replicates(self) -> FloatArray:
        """Fixed-weights leave-one-unit-out estimates (Algorithm 3)."""
        Y, fit, settings = self.Y, self.fit, self.settings
        small = [str(c.start) for c in fit.cohorts if c.treated_rows.size < 2]
        if small:
            raise InferenceError(
                "variance='jackknife' needs at least 2 treated units in every adoption cohort (dropping "
                "the only treated unit of a cohort removes that cohort's estimate; Arkhangelsky et al. "
                f"2021, Algorithm 3); {len(small)} cohort(s) have one treated unit. Use variance='placebo'."
            )
        if settings.method != "did" and any((c.omega > 0).sum() < 2 for c in fit.cohorts):
            raise InferenceError(
                "variance='jackknife' is undefined when only one control has positive weight (dropping it "
                "leaves no synthetic control); use variance='placebo' or 'bootstrap'."
            )
        T = Y.shape[1]
        used = np.unique(np.concatenate([np.concatenate([c.control_rows, c.treated_rows]) for c in fit.cohorts]))
        est = np.empty(used.size)
        for k, drop in enumerate(used):
            taus, cells = [], []
            for c in fit.cohorts:
                keep_c = c.control_rows != drop
                keep_t = c.treated_rows[c.treated_rows != drop]
                omega = c.omega[keep_c]
                omega = omega / omega.sum() if omega.sum() > 0 else np.full(omega.size, 1.0 / omega.size)
                rows = np.concatenate([c.control_rows[keep_c], keep_t])
                taus.append(block_tau(Y[rows][None], omega.size, c.start, omega[None], c.lam[None])[0])
                cells.append(keep_t.size * (T - c.start))
            w = np.asarray(cells, dtype=float)
            est[k] = float(np.dot(w / w.sum(), taus))
        return est

    def replicate_note(self, method: str, reps: int | None) -> str:
        """The variance in words."""
        if method == "placebo":
            return f"placebo SE from {reps} random reassignments of treatment to control units"
        if method == "bootstrap":
            return (f"unit bootstrap SE from {reps} resamples (redrawn when a resample had "
                    "no treated or no control unit)")
        note = "fixed-weights jackknife over units"
        if method == "jackknife" and self.settings.method == "sc":
            note += " (not recommended for SC: Arkhangelsky et al. 2021, Section 5)"
        return note if method == "jackknife" else f"{method} standard error from replicate estimates"
