"""Replications of a planned design: simulated NHS panels, or placebo assignments on a real panel.

* :func:`simulate_design` (ITS, SDID, SC): ``n_treated`` of the 42 ICBs drawn at random adopt
  after ``pre`` months in an :func:`evalint.simulate_nhs` panel (trend, first-harmonic monthly
  seasonality, days in the month, ICB populations, near-Poisson counts) whose counts are
  multiplied by ``exp(u)``, ``u`` a stationary AR(1) per ICB (``ar``, ``ar_sd``; defaults 0.6 and
  3%, the median lag-1 autocorrelation (0.57) and SD (3.3%) of the published ICB emergency
  admissions, April 2022 - July 2025, net of the England month mean and a linear trend per ICB).
* :func:`placebo_design` (any design, a real :class:`~evalint.Panel`): in each replication a
  window of ``pre + post`` consecutive months in which every unit reports is drawn, then
  ``n_treated`` units at random; nothing happens to them (or a known relative ``effect`` is
  multiplied into their post-window counts), and the design is fitted. The null distribution
  is the real panel's own noise: its seasonality, shocks, autocorrelation and outliers.

Each replication seeds itself from ``(seed, design, n_treated, pre, post, r)``, so results equal
the serial loop for any number of workers.

References
----------
Bertrand, M., Duflo, E. & Mullainathan, S. (2004). How much should we trust
    differences-in-differences estimates? Quarterly Journal of Economics 119(1), 249-275.
    (Placebo laws on real state panels.)
Burlig, F., Preonas, L. & Woerman, M. (2020). Panel data and experimental design. Journal of
    Development Economics 144, 102458.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from evalint._parallel import parallel_map
from evalint.design.fits import DESIGNS, add_ar_noise, fit_design, frame_from_matrix
from evalint.errors import SpecificationError

__all__ = ["simulate_design", "placebo_design", "RealBase"]

_CODE = {d: i for i, d in enumerate(DESIGNS)}
COLUMNS = ["rep", "estimate", "se", "df", "rejects"]


def _sim_rep(r: int, _rng: Any, *, design: str, n_treated: int, pre: int, post: int, outcome: str, seed: int,
             codes: tuple[str, ...], first: pd.Period, last: pd.Period, effect: float | None, alpha: float,
             ar: float, ar_sd: float, placebo_reps: int, n_units: int | None = None) -> dict[str, Any]:
    from evalint.datasets.simulate import simulate_nhs

    rng = np.random.default_rng([seed, 100 + _CODE[design], n_treated, pre, post, r])
    treated = sorted(rng.choice(list(codes), size=n_treated, replace=False))
    adopt = first + pre
    eff = None if effect is None else {outcome: float(effect)}
    keep: list[str] | None = None
    if design == "its":
        keep = list(treated)
    elif n_units is not None and n_units < len(codes):
        rest = [c for c in codes if c not in treated]
        keep = sorted([*treated, *rng.choice(rest, size=n_units - n_treated, replace=False)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_nhs(seed=int(rng.integers(2**31 - 1)), start=str(first), end=str(last),
                           adoption=(treated, str(adopt)), effects=eff, covid=False, dispersion=1e-5,
                           units=keep)
    d = sim.data.sort_values(["icb_code", "month"])
    units = pd.unique(d["icb_code"])
    months = pd.period_range(first, last, freq="M")
    counts = d[outcome].to_numpy(dtype=float).reshape(len(units), len(months))
    pop = d["population"].to_numpy(dtype=float).reshape(len(units), len(months))
    counts = add_ar_noise(counts, ar, ar_sd, rng)
    frame = frame_from_matrix(counts, pop, units, months, treated, adopt)
    est, se, df, rej = fit_design(design, frame, adopt, alpha=alpha, placebo_reps=placebo_reps,
                                  seed=int(rng.integers(2**31 - 1)))
    return {"rep": r, "estimate": est, "se": se, "df": df, "rejects": rej}


def simulate_design(design: str, n_treated: int, pre: int, post: int, *, outcome: str = "emergency_admissions",
                    reps: int = 200, seed: int = 0, start: str = "2016-04", alpha: float = 0.05,
                    effect: float | None = None, ar: float = 0.6, ar_sd: float = 0.03, placebo_reps: int = 100,
                    n_jobs: int = 1, backend: str = "loky", n_units: int | None = None) -> pd.DataFrame:
    """``reps`` simulated replications of an ITS, SDID or SC design (``effect``: relative
    effect generated in the treated ICBs' counts from adoption on; ``None``: no effect).
    ``n_units`` (SDID/SC): ICBs in each panel, the treated ones and ``n_units - n_treated``
    comparison ICBs drawn at random (default all 42)."""
    if design not in ("its", "sdid", "sc"):
        raise SpecificationError(f"design={design!r}: simulate_design runs 'its', 'sdid' or 'sc' "
                                 "(the DiD design is evalint.design.power.simulate_null).")
    if not 1 <= n_treated <= 41:
        raise SpecificationError(f"n_treated={n_treated}: between 1 and 41 of the 42 ICBs.")
    if n_units is not None and not n_treated < n_units <= 42:
        raise SpecificationError(f"n_units={n_units}: between n_treated + 1 = {n_treated + 1} and 42 ICBs.")
    if not (-1 < ar < 1 and ar_sd >= 0):
        raise SpecificationError(f"ar={ar!r}, ar_sd={ar_sd!r}: need -1 < ar < 1 and ar_sd >= 0.")
    from evalint.datasets.simulate import simulate_nhs

    first = pd.Period(start, "M")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = tuple(sorted(simulate_nhs(seed=0, start=str(first), end=str(first + 1), covid=False)
                             .data["icb_code"].unique()))
    one = partial(_sim_rep, design=design, n_treated=n_treated, pre=pre, post=post, outcome=outcome, seed=seed,
                  codes=codes, first=first, last=first + (pre + post - 1), effect=effect, alpha=alpha,
                  ar=float(ar), ar_sd=float(ar_sd), placebo_reps=placebo_reps, n_units=n_units)
    rows = parallel_map(one, range(reps), seed=seed, n_jobs=n_jobs, backend=backend)
    return pd.DataFrame(rows, columns=COLUMNS)


class RealBase:
    """A real panel as units x months arrays, with the windows in which every unit reports."""

    def __init__(self, panel: Any, outcome: str | None = None) -> None:
        from evalint.data.panel import Panel

        if not isinstance(panel, Panel):
            raise SpecificationError(f"base={type(panel).__name__}: pass an evalint.Panel (Panel.from_frame).")
        if panel.freq != "M":
            raise SpecificationError(f"base: a monthly panel is needed (this one has frequency {panel.freq!r}).")
        self.outcome = outcome or panel.outcome
        if self.outcome not in panel.outcomes:
            raise SpecificationError(f"outcome={self.outcome!r}: not an outcome of the base panel "
                                     f"({', '.join(panel.outcomes)}).")
        mat = panel.to_matrix(self.outcome)
        self.units = np.asarray(mat.index, dtype=object)
        self.months = mat.columns
        self.counts = mat.to_numpy(dtype=float)
        if panel.population is not None:
            self.pop = panel.to_matrix(panel.population).to_numpy(dtype=float)
        else:
            self.pop = np.ones_like(self.counts)
        bad = (self.counts <= 0) & np.isfinite(self.counts)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise SpecificationError(f"base: {self.outcome!r} is {self.counts[i, j]:g} for unit {self.units[i]!r} in "
                                     f"{self.months[j]} ({int(bad.sum())} cells <= 0); the designs model the log "
                                     "rate, so every value must be positive (set zeros that mean 'not reported' to "
                                     "missing).")
        self.complete = np.all(np.isfinite(self.counts) & np.isfinite(self.pop), axis=0)
        timing = panel.timing
        if timing is not None and len(timing.treated_units):
            from evalint.errors import ConfoundingWarning, format_examples

            first = min(timing.cohort.dropna())
            warnings.warn(
                f"base: the panel marks {len(timing.treated_units)} unit(s) as treated "
                f"({format_examples(list(timing.treated_units))}, from {first}); placebo windows can include "
                "their treated months, so the null replications carry the real effect. Pass a base panel of "
                f"untreated units, or one cut before {first} (Panel.subset).", ConfoundingWarning, stacklevel=3)

    def starts(self, length: int) -> np.ndarray:
        """First-month indices of every window of ``length`` months in which every unit reports."""
        ok = np.convolve(self.complete.astype(int), np.ones(length, dtype=int), "valid") == length
        return np.flatnonzero(ok)

    def longest(self) -> int:
        best = run = 0
        for c in self.complete:
            run = run + 1 if c else 0
            best = max(best, run)
        return best


def _real_rep(r: int, _rng: Any, *, base: RealBase, design: str, n_treated: int, pre: int, post: int, seed: int,
              starts: np.ndarray, effect: float | None, alpha: float, placebo_reps: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 200 + _CODE[design], n_treated, pre, post, r])
    s = int(starts[rng.integers(len(starts))])
    idx = np.sort(rng.choice(len(base.units), size=n_treated, replace=False))
    length = pre + post
    counts = base.counts[:, s:s + length].copy()
    if effect is not None:
        counts[idx, pre:] *= 1.0 + float(effect)
    months = base.months[s:s + length]
    frame = frame_from_matrix(counts, base.pop[:, s:s + length], base.units, months, base.units[idx], months[pre])
    est, se, df, rej = fit_design(design, frame, months[pre], alpha=alpha, placebo_reps=placebo_reps,
                                  seed=int(rng.integers(2**31 - 1)))
    return {"rep": r, "estimate": est, "se": se, "df": df, "rejects": rej, "window_start": str(months[0])}


def placebo_design(base: Any, design: str, n_treated: int, pre: int, post: int, *, outcome: str | None = None,
                   reps: int = 200, seed: int = 0, alpha: float = 0.05, effect: float | None = None,
                   placebo_reps: int = 100, n_jobs: int = 1, backend: str = "loky") -> pd.DataFrame:
    """``reps`` placebo assignments of ``design`` on a real monthly panel (``base``: a Panel or
    :class:`RealBase`). Columns ``rep``, ``estimate``, ``se``, ``df``, ``rejects``,
    ``window_start``."""
    if design not in DESIGNS:
        raise SpecificationError(f"design={design!r}: one of {', '.join(DESIGNS)}.")
    rb = base if isinstance(base, RealBase) else RealBase(base, outcome)
    n_units = len(rb.units)
    if not 1 <= n_treated < n_units:
        raise SpecificationError(f"n_treated={n_treated}: between 1 and {n_units - 1} of the base panel's "
                                 f"{n_units} units (some must stay untreated).")
    starts = rb.starts(pre + post)
    if len(starts) == 0:
        raise SpecificationError(f"pre={pre}, post={post}: the base panel has no {pre + post} consecutive months "
                                 f"in which every unit reports (longest such stretch: {rb.longest()} months; "
                                 f"{int((~rb.complete).sum())} months have a missing unit). Plan shorter windows "
                                 "or fill the gaps.")
    one = partial(_real_rep, base=rb, design=design, n_treated=n_treated, pre=pre, post=post, seed=seed,
                  starts=starts, effect=effect, alpha=alpha, placebo_reps=placebo_reps)
    rows = parallel_map(one, range(reps), seed=seed, n_jobs=n_jobs, backend=backend)
    return pd.DataFrame(rows, columns=[*COLUMNS, "window_start"])
