"""A cold first training step on two cores: a helper process compiles part of the kernels while this process
compiles the rest, then compiles the step itself while this process already trains with the step's interpreted
twin.

A cold first step is mostly compilation: the kernels a step calls (:mod:`stochmem_numba.kernels`,
:mod:`stochmem_numba.streams`), then the step itself (:mod:`stochmem_numba.step`), which inlines its orchestration
and links the kernels, a compile of several seconds of its own. numba compiles on one core, under a process-wide
lock, so a second core can only help from a second process. When a helper can help (:func:`worth_a_helper`: the
step is not in the cache yet, there is a cache folder, this process may use two cores or more, :func:`two_cores`,
and at least ``IDLE_ENOUGH`` of its CPUs stood idle over a tenth of a second: a helper beside another busy process
slowed a cold first step from 11.5-11.8 s to 12.9-17.6 s), :func:`prepare_first_step`

1. starts ``python -m stochmem_numba.precompile`` on the kernels of the helper's share (``HELPER_SHARE``), with this
   process's import path and compile cache folder, so that it compiles this very source into the folder this
   process reads (it compares the digest of the package's source files, :func:`stochmem_numba.jit.source_digest`,
   with this process's and does nothing on a mismatch);
2. compiles the other share (``LOCAL_SHARE``) here, then tells the helper to go on with ``LATER``: the compiled
   step and prediction, which call kernels of both shares, now all in the cache, so the helper loads them;
3. waits for the helper's ``ready`` line (its share is in the cache) and returns. Every kernel a step calls is now
   compiled here or loadable.

Until the helper reports (a ``done <name>`` line) that it has compiled the step or the prediction,
:func:`callable_now` gives the model their interpreted twins (:mod:`stochmem_numba.interpreted`: the same
orchestration code run by Python, the same compiled kernels, the same results bit for bit, several times slower);
once it has, the compiled function, which loads from the cache. So a cold run trains from the moment its kernels
are ready, and runs at full speed from the moment the step is compiled.

Each kernel is compiled for the argument types the steps call it with (:func:`kernel_signatures`;
``tests/test_numba_precompile.py`` checks that the run loads every function of the helper's share and of ``LATER``
from the cache and compiles none of them). Whatever goes wrong costs time only: a helper that cannot start, fails,
says something else, or is not ready by a deadline (a few times this process's own share, :func:`ready_deadline`;
for ``LATER``, :func:`later_deadline`) is stopped, and so is one whose parent meets any error here; this process
then compiles what it lacks itself. A helper never outlives its run: it is stopped when this process exits, and it
exits by itself when this process dies (its standard input closes). One helper at a time per process; POSIX only
(the waits use ``select`` on a pipe).

A helper changes when the compiled step starts to run, never its code. numba caches beside each kernel's machine
code the optimised LLVM IR it links into callers, and the step links and optimises that IR exactly as it would link
a kernel compiled in this process: the step the helper compiled has the same machine code as one compiled by the
run alone (the test compares them), so it runs as fast and computes the same results (also compared: 45 steps'
losses, predictions and final state, the first of them on stand-ins).

Why the shares have no kernel (nor callee) in common: numba's cache index has no lock, and two processes that add
different signatures of one function at the same moment can both pick the same data file, leaving the index to map
one signature to the other's machine code. Each kernel here has one signature, so even a shared one would be
written twice with the same entry; the shares avoid it anyway (``draw_words`` is under both stream kernels, in one
share; ``normals_of_blocks`` under the memristive update and the serial reset, in the run's share, and under the
parallel reset, which the helper compiles only after ``GO``, when the run's share is in the cache).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

import numba
from numba import types

from stochmem_numba import kernels, streams
from stochmem_numba import step as steps
from stochmem_numba.interpreted import interpreted
from stochmem_numba.jit import effective_cache_dir, source_digest
from stochmem_numba.threads import available_cpus, idle_cpus, requested_threads

READY, GO, DONE = "ready", "go", "done"
# How long a run waits for the helper's share: the helper's share is sized to take about as long as this process's
# own, so a helper still busy after several times that is stuck or starved (a cold compile under heavy load was
# measured at 188 s: issue 14); then this process compiles the rest itself.
WAIT_FACTOR, MIN_WAIT = 4.0, 15.0  # times this process's share; seconds
# How long the run trains with interpreted twins before it stops waiting for LATER: the step's own compile took
# 3.5-6.3 s on the development machine (1-2.5x this process's share), and the run makes progress meanwhile.
LATER_FACTOR, MIN_LATER_WAIT = 10.0, 60.0  # times this process's share; seconds
IDLE_ENOUGH = 1.5  # idle CPUs for a helper: one for this process, one for the helper, less sampling noise

# The kernels the interpreted step calls, split into two shares of about equal compile time (the helper's also
# pays about half a second to start Python and import numba), the callees of each kernel in its share. Cold
# compile times on the development machine: update_memristive 1.8 s, then reset 2.0 s (its callee
# normals_of_blocks already compiled; its serial twin 0.75 s), stream_counts 1.3 s (0.9 s of it their shared
# draw_words), then stream_packed 0.5 s, update_stochastic 0.55 s, matvec 0.25-0.35 s, update_float 0.27 s,
# matvec_by_inputs 0.13-0.23 s, transposed_matvec 0.2 s.
HELPER_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("stream_counts", "stream_packed", "matvec_by_inputs", "matvec", "transposed_matvec"),
    steps.KIND_STOCHASTIC: ("update_stochastic", "transposed_matvec", "matvec"),
    steps.KIND_FLOAT: ("update_float", "transposed_matvec"),
}
LOCAL_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("update_memristive", "reset_serial"),
    steps.KIND_STOCHASTIC: ("stream_counts", "stream_packed", "matvec_by_inputs"),
    steps.KIND_FLOAT: ("matvec_by_inputs", "matvec"),
}
# What the helper compiles while the run trains: the compiled step, then the prediction (and, for float, the
# stream kernel that both call in their streamed branch, which an interpreted float step never reaches; for
# memristive, the parallel reset, whose serial twin the run compiled: 0.75 s against 2.0 s).
LATER: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("train_step_memristive", "predict", "reset"),
    steps.KIND_STOCHASTIC: ("train_step_stochastic", "predict"),
    steps.KIND_FLOAT: ("stream_counts", "train_step_float", "predict"),
}

# helpers not yet reaped, stopped at exit, and the process that started each (a forked child inherits the table)
_helpers: dict[subprocess.Popen[bytes], int] = {}


def kernel_signatures(layers: int) -> dict[str, tuple[Any, tuple[types.Type, ...]]]:
    """Every function a helper may compile: its dispatcher and the argument types the compiled steps call it with
    (the model, for the steps, ``reset`` and ``predict``), for a network of ``layers`` crossbars."""
    f64, i64, u64, flag = types.float64, types.int64, types.uint64, types.boolean
    rule = numba.typeof(steps.UpdateRule.typed(*[0] * len(steps.FIELD_TYPES)))  # type: ignore[no-untyped-call]

    def array(dtype: types.Type, ndim: int) -> types.Array:
        return types.Array(dtype, ndim, "C")

    matrix, vector, words = array(f64, 2), array(f64, 1), array(u64, 2)
    indices, keys = array(i64, 1), (u64, u64, u64, u64, u64)
    crossbars = types.UniTuple(matrix, layers)  # type: ignore[no-untyped-call]
    return {
        "update_memristive": (kernels.update_memristive, (matrix, matrix, matrix, words, indices, words, indices,
                                                          array(flag, 1), f64, flag, i64, f64, f64, *keys[:4],
                                                          flag)),
        "update_stochastic": (kernels.update_stochastic, (matrix, words, indices, words, indices, vector, flag)),
        "update_float": (kernels.update_float, (matrix, vector, vector, flag)),
        "stream_counts": (streams.stream_counts, (vector, i64, *keys, indices)),
        "stream_packed": (streams.stream_packed, (vector, i64, *keys, words)),
        "matvec": (kernels.matvec, (matrix, vector)),
        "matvec_by_inputs": (kernels.matvec_by_inputs, (matrix, vector)),
        "transposed_matvec": (kernels.transposed_matvec, (matrix, vector)),
        "reset": (kernels.reset, (matrix, matrix, matrix, f64, f64, f64, f64, *keys[:4], flag)),
        "reset_serial": (kernels.reset_serial, (matrix, matrix, matrix, f64, f64, f64, f64, *keys[:4], flag)),
        "predict": (steps.predict, (flag, crossbars, indices, vector, i64, i64, i64, u64, u64)),
        "train_step_float": (steps.train_step_float, (crossbars, indices, vector, i64, i64, rule)),
        "train_step_stochastic": (steps.train_step_stochastic, (crossbars, indices, vector, i64, i64, rule)),
        "train_step_memristive": (steps.train_step_memristive, (crossbars, crossbars, crossbars, indices, vector,
                                                                i64, i64, rule)),
    }


def compile_kernels(names: Sequence[str], layers: int) -> None:
    """Compile (or load from the cache) each named kernel for its signature."""
    table = kernel_signatures(layers)
    for name in names:
        dispatcher, signature = table[name]
        dispatcher.compile(signature)


def two_cores() -> bool:
    """Whether this process may run on two cores or more: its thread count (:mod:`stochmem_numba.threads`:
    ``--threads``, ``$STOCHMEM_THREADS`` or its share of the CPUs) and the CPUs its affinity allows."""
    return min(requested_threads(), available_cpus()) >= 2


def step_is_compiled(step: Any, args: tuple[Any, ...]) -> bool:
    """Whether ``step`` (a compiled step) is compiled for ``args`` here or listed in its compile cache's index
    (read only: nothing is loaded); True when unsure."""
    try:
        signature = tuple(numba.typeof(arg) for arg in args)  # type: ignore[no-untyped-call]
        if signature in step.overloads:
            return True
        # numba's own key and index (what Dispatcher.compile reads first): not public, hence the fallback below
        cache = step._cache
        return cache._index_key(signature, step.targetctx.codegen()) in cache._cache_file._load_index()
    except Exception:  # a numba without these internals: compile as usual, without a helper
        return True


def start_helper(first: Sequence[str], then: Sequence[str], layers: int,
                 command: Sequence[str] | None = None) -> subprocess.Popen[bytes] | None:
    """Start a helper that compiles ``first``, prints ``READY``, waits for ``GO`` on its input, then compiles each
    of ``then`` and prints ``DONE name`` after it; None if it cannot start. It runs on this process's import path
    (``-P``: not the working folder's) and compile cache folder."""
    for done in [helper for helper in _helpers if helper.poll() is not None]:
        stop(done)
    folder = effective_cache_dir()
    if folder is None:
        return None
    argv = [*(command or [sys.executable, "-P", "-m", "stochmem_numba.precompile"]), "--first", ",".join(first),
            "--then", ",".join(then), "--layers", str(layers), "--digest", source_digest()]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(folder),
               PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    try:
        helper = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    except OSError:
        return None
    _helpers[helper] = os.getpid()
    return helper


def tell(helper: subprocess.Popen[bytes], line: str) -> None:
    """Send the helper a line (ignored if it has exited)."""
    with contextlib.suppress(OSError, ValueError):
        assert helper.stdin is not None
        helper.stdin.write(line.encode() + b"\n")
        helper.stdin.flush()


def ready_deadline(own_seconds: float) -> float:
    """How long to wait for the helper after this process compiled its own share in ``own_seconds``."""
    return max(MIN_WAIT, WAIT_FACTOR * own_seconds)


def later_deadline(own_seconds: float) -> float:
    """How long the run calls interpreted twins while the helper compiles ``LATER``, after this process compiled
    its own share in ``own_seconds``; then it stops the helper and compiles what is left itself."""
    return max(MIN_LATER_WAIT, LATER_FACTOR * own_seconds)


class Helper:
    """A helper this process started (:func:`start_helper`) and what it has reported: its ``READY`` line, then a
    ``DONE name`` line for each function of ``LATER`` it has compiled. Lines are read from the pipe's descriptor as
    they come, never waiting past a deadline (a helper that writes part of a line and stops cannot hold this
    process); a helper that says anything else, exits before it is done or misses its deadline is stopped."""

    def __init__(self, process: subprocess.Popen[bytes], later: Sequence[str]) -> None:
        self.process = process
        self.pending = set(later)  # what the helper has yet to compile
        self.deadline = float("inf")  # for ``pending`` (monotonic clock): set once the helper is ready
        self.ready = False
        self._received = b""

    def running(self) -> bool:
        """Whether the helper runs and is this process's."""
        return _helpers.get(self.process) == os.getpid()

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the ``READY`` line; False, and the helper stopped, if it did not
        come."""
        deadline = time.monotonic() + timeout
        while not self.ready and self.running():
            self._read(max(0.0, deadline - time.monotonic()))
            if not self.ready and time.monotonic() >= deadline:
                stop(self.process)
        return self.ready

    def compiling(self, name: str) -> bool:
        """Whether the helper is still compiling ``name``: reads what it reported meanwhile, without waiting."""
        if not self.running():
            return False
        self._read_before_deadline(0.0)  # also when ``name`` is done: the helper's end of file reaps it
        return name in self.pending and self.running()

    def wait_until_done(self) -> None:
        """Wait until the helper has compiled all of ``LATER`` or is stopped (at its deadline at the latest)."""
        while self.pending and self.running():
            self._read_before_deadline(float("inf"))

    def _read_before_deadline(self, timeout: float) -> None:
        """:meth:`_read` for ``timeout`` seconds at most and never past ``deadline``; stop the helper once the
        deadline has passed."""
        self._read(min(timeout, max(0.0, self.deadline - time.monotonic())))
        if time.monotonic() >= self.deadline:
            stop(self.process)

    def _read(self, timeout: float) -> None:
        """Take in what the helper wrote within ``timeout`` seconds, a whole line at a time."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        if not select.select([descriptor], [], [], timeout)[0]:
            return
        chunk = os.read(descriptor, 4096)
        if not chunk:  # end of file: the helper exited before it was done
            stop(self.process)
            return
        self._received += chunk
        while b"\n" in self._received and self.running():
            line, self._received = self._received.split(b"\n", 1)
            self._take(line.decode("ascii", "replace").strip())

    def _take(self, line: str) -> None:
        """Act on one line of the helper's: anything but the protocol stops it."""
        word, _, name = line.partition(" ")
        if line == READY and not self.ready:
            self.ready = True
        elif self.ready and word == DONE and name in self.pending:
            self.pending.discard(name)
            if not self.pending:  # all compiled and cached: the helper is exiting anyway
                stop(self.process)
        else:
            stop(self.process)


_active: Helper | None = None  # this process's helper, once ready (one at a time)


def stop(helper: subprocess.Popen[bytes]) -> None:
    """Stop a helper (if still running), reap it and close its pipes."""
    if helper.poll() is None:
        helper.kill()
    helper.wait()
    for pipe in (helper.stdin, helper.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):  # a broken pipe to a helper that has exited
                pipe.close()
    _helpers.pop(helper, None)


@atexit.register
def _stop_helpers() -> None:
    for helper, owner in list(_helpers.items()):
        if owner == os.getpid():  # a forked child leaves its parent's helpers alone
            stop(helper)


def prepare_first_step(step: Any, args: tuple[Any, ...], kind: int, layers: int,
                       start: Callable[..., subprocess.Popen[bytes] | None] = start_helper) -> bool:
    """Before a model's first call of ``step`` with ``args``: if the step is not compiled yet, the compile cache
    is on, this process may use two idle cores and runs no helper yet, compile the step's kernels with a helper,
    which then goes on with the compiled step and prediction (the module's docstring). Returns whether a helper
    compiled its share (and now compiles ``LATER``: see :func:`callable_now`). Never raises but to pass on an
    interruption: whatever fails here leaves the step to compile what it lacks."""
    global _active
    helper = None
    try:
        if (_active is not None and _active.running()) or not worth_a_helper(step, args):
            return False
        process = start(HELPER_SHARE[kind], LATER[kind], layers)
        if process is None:
            return False
        helper = Helper(process, LATER[kind])
        began = time.monotonic()
        compile_kernels(LOCAL_SHARE[kind], layers)
        own = time.monotonic() - began
        limit = later_deadline(own)
        tell(process, f"{GO} {limit:.1f}")  # the helper exits by itself after that long
        if not helper.wait_until_ready(ready_deadline(own)):
            return False
        helper.deadline = time.monotonic() + limit
        _active = helper
        return True
    except Exception:  # e.g. psutil or numba internals missing, a kernel that fails to compile (the step will say)
        if helper is not None:
            stop(helper.process)
        return False
    except BaseException:  # an interruption: no helper left behind
        if helper is not None:
            stop(helper.process)
        raise


def callable_now(function: Any) -> Any:
    """``function`` (a compiled step, the prediction or the reset), or its :func:`stand_in` while this process's
    helper is still compiling it."""
    helper = _active
    if helper is None:
        return function
    try:
        return stand_in(function) if helper.compiling(function.py_func.__name__) else function
    except Exception:  # whatever fails here costs time only: the function compiles what it lacks
        stop(helper.process)
        return function


def stand_in(function: Any) -> Any:
    """What computes the same as ``function`` without its compile: the reset's serial twin
    (:func:`stochmem_numba.kernels.serial`), a step's or the prediction's interpreted twin
    (:mod:`stochmem_numba.interpreted`)."""
    return kernels.reset_serial if function is kernels.reset else interpreted(function)


def wait_until_compiled() -> None:
    """Return once this process's helper, if any, has compiled the step and the prediction, or is stopped."""
    if _active is not None and _active.running():
        try:
            _active.wait_until_done()
        except Exception:  # as in callable_now
            stop(_active.process)


def worth_a_helper(step: Any, args: tuple[Any, ...]) -> bool:
    """Whether a helper can shorten the first call of ``step`` with ``args``: POSIX pipes (the protocol waits on
    them with ``select``), two cores allowed and idle, a compile cache, and a step not compiled yet."""
    return (os.name == "posix" and two_cores() and effective_cache_dir() is not None
            and not step_is_compiled(step, args) and idle_cpus() >= IDLE_ENOUGH)


def exit_when_parent_dies(commands: IO[str], go: threading.Event) -> None:
    """The helper's watch on its input: on a ``GO seconds`` line, set ``go`` and exit the process after that many
    seconds (the parent's deadline for ``LATER``: it stops waiting then, and may not call again to stop this
    helper); exit the process at the end of the input (the parent exited or died), whatever it is compiling."""
    for line in commands:
        word, _, limit = line.strip().partition(" ")
        if word == GO and not go.is_set():
            with contextlib.suppress(ValueError):
                limit_timer = threading.Timer(float(limit), os._exit, args=(3,))
                limit_timer.daemon = True  # a helper done before its limit exits at once
                limit_timer.start()
            go.set()
    os._exit(0)


def names(listed: str) -> list[str]:
    """The kernel names of a comma-separated command-line list."""
    return [name for name in listed.split(",") if name]


def main(argv: Sequence[str] | None = None) -> int:
    """The helper: compile ``--first``, print ``READY``, wait for ``GO``, compile each of ``--then`` and print
    ``DONE name`` after it."""
    parser = argparse.ArgumentParser(description="compile stochmem_numba kernels into the compile cache")
    parser.add_argument("--first", default="")
    parser.add_argument("--then", default="")
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--digest", required=True)
    args = parser.parse_args(argv)
    if args.digest != source_digest():  # another copy of the package than the parent's: its cache is not ours
        return 2
    # the protocol keeps the original standard output; anything numba prints goes nowhere (and cannot fill a pipe)
    protocol = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    go = threading.Event()
    threading.Thread(target=exit_when_parent_dies, args=(sys.stdin, go), daemon=True).start()
    compile_kernels(names(args.first), args.layers)
    protocol.write(READY + "\n")
    protocol.flush()
    go.wait()
    for name in names(args.then):
        compile_kernels([name], args.layers)
        protocol.write(f"{DONE} {name}\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
