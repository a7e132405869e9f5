"""A cold first step compiles with a helper process on two cores (stochmem_numba.precompile): the step then loads
the helper's kernels instead of compiling them again, the results are the same as without a helper, and a helper
that fails or hangs costs only time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import precompile
from stochmem_numba import step as steps

# A network of one kind, from an empty cache: a first step, then 44 more (three resets for the memristive kind);
# prints whether a helper compiled, how often the step loaded each of the helper's kernels from the cache and
# compiled it itself, a digest of every loss and prediction and of the final state, and a digest of the compiled
# step's machine instructions (symbol names aside: numba numbers them per process).
COLD_RUN = """
import hashlib, json, re, sys
import numpy as np
from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import precompile
from stochmem_numba import step as steps
helped = []
prepare = precompile.prepare_first_step
precompile.prepare_first_step = lambda *args, **kw: helped.append(prepare(*args, **kw)) or helped[-1]
pixels = np.random.default_rng(5).random((45, 784))
pixels[pixels < 0.6] = 0.0  # mostly blank, like a digit
model = get_backend("numba").create_model(NetworkConfig(kind=sys.argv[1]), 3)
digest = hashlib.sha256()
for step in range(45):
    result = model.train_step(pixels[step].tolist(), step % 10, step, 0.1)
    digest.update(np.float64(result.loss).tobytes() + bytes([result.prediction]))
for array in [*model.weights, *getattr(model, "g_plus", []), *getattr(model, "g_minus", [])]:
    digest.update(np.ascontiguousarray(array).tobytes())
table = precompile.kernel_signatures(len(model.weights))
kernels = {name: {"hits": sum(table[name][0].stats.cache_hits.values()),
                  "compiled": sum(table[name][0].stats.cache_misses.values())}
           for name in precompile.HELPER_SHARE[model.kind]}
train = {0: steps.train_step_float, 1: steps.train_step_stochastic, 2: steps.train_step_memristive}[model.kind]
asm = train.inspect_asm(train.signatures[0])
instructions = [line for line in asm.splitlines() if line.startswith("\\t") and not line.startswith("\\t.")]
code = hashlib.sha256(re.sub(r"_ZN[\\w$.]+", "SYMBOL", "\\n".join(instructions)).encode()).hexdigest()
print(json.dumps({"helped": helped[0], "digest": digest.hexdigest(), "kernels": kernels, "code": code,
                  "instructions": len(instructions)}))
"""


def cold_run(tmp_path, kind: str, threads: int) -> dict:
    """COLD_RUN for ``kind`` on ``threads`` threads, with a compile cache of its own."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / f"{kind}-{threads}"), STOCHMEM_THREADS=str(threads))
    run = subprocess.run([sys.executable, "-c", COLD_RUN, kind], env=env, capture_output=True, text=True,
                         timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a helper compiles only where a run may use two cores")
@pytest.mark.parametrize("kind", ["memristive",  # the others each cost two more cold compiles (20-30 s): tox -e slow
                                  pytest.param("stochastic", marks=pytest.mark.slow),
                                  pytest.param("float", marks=pytest.mark.slow)])
def test_a_cold_first_step_loads_the_helpers_kernels_and_trains_exactly_as_without_a_helper(tmp_path, kind):
    helped, alone = cold_run(tmp_path, kind, threads=2), cold_run(tmp_path, kind, threads=1)
    assert helped["helped"] is True, "no helper on two cores with an empty cache"
    assert alone["helped"] is False, "a helper on one core"
    for name, counts in helped["kernels"].items():
        # the signature table matches the step's calls: the step loaded the helper's kernel and compiled none
        assert counts == {"hits": 1, "compiled": 0}, f"{name}: {counts}"
    # the step links the IR that numba caches beside each kernel's machine code, and optimises it as it would
    # have optimised the kernel compiled here: the same instructions, so the same speed and the same results
    assert helped["instructions"] > 1000, "no compiled step to compare"
    assert helped["code"] == alone["code"], "the step's machine code depends on the helper"
    assert helped["digest"] == alone["digest"], "results depend on the helper"


def test_a_helper_that_fails_costs_only_time():
    helper = precompile.start_helper(["matvec"], [], 3, command=[sys.executable, "-c", "import sys; sys.exit(3)"])
    assert helper is not None
    assert precompile.wait_until_ready(helper) is False
    assert helper.returncode == 3 and helper not in precompile._helpers


def test_a_helper_that_hangs_is_stopped_after_the_timeout():
    helper = precompile.start_helper([], [], 3, command=[sys.executable, "-c", "import time; time.sleep(120)"])
    assert helper is not None
    assert precompile.wait_until_ready(helper, timeout=0.5) is False
    assert helper.returncode is not None and helper not in precompile._helpers


def test_a_helper_that_cannot_start_costs_only_time():
    assert precompile.start_helper([], [], 3, command=["/nonexistent/python"]) is None


def test_no_helper_once_the_step_is_compiled():
    model = get_backend("numba").create_model(NetworkConfig(kind="float"), 1)
    model.train_step([0.0] * 784, 1, 0, 0.1)  # compiled or loaded here, whatever that took
    started: list[tuple] = []
    weights = model.crossbars()
    args = (weights, model.sizes, np.zeros(784), 1, 1, model.rule_for(0.1))
    assert precompile.prepare_first_step(steps.train_step_float, args, model.kind, len(weights),
                                         start=lambda *a: started.append(a)) is False
    assert started == [], "a helper for a step that is already compiled"
