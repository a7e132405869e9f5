"""Start Dask workers for ``stochmem reproduce`` on a SLURM cluster with dask-jobqueue, and print the address.

    pip install "stochmem[numba,cluster]"
    python examples/cluster/slurm.py --jobs 4 --cores 8 --data-dir /shared/mnist     # keeps running
    stochmem reproduce fig4 --set seeds=1,2,3 --scheduler tcp://HOST:8786 --out /shared/runs

Every job is one node's worth of workers: ``--cores`` worker processes of one thread each (a run at batch size 1
uses one core well; see the numba backend's threads). The run directories (``--out``) and the MNIST folder must
be on a file system that the login node and every compute node share: each run is a task that any worker may
pick up, and resumes from its run directory's checkpoint when its worker is lost.

The compiled kernels: each node's first task compiles them (10-20 s) into ``$NUMBA_CACHE_DIR`` (set below to a
folder on the shared file system, so every later job on the same kind of CPU loads them instead; numba keys its
cache by CPU model and features, so mixed partitions coexist in one folder).

For PBS use ``dask_jobqueue.PBSCluster`` with the same arguments (``queue``, ``account``, ``walltime``); LSF, SGE
and HTCondor have their own classes with the same shape.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from dask_jobqueue import SLURMCluster
from dask_jobqueue.slurm import SLURMJob

SCHEDULER_PORT = 8786


def job_options(cores: int, memory: str, walltime: str, queue: str | None, account: str | None,
                data_dir: str, cache_dir: str) -> dict[str, Any]:
    """What every SLURM job gets: ``cores`` single-threaded stochmem workers, the shared data and kernel cache."""
    return dict(
        # processes=cores: as many single-threaded worker processes as cores (dask-worker --nworkers N --nthreads 1)
        cores=cores, processes=cores, memory=memory, walltime=walltime, queue=queue, account=account,
        job_script_prologue=[
            f"export STOCHMEM_DATA_DIR={data_dir}",  # where workers read MNIST (a shared folder)
            f"export NUMBA_CACHE_DIR={cache_dir}",  # compiled kernels, shared by every job on the same CPU kind
            "export STOCHMEM_THREADS=1",  # one thread per worker process: a node runs `cores` runs at once
            "export OMP_NUM_THREADS=1",
        ],
    )


def job_script(scheduler_address: str, **options: Any) -> str:
    """The batch script one job would run, for a scheduler at ``scheduler_address``; starts and submits nothing.

    Its workers are named after the SLURM job (``stochmem-$SLURM_JOB_ID``, expanded when the job starts), so the
    same script submitted several times by hand gives workers the scheduler can tell apart.
    """
    return str(SLURMJob(scheduler=scheduler_address, name="stochmem-$SLURM_JOB_ID", **options).job_script())


def make_cluster(**options: Any) -> SLURMCluster:
    """A SLURMCluster (its scheduler listening on ``SCHEDULER_PORT``) whose jobs have ``options``; none submitted."""
    return SLURMCluster(scheduler_options={"port": SCHEDULER_PORT}, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="SLURM jobs (nodes) to start")
    parser.add_argument("--cores", type=int, default=8, help="worker processes per job")
    parser.add_argument("--memory", default="16GB", help="memory per job")
    parser.add_argument("--walltime", default="08:00:00")
    parser.add_argument("--queue", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--data-dir", required=True, help="the MNIST folder, on the shared file system")
    parser.add_argument("--cache-dir", default="$HOME/.cache/stochmem/numba-cluster")
    parser.add_argument("--print-script", action="store_true", help="print the job script and stop")
    args = parser.parse_args()
    options = job_options(args.cores, args.memory, args.walltime, args.queue, args.account, args.data_dir,
                          args.cache_dir)
    if args.print_script:  # no scheduler is started, so the address is a placeholder to replace
        print(job_script(f"tcp://LOGIN-NODE:{SCHEDULER_PORT}", **options))
        return
    cluster = make_cluster(**options)
    cluster.scale(jobs=args.jobs)
    print(f"scheduler: {cluster.scheduler_address}  (dashboard: {cluster.dashboard_link})")
    print(f"run: stochmem reproduce fig4 --scheduler {cluster.scheduler_address} --out /shared/runs")
    try:
        while True:
            time.sleep(60)
    except KeyboardInterrupt:
        cluster.close()


if __name__ == "__main__":
    main()
