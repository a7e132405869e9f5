"""The SLURM example builds the job script the how-to describes (no SLURM needed: nothing is submitted)."""

from __future__ import annotations

import pytest

from .conftest import load_script

pytest.importorskip("dask_jobqueue", reason="the cluster example needs dask-jobqueue (pip install stochmem[cluster])")


def _example():
    return load_script("examples/cluster/slurm.py", "slurm_example")


def test_the_slurm_example_starts_single_threaded_workers_that_share_data_and_compiled_kernels():
    # The job script is built without starting a scheduler: no network, nothing that can hang on a machine
    # whose host name does not resolve (a SLURMCluster started here once hung CI for an hour).
    example = _example()
    options = example.job_options(cores=8, memory="16GB", walltime="01:00:00", queue="short", account="lab",
                                  data_dir="/shared/mnist", cache_dir="/shared/numba")
    script = example.job_script("tcp://login1:8786", **options)
    assert "#SBATCH -p short" in script and "#SBATCH -A lab" in script and "#SBATCH -t 01:00:00" in script
    assert "export STOCHMEM_DATA_DIR=/shared/mnist" in script and "export NUMBA_CACHE_DIR=/shared/numba" in script
    assert "export STOCHMEM_THREADS=1" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    assert "tcp://login1:8786" in script  # workers dial the scheduler that the reproduce command names
    assert "--name stochmem-$SLURM_JOB_ID" in script  # one name per job: resubmitting the script gives new names


def test_the_slurm_example_prints_its_job_script_without_starting_anything(capsys, monkeypatch):
    example = _example()
    # every way the example starts a cluster (make_cluster included) goes through SLURMCluster
    monkeypatch.setattr(example, "SLURMCluster", lambda **options: pytest.fail("--print-script started a cluster"))
    monkeypatch.setattr("sys.argv", ["slurm.py", "--cores", "4", "--data-dir", "/shared/mnist", "--print-script"])
    example.main()
    script = capsys.readouterr().out
    assert script.startswith("#!") and "--nworkers 4" in script and "tcp://LOGIN-NODE:8786" in script
