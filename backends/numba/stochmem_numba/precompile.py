"""A cold first training step on two cores: a helper process compiles part of the step's kernels into the compile
cache while this process compiles the rest.

A cold first step is mostly compilation: the kernels a step calls (:mod:`stochmem_numba.kernels`,
:mod:`stochmem_numba.streams`), then the step itself (:mod:`stochmem_numba.step`), which calls them. numba compiles
on one core, under a process-wide lock, so a second core can only help from a second process. When the step is
not in the cache yet and this process may use two cores or more (its thread count,
:mod:`stochmem_numba.threads`), :func:`prepare_first_step`

1. starts ``python -m stochmem_numba.precompile`` on the kernels of the helper's share (``HELPER_SHARE``), to be
   followed by those the run needs later (the reset, the prediction: ``LATER``);
2. compiles the other share (``LOCAL_SHARE``) here;
3. waits for the helper's ``ready`` line (its share is in the cache) and returns; the step's own compile then
   loads those kernels from the cache. The helper goes on with ``LATER`` in the background.

The helper compiles each kernel for the argument types the steps call it with (:func:`kernel_signatures`;
``tests/test_numba_precompile.py`` checks that a step compiles none of the helper's kernels again). Whatever goes
wrong (no cache folder, a helper that cannot start, fails, or is not ready within ``HELPER_TIMEOUT``) costs time
only: the step then compiles what it lacks itself.

A helper changes how long the first step waits, never the code it runs. numba caches beside each kernel's machine
code the optimised LLVM IR it links into callers, and the step links and optimises that IR exactly as it would
link a kernel compiled in this process: the step compiled with the helper's kernels has the same machine
instructions as one compiled alone (the test compares them), so it runs as fast and computes the same results
(also compared: 45 steps' losses, predictions and final state). One core (``--threads 1``, or a worker of
``stochmem reproduce`` with a core of its own), a warm cache, or no cache folder: no helper.
"""

from __future__ import annotations

import argparse
import atexit
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numba
from numba import types

from stochmem_numba import kernels, streams
from stochmem_numba import step as steps
from stochmem_numba.jit import caching_enabled

READY = "ready"
HELPER_TIMEOUT = 600.0  # seconds; a cold compile under heavy load was measured at 188 s (issue 14)

# About half of each kind's kernel compile time each, the helper's share the one that ends first in a cold run
# on the development machine, where the helper also pays about half a second to start Python and import numba.
# Cold compile times there: update_memristive 2.1 s, stream_counts 1.1 s, stream_packed 0.7 s, matvec 0.4 s,
# transposed_matvec 0.3 s, matvec_by_inputs 0.3 s.
HELPER_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("update_memristive",),
    steps.KIND_STOCHASTIC: ("update_stochastic", "stream_packed", "transposed_matvec"),
    steps.KIND_FLOAT: ("update_float", "transposed_matvec"),
}
LOCAL_SHARE: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("stream_counts", "stream_packed", "matvec_by_inputs", "matvec", "transposed_matvec"),
    steps.KIND_STOCHASTIC: ("stream_counts", "matvec_by_inputs", "matvec"),
    steps.KIND_FLOAT: ("stream_counts", "matvec_by_inputs", "matvec"),
}
LATER: dict[int, tuple[str, ...]] = {
    steps.KIND_MEMRISTIVE: ("reset", "predict"),
    steps.KIND_STOCHASTIC: ("predict",),
    steps.KIND_FLOAT: ("predict",),
}

_helpers: list[subprocess.Popen[str]] = []  # running helpers, stopped at exit (a half-done compile is not cached)


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


def step_is_compiled(step: Any, args: tuple[Any, ...]) -> bool:
    """Whether ``step`` (a compiled step) is compiled for ``args`` here or in the cache; True when unsure."""
    try:
        signature = tuple(numba.typeof(arg) for arg in args)  # type: ignore[no-untyped-call]
        if signature in step.overloads:
            return True
        # numba's own lookup (what Dispatcher.compile does first): not public, hence the fallback below
        return step._cache.load_overload(signature, step.targetctx) is not None
    except Exception:  # a numba without these internals: compile as usual, without a helper
        return True


def start_helper(first: Sequence[str], then: Sequence[str], layers: int,
                 command: Sequence[str] | None = None) -> subprocess.Popen[str] | None:
    """Start a helper that compiles ``first``, prints ``READY``, then compiles ``then``; None if it cannot start."""
    argv = [*(command or [sys.executable, "-m", "stochmem_numba.precompile"]), "--first", ",".join(first),
            "--then", ",".join(then), "--layers", str(layers)]
    try:
        helper = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    _helpers.append(helper)
    return helper


def wait_until_ready(helper: subprocess.Popen[str], timeout: float = HELPER_TIMEOUT) -> bool:
    """Wait for the helper's ``READY`` line; stop the helper and return False if it failed or took too long."""
    output = helper.stdout
    assert output is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(output.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if lines and lines[0].strip() == READY:
        return True
    stop(helper)
    return False


def stop(helper: subprocess.Popen[str]) -> None:
    """Stop a helper (if still running) and reap it."""
    if helper.poll() is None:
        helper.kill()
    helper.wait()
    if helper.stdout is not None:
        helper.stdout.close()
    if helper in _helpers:
        _helpers.remove(helper)


@atexit.register
def _stop_helpers() -> None:
    for helper in list(_helpers):
        stop(helper)


def prepare_first_step(step: Any, args: tuple[Any, ...], kind: int, layers: int,
                       start: Callable[..., subprocess.Popen[str] | None] = start_helper) -> bool:
    """Before a model's first call of ``step`` with ``args``: if the step is not compiled yet, the compile cache
    is on and this process may use two cores, compile its kernels with a helper (the module's docstring).
    Returns whether a helper compiled its share."""
    if numba.get_num_threads() < 2 or not caching_enabled() or step_is_compiled(step, args):
        return False
    helper = start(HELPER_SHARE[kind], LATER[kind], layers)
    if helper is None:
        return False
    compile_kernels(LOCAL_SHARE[kind], layers)
    return wait_until_ready(helper)


def main(argv: Sequence[str] | None = None) -> int:
    """The helper: compile ``--first``, print ``READY``, compile ``--then``."""
    parser = argparse.ArgumentParser(description="compile stochmem_numba kernels into the compile cache")
    parser.add_argument("--first", default="")
    parser.add_argument("--then", default="")
    parser.add_argument("--layers", type=int, required=True)
    args = parser.parse_args(argv)
    compile_kernels([name for name in args.first.split(",") if name], args.layers)
    print(READY, flush=True)  # the last line: the parent stops listening after it
    compile_kernels([name for name in args.then.split(",") if name], args.layers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
