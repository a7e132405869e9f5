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
from stochmem_numba import kernels, precompile, threads
from stochmem_numba import step as steps
from stochmem_numba.interpreted import interpreted

# A network of one kind, from the compile cache it is given: a first step, 19 more (while a helper, if any,
# compiles the step: on stand-ins), then (once it is done) 25 more (three resets in all for the memristive kind)
# and a prediction. Prints whether a helper compiled; how many calls ran on stand-ins; how often each function was
# compiled here and loaded from the cache; a digest of every loss and prediction and of the final state; and a
# digest of the compiled step's machine code (its object code's executable sections: code compiled here and code
# loaded from the cache alike).
COLD_RUN = """
import hashlib, json, struct, sys
import numpy as np
from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import precompile
from stochmem_numba import step as steps
precompile.idle_cpus = lambda: 2.0  # whatever else the machine runs meanwhile (test_a_busy_machine_gets_no_helper)
precompile.MIN_LATER_WAIT = 1800.0  # a slow spell must not stop the helper: the counts below assume it finishes
helped, stand_ins = [], []
prepare, callable_now = precompile.prepare_first_step, precompile.callable_now
precompile.prepare_first_step = lambda *args, **kw: helped.append(prepare(*args, **kw)) or helped[-1]
def counting(function):
    now = callable_now(function)
    stand_ins.append(now is not function)
    return now
precompile.callable_now = counting
from numba.core import codegen
loaded_code, set_compiled = {}, codegen.CodeLibrary._set_compiled_object
def recording(library, code):  # numba drops a loaded library's object code once it is linked: keep a copy
    loaded_code[id(library)] = code
    set_compiled(library, code)
codegen.CodeLibrary._set_compiled_object = recording

def text_sections(elf):
    # the bytes of an ELF object's code sections (.text, .ltext; symbol references live in relocations)
    if elf[:4] != b"\\x7fELF" or elf[4] != 2:
        return b""
    table, size, count = struct.unpack_from("<Q", elf, 0x28)[0], *struct.unpack_from("<HH", elf, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", elf, table + k * size) for k in range(count)]
    return b"".join(elf[h[4] : h[4] + h[5]] for h in headers if h[1] == 1 and h[2] & 4)  # code: SHF_EXECINSTR

pixels = np.random.default_rng(5).random((45, 784))
pixels[pixels < 0.6] = 0.0  # mostly blank, like a digit
model = get_backend("numba").create_model(NetworkConfig(kind=sys.argv[1]), 3)
digest = hashlib.sha256()
for step in range(45):
    if step == 20:
        model.wait_until_compiled()
    result = model.train_step(pixels[step].tolist(), step % 10, step, 0.1)
    digest.update(np.float64(result.loss).tobytes() + bytes([result.prediction]))
digest.update(bytes([model.predict(pixels[0].tolist(), 0)]))
for array in [*model.weights, *getattr(model, "g_plus", []), *getattr(model, "g_minus", [])]:
    digest.update(np.ascontiguousarray(array).tobytes())
table = precompile.kernel_signatures(len(model.weights))
names = [*precompile.HELPER_SHARE[model.kind], *precompile.LOCAL_SHARE[model.kind], *precompile.LATER[model.kind]]
counts = {name: {"loaded": sum(table[name][0].stats.cache_hits.values()),
                 "compiled": sum(table[name][0].stats.cache_misses.values())} for name in names}
train = {0: steps.train_step_float, 1: steps.train_step_stochastic, 2: steps.train_step_memristive}[model.kind]
library = train.overloads[train.signatures[0]].library
text = text_sections(loaded_code.get(id(library)) or library._get_compiled_object())
code = f"{hashlib.sha256(text).hexdigest()} ({len(text)} bytes)" if text else ""
print(json.dumps({"helped": helped[0], "stand-ins": sum(stand_ins), "digest": digest.hexdigest(),
                  "counts": counts, "code": code}))
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
    code = steps.KIND_CODES[kind]
    assert helped["helped"] is True, "no helper on two cores with an empty cache"
    assert alone["helped"] is False, "a helper on one core"
    assert warm["helped"] is False, "a helper although the step is in the cache"
    # the first 20 steps (and a reset among them) ran on stand-ins while the helper compiled the step (at least the
    # first few: the run outpaces a compile of seconds), none of the others; without a helper, or warm, none
    assert 1 <= helped["stand-ins"] <= 21 and alone["stand-ins"] == warm["stand-ins"] == 0
    for name in precompile.HELPER_SHARE[code]:
        # the signature table matches the run's calls: the run loaded what the helper compiled and compiled none
        assert helped["counts"][name] == {"loaded": 1, "compiled": 0}, name
    for name in precompile.LOCAL_SHARE[code]:
        assert helped["counts"][name] == {"loaded": 0, "compiled": 1}, name
    for name in precompile.LATER[code]:  # what the run calls loaded; a kernel that only they call, not at all
        called = name in (f"train_step_{kind}", "predict", "reset")
        assert helped["counts"][name] == {"loaded": int(called), "compiled": 0}, name
    for name, counts in alone["counts"].items():  # everything compiled here, but the stand-in reset: not needed
        assert counts == {"loaded": 0, "compiled": int(name != "reset_serial")}, name
    for name, counts in warm["counts"].items():
        assert counts["compiled"] == 0, name
    # the helper compiled the step from the IR numba caches beside each kernel's machine code, and optimised it as
    # a single process optimises a step whose kernels it compiled itself: the same machine code, so the same speed
    # and the same results (also those of the interpreted steps: the same kernels, the same arithmetic)
    assert helped["code"] and helped["code"] == alone["code"] == warm["code"], "machine code depends on the helper"
    assert helped["digest"] == alone["digest"] == warm["digest"], "results depend on the helper or the cache"


@pytest.mark.parametrize("kind", sorted(steps.KIND_CODES.values()))
def test_the_shares_are_disjoint_and_every_kernel_has_its_signature(kind):
    helper, local, later = (set(share[kind]) for share in (precompile.HELPER_SHARE, precompile.LOCAL_SHARE,
                                                               precompile.LATER))
    assert not helper & local and not (helper | local) & later
    table = precompile.kernel_signatures(3)
    assert helper | local | later <= set(table)
    for name in later:  # callable_now knows a function by its Python name
        assert table[name][0].py_func.__name__ == name


@pytest.fixture(autouse=True)
def no_helper_left_active(monkeypatch):
    """Each test starts without a helper of this process's, and leaves none active for other tests."""
    monkeypatch.setattr(precompile, "_active", None)


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


