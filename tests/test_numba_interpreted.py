"""The stand-ins that carry a cold run while a helper compiles the step (stochmem_numba.precompile.stand_in): the
interpreted twins of the step and the prediction (stochmem_numba.interpreted) and the serial reset give the same
losses, predictions and final state as the compiled functions, bit for bit, for every kind (the memristive run
through three resets), and no orchestration function is compiled on its own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.plugins import get_backend
from stochmem_numba import kernels, normals, precompile, streams
from stochmem_numba import step as steps
from stochmem_numba.interpreted import interpreted, is_orchestration


def trained_digest(kind: str, bit_length: int, call: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """A digest of 45 training steps' losses and predictions, 3 predictions and the final state of a network of
    ``kind`` whose model calls its step, reset and prediction through ``call`` (given the compiled function), in
    place of :func:`stochmem_numba.precompile.callable_now`."""
    pixels = np.random.default_rng(11).random((45, 784))
    pixels[pixels < 0.6] = 0.0  # mostly blank, like a digit
    noisy = DeviceParams(sigma=0.1, reset_write="noisy")  # programming and reset draw normals
    model = get_backend("numba").create_model(NetworkConfig(kind=kind, bit_length=bit_length, device=noisy), 7)
    model.stepped = True  # no compile helper: ``call`` alone decides
    digest = hashlib.sha256()
    with monkeypatch.context() as patch:
        patch.setattr(precompile, "callable_now", call)
        for step in range(45):
            result = model.train_step(pixels[step], step % 10, step, 0.1)
            digest.update(np.float64(result.loss).tobytes() + int(result.prediction).to_bytes(1, "little"))
        for image in range(3):  # BL = 10 and 100 for the streamed kinds
            predicted = model.predict(pixels[image], image, 1, 10 ** (1 + image % 2))
            digest.update(predicted.to_bytes(1, "little"))
    for array in [*model.weights, *getattr(model, "g_plus", []), *getattr(model, "g_minus", [])]:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def orchestration() -> dict[str, Any]:
    """Every orchestration function (compiled only inlined into its callers) of the numba backend's modules."""
    return {f"{module.__name__}.{name}": value for module in (steps, kernels, streams, normals)
            for name, value in vars(module).items() if is_orchestration(value)}


@pytest.mark.parametrize(("kind", "bit_length"), [("float", 10), ("stochastic", 10), ("stochastic", 100),
                                                  ("memristive", 10)])
def test_the_stand_ins_compute_what_the_compiled_functions_compute(kind, bit_length, monkeypatch):
    # the interpreted step and prediction, and the serial reset; BL = 100 streams span two words
    before = {name: len(function.signatures) for name, function in orchestration().items()}
    assert (trained_digest(kind, bit_length, precompile.stand_in, monkeypatch)
            == trained_digest(kind, bit_length, lambda function: function, monkeypatch))
    compiled_alone = {name for name, function in orchestration().items() if len(function.signatures) > before[name]}
    assert not compiled_alone, "orchestration the interpreted twin called compiled (a compile of its own)"


def test_the_twin_interprets_every_orchestration_function_below_it():
    twin = interpreted(steps.train_step_memristive).__wrapped__  # without its wrapper that silences warnings
    below = twin.__globals__
    assert not is_orchestration(below["passes"]) and not is_orchestration(below["memristive_update"])
    assert below["update_memristive"] is kernels.update_memristive, "a kernel not called compiled"
    streams_twin = below["memristive_update"].__globals__["update_streams"]  # two levels down, another module's
    assert not is_orchestration(streams_twin) and not is_orchestration(streams_twin.__globals__["gather_rows"])
    assert steps.passes is not below["passes"] and is_orchestration(steps.passes), "the module's own changed"
