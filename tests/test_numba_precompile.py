"""A cold first step compiles with a helper process on two cores (stochmem_numba.precompile): each kernel is compiled
once, by one of the two processes, and the run loads the other's; the step has the same machine code and trains to
the same results as without a helper; a helper that fails, hangs or loses its parent costs only time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("numba")

from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import precompile, threads
from stochmem_numba import step as steps

# A network of one kind, from the compile cache it is given: a first step, then (once the helper, if any, is done)
# 44 more (three resets for the memristive kind) and a prediction. Prints whether a helper compiled; how often each
# kernel was compiled here and loaded from the cache; a digest of every loss and prediction and of the final state;
# and a digest of the compiled step's machine instructions (symbol names aside: numba numbers them per process).
COLD_RUN = """
import hashlib, json, re, sys
import numpy as np
from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import precompile
from stochmem_numba import step as steps
precompile.idle_cpus = lambda: 2.0  # whatever else the machine runs meanwhile (test_a_busy_machine_gets_no_helper)
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
    if step == 0:
        for helper in list(precompile._helpers):
            helper.wait(timeout=600)  # its later kernels in the cache before the run needs them
digest.update(bytes([model.predict(pixels[0].tolist(), 0)]))
for array in [*model.weights, *getattr(model, "g_plus", []), *getattr(model, "g_minus", [])]:
    digest.update(np.ascontiguousarray(array).tobytes())
table = precompile.kernel_signatures(len(model.weights))
names = [*precompile.HELPER_SHARE[model.kind], *precompile.LOCAL_SHARE[model.kind], *precompile.LATER[model.kind]]
kernels = {name: {"loaded": sum(table[name][0].stats.cache_hits.values()),
                  "compiled": sum(table[name][0].stats.cache_misses.values())} for name in names}
train = {0: steps.train_step_float, 1: steps.train_step_stochastic, 2: steps.train_step_memristive}[model.kind]
code = ""
if train.stats.cache_misses:
    asm = train.inspect_asm(train.signatures[0])
    instructions = [line for line in asm.splitlines() if line.startswith("\\t") and not line.startswith("\\t.")]
    code = hashlib.sha256(re.sub(r"_ZN[\\w$.]+", "SYMBOL", "\\n".join(instructions)).encode()).hexdigest()
    code += f" ({len(instructions)} instructions)"
print(json.dumps({"helped": helped[0], "digest": digest.hexdigest(), "kernels": kernels, "code": code,
                  "step loaded": sum(train.stats.cache_hits.values())}))
"""


def run_with_cache(cache, kind: str, threads: int) -> dict:
    """COLD_RUN for ``kind`` on ``threads`` threads with the compile cache folder ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), STOCHMEM_THREADS=str(threads))
    run = subprocess.run([sys.executable, "-c", COLD_RUN, kind], env=env, capture_output=True, text=True,
                         timeout=500)  # three runs within the 1800 s a test may take
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(threads.available_cpus() < 2 or os.name != "posix",
                    reason="a helper compiles only where a run may use two cores, on POSIX")
@pytest.mark.parametrize("kind", ["memristive",  # the others each cost two more cold compiles (20-30 s): tox -e slow
                                  pytest.param("stochastic", marks=pytest.mark.slow),
                                  pytest.param("float", marks=pytest.mark.slow)])
