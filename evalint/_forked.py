"""Independent tasks shared between this process and forked helpers, results in task order.

:func:`forked_map` runs ``[task() for task in tasks]`` with ``jobs - 1`` helper processes
forked from this one (Linux): each process takes the next task from a shared counter, so all
stay busy whatever the tasks cost, and a helper sends back the pickled result of each task it
ran. The helpers are copies of this process at the call (copy-on-write: no task, panel or
module is pickled or imported again), so a task computes exactly what it would compute here:
the results are the same objects, bit for bit, as running the tasks one after the other.

What a task changes in its process (a cache, a global) stays in that process: tasks return
everything their caller needs. A task that raises in a helper, or whose result cannot be
pickled, is run again here after the helpers finish, where its exception (if any) propagates
as it would in a plain loop. A task that raises here stops the run: the helpers take no new
task, and once they have finished the ones they hold, the first task in order that fails
raises (the helpers' failures before it are run again here first). Ctrl-C reaches this
process only (helpers ignore SIGINT), and a helper still running when this process stops
waiting is terminated. Without fork
(Windows, macOS' default), with ``jobs=1``, inside a helper (no nested forks) or for one task,
the tasks run here one after the other.

Used by :func:`evalint.evaluate` (the designs' fits and the robustness checks) and the report's
figures (:mod:`evalint.report.figures`).
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["available", "available_cpus", "default_jobs", "forked_map", "in_helper"]

T = TypeVar("T")

#: the tasks of the running :func:`forked_map` call; the forked helpers read them
_TASKS: list[Callable[[], Any]] = []
#: True in a forked helper (a task run there does not fork again)
_IN_HELPER = False


def in_helper() -> bool:
    """True inside a helper process of :func:`forked_map`."""
    return _IN_HELPER


def available() -> bool:
    """True where helpers can be forked (Linux, fork start method, not already in a helper)."""
    if _IN_HELPER or not sys.platform.startswith("linux"):
        return False
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs(env: str = "EVALINT_JOBS", *, fallback: int = 1) -> int:
    """Processes from the environment variable ``env`` (a positive integer) if set, else ``fallback``
    (at most :func:`available_cpus`)."""
    value = os.environ.get(env, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(int(fallback), available_cpus()))


def _take(counter: Any) -> int:
    with counter.get_lock():
        i = int(counter.value)
        counter.value = i + 1
    return i


def _helper(counter: Any, queue: Any) -> None:  # pragma: no cover - runs in the forked process
    global _IN_HELPER
    _IN_HELPER = True
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the calling process, which stops the helpers
    try:
        while (i := _take(counter)) < len(_TASKS):
            try:
                data = pickle.dumps(_TASKS[i](), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - re-run in the calling process, which raises it there
                continue
            queue.put((i, data))
    finally:
        queue.put(None)
        queue.close()
        queue.join_thread()


def forked_map(tasks: Sequence[Callable[[], T]], jobs: int) -> list[T]:
    """``[task() for task in tasks]``, shared between this process and ``jobs - 1`` forked helpers.

    Parameters
    ----------
    tasks : sequence of callables
        Each takes no argument and returns a picklable result (closures are fine: the helpers
        are forks, nothing is sent to them).
    jobs : int
        Processes, this one included; 1 (or no fork here) runs the tasks in this process.

    Returns
    -------
    list
        The results in the order of ``tasks``: the same as the plain loop's, whatever ``jobs``.
    """
    tasks = list(tasks)
    jobs = min(int(jobs), len(tasks))
    if jobs <= 1 or not available():
        return [task() for task in tasks]
    import gc
    import multiprocessing as mp
    import queue as queue_module

    done: dict[int, Any] = {}
    helpers: list[Any] = []
    freeze = False
    try:
        # objects alive now outlive the tasks: kept out of the collector's full passes, so a helper's
        # collections do not write to (copy) the pages it shares with this process
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        _TASKS[:] = tasks
        for stream in (sys.stdout, sys.stderr):  # a helper must not write this process's buffered output again
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        try:
            ctx = mp.get_context("fork")
            counter, results = ctx.Value("i", 0), ctx.Queue()
            for _ in range(jobs - 1):
                # not daemonic: a task may start processes of its own (joblib); stopped below in any case
                h = ctx.Process(target=_helper, args=(counter, results))
                h.start()
                helpers.append(h)
        except (OSError, ValueError, ImportError):  # no shared memory or no process left: as many as started
            if not helpers:
                return [task() for task in tasks]
        raised: BaseException | None = None
        raised_at = len(tasks)
        while (i := _take(counter)) < len(tasks):
            try:
                done[i] = tasks[i]()
            except BaseException as exc:  # the helpers take no new task; raised once they have stopped
                raised, raised_at = exc, i
                with counter.get_lock():
                    counter.value = len(tasks)
                break
        finished = 0
        while finished < len(helpers):
            try:
                item = results.get(timeout=1.0)
            except queue_module.Empty:
                if not any(h.is_alive() for h in helpers) and results.empty():
                    break  # a helper that died: what it did not send is run here below
                continue
            if item is None:
                finished += 1
            else:
                try:
                    done[item[0]] = pickle.loads(item[1])
                except Exception:  # noqa: BLE001 - computed here below instead
                    pass
        for h in helpers:
            h.join(timeout=10)
        if raised is not None:
            # the tasks before the one that raised here were all taken: any missing failed in a helper
            # (or could not be sent); the first of them in task order raises, as in a plain loop
            for j in range(raised_at):
                if j not in done:
                    tasks[j]()
            raise raised
    finally:
        for h in helpers:  # a helper still running (this process was interrupted while waiting): stopped
            if h.is_alive():
                h.terminate()
                h.join(timeout=5)
        _TASKS[:] = []
        if freeze:
            gc.unfreeze()
    return [done[i] if i in done else task() for i, task in enumerate(tasks)]
