"""A cold first training step on two cores: a helper process compiles part of the step's kernels into the compile
cache while this process compiles the rest.

A cold first step is mostly compilation: the kernels a step calls (:mod:`stochmem_numba.kernels`,
:mod:`stochmem_numba.streams`), then the step itself (:mod:`stochmem_numba.step`), which calls them. numba compiles
on one core, under a process-wide lock, so a second core can only help from a second process. When a helper can
help (:func:`worth_a_helper`: the step is not in the cache yet, there is a cache folder, this process may use two
cores or more, :func:`two_cores`, and at least ``IDLE_ENOUGH`` of its CPUs stood idle over a tenth of a second: a
helper beside another busy process slowed a cold first step from 11.5-11.8 s to 12.9-17.6 s),
:func:`prepare_first_step`

1. starts ``python -m stochmem_numba.precompile`` on the kernels of the helper's share (``HELPER_SHARE``), with this
   process's import path and compile cache folder, so that it compiles this very source into the folder this
   process reads (it compares the digest of the package's source files, :func:`stochmem_numba.jit.source_digest`,
   with this process's and does nothing on a mismatch);
2. compiles the other share (``LOCAL_SHARE``) here, then tells the helper to go on with the kernels the run needs
   later (the reset, the prediction: ``LATER``); the prediction calls kernels of this share, now in the cache, so
   the helper loads them instead of compiling them beside this process;
3. waits for the helper's ``ready`` line (its share is in the cache) and returns; the step's own compile then
   loads those kernels from the cache.

The helper compiles each kernel for the argument types the steps call it with (:func:`kernel_signatures`;
``tests/test_numba_precompile.py`` checks that the run loads every kernel of the helper's share and of ``LATER``
from the cache and compiles none of them). Whatever goes wrong costs time only: a helper that cannot start, fails,
says something else, or is not ready by a deadline (a few times this process's own share, :func:`ready_deadline`)
is stopped, and so is one whose parent meets any error here; the step then compiles what it lacks itself. A helper
never outlives its run: it is stopped when this process exits, and it exits by itself when this process dies (its
standard input closes). POSIX only (the wait uses ``select`` on a pipe).

A helper changes how long the first step waits, never the code it runs. numba caches beside each kernel's machine
code the optimised LLVM IR it links into callers, and the step links and optimises that IR exactly as it would
link a kernel compiled in this process: the step compiled with the helper's kernels has the same machine
instructions as one compiled alone (the test compares them), so it runs as fast and computes the same results
(also compared: 45 steps' losses, predictions and final state).

Why the shares have no kernel (nor callee) in common: numba's cache index has no lock, and two processes that add
different signatures of one function at the same moment can both pick the same data file, leaving the index to map
one signature to the other's machine code. Each kernel here has one signature, so even a shared one would be
written twice with the same entry; the shares avoid it anyway (``draw_words``, under both stream kernels, is in
this process's share for every kind).
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
from stochmem_numba.jit import effective_cache_dir, source_digest
from stochmem_numba.threads import available_cpus, idle_cpus, requested_threads

READY, GO = "ready", "go"
# How long a run waits for the helper's share: the helper's share is sized to take about as long as this process's
# own, so a helper still busy after several times that is stuck or starved (a cold compile under heavy load was
# measured at 188 s: issue 14); then this process compiles the rest itself.
WAIT_FACTOR, MIN_WAIT = 4.0, 15.0  # times this process's share; seconds
IDLE_ENOUGH = 1.5  # idle CPUs for a helper: one for this process, one for the helper, less sampling noise

# About half of each kind's kernel compile time each, the helper's share the one that ends first in a cold run
# on the development machine, where the helper also pays about half a second to start Python and import numba.
# Cold compile times there: update_memristive 2.1 s, stream_counts 1.1 s, stream_packed 0.7 s, matvec 0.4 s,
# transposed_matvec 0.3 s, matvec_by_inputs 0.3 s.
HELPER_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("update_memristive",),
    steps.KIND_STOCHASTIC: ("update_stochastic", "transposed_matvec", "matvec"),
    steps.KIND_FLOAT: ("update_float", "transposed_matvec"),
}
LOCAL_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("stream_counts", "stream_packed", "matvec_by_inputs", "matvec", "transposed_matvec"),
    steps.KIND_STOCHASTIC: ("stream_counts", "stream_packed", "matvec_by_inputs"),
    steps.KIND_FLOAT: ("stream_counts", "matvec_by_inputs", "matvec"),
}
LATER: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("reset", "predict"),
    steps.KIND_STOCHASTIC: ("predict",),
    steps.KIND_FLOAT: ("predict",),
}

_helpers: list[subprocess.Popen[bytes]] = []  # helpers not yet reaped, stopped at exit


def kernel_signatures(layers: int) -> dict[str, tuple[Any, tuple[types.Type, ...]]]:
    """Every kernel a helper may compile: its dispatcher and the argument types the compiled steps (and the model,
    for ``reset`` and ``predict``) call it with, for a network of ``layers`` crossbars."""
    f64, i64, u64, flag = types.float64, types.int64, types.uint64, types.boolean

    def array(dtype: types.Type, ndim: int) -> types.Array:
        return types.Array(dtype, ndim, "C")

    matrix, vector, words = array(f64, 2), array(f64, 1), array(u64, 2)
    indices, keys = array(i64, 1), (u64, u64, u64, u64, u64)
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
        "predict": (steps.predict, (flag, types.UniTuple(matrix, layers),  # type: ignore[no-untyped-call]
                                    indices, vector, i64, i64, i64, u64, u64)),
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
    """Start a helper that compiles ``first``, prints ``READY``, waits for ``GO`` on its input, then compiles
    ``then``; None if it cannot start. It runs on this process's import path (``-P``: not the working folder's) and
    compile cache folder."""
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
    _helpers.append(helper)
    return helper


def tell(helper: subprocess.Popen[bytes], line: str) -> None:
    """Send the helper a line (ignored if it has exited)."""
    with contextlib.suppress(OSError, ValueError):
        assert helper.stdin is not None
        helper.stdin.write(line.encode() + b"\n")
        helper.stdin.flush()


def wait_until_ready(helper: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the helper's ``READY`` line; stop the helper and return False if it
    exited, said anything else, or took longer. Reads the pipe's descriptor directly, so that a helper that writes
    part of a line and stops cannot hold this process past the deadline."""
    assert helper.stdout is not None
    descriptor, received = helper.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
            break
        chunk = os.read(descriptor, 256)
        if not chunk:  # end of file: the helper exited
            break
        received += chunk
    if received.split(b"\n")[0].strip() == READY.encode():
        return True
    stop(helper)
    return False


