"""Conformance, chapter 3: the network, the backward pass and the coincidence update."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stochmem.backend_api import Backend
from stochmem.config import DeviceParams, NetworkConfig, from_dict
from stochmem.conformance.compare import assert_same_layers
from stochmem.conformance.locate import layers_of, locate
from stochmem.conformance.plugin import Seeded
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.conformance.vectors_source import cases
from stochmem.network import Layer

pytestmark = pytest.mark.groups("network")

WEIGHT_TOLERANCE = 1e-9  # [SPEC 6.1]
INPUTS = [0.0, 0.2, 0.55, 1.0, 0.8, 1.0]  # five activations and the bias
DELTAS = [0.3, -0.6, 0.05, -1.0]


def flat(layer: Layer, field: str = "weights") -> list[float]:
    return [v for row in getattr(layer, field) for v in row]


TRAINING_VECTORS = cases("training.json", "TrainingStepTest")


@pytest.mark.exact
@pytest.mark.parametrize("case", TRAINING_VECTORS, ids=[f"tcId{case['tcId']}" for case in TRAINING_VECTORS])
def test_spec_3_training_step_vectors(backend: Backend, case: dict[str, Any]) -> None:
    """[SPEC 3.4-3.8, 4.3-4.6] Initialisation and training steps replayed from the vectors, the state compared
    after every step: a failure names the first step and the first value that differs, and the clause."""
    config = from_dict(case["config"])
    if config.kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {config.kind} (vector tcId {case['tcId']})")
    model = backend.create_model(config, case["seed"])
    where = f"vector tcId {case['tcId']} ({config.kind})"
    assert_same_layers(model.export_layers(), layers_of(case["initialLayers"]), config, None, where=where)
    before = case["initialLayers"]
    for step in case["steps"]:
        result = model.train_step(step["image"], step["label"], step["step"], step["eta"])
        at = f"{where}, step {step['step']}"
        try:
            assert result.loss == pytest.approx(step["loss"], abs=WEIGHT_TOLERANCE), \
                f"[SPEC 3.3, 3.2] {at}: loss {result.loss!r}, expected {step['loss']!r}"
            assert result.prediction == step["prediction"], \
                f"[SPEC 3.3] {at}: prediction {result.prediction}, expected {step['prediction']}"
            assert_same_layers(model.export_layers(), layers_of(step["layersAfter"]), config, step["step"],
                               where=where)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{locate(backend, config, case['seed'], step, before)}") from None
        before = step["layersAfter"]
    assert_same_layers(model.export_layers(), layers_of(case["finalLayers"]), config, None, clause="[SPEC 3.5-3.8]",
                       where=f"{where}, final state")


def layer_for(kind: str, levels: float = 3.0) -> Layer:
    weights = [[0.01 * (j - i) for i in range(len(INPUTS))] for j in range(len(DELTAS))]
    if kind != "memristive":
        return Layer(weights)
    grid = [[levels] * len(INPUTS) for _ in DELTAS]
    return Layer([[0.0] * len(INPUTS) for _ in DELTAS], copy.deepcopy(grid), copy.deepcopy(grid))


@pytest.mark.exact
@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_spec_3_8_update_layer_equals_the_reference(backend: Backend, reference: Backend, kind: str) -> None:
    if kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {kind}")
    config = NetworkConfig(kind=kind, sizes=(5, 4), bit_length=16, device=DeviceParams(sigma=0.4))  # type: ignore[arg-type]
    # Step 14 is a reset step of the default schedule (every 15): update_layer is the update alone, never the reset.
    for step in (0, 1, 2, 3, 4, 14):
        args = (layer_for(kind), INPUTS, DELTAS, 0.3, config, 99, step, 1)
        got, want = backend.update_layer(*args), reference.update_layer(*args)
        for field in ("weights", "g_plus", "g_minus") if kind == "memristive" else ("weights",):
            assert flat(got, field) == pytest.approx(flat(want, field), abs=WEIGHT_TOLERANCE), \
                f"[SPEC 3.8] {kind} update of {field}, step {step}"


@pytest.mark.statistical
@pytest.mark.kinds("float")
def test_spec_3_7_float_update_is_the_gradient_step(backend: Backend) -> None:
    config = NetworkConfig(kind="float", sizes=(5, 4))
    before = layer_for("float")
    after = backend.update_layer(before, INPUTS, DELTAS, 0.3, config, 1, 0, 0)
    for j, delta in enumerate(DELTAS):
        for i, x in enumerate(INPUTS):
            assert after.weights[j][i] == pytest.approx(before.weights[j][i] - 0.3 * delta * x, abs=1e-12), \
                f"[SPEC 3.7] w[{j}][{i}] after the float update"


SEEDS = 300


@pytest.mark.statistical
@pytest.mark.kinds("stochastic")
@pytest.mark.parametrize("eta", [0.05, 0.5])
def test_spec_3_8_expected_update_is_the_gradient_step(backend: Backend, seeded: Seeded, eta: float) -> None:
    """Stochastic kind: each weight moves by -sign(delta) (eta/BL) n with n ~ Binomial(BL, x |delta|)."""
    config = NetworkConfig(kind="stochastic", sizes=(5, 4), bit_length=10)
    dw_min = eta / config.bit_length
    before = layer_for("stochastic")
    totals = [[0] * len(INPUTS) for _ in DELTAS]
    for seed in range(SEEDS):
        after = backend.update_layer(before, INPUTS, DELTAS, eta, config, seeded(seed), 3, 0)
        for j, delta in enumerate(DELTAS):
            sign = 1.0 if delta >= 0 else -1.0
            for i in range(len(INPUTS)):
                pulses = (before.weights[j][i] - after.weights[j][i]) / (sign * dw_min)
                assert abs(pulses - round(pulses)) < 1e-6 and 0 <= round(pulses) <= config.bit_length, (
                    f"[SPEC 3.8] w[{j}][{i}] moved by {after.weights[j][i] - before.weights[j][i]}, not "
                    f"-sign(delta) dw_min n with 0 <= n <= BL (wrong sign or step?)")
                totals[j][i] += round(pulses)
    cells = len(INPUTS) * len(DELTAS)
    for j, delta in enumerate(DELTAS):
        for i, x in enumerate(INPUTS):
            assert_binomial(totals[j][i], SEEDS * config.bit_length, x * min(1.0, abs(delta)), FAMILY_ALPHA / cells,
                            f"[SPEC 3.8] E[update of w[{j}][{i}]] = -eta x delta")


@pytest.mark.statistical
@pytest.mark.kinds("memristive")
def test_spec_3_8_4_3_memristive_update_programs_the_right_device(backend: Backend, seeded: Seeded) -> None:
    """sigma = 0: the device in the update's direction rises by n levels, n ~ Binomial(BL, C x . C |delta|)."""
    config = NetworkConfig(kind="memristive", sizes=(5, 4), bit_length=10, device=DeviceParams(sigma=0.0))
    eta = 0.2
    gain = (eta / (config.bit_length * config.device.dw_min)) ** 0.5
    before = layer_for("memristive")
    totals = [[0] * len(INPUTS) for _ in DELTAS]
    for seed in range(SEEDS):
        after = backend.update_layer(before, INPUTS, DELTAS, eta, config, seeded(seed), 0, 0)
        assert after.g_plus is not None and after.g_minus is not None
        for j, delta in enumerate(DELTAS):
            rising, still = (after.g_minus, after.g_plus) if delta > 0 else (after.g_plus, after.g_minus)
            for i in range(len(INPUTS)):
                assert still[j][i] == 3.0, f"[SPEC 4.3] the device against the update's direction changed ({j},{i})"
                pulses = rising[j][i] - 3.0
                assert pulses == round(pulses) and 0 <= pulses <= config.bit_length, \
                    f"[SPEC 4.3] sigma=0 programming must add whole levels, got {pulses}"
                totals[j][i] += int(pulses)
    cells = len(INPUTS) * len(DELTAS)
    for j, delta in enumerate(DELTAS):
        for i, x in enumerate(INPUTS):
            p = min(1.0, gain * x) * min(1.0, gain * abs(delta))
            assert_binomial(totals[j][i], SEEDS * config.bit_length, p, FAMILY_ALPHA / cells,
                            f"[SPEC 3.8] coincidences of synapse ({j},{i})")
