"""The interpreted twin of a compiled step: its orchestration run by Python, its kernels compiled.

A step of :mod:`stochmem_numba.step` is one compiled function: numba inlines the functions marked
``inline="always"`` (the orchestration: passes, layer loops, activations) and links the kernels into it, then
optimises the whole. That compile takes seconds even when every kernel is in the cache
(:mod:`stochmem_numba.precompile`). :func:`interpreted` gives a function that runs the same Python code in the
interpreter instead: the orchestration functions are interpreted too, and the kernels (every other compiled
function) are called compiled, each loaded from the cache or compiled on its own, which takes a fraction of the
step's compile. It computes the same numbers, bit for bit, which ``tests/test_numba_interpreted.py`` checks on
every kind, and for these reasons:

- the kernels are the same source compiled with the same flags; inside the step LLVM may inline and re-optimise
  them, but only within what their instructions' flags allow (the reassociation of two matrix-vector kernels, the
  fused multiply-adds of the normals), the same choices as in the kernel compiled alone;
- the orchestration does IEEE double arithmetic either way: numba compiles it without fast-math flags (no
  reassociation, no contraction into fused multiply-adds), and its ``math.exp`` and ``math.log`` call the C
  library's functions, as Python's do (numba with Intel's SVML could call vectorised ones instead, but then the
  compiled step would differ from the reference as well, and the conformance suite says so);
- integers: the orchestration computes indices, counts and counter words far from any overflow.

Floating-point warnings (an overflow in a diverged network) are silenced in the twin, as compiled code has none.
The twin reads the module globals of the moment it is first made (and kept): a kernel replaced later is not seen.

It runs several times slower than the compiled step (the element loops of the orchestration run in Python), so it
only carries a cold run while a helper process compiles the step (:func:`stochmem_numba.precompile.callable_now`).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from functools import cache, wraps
from typing import Any

import numpy as np
from numba.core.registry import CPUDispatcher


def is_orchestration(value: object) -> bool:
    """Whether ``value`` is a compiled function that numba inlines into its callers (``inline="always"``)."""
    return isinstance(value, CPUDispatcher) and value.targetoptions.get("inline") == "always"


def global_names(code: types.CodeType) -> Iterator[str]:
    """The global names ``code`` and the code objects nested in it may read."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from global_names(constant)


@cache
def interpreted(function: CPUDispatcher) -> Callable[..., Any]:
    """The Python function of ``function`` (a compiled function), with every orchestration function it calls
    (:func:`is_orchestration`), directly or below, replaced by its own interpreted twin; every other compiled
    function it calls stays compiled. The module's docstring says why the results are the same."""
    twin = _twin(function, {})

    @wraps(twin)
    def quiet(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return twin(*args)

    return quiet


def _twin(function: CPUDispatcher, made: dict[int, types.FunctionType]) -> types.FunctionType:
    """:func:`interpreted`, sharing the twins already ``made`` (keyed by the identity of the dispatcher)."""
    if id(function) in made:
        return made[id(function)]
    python = function.py_func
    namespace = dict(python.__globals__)  # a copy: the module's own functions stay compiled for everyone else
    twin = types.FunctionType(python.__code__, namespace, python.__name__, python.__defaults__, python.__closure__)
    made[id(function)] = twin
    for name in set(global_names(python.__code__)):
        if is_orchestration(namespace.get(name)):
            namespace[name] = _twin(namespace[name], made)
    return twin
