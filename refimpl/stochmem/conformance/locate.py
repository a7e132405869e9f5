"""Locate a training vector's failure: which part of the step, checked through the contract, differs first.

A backend's model can fail a training-step vector ([SPEC 3.5]) for a bug in any of the step's parts. The vectors
record what each part computed (``updates``: the update's pulse probabilities and coincidence counts;
``layersAfterUpdate``: the state before a reset), so each part can be replayed alone through the ``Backend``
contract, in the order the step runs them:

1. ``coincidence_counts`` of every crossbar [SPEC 1.4, 3.8];
2. ``update_layer`` of every crossbar, from the state before the step [SPEC 3.7, 3.8, 4.3];
3. ``reset`` of every crossbar on the steps [SPEC 4.5] names.

The first part that differs is the one to read; if every part agrees with the vector, the difference lies in the
model's own forward or backward pass ([SPEC 3.3, 3.6]), whose values the vector's ``crossbarInputs``,
``activations`` and ``deltas`` hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stochmem.backend_api import Backend
from stochmem.config import NetworkConfig
from stochmem.conformance.compare import first_difference
from stochmem.network import Layer, device_weights
from stochmem.rng import Draw, Site


def layers_of(entries: Sequence[dict[str, Any]]) -> list[Layer]:
    """The vectors' JSON crossbars (``weights``, ``gPlus``, ``gMinus``) as :class:`~stochmem.network.Layer`."""
    return [Layer([list(r) for r in entry["weights"]],
                  [list(r) for r in entry["gPlus"]] if "gPlus" in entry else None,
                  [list(r) for r in entry["gMinus"]] if "gMinus" in entry else None) for entry in entries]


def first_count_difference(got: list[list[int]], want: list[list[int]]) -> str | None:
    if len(got) != len(want) or any(len(a) != len(b) for a, b in zip(got, want)):
        return f"counts of shape {len(got)}x{len(got[0]) if got else 0}, vector {len(want)}x{len(want[0])}"
    for j, (row, expected) in enumerate(zip(got, want)):
        for i, (a, b) in enumerate(zip(row, expected)):
            if a != b:
                return f"counts[{j}][{i}] = {a}, vector {b}"
    return None


def locate(backend: Backend, config: NetworkConfig, seed: int, entry: dict[str, Any],
           before: Sequence[dict[str, Any]]) -> str:
    """The first part of training step ``entry`` (a vector's step, ``before`` the crossbars before it) that the
    backend computes differently, with its clause; or where to look when every part agrees."""
    step = entry["step"]
    for index, update in enumerate(entry.get("updates", [])):
        counts = backend.coincidence_counts(update["rowProbabilities"], update["columnProbabilities"],
                                            config.bit_length, Draw(seed, Site.UPDATE_ROW, step, index),
                                            Draw(seed, Site.UPDATE_COLUMN, step, index))
        difference = first_count_difference(counts, update["counts"])
        if difference:
            return f"[SPEC 1.4, 3.8] located: coincidence_counts of crossbar {index} at step {step}: {difference}"
    updated_want = layers_of(entry.get("layersAfterUpdate", entry["layersAfter"]))
    updated_got = []
    for index, layer in enumerate(layers_of(before)):
        inputs = [*([*entry["image"]] if index == 0 else entry["activations"][index - 1]), 1.0]
        updated_got.append(backend.update_layer(layer, inputs, entry["deltas"][index], entry["eta"], config, seed,
                                                step, index))
    difference = first_difference(updated_got, updated_want)
    if difference:
        return f"[SPEC 3.7, 3.8, 4.3] located: update_layer at step {step}: {difference}"
    if "layersAfterUpdate" in entry:
        after_got = [reset_through_contract(backend, layer, config, seed, step, index)
                     for index, layer in enumerate(updated_want)]
        difference = first_difference(after_got, layers_of(entry["layersAfter"]))
        if difference:
            return f"[SPEC 4.5] located: reset at step {step}: {difference}"
    return (f"[SPEC 3.3, 3.6] located: every part of step {step} replayed alone through the contract agrees with "
            "the vector, so the model's own forward or backward pass differs: compare its values with the vector's "
            "crossbarInputs, activations and deltas")


def reset_through_contract(backend: Backend, layer: Layer, config: NetworkConfig, seed: int, step: int,
                           index: int) -> Layer:
    """Crossbar ``index`` after ``Backend.reset`` of all its pairs (synapse j * (n_in + 1) + i) [SPEC 4.5]."""
    assert layer.g_plus is not None and layer.g_minus is not None
    width = layer.n_in + 1
    flat_plus = [g for row in layer.g_plus for g in row]
    flat_minus = [g for row in layer.g_minus for g in row]
    new_plus, new_minus = backend.reset(flat_plus, flat_minus, list(range(len(flat_plus))), config.device,
                                        Draw(seed, Site.RESET_NOISE, step, index))
    g_plus = [new_plus[j * width:(j + 1) * width] for j in range(layer.n_out)]
    g_minus = [new_minus[j * width:(j + 1) * width] for j in range(layer.n_out)]
    return Layer(device_weights(g_plus, g_minus, config), g_plus, g_minus)