def test_a_cold_first_step_shares_its_compilation_with_a_helper_and_changes_nothing(tmp_path, kind):
    helped = run_with_cache(tmp_path / "helped", kind, threads=2)
    alone = run_with_cache(tmp_path / "alone", kind, threads=1)
    warm = run_with_cache(tmp_path / "helped", kind, threads=2)
    assert helped["helped"] is True, "no helper on two cores with an empty cache"
    assert alone["helped"] is False, "a helper on one core"
    assert warm["helped"] is False and warm["step loaded"] == 1, "a helper although the step is in the cache"
    for name in [*precompile.HELPER_SHARE[steps.KIND_CODES[kind]], *precompile.LATER[steps.KIND_CODES[kind]]]:
        # the signature table matches the run's calls: the run loaded what the helper compiled and compiled none
        assert helped["kernels"][name] == {"loaded": 1, "compiled": 0}, name
    for name in precompile.LOCAL_SHARE[steps.KIND_CODES[kind]]:
        assert helped["kernels"][name] == {"loaded": 0, "compiled": 1}, name
    for name, counts in alone["kernels"].items():
        assert counts == {"loaded": 0, "compiled": 1}, name
    # the step links the IR that numba caches beside each kernel's machine code and optimises it as it would
    # have optimised the kernel compiled here: the same instructions, so the same speed and the same results
    assert helped["code"] and helped["code"] == alone["code"], "the step's machine code depends on the helper"
    assert helped["digest"] == alone["digest"] == warm["digest"], "results depend on the helper or the cache"


@pytest.mark.parametrize("kind", sorted(steps.KIND_CODES.values()))
def test_the_shares_are_disjoint_and_every_kernel_has_its_signature(kind):
    helper, local, later = (set(share[kind]) for share in (precompile.HELPER_SHARE, precompile.LOCAL_SHARE,
                                                               precompile.LATER))
    assert not helper & local and not (helper | local) & later
    assert helper | local | later <= set(precompile.kernel_signatures(3))


@pytest.fixture
def cold_two_core_run(monkeypatch):
    """prepare_first_step sees two idle cores and a step to compile, and compiles nothing itself."""
    monkeypatch.setattr(precompile, "two_cores", lambda: True)
    monkeypatch.setattr(precompile, "idle_cpus", lambda: 2.0)
    monkeypatch.setattr(precompile, "step_is_compiled", lambda step, args: False)
    monkeypatch.setattr(precompile, "compile_kernels", lambda names, layers: None)


