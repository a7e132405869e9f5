"""The SLURM example builds the job script the how-to describes (no SLURM needed: nothing is submitted)."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import REPO_ROOT

pytest.importorskip("dask_jobqueue", reason="the cluster example needs dask-jobqueue (pip install stochmem[cluster])")


def test_the_slurm_example_starts_single_threaded_workers_that_share_data_and_compiled_kernels():
    spec = importlib.util.spec_from_file_location("slurm_example", REPO_ROOT / "examples" / "cluster" / "slurm.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.SCHEDULER_PORT = 0  # any free port: a test must not depend on 8786 being free
    cluster = example.make_cluster(jobs=2, cores=8, memory="16GB", walltime="01:00:00", queue="short",
                                   account="lab", data_dir="/shared/mnist", cache_dir="/shared/numba")
    try:
        script, address = cluster.job_script(), cluster.scheduler_address
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH -A lab" in script and "#SBATCH -t 01:00:00" in script
    assert "export STOCHMEM_DATA_DIR=/shared/mnist" in script and "export NUMBA_CACHE_DIR=/shared/numba" in script
    assert "export STOCHMEM_THREADS=1" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    assert address in script  # workers dial the scheduler that the reproduce command names
