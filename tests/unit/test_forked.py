"""evalint._forked.forked_map: the plain loop's results, in order, whatever the number of processes."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from evalint._forked import available, default_jobs, forked_map, in_helper

needs_fork = pytest.mark.skipif(not available(), reason="fork is unavailable here")


def _draw(i: int) -> np.ndarray:
    return np.random.default_rng(i).normal(size=50).cumsum()


def _slow_pid(i: int) -> tuple[int, int]:
    time.sleep(0.05)
    return i, os.getpid()


def _draw_where(i: int) -> tuple[np.ndarray, int]:
    time.sleep(0.005)
    return _draw(i), os.getpid()


@needs_fork
def test_results_equal_the_plain_loop_in_task_order():
    tasks = [lambda i=i: _draw_where(i) for i in range(40)]
    plain = [t()[0] for t in tasks]
    shared = forked_map(tasks, 2)
    assert len(shared) == len(plain)
    for a, (b, _) in zip(plain, shared):
        np.testing.assert_array_equal(a, b)
    assert {pid for _, pid in shared} - {os.getpid()}  # some results came back from the helper


@needs_fork
def test_two_processes_share_the_tasks():
    out = forked_map([lambda i=i: _slow_pid(i) for i in range(12)], 2)
    assert [i for i, _ in out] == list(range(12))
    pids = {pid for _, pid in out}
    assert os.getpid() in pids and len(pids) == 2


@needs_fork
def test_a_result_that_cannot_be_pickled_is_computed_here():
    out = forked_map([lambda i=i: (lambda: i) for i in range(6)], 2)  # a closure: not picklable
    assert [f() for f in out] == list(range(6))


class Boom(RuntimeError):
    pass


def _maybe_fail(i: int) -> int:
    time.sleep(0.02)
    if i == 3:
        raise Boom(f"task {i} failed")
    return i


@needs_fork
def test_an_exception_propagates_as_in_the_loop():
    with pytest.raises(Boom, match="task 3 failed"):
        forked_map([lambda i=i: _maybe_fail(i) for i in range(8)], 2)


@needs_fork
def test_no_nested_forks_in_a_helper():
    def inner() -> tuple[bool, int, set[int]]:
        time.sleep(0.1)
        return in_helper(), os.getpid(), set(forked_map([lambda: (time.sleep(0.05), os.getpid())[1]
                                                               for _ in range(4)], 2))

    out = forked_map([inner for _ in range(6)], 2)
    in_helpers = [(pid, pids) for helper, pid, pids in out if helper]
    assert in_helpers  # the helper ran some of the outer tasks
    for pid, pids in in_helpers:  # and their inner tasks ran in that helper alone
        assert pids == {pid}
    assert not in_helper()


def test_one_job_runs_here():
    out = forked_map([lambda: os.getpid() for _ in range(4)], 1)
    assert set(out) == {os.getpid()}


def test_default_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setenv("EVALINT_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("EVALINT_JOBS", "zero")
    assert default_jobs() == 1
    monkeypatch.delenv("EVALINT_JOBS")
    assert default_jobs() == 1
    if hasattr(os, "sched_setaffinity"):  # one CPU allowed: one process, however many the machine has
        allowed = os.sched_getaffinity(0)
        try:
            os.sched_setaffinity(0, {min(allowed)})
            assert default_jobs(fallback=2) == 1
        finally:
            os.sched_setaffinity(0, allowed)


def _marked_unless_here(i: int, folder: str, parent: int) -> int:
    if os.getpid() == parent:
        raise Boom("raised in the calling process")
    time.sleep(0.2)
    with open(os.path.join(folder, f"{i}.done"), "w") as fh:
        fh.write("x")
    return i


@needs_fork
def test_an_exception_here_stops_the_helpers_taking_new_tasks(tmp_path):
    parent = os.getpid()
    with pytest.raises(Boom, match="calling process"):
        forked_map([lambda i=i: _marked_unless_here(i, str(tmp_path), parent) for i in range(20)], 2)
    assert len(list(tmp_path.glob("*.done"))) <= 2  # the helper stopped after the task it held


@needs_fork
def test_no_shared_memory_runs_the_tasks_here(monkeypatch):
    import multiprocessing

    def no_context(method=None):
        raise OSError("no /dev/shm")

    monkeypatch.setattr(multiprocessing, "get_context", no_context)
    out = forked_map([lambda i=i: (i, os.getpid()) for i in range(5)], 2)
    assert out == [(i, os.getpid()) for i in range(5)]


def _fails_at(i: int) -> int:
    if i % 2:  # tasks 1 and 3 fail at once; 0 and 2 take a while, so this process takes 0 then 3
        raise Boom(f"task {i} failed")
    time.sleep(0.2)
    return i


@needs_fork
@pytest.mark.parametrize("repeat", range(2))
def test_the_first_failing_task_in_order_raises(repeat):
    with pytest.raises(Boom, match="task 1 failed"):
        forked_map([lambda i=i: _fails_at(i) for i in range(4)], 2)


class Stop(Exception):
    pass


@needs_fork
def test_a_helper_still_running_when_this_process_stops_waiting_is_terminated():
    import multiprocessing
    import signal
    import threading

    def stop(signum, frame):
        raise Stop("interrupted while waiting")

    before = set(multiprocessing.active_children())  # e.g. joblib's reusable workers of earlier tests
    previous = signal.signal(signal.SIGUSR1, stop)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(Stop):  # the helper holds a 30 s task; this process waits for it
            forked_map([lambda: time.sleep(30 if in_helper() else 0.2) for _ in range(3)], 2)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    assert set(multiprocessing.active_children()) - before == set()
