"""Conformance, chapter 3 (with 4.3-4.6): whole training, step by step, against the reference.

Exact tier. Each scenario trains the backend's model and the reference's side by side on the same images and
compares, after every step, the loss, the prediction and every crossbar's weights and levels; a failure names the
clause, the step and the first value that differs (:mod:`stochmem.conformance.compare`). The scenarios cover the
ground the JSON vectors cover and more: networks of one and three crossbars, training that starts at a step > 0
and crosses reset boundaries, a decayed learning rate, both noise modes, a sigma large enough to hit the floor
and the clip, bit lengths that are not multiples of 8, 32 or 64, ``predict`` with its ``bit_length`` and
``repeat`` arguments, and ``load_layers`` into a fresh model that then continues.
"""

from __future__ import annotations

import pytest

from stochmem.backend_api import Backend, Model
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.conformance.compare import assert_same_state
from stochmem.rng import Draw, Site, uniforms

pytestmark = pytest.mark.groups("network")

START = 41  #: the first training step: not 0, and not a multiple of any reset period below
STEPS = 9
ETA = 0.4 * 0.9**3  #: the learning rate of epoch 3 under a 0.9 decay from 0.4 [SPEC 3.5]

SCENARIOS: dict[str, NetworkConfig] = {
    "float, 1 crossbar": NetworkConfig(kind="float", sizes=(12, 4)),
    "float, 3 crossbars": NetworkConfig(kind="float", sizes=(12, 7, 5, 4)),
    "stochastic, 1 crossbar, BL=1": NetworkConfig(kind="stochastic", sizes=(12, 4), bit_length=1),
    "stochastic, 3 crossbars, BL=13": NetworkConfig(kind="stochastic", sizes=(12, 7, 5, 4), bit_length=13),
    "stochastic, BL=65": NetworkConfig(kind="stochastic", sizes=(12, 6, 4), bit_length=65),
    "memristive, event noise, 3 crossbars": NetworkConfig(
        kind="memristive", sizes=(12, 7, 5, 4), bit_length=11, device=DeviceParams(sigma=0.1, reset_every=4)),
    "memristive, pulse noise": NetworkConfig(
        kind="memristive", sizes=(12, 6, 4), bit_length=9,
        device=DeviceParams(sigma=0.3, noise_mode="pulse", reset_every=3)),
    "memristive, large sigma, 8 levels": NetworkConfig(
        kind="memristive", sizes=(12, 6, 4), bit_length=10, device=DeviceParams(sigma=2.0, levels=8, reset_every=5)),
    "memristive, 1 crossbar, BL=33, on/off 4": NetworkConfig(
        kind="memristive", sizes=(12, 4), bit_length=33,
        device=DeviceParams(sigma=0.5, levels=16, on_off=4.0, w_max=0.5, reset_every=2)),
    "memristive, verified reset": NetworkConfig(
        kind="memristive", sizes=(12, 6, 4), bit_length=10,
        device=DeviceParams(sigma=0.5, reset_every=2, reset_write="verified")),
    "memristive, reset near saturation, 8 levels": NetworkConfig(
        kind="memristive", sizes=(12, 6, 4), bit_length=10,
        device=DeviceParams(sigma=0.5, levels=8, reset_every=2, reset_threshold=0.5)),
}


def image(index: int, pixels: int) -> list[float]:
    """A test input: uniform values with exact zeros and ones among them (constant streams, [SPEC 1.2])."""
    values = uniforms(Draw(4242, Site.DATA_ORDER, index), pixels)
    values[0], values[1] = 0.0, 1.0
    return values


def train_both(model: Model, reference: Model, config: NetworkConfig, steps: range) -> None:
    pixels, outputs = config.sizes[0], config.sizes[-1]
    for step in steps:
        x, label = image(step, pixels), step % outputs
        got, want = model.train_step(x, label, step, ETA), reference.train_step(x, label, step, ETA)
        assert got.loss == pytest.approx(want.loss, abs=1e-9), \
            f"[SPEC 3.3, 3.2] forward pass and loss at step {step}: {got.loss!r}, reference {want.loss!r}"
        assert got.prediction == want.prediction, \
            f"[SPEC 3.3] prediction of the training forward pass at step {step}: {got.prediction}, " \
            f"reference {want.prediction}"
        assert_same_state(model, reference, config, step)


def needs(backend: Backend, config: NetworkConfig) -> None:
    if config.kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {config.kind}")


@pytest.mark.exact
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_spec_3_5_training_equals_the_reference_step_by_step(backend: Backend, reference: Backend,
                                                             scenario: str) -> None:
    """Every step's loss, prediction and state equal the reference's. What decides them: the shapes and kinds
    [SPEC 3.1], the initial weights from uniforms [SPEC 2.4, 3.4] and devices [SPEC 4.1, 4.6], the streams at their
    normative sites [SPEC 2.3, 1.3] and the signed error streams [SPEC 1.5] of the forward and backward passes
    [SPEC 3.3, 3.6], the update [SPEC 3.7, 3.8, 4.3] and the reset [SPEC 4.5]."""
    config = SCENARIOS[scenario]
    needs(backend, config)
    model, expected = backend.create_model(config, 7), reference.create_model(config, 7)
    assert_same_state(model, expected, config, None)
    train_both(model, expected, config, range(START, START + STEPS))


@pytest.mark.exact
@pytest.mark.parametrize("scenario", [name for name, config in SCENARIOS.items() if config.kind != "float"])
def test_spec_3_9_predict_honours_bit_length_and_repeat(backend: Backend, reference: Backend, scenario: str) -> None:
    config = SCENARIOS[scenario]
    needs(backend, config)
    model, expected = backend.create_model(config, 3), reference.create_model(config, 3)
    train_both(model, expected, config, range(START, START + 3))
    for bit_length in (None, 3, 70):
        for repeat in (0, 2):
            for index in range(12):
                x = image(1000 + index, config.sizes[0])
                got = model.predict(x, index, repeat, bit_length)
                want = expected.predict(x, index, repeat, bit_length)
                assert got == want, (f"[SPEC 3.9] predict(image_index={index}, repeat={repeat}, "
                                     f"bit_length={bit_length}) = {got}, reference {want}")


@pytest.mark.exact
@pytest.mark.parametrize("scenario", ["float, 3 crossbars", "stochastic, 3 crossbars, BL=13",
                                      "memristive, event noise, 3 crossbars"])
def test_spec_3_5_load_layers_then_continue_equals_the_uninterrupted_run(backend: Backend, reference: Backend,
                                                                         scenario: str) -> None:
    config = SCENARIOS[scenario]
    needs(backend, config)
    expected = reference.create_model(config, 5)
    train_both(backend.create_model(config, 5), expected, config, range(START, START + 4))
    resumed = backend.create_model(config, 5)  # the same seed (it keys every draw), its initial state overwritten
    resumed.load_layers(expected.export_layers())
    assert_same_state(resumed, expected, config, START + 3,
                      "[SPEC 3.5] load_layers (the exported state, loaded into a fresh model)")
    train_both(resumed, expected, config, range(START + 4, START + STEPS))
