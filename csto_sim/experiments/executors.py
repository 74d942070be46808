"""One way to run jobs: in process, on local worker processes, or on any executor.

Ensembles, sensitivity analysis, scenario discovery and calibration all run their work
through :func:`worker_pool` and :func:`run_jobs`: a job is a tuple of arguments of one
picklable function, results come back as jobs finish. Any ``concurrent.futures.Executor``
works, a Dask client's included (:func:`dask_executor`).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from csto_sim.core.files import whole_number

MAX_WORKERS = 1024
"""The most local worker processes (the command line's bound too)."""


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def in_daemon() -> bool:
    """Whether this is a daemonic process (a pool's worker), which may not start processes."""
    return bool(multiprocessing.current_process().daemon)


def process_context() -> multiprocessing.context.BaseContext:
    """A start method for worker processes, without changing the global one.

    forkserver where the platform has it (workers fork from a server that has already
    imported the model, so they start fast and never inherit threads), spawn elsewhere.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["csto_sim.experiments.ensemble"])
        return ctx
    return multiprocessing.get_context("spawn")


@dataclass
class Pool:
    """Where jobs run: ``executor`` None runs them here; ``local`` pools share this disk."""

    executor: Executor | None
    local: bool
    in_flight: int


class Terminated(KeyboardInterrupt):
    """A termination signal (SIGTERM) arrived: stop like Ctrl-C (see :func:`stop_on_sigterm`)."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM (what a scheduler sends) raises :class:`Terminated` in the main
    thread, so it stops work as Ctrl-C does: workers ended, finished chunks kept."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes at once (none outlives us)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


_SHARED: dict[int, ProcessPoolExecutor] = {}
"""The local worker processes of this command, by their number: started at first use and
kept until the command ends (or :func:`end_workers`), so that the ensembles, generations or
trials of one command start workers once and each worker keeps what it has compiled."""


def local_workers(workers: int) -> ProcessPoolExecutor:
    """This command's pool of ``workers`` local processes, started if it has none (or its
    last one broke)."""
    pool = _SHARED.get(workers)
    if pool is None or getattr(pool, "_broken", False):
        pool = ProcessPoolExecutor(
            workers,
            mp_context=process_context(),
            initializer=_outlive_no_command,
            initargs=(os.getpid(),),
        )
        _SHARED[workers] = pool
    return pool


def _outlive_no_command(command: int) -> None:
    """In a worker: end it within a second once the command that started it is gone (a
    ``kill -9`` ends the command without a word to its workers, which would otherwise run
    on, holding the command's output open for whoever reads it; the fork server stays
    while they do, so they keep their parent)."""
    import threading

    def watch() -> None:
        while not _gone(command):
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="csto-sim-command-watch", daemon=True).start()


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended: no longer there, or a zombie its parent has not
    reaped yet (a killed command whose caller still reads its output)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return True
    except OSError:
        pass
    try:  # no /proc: a zombie still counts as there
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass
    return False


@atexit.register
def end_workers() -> None:
    """End this command's worker processes at once, whatever they are doing (an interrupted
    command: none outlives it, and its exit never waits on one)."""
    while _SHARED:
        _, pool = _SHARED.popitem()
        _end_workers(pool)


@contextmanager
def worker_pool(
    workers: int | None = None, executor: Executor | None = None, jobs: int = 2
) -> Iterator[Pool]:
    """The pool jobs run on: ``executor`` if given, else ``workers`` local processes (default:
    all cores; started once per command, see :func:`local_workers`). One worker, a single
    job, or a daemonic caller (a worker of someone else's pool) runs in process. On an error
    the local workers are ended at once."""
    workers = (
        default_workers() if workers is None else whole_number("workers", workers, 1, MAX_WORKERS)
    )
    if executor is not None:
        yield Pool(executor, local=False, in_flight=2 * workers)
        return
    if workers <= 1 or jobs <= 1 or in_daemon():
        yield Pool(None, local=False, in_flight=1)
        return
    pool = local_workers(workers)
    try:
        yield Pool(pool, local=True, in_flight=2 * workers)
    except BaseException:
        _SHARED.pop(workers, None)
        _end_workers(pool)
        raise


def run_jobs(
    fn: Callable[..., Any], jobs: Sequence[tuple], pool: Pool
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(*job)`` for every job on the pool; yields (job index, result) as jobs finish."""
    if pool.executor is None:
        for n, job in enumerate(jobs):
            yield n, fn(*job)
        return
    pending: dict[Future, int] = {}
    queue = list(enumerate(jobs))
    while queue or pending:
        while queue and len(pending) < pool.in_flight:
            n, job = queue.pop(0)
            pending[pool.executor.submit(fn, *job)] = n
        ready, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in ready:
            yield pending.pop(fut), fut.result()


class DaskUnavailable(Exception):
    """Dask was asked for but is not installed or the scheduler cannot be reached."""


@contextmanager
def dask_executor(address: str | None, workers: int | None = None) -> Iterator[Executor | None]:
    """A ``concurrent.futures`` executor on Dask: ``local`` starts a LocalCluster, else connect.

    Yields ``None`` when ``address`` is ``None`` (the caller then uses local processes).
    """
    if address is None:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DaskUnavailable("Dask is not installed; pip install 'csto-sim[dask]'") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:
        if cluster is not None:
            cluster.close()
        reason = " ".join(str(exc).split())[:120]
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address!r}: {reason}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