def ready_deadline(own_seconds: float) -> float:
    """How long to wait for the helper after this process compiled its own share in ``own_seconds``."""
    return max(MIN_WAIT, WAIT_FACTOR * own_seconds)


def stop(helper: subprocess.Popen[bytes]) -> None:
    """Stop a helper (if still running), reap it and close its pipes."""
    if helper.poll() is None:
        helper.kill()
    helper.wait()
    for pipe in (helper.stdin, helper.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):  # a broken pipe to a helper that has exited
                pipe.close()
    if helper in _helpers:
        _helpers.remove(helper)


@atexit.register
def _stop_helpers() -> None:
    for helper in list(_helpers):
        stop(helper)


def prepare_first_step(step: Any, args: tuple[Any, ...], kind: int, layers: int,
                       start: Callable[..., subprocess.Popen[bytes] | None] = start_helper) -> bool:
    """Before a model's first call of ``step`` with ``args``: if the step is not compiled yet, the compile cache
    is on and this process may use two idle cores, compile its kernels with a helper (the module's docstring).
    Returns whether a helper compiled its share. Never raises but to pass on an interruption: whatever fails here
    leaves the step to compile what it lacks."""
    helper = None
    try:
        if not worth_a_helper(step, args):
            return False
        helper = start(HELPER_SHARE[kind], LATER[kind], layers)
        if helper is None:
            return False
        began = time.monotonic()
        compile_kernels(LOCAL_SHARE[kind], layers)
        tell(helper, GO)
        return wait_until_ready(helper, ready_deadline(time.monotonic() - began))
    except Exception:  # e.g. psutil or numba internals missing, a kernel that fails to compile (the step will say)
        if helper is not None:
            stop(helper)
        return False
    except BaseException:  # an interruption: no helper left behind
        if helper is not None:
            stop(helper)
        raise


def worth_a_helper(step: Any, args: tuple[Any, ...]) -> bool:
    """Whether a helper can shorten the first call of ``step`` with ``args``: POSIX pipes (the protocol waits on
    them with ``select``), two cores allowed and idle, a compile cache, and a step not compiled yet."""
    return (os.name == "posix" and two_cores() and effective_cache_dir() is not None
            and not step_is_compiled(step, args) and idle_cpus() >= IDLE_ENOUGH)


def exit_when_parent_dies(commands: IO[str], go: threading.Event) -> None:
    """The helper's watch on its input: set ``go`` on a ``GO`` line; exit the process at the end of the input
    (the parent exited or died), whatever the helper is compiling."""
    for line in commands:
        if line.strip() == GO:
            go.set()
    os._exit(0)


def names(listed: str) -> list[str]:
    """The kernel names of a comma-separated command-line list."""
    return [name for name in listed.split(",") if name]


def main(argv: Sequence[str] | None = None) -> int:
    """The helper: compile ``--first``, print ``READY``, wait for ``GO``, compile ``--then``."""
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
    protocol.close()
    go.wait()
    compile_kernels(names(args.then), args.layers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
