"""A run killed with SIGKILL at random moments, again and again, and resumed each time ends bit-identical to a run
that was never interrupted (checkpoints are written every few images, so many kills land inside a write).

The default suite kills a run twice; the fuzz tier (tox -e fuzz, STOCHMEM_FUZZ=1) kills it at least 20 times.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

from stochmem import cli

from .conftest import REPO_ROOT
from .test_rundir import final_arrays, without_seconds

#: Runs the CLI with every fsync slowed by 50 ms (instrumentation of the test, not of stochmem), so a checkpoint
#: write spans a window a random kill often lands in: between the temporary file's write and its rename.
SLOW_WRITES = ("import os, sys, time\n"
               "fsync = os.fsync\n"
               "os.fsync = lambda fd: (time.sleep(0.05), fsync(fd))[1]\n"
               "from stochmem.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")
KILLS = 20 if os.environ.get("STOCHMEM_FUZZ") else 2
ARGS = ["train", "--kind", "memristive", "--sizes", "784-12-10", "--train-size", "120", "--test-size", "40",
        "--epochs", "3", "--sigma", "0.3", "--reset-every", "7", "--checkpoint-every", "3", "--backend", "reference",
        "--quiet"]


def final_state(run_dir):
    """The run's last checkpoint: its arrays, and its per-epoch results without their wall-clock seconds."""
    arrays, state = final_arrays(run_dir)
    return arrays, without_seconds(state)


def checkpoint_name(run_dir):
    """The arrays file of the run's current checkpoint, or None (no checkpoint yet, or one being replaced)."""
    try:
        return json.loads((run_dir / "checkpoint.json").read_text())["arrays"]
    except (OSError, ValueError, KeyError):
        return None


def test_random_sigkills_then_resume_end_bit_identical(tmp_path, data_args):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert cli.main([*ARGS, *data_args, "--run-dir", str(whole)]) == 0
    rng = random.Random(20261129)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    kills = mid_write = finished_early = 0
    positions: set[str] = set()  # the checkpoints the killed runs had reached: proof that resuming progresses
    attempt = 0
    while kills < KILLS:
        attempt += 1
        assert attempt < 20 * KILLS + 20, f"only {kills} of {KILLS} kills landed in {attempt} attempts"
        resume = ["--resume"] if (broken / "config.json").exists() else []
        command = [*ARGS, *data_args, "--run-dir", str(broken)] if not resume else \
            ["train", "--run-dir", str(broken), "--resume", "--quiet"]
        before = checkpoint_name(broken)
        process = subprocess.Popen([sys.executable, "-c", SLOW_WRITES, *command], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()  # wait until this attempt has made progress, however slow the machine is today,
        while process.poll() is None and checkpoint_name(broken) == before and time.monotonic() - started < 120:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))  # then kill at a random moment: between, during or inside checkpoint writes
        if process.poll() is not None:  # it finished: start the run again from scratch to keep killing it
            assert process.returncode == 0
            finished_early += 1
            assert _arrays_equal(final_state(broken), final_state(whole))
            shutil.rmtree(broken)
            continue
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        mid_write += bool(list(broken.glob(".*.tmp")))
        if (broken / "checkpoint.json").exists():
            positions.add(json.loads((broken / "checkpoint.json").read_text())["arrays"])
    finish = ["train", "--run-dir", str(broken), "--resume", "--quiet"] if (broken / "config.json").exists() \
        else [*ARGS, *data_args, "--run-dir", str(broken)]  # the last kill landed before the run had started
    assert cli.main(finish) == 0
    assert _arrays_equal(final_state(broken), final_state(whole)), (
        f"after {kills} SIGKILLs ({mid_write} inside a write) and resumes the run differs from an uninterrupted one")
    assert not list(broken.glob(".*.tmp")), "leftover temporary files are removed on the next start"
    assert len(positions) >= KILLS // 2, f"the killed runs reached only {len(positions)} checkpoints: no progress"
    if KILLS >= 20:
        assert mid_write >= 1, "no kill landed inside a checkpoint write: the test did not exercise that case"
    print(f"{kills} kills, {mid_write} left a temporary file (killed inside a write), {finished_early} runs "
          "finished before their kill")


def _arrays_equal(first, second) -> bool:
    (layers_a, results_a), (layers_b, results_b) = first, second
    return layers_a.keys() == layers_b.keys() and all(np.array_equal(layers_a[k], layers_b[k]) for k in layers_a) \
        and results_a == results_b