def prepare_with(command: list[str]) -> tuple[bool, subprocess.Popen[bytes]]:
    """prepare_first_step for a memristive step, with a helper started as ``command``: what it returned, and the
    helper."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args):
        helper = precompile.start_helper(*args, command=command)
        started.append(helper)
        return helper

    try:
        helped = precompile.prepare_first_step(None, (), steps.KIND_MEMRISTIVE, 3, start=start)
    except BaseException:
        assert started and gone(started[0]), "a helper left behind"
        raise
    assert started, "no helper started"
    return helped, started[0]


def gone(helper: subprocess.Popen[bytes]) -> bool:
    """Whether the helper has exited and been reaped."""
    return helper.returncode is not None and helper not in precompile._helpers


def test_a_helper_that_fails_costs_only_time(cold_two_core_run):
    helped, helper = prepare_with([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert helped is False and gone(helper) and helper.returncode == 3


def test_a_helper_that_says_something_else_is_stopped(cold_two_core_run):
    helped, helper = prepare_with([sys.executable, "-c", "print('hello', flush=True); import time; time.sleep(120)"])
    assert helped is False and gone(helper)


def test_a_helper_that_writes_part_of_a_line_and_hangs_is_stopped_at_the_deadline(cold_two_core_run, monkeypatch):
    monkeypatch.setattr(precompile, "ready_deadline", lambda own_seconds: 0.5)
    began = time.monotonic()
    helped, helper = prepare_with([sys.executable, "-c",
                                   "import sys, time; sys.stdout.write('rea'); sys.stdout.flush(); time.sleep(120)"])
    assert helped is False and gone(helper)
    assert time.monotonic() - began < 60, "held past the deadline by half a line"


def test_a_failure_in_the_run_stops_the_helper_and_costs_only_time(cold_two_core_run, monkeypatch):
    def failing(names, layers):
        raise RuntimeError("a kernel that does not compile")

    monkeypatch.setattr(precompile, "compile_kernels", failing)
    helped, helper = prepare_with([sys.executable, "-c", "import time; time.sleep(120)"])
    assert helped is False and gone(helper)


def test_a_failing_idle_measure_means_no_helper(cold_two_core_run, monkeypatch):
    def failing() -> float:
        raise ModuleNotFoundError("No module named 'psutil'")

    monkeypatch.setattr(precompile, "idle_cpus", failing)
    assert precompile.prepare_first_step(None, (), steps.KIND_MEMRISTIVE, 3, start=lambda *args: pytest.fail(
        "a helper although the idle measure failed")) is False


def test_a_helper_that_hangs_is_stopped_at_the_deadline(cold_two_core_run, monkeypatch):
    monkeypatch.setattr(precompile, "ready_deadline", lambda own_seconds: 0.5)
    began = time.monotonic()
    helped, helper = prepare_with([sys.executable, "-c", "import time; time.sleep(120)"])
    assert helped is False and gone(helper)
    assert time.monotonic() - began < 60, "held past the deadline"


def test_an_interrupted_compile_stops_the_helper(cold_two_core_run, monkeypatch):
    def interrupted(names, layers):
        raise KeyboardInterrupt

    monkeypatch.setattr(precompile, "compile_kernels", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_with([sys.executable, "-c", "import time; time.sleep(120)"])  # asserts that the helper is gone


def test_a_busy_machine_gets_no_helper(cold_two_core_run, monkeypatch):
    started: list[tuple] = []

    def prepare() -> bool:
        return precompile.prepare_first_step(None, (), steps.KIND_MEMRISTIVE, 3,
                                             start=lambda *args: started.append(args))  # starts nothing

    monkeypatch.setattr(precompile, "idle_cpus", lambda: 1.0)  # one of two cores busy with another process
    assert prepare() is False and started == [], "a helper beside a busy process"
    monkeypatch.setattr(precompile, "idle_cpus", lambda: 1.9)
    assert prepare() is False and len(started) == 1, "no helper on an idle machine"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pins a busy process to one CPU")
def test_idle_cpus_sees_a_busy_process():
    pytest.importorskip("psutil")
    cpu = min(threads.allowed_cpus())
    busy = subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"])
    try:
        time.sleep(0.5)  # started and pinned
        idle = threads.idle_cpus(0.5)
    finally:
        busy.kill()
        busy.wait()
    assert idle <= threads.available_cpus() - 0.7, f"{idle} CPUs idle beside a process that keeps one busy"


def test_a_helper_that_cannot_start_costs_only_time():
    assert precompile.start_helper([], [], 3, command=["/nonexistent/python"]) is None


def test_the_helper_speaks_only_its_protocol_and_exits_when_its_parent_is_gone(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_DEBUG_CACHE", "1")  # numba then prints to standard output as it loads and saves
    monkeypatch.setattr(precompile, "effective_cache_dir", lambda: tmp_path)
    helper = precompile.start_helper(["matvec"], [], 3)
    assert helper is not None
    assert precompile.wait_until_ready(helper, timeout=300) is True
    assert helper.stdin is not None
    helper.stdin.close()  # as when the parent dies: the helper, waiting for "go", exits
    assert helper.wait(timeout=60) == 0
    precompile.stop(helper)


def test_a_helper_of_another_copy_of_the_package_does_nothing():
    run = subprocess.run([sys.executable, "-m", "stochmem_numba.precompile", "--first", "matvec", "--layers", "3",
                          "--digest", "not this source"], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert run.returncode == 2 and run.stdout == b""


def test_no_helper_once_the_step_is_compiled(monkeypatch):
    model = get_backend("numba").create_model(NetworkConfig(kind="float"), 1)
    model.train_step([0.0] * 784, 1, 0, 0.1)  # compiled or loaded here, whatever that took
    monkeypatch.setattr(precompile, "two_cores", lambda: True)  # all else speaks for a helper
    monkeypatch.setattr(precompile, "idle_cpus", lambda: 2.0)
    started: list[tuple] = []
    weights = model.crossbars()
    args = (weights, model.sizes, np.zeros(784), 1, 1, model.rule_for(0.1))
    assert precompile.prepare_first_step(steps.train_step_float, args, model.kind, len(weights),
                                         start=lambda *a: started.append(a)) is False
    assert started == [], "a helper for a step that is already compiled"