# A helper as prepare_first_step sees it: ready at once, then (after "go <seconds>") what ``then`` says.
LATER_SCRIPT = """
import sys, time
print("ready", flush=True)
assert sys.stdin.readline().startswith("go ")
{then}
"""


def later_helper(then: str) -> list[str]:
    return [sys.executable, "-c", LATER_SCRIPT.format(then=then)]


def test_the_run_calls_stand_ins_until_the_helper_has_compiled_each_function(cold_two_core_run):
    step, predict, reset = steps.train_step_memristive, steps.predict, kernels.reset
    # the helper reports each of the memristive LATER on a cue from the test: no race with the clock
    helped, helper = prepare_with(later_helper("for name in ('train_step_memristive', 'predict', 'reset'):\n"
                                               "    sys.stdin.readline()\n"
                                               "    print('done', name, flush=True)"))
    assert helped is True
    assert precompile.callable_now(step) is interpreted(step), "the compiled step called before it is compiled"
    assert precompile.callable_now(predict) is interpreted(predict)
    assert precompile.callable_now(reset) is kernels.reset_serial
    precompile.tell(helper, "next")
    deadline = time.monotonic() + 60
    while precompile.callable_now(step) is not step:
        assert time.monotonic() < deadline, "the step's 'done' line not taken"
        time.sleep(0.01)
    assert precompile.callable_now(predict) is interpreted(predict), "the prediction called before it is compiled"
    assert not gone(helper)
    precompile.tell(helper, "next")
    precompile.tell(helper, "next")
    precompile.wait_until_compiled()
    assert precompile.callable_now(predict) is predict and precompile.callable_now(reset) is reset
    assert gone(helper), "a helper left running after its last line"


def test_a_helper_exits_by_itself_at_the_limit_it_was_given(tmp_path):
    # the run stops a helper past its deadline only when it calls again: the helper keeps the limit itself
    helper = subprocess.Popen([sys.executable, "-m", "stochmem_numba.precompile", "--first", "", "--then", "predict",
                               "--layers", "3", "--digest", precompile.source_digest()],
                              env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert helper.stdout is not None and helper.stdout.readline().strip() == b"ready"
        precompile.tell(helper, "go 0.2")  # far less than the prediction's compile (a second and more)
        assert helper.wait(timeout=120) == 3 and helper.stdout.read() == b"", "compiled past its limit"
    finally:
        helper.kill()
        helper.wait()
        for pipe in (helper.stdin, helper.stdout):
            if pipe is not None:
                pipe.close()


@pytest.mark.parametrize("then", ["print('compiled something', flush=True)\ntime.sleep(120)",  # off the protocol
                                  "print('done predict', flush=True)\nsys.exit(0)",  # exits before the step
                                  "time.sleep(120)"])  # hangs: the later deadline
def test_a_helper_that_fails_after_ready_leaves_the_run_to_compile(cold_two_core_run, monkeypatch, then):
    monkeypatch.setattr(precompile, "later_deadline", lambda own_seconds: 1.0)
    helped, helper = prepare_with(later_helper(then))
    assert helped is True
    began = time.monotonic()
    precompile.wait_until_compiled()
    assert time.monotonic() - began < 60, "held past the deadline"
    step = steps.train_step_memristive
    assert precompile.callable_now(step) is step and gone(helper)


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
    assert precompile.Helper(helper, []).wait_until_ready(timeout=300) is True
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
