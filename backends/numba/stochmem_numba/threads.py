"""How many threads the compiled kernels use, and how idle threads wait.

At batch size 1 the kernels of a training step take microseconds each, so they run on one thread; only the
periodic reset (:func:`stochmem_numba.kernels.reset`, a millisecond of work) spreads over the pool. A pool can hurt
a lot: threads that spin between regions steal the core another process needs, and a region then waits for a
thread that is not running (a 5,000-image run of an earlier, more parallel version took 4.2 s on one thread, 31-182
s on two beside other work). Hence:

- the default count is this process's share of the CPUs it may run on: their number divided by the number of
  worker processes started together (``$STOCHMEM_WORKERS``, set by ``stochmem reproduce``), at least one;
- idle threads sleep at once instead of spinning (``OMP_WAIT_POLICY=PASSIVE``: numba's OpenMP layer then
  yields the core between regions), unless the user set a wait policy or a threading layer themselves;
- ``--threads N`` on the command line, or ``$STOCHMEM_THREADS``, overrides the count.

``benchmarks/contention.py`` measures the default against every fixed setting, alone and under load.
"""

from __future__ import annotations

import os

from stochmem.backend_api import THREADS_ENV, WORKERS_ENV


class ThreadsError(ValueError):
    """A thread or worker count that is not a positive integer."""


def _positive(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ThreadsError(f"${name}={text!r}: expected a positive whole number")
    return value


def allowed_cpus() -> set[int]:
    """The ids of the CPUs this process may run on (its affinity mask where the OS has one, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def available_cpus() -> int:
    """How many CPUs this process may run on (at least one)."""
    return max(1, len(allowed_cpus()))


def idle_cpus(seconds: float = 0.1) -> float:
    """How much of the CPUs this process may run on stood idle over the next ``seconds`` (psutil's usage per CPU):
    2.0 is two whole CPUs. It sleeps meanwhile."""
    import psutil

    usage = psutil.cpu_percent(interval=seconds, percpu=True)
    ids = allowed_cpus() if len(usage) == os.cpu_count() else range(len(usage))  # offline CPUs: ids would not match
    return sum(100.0 - usage[cpu] for cpu in ids if cpu < len(usage)) / 100.0


def default_threads() -> int:
    """This process's share of the CPUs: available CPUs // $STOCHMEM_WORKERS (default 1), at least 1."""
    workers = os.environ.get(WORKERS_ENV)
    share = available_cpus() // (_positive(WORKERS_ENV, workers) if workers else 1)
    return max(1, share)


def requested_threads() -> int:
    """$STOCHMEM_THREADS if set, else :func:`default_threads`; capped at numba's pool size."""
    text = os.environ.get(THREADS_ENV)
    return _positive(THREADS_ENV, text) if text else default_threads()


def configure() -> int:
    """Make idle threads sleep and set numba's thread count (see the module's docstring); returns the count.

    Call before the first parallel kernel runs: the OpenMP runtime reads its wait policy when it loads.
    """
    if "NUMBA_THREADING_LAYER" not in os.environ:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba  # only here: registering the backend must not import numba

    threads = min(requested_threads(), int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    numba.set_num_threads(threads)
    return threads
