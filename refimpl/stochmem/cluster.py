"""Where a reproduction's runs execute: a Dask cluster (``dask.distributed``), local or remote.

- By default a ``LocalCluster`` on this machine: ``--workers N`` worker processes of one thread each, each worker
  supervised by a nanny that restarts it if it dies.
- ``--scheduler ADDRESS`` (or ``$STOCHMEM_SCHEDULER``) sends the same runs to an existing cluster, e.g. one whose
  workers dask-jobqueue started on a SLURM or PBS machine (``docs/howto/cluster.md``).

Each run is one task. A worker that dies while it trains (killed, out of memory, its node lost) loses only that
run's progress since its last checkpoint: the scheduler gives the task to another worker, which resumes from the
run directory (``distributed.scheduler.allowed-failures`` deaths per task, 3 by default, before the run is
reported failed). A task that raises (a real error: a corrupt run directory, a missing file on the worker) is not
retried: it is reported once and the other runs go on.

Runs report their progress with :func:`report` (Dask's worker events, on a topic of their reproduction's own),
which :func:`subscribe` passes to the client: the same path on a laptop and on a cluster.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SCHEDULER_ENV = "STOCHMEM_SCHEDULER"
CONNECT_TIMEOUT = "30s"  #: how long to wait for a remote scheduler


@dataclass(frozen=True)
class Executor:
    """A connected Dask client (``client``), where it runs in words (``where``), its dashboard's address if it
    serves one, and the number of worker processes of a local cluster (None for a remote cluster)."""

    client: Any
    where: str
    dashboard: str | None
    local_workers: int | None


def scheduler_address(option: str | None) -> str | None:
    """The scheduler to use: the option, else ``$STOCHMEM_SCHEDULER``, else None (a local cluster)."""
    return option or os.environ.get(SCHEDULER_ENV) or None


def describe(scheduler: str | None, workers: int) -> str:
    """Where runs would execute, in words (the dry run prints it without starting anything)."""
    if scheduler:
        return f"the Dask cluster at {scheduler}"
    return f"a local Dask cluster of {workers} worker process{'es' if workers != 1 else ''} (one thread each)"


@contextlib.contextmanager
def connect(scheduler: str | None, workers: int) -> Iterator[Executor]:
    """A client of the cluster at ``scheduler``, or of a new local cluster of ``workers`` processes (closed on
    exit)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout=CONNECT_TIMEOUT) as client:  # type: ignore[no-untyped-call]
            yield Executor(client, describe(scheduler, workers), client.dashboard_link, None)
        return
    dashboard = importlib.util.find_spec("bokeh") is not None  # the dashboard's pages need bokeh
    # ":0": any free port, so that two reproductions on one machine never compete for Dask's default one
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):  # a worker takes a run when it is free
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1,  # type: ignore[no-untyped-call]
                               processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield Executor(client, describe(None, workers), cluster.dashboard_link if dashboard else None, workers)


def report(topic: str, payload: dict[str, Any]) -> None:
    """Send a run's progress event on ``topic`` to the client (a no-op outside a Dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return
    worker.log_event(topic, payload)


def subscribe(executor: Executor, topic: str, handler: Callable[[dict[str, Any]], None]) -> None:
    """Call ``handler`` with every progress event sent on ``topic`` (one per reproduction, so that two
    reproductions on one scheduler never see each other's runs), on the client's event loop thread."""
    executor.client.subscribe_topic(topic, lambda event: handler(event[1]))


def unsubscribe(executor: Executor, topic: str) -> None:
    executor.client.unsubscribe_topic(topic)
