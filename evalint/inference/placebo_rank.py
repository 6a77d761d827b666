"""In-space placebo inference for a fitted synthetic control: rank p-value, joint test, inverted interval.

Given each treated unit's post-period gaps and pre/post MSPE, and for each treated unit the
placebo fits of every donor (post/pre MSPE ratio, pre and post MSPE, placebo effect), which
the estimator hands over as a :class:`PlaceboRefit`:

* one treated unit: the rank of its post/pre MSPE ratio among the placebos'
  (``rank / (J + 1)``, Abadie et al. 2010; Abadie 2021 eq. 12), the SE the standard
  deviation of the placebo effects (descriptive);
* several treated units: their mean post-MSPE over mean pre-MSPE against ``reps`` draws giving
  each treated unit a distinct random donor's placebo (Cavallo et al. 2013 style; the spec's
  one seed);
* the interval inverts the same rank test (constant-effect null, Firpo & Possebom 2018), so it
  excludes 0 exactly when ``p <= alpha``.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). *JASA* 105(490), 493-505.
Abadie, A. (2021). Using synthetic controls. *JEL* 59(2), 391-425.
Cavallo, E., Galiani, S., Noy, I. & Pantano, J. (2013). Catastrophic natural disasters and
    economic growth. *REStat* 95(5), 1549-1561.
Firpo, S. & Possebom, V. (2018). Synthetic control method: inference, sensitivity analysis and
    confidence sets. *Journal of Causal Inference* 6(2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from evalint.diagnostics.base import Flag
from evalint.errors import InferenceError
from evalint.inference.dispatch import register_inference
from evalint.inference.randomisation import rank_test
from evalint.inference.specs import Placebo

__all__ = ["PlaceboRefit", "PlaceboInference", "rank_p_value", "inverted_rank_interval", "placebo_rank_inference"]


@runtime_checkable
class PlaceboRefit(Protocol):
    """A synthetic control's treated units and, for each, its donors refitted as placebos.

    Attributes (one entry per treated unit)
    ----------
    treated_ratio, treated_pre_mspe, treated_post_mspe : sequence of float
    treated_post_gaps : sequence of arrays
        Post-period gaps (treated minus synthetic).
    placebo_ratio, placebo_pre_mspe, placebo_post_mspe, placebo_att : sequence of arrays
        The donors' placebo fits at that unit's start.
    n_donors : int
    """

    @property
    def treated_ratio(self) -> Sequence[float]: ...

    @property
    def treated_pre_mspe(self) -> Sequence[float]: ...

    @property
    def treated_post_mspe(self) -> Sequence[float]: ...

    @property
    def treated_post_gaps(self) -> Sequence[np.ndarray]: ...

    @property
    def placebo_ratio(self) -> Sequence[np.ndarray]: ...

    @property
    def placebo_pre_mspe(self) -> Sequence[np.ndarray]: ...

    @property
    def placebo_post_mspe(self) -> Sequence[np.ndarray]: ...

    @property
    def placebo_att(self) -> Sequence[np.ndarray]: ...

    @property
    def n_donors(self) -> int: ...


@dataclass(frozen=True)
class PlaceboInference:
    """SE, p-value and interval from in-space placebos; ``draws`` the placebo statistics behind the p-value."""

    se: float
    p_value: float
    ci: tuple[float, float]
    note: str
    draws: int
    seed: int | None
    flags: tuple[Flag, ...] = ()


def rank_p_value(treated_ratio: float, placebo_ratios: Sequence[float] | np.ndarray) -> tuple[float, int]:
    """Rank p-value of the treated post/pre MSPE ratio among all units.

    Returns ``(p, rank)`` with rank 1 = largest ratio; ties count against the treated
    unit (conservative). ``p = rank / (1 + number of placebos)``.
    """
    if len(placebo_ratios) == 0:
        raise InferenceError("rank p-value needs at least one placebo unit; there are none.")
    test = rank_test(treated_ratio, placebo_ratios, alternative="greater", drop_nonfinite=False)
    return test.p_value, test.rank


def inverted_rank_interval(gaps_post: Sequence[np.ndarray], pre_mspe: Sequence[float], null_draws: np.ndarray,
                           alpha: float) -> tuple[tuple[float, float], float, float]:
    """Confidence set for a constant effect by inverting the placebo rank test (Firpo & Possebom 2018).

    Under ``H0: effect = tau`` in every post period, the treated unit's gaps become
    ``g_t - tau`` while the placebos' statistics do not change (the treated unit is never a
    donor and its weights depend on pre-period data only). The test statistic is the
    post/pre MSPE ratio, with post-MSPE ``(mean(g_i) - tau)^2 + var(g_i)`` (population variance
    over post periods); with several treated units, their mean post-MSPE over their mean
    pre-MSPE (so the set is centred on the mean of the units' ATTs, the headline); its p-value is
    ``(1 + #{draws >= stat(tau)}) / (1 + n_draws)`` (ties count against the treated units). The
    confidence set ``{tau : p(tau) > alpha}`` is an interval because ``stat`` is a convex
    quadratic in ``tau``, and the reported p-value is ``p(0)``, so ``0`` lies in the interval
    exactly when the p-value exceeds ``alpha``: the two cannot disagree.

    Parameters
    ----------
    gaps_post : sequence of arrays
        Each treated unit's post-period gaps.
    pre_mspe : sequence of float
        Each treated unit's pre-period MSPE.
    null_draws : array
        The statistic's null draws (placebo ratios, or means of distinct placebos' ratios).
    alpha : float

    Returns
    -------
    (low, high), p_value, min_p
        ``(-inf, inf)`` when even the most extreme statistic has p > alpha (too few placebos
        for this level), ``(nan, nan)`` when no constant effect is consistent with the data.
        ``min_p = 1/(1 + n_draws)`` is the smallest attainable p-value.

    References
    ----------
    Firpo S, Possebom V (2018). Synthetic control method: inference, sensitivity analysis and
    confidence sets. Journal of Causal Inference 6(2).
    """
    d = np.sort(np.asarray(null_draws, dtype=float))[::-1]     # descending
    R = d.size
    means = np.array([float(np.mean(g)) for g in gaps_post])
    varp = np.array([float(np.var(g)) for g in gaps_post])
    pre = np.array(pre_mspe, dtype=float)

    pbar = float(np.mean(pre))

    def stat(tau: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(np.mean((means - tau) ** 2 + varp)) / np.float64(pbar))

    def pval(st: float) -> float:
        return float((1 + np.sum(d >= st)) / (1 + R))

    p0 = pval(stat(0.0))
    # accepted iff 1 + m > alpha (1 + R), m = #{draws >= stat}: need m >= m_star
    m_star = int(np.floor(alpha * (1 + R) - 1)) + 1
    if m_star <= 0:
        return (-np.inf, np.inf), p0, 1.0 / (1 + R)
    if m_star > R or not pbar > 0:
        return (np.nan, np.nan), p0, 1.0 / (1 + R)
    crit = d[m_star - 1]                         # stat(tau) <= crit  <=>  accepted
    # stat(tau) = [(tau - mean(m))^2 + var(m) + mean(v)] / pbar: centred on the mean of the units' ATTs
    centre = float(np.mean(means))
    rest = float(np.var(means) + np.mean(varp))
    disc = crit * pbar - rest
    if disc < 0:
        return (np.nan, np.nan), p0, 1.0 / (1 + R)
    half = float(np.sqrt(disc))
    return (centre - half, centre + half), p0, 1.0 / (1 + R)


def placebo_rank_inference(spec: Placebo, fit: PlaceboRefit, *, alpha: float, default_reps: int = 1000,
                           label: str = "synthetic control", source: str = "scm_placebo") -> PlaceboInference:
    """The in-space placebo inference of ``fit`` under ``spec`` (module docstring).

    ``spec.reps`` (else ``default_reps``) draws for the joint test of several treated units.

    Raises
    ------
    InferenceError
        Fewer donors than treated units for the joint test, or no placebo.
    """
    seed = spec.seed
    reps = int(spec.reps) if spec.reps is not None else default_reps
    n_t = len(fit.treated_ratio)
    if n_t == 1:
        p_value, rank = rank_p_value(fit.treated_ratio[0], fit.placebo_ratio[0])
        p_draws = len(fit.placebo_ratio[0])
        se = float(np.std(fit.placebo_att[0], ddof=1))
        draws = np.asarray(fit.placebo_ratio[0], dtype=float)
        note = (f"p-value: rank {rank} of {len(fit.placebo_ratio[0]) + 1} post/pre MSPE ratios (Abadie et al. "
                "2010)")
    else:
        if fit.n_donors < n_t:
            raise InferenceError(
                f"the joint placebo test gives each of {n_t} treated units a distinct donor, but there "
                f"are only {fit.n_donors} donors."
            )
        rng = np.random.default_rng(seed)
        # ratio of the treated units' mean post-MSPE to their mean pre-MSPE: its inversion is
        # centred on the headline (the simple average of the units' ATTs)
        stat = float(np.mean(fit.treated_post_mspe) / np.mean(fit.treated_pre_mspe))
        J = fit.n_donors
        picks = np.array([rng.permutation(J)[:n_t] for _ in range(reps)], dtype=np.intp).reshape(reps, n_t)
        # draw r: unit i's placebo pick[r, i]; row means of the (reps x n_t) picks, as the mean of
        # each draw's n_t values
        rows = np.arange(n_t)
        post = np.stack([np.asarray(a, dtype=float)[:J] for a in fit.placebo_post_mspe])[rows, picks]
        pre = np.stack([np.asarray(a, dtype=float)[:J] for a in fit.placebo_pre_mspe])[rows, picks]
        draws = np.mean(post, axis=1) / np.mean(pre, axis=1)
        p_value = float((1 + np.sum(draws >= stat)) / (1 + reps))
        p_draws = reps
        se = float(np.sqrt(np.sum([np.var(a, ddof=1) for a in fit.placebo_att])) / n_t)
        note = (f"p-value: mean post-MSPE over mean pre-MSPE of {n_t} treated units against {reps} "
                f"draws of distinct donors' placebo ratios (seed {seed})")
    ci, p_inv, min_p = inverted_rank_interval(list(fit.treated_post_gaps), list(fit.treated_pre_mspe), draws, alpha)
    if not np.isclose(p_inv, p_value, rtol=1e-12, atol=1e-15):  # pragma: no cover - same statistic
        raise InferenceError(f"internal: inverted p-value {p_inv} differs from the rank p-value {p_value}.")
    pct = int(round((1 - alpha) * 100))
    flags: tuple[Flag, ...] = ()
    if np.isinf(ci[0]):
        note += (f"; {pct}% CI unbounded: with {len(draws)} placebo draws the smallest attainable p-value is "
                 f"{min_p:.3g} > {alpha:g}, so no effect can be rejected (more donors are needed)")
        flags = (Flag("inference", "high", f"{label}: the smallest attainable placebo p-value is "
                      f"{min_p:.3g} (> alpha = {alpha:g}) with {len(draws)} placebo draws; no effect size can "
                      "be rejected and the interval is unbounded. Add donors.", source=source),)
    elif np.isnan(ci[0]):
        note += (f"; {pct}% CI empty: no constant effect is consistent with the post-period gaps (they vary "
                 "too much over time relative to the placebos)")
    else:
        note += (f"; {pct}% CI: the constant effects not rejected by the same rank test (test inversion, "
                 f"Firpo & Possebom 2018), so it excludes 0 exactly when p <= {alpha:g}; smallest attainable "
                 f"p = {min_p:.3g}; SE: standard deviation of the placebo effects (descriptive)")
    return PlaceboInference(se, p_value, ci, note, p_draws, seed, flags)


register_inference(Placebo, PlaceboRefit, placebo_rank_inference)
