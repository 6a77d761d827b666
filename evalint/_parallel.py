"""Embarrassingly parallel loops (Monte Carlo replications, placebo units, generator chunks)
through joblib with a pluggable backend, bit-for-bit identical whatever the backend and the
number of workers.

Each task ``i`` gets its own random generator from ``SeedSequence(seed).spawn(n_tasks)[i]``
(never a shared stream), and results come back in task order, so the output depends on
``seed`` only. ``backend`` is any joblib backend: ``"loky"`` (processes, the default),
``"threading"``, or ``"dask"`` / ``"ray"`` after registering a cluster with joblib
(``dask.distributed.Client()`` or ``ray.util.joblib.register_ray()``).

References
----------
O'Neill, M. E. (2014). PCG: a family of simple fast space-efficient statistically good
algorithms for random number generation (NumPy's SeedSequence.spawn design). HMC-CS-2014-0905.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evalint.errors import SpecificationError

__all__ = ["parallel_map", "task_seeds"]


def task_seeds(seed: int, n_tasks: int) -> list[np.random.SeedSequence]:
    """The independent seed of each task: ``SeedSequence(seed).spawn(n_tasks)``."""
    return np.random.SeedSequence(int(seed)).spawn(int(n_tasks))


def _call(func: Callable[..., Any], item: Any, ss: np.random.SeedSequence) -> Any:
    return func(item, np.random.default_rng(ss))


def parallel_map(func: Callable[[Any, np.random.Generator], Any], items: Sequence[Any], *,
                 seed: int, n_jobs: int = 1, backend: str = "loky") -> list[Any]:
    """``[func(item, rng_i) for i, item in enumerate(items)]``, run in parallel.

    Parameters
    ----------
    func : callable
        ``func(item, rng)``; must be picklable for process backends (a module-level function).
    items : sequence
        One task per item (e.g. ``range(n_reps)`` or unit names).
    seed : int
        The only source of randomness; task ``i`` draws from its own spawned stream.
    n_jobs : int
        Workers (1 runs in this process, without joblib).
    backend : str
        A joblib backend name.

    Returns
    -------
    list
        Results in the order of ``items``; identical for any ``n_jobs`` and ``backend``.
    """
    items = list(items)
    whole = isinstance(n_jobs, (int, np.integer)) or (
        isinstance(n_jobs, (float, np.floating)) and float(n_jobs).is_integer())  # 2.0 = cpu_count() / 2
    if isinstance(n_jobs, bool) or not whole or n_jobs == 0:
        raise SpecificationError(f"n_jobs={n_jobs!r}: pass 1 (serial), a number of workers > 1, or -1 (all cores).")
    n_jobs = int(n_jobs)
    seeds = task_seeds(seed, len(items))
    if int(n_jobs) == 1:
        return [_call(func, it, ss) for it, ss in zip(items, seeds)]
    try:
        from joblib import Parallel, delayed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SpecificationError(
            "n_jobs != 1 needs joblib: pip install 'evalint[records]'.") from exc
    return Parallel(n_jobs=int(n_jobs), backend=backend)(
        delayed(_call)(func, it, ss) for it, ss in zip(items, seeds))
