"""Conformance at the edges of the contract: inputs a caller may legitimately pass that the common paths miss.

Exact tier. Each test here was written to kill mutants that survived the rest of the suite in mutation testing
of the NumPy backend (``docs/reference/mutation.md``): whole numbers passed where floats are expected, the float
kind's ``predict``, arguments left at their defaults, empty requests, a probability whose threshold equals a
Philox word, logits large enough to overflow a naive softmax, and probabilities outside [0, 1].
"""

from __future__ import annotations

import warnings

import pytest

from stochmem.backend_api import Backend
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.conformance.compare import assert_same_layers
from stochmem.network import Layer, device_weights
from stochmem.rng import Draw, Site

pytestmark = pytest.mark.exact

TOLERANCE = 1e-9  # [SPEC 6.1]


def integer_layers(kind: str) -> tuple[NetworkConfig, list[Layer]]:
    """A 3-2 network whose state is written with Python ints (0, 1, 2 ...), as JSON or a user's code may give it."""
    config = NetworkConfig(kind=kind, sizes=(3, 2), bit_length=7,  # type: ignore[arg-type]
                           device=DeviceParams(sigma=0.1, reset_every=1000))
    if kind != "memristive":
        return config, [Layer([[1, 0, -1, 0], [0, 2, 1, -1]])]
    g_plus, g_minus = [[3, 1, 0, 2], [0, 4, 1, 1]], [[1, 1, 2, 0], [2, 0, 3, 1]]
    return config, [Layer(device_weights(g_plus, g_minus, config), g_plus, g_minus)]  # type: ignore[arg-type]


@pytest.mark.groups("network")
@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_spec_3_5_whole_numbers_in_loaded_state_are_numbers(backend: Backend, reference: Backend, kind: str) -> None:
    """[SPEC 3.5, 4.2] load_layers with int weights and levels, then a step: the state stays real-valued (a
    backend that keeps an integer array truncates the noisy levels or refuses the float update)."""
    if kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {kind}")
    config, layers = integer_layers(kind)
    models = []
    for implementation in (backend, reference):
        model = implementation.create_model(config, 3)
        model.load_layers(layers)
        model.train_step([0.2, 1.0, 0.7], 1, 4, 0.3)
        models.append(model)
    assert_same_layers(models[0].export_layers(), models[1].export_layers(), config, 4,
                       where="state loaded as whole numbers")


@pytest.mark.groups("network")
@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_spec_3_8_whole_numbers_in_update_layer(backend: Backend, reference: Backend, kind: str) -> None:
    """[SPEC 3.7, 3.8, 4.3] update_layer of a crossbar written with ints equals the reference's."""
    config, (layer,) = integer_layers(kind)
    args = (layer, [1, 0, 1, 1], [0.4, -0.7], 0.3, config, 9, 2, 0)
    got, want = backend.update_layer(*args), reference.update_layer(*args)
    assert_same_layers([got], [want], config, 2, where="update_layer of a crossbar written with whole numbers")


@pytest.mark.groups("network")
@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_spec_3_9_predict_of_every_kind_with_default_arguments(backend: Backend, reference: Backend,
                                                               kind: str) -> None:
    """[SPEC 3.9] predict equals the reference's for every kind, the float one included (read exactly, no
    streams), with ``repeat`` and ``bit_length`` left at their defaults and given."""
    if kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {kind}")
    config = NetworkConfig(kind=kind, sizes=(2, 3), bit_length=1)  # type: ignore[arg-type]
    layers = [Layer([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.6]])]
    if kind == "memristive":
        config, layers = integer_layers(kind)
    models = [implementation.create_model(config, 2) for implementation in (backend, reference)]
    for model in models:
        model.load_layers(layers)
    inputs = [0.5] * config.sizes[0]
    for index in range(40):
        got = [models[0].predict(inputs, index), models[0].predict(inputs, index, 1),
               models[0].predict(inputs, index, 2, 3)]
        want = [models[1].predict(inputs, index), models[1].predict(inputs, index, 1),
                models[1].predict(inputs, index, 2, 3)]
        assert got == want, (f"[SPEC 3.9] {kind} predict of image {index} (repeat default, 1, and 2 with BL 3): "
                             f"{got}, reference {want}")


@pytest.mark.groups("randomness")
def test_spec_2_5_zero_normals(backend: Backend) -> None:
    """[SPEC 2.5] Asking for nothing returns nothing: normals(draw, 0)."""
    assert list(backend.normals(Draw(1, Site.INPUT_NOISE), 0)) == [], "[SPEC 2.5] normals(draw, 0) must be empty"


@pytest.mark.groups("device")
def test_spec_4_5_an_empty_reset(backend: Backend) -> None:
    """[SPEC 4.5] A reset of no pairs returns two empty lists."""
    g_plus, g_minus = backend.reset([], [], [], DeviceParams(sigma=0.1), Draw(1, Site.RESET_NOISE))
    assert (list(g_plus), list(g_minus)) == ([], []), "[SPEC 4.5] a reset of no pairs must return two empty lists"


@pytest.mark.groups("streams")
def test_spec_1_2_thresholds_next_to_a_word(backend: Backend, reference: Backend) -> None:
    """[SPEC 1.2] floor(p 2**32) for p just above a word (w + 0.5)/2**32 equals w, so that word does not fire;
    p = 2**-32 fires only on a zero word (word 3 of this draw is 0)."""
    draw = Draw(1, Site.FORWARD_STREAM, 973194549)
    first = draw.block(0)
    assert first[3] == 0, "the draw chosen for its zero word"
    probabilities = [(first[0] + 0.5) / 2**32, first[1] / 2**32, (first[2] + 1) / 2**32, 2**-32]
    for bit_length in (1, 4):
        got = [s.to01() for s in backend.encode(probabilities, bit_length, draw)]
        want = [s.to01() for s in reference.encode(probabilities, bit_length, draw)]
        assert got == want, f"[SPEC 1.2] streams of probabilities next to their words, BL {bit_length}: {got}, " \
                            f"reference {want}"


@pytest.mark.groups("network")
@pytest.mark.kinds("stochastic")
def test_spec_1_2_a_training_pixel_equal_to_its_word(backend: Backend, reference: Backend) -> None:
    """[SPEC 1.2, 3.3] A pixel whose probability is exactly its first forward word / 2**32 (that bit is 0)."""
    config = NetworkConfig(kind="stochastic", sizes=(2, 2), bit_length=5)
    word = Draw(6, Site.FORWARD_STREAM, 0, 0).block(0)[0]
    image = [word / 2**32, 0.5]
    results = []
    for implementation in (backend, reference):
        model = implementation.create_model(config, 6)
        model.load_layers([Layer([[2.0, -1.0, 0.5], [-1.5, 1.0, 0.25]])])
        results.append((model.train_step(image, 0, 0, 0.5), model.export_layers()))
    assert results[0][0].loss == pytest.approx(results[1][0].loss, abs=TOLERANCE), \
        f"[SPEC 1.2, 3.3] loss {results[0][0].loss} with a pixel equal to its word, reference {results[1][0].loss}"
    assert_same_layers(results[0][1], results[1][1], config, 0, where="a pixel equal to its word")


@pytest.mark.groups("network")
@pytest.mark.kinds("float")
def test_spec_3_2_softmax_of_large_logits(backend: Backend, reference: Backend) -> None:
    """[SPEC 3.2] p_j = e^(z_j - max z) / sum: logits of 400 overflow a naive e^z but not the specified form."""
    config = NetworkConfig(kind="float", sizes=(1, 2))
    losses = []
    for implementation in (backend, reference):
        model = implementation.create_model(config, 1)
        model.load_layers([Layer([[0.0, 400.0], [0.0, 0.0]])])
        losses.append(model.train_step([1.0], 0, 0, 0.1).loss)
    assert losses[0] == pytest.approx(losses[1], abs=TOLERANCE), \
        f"[SPEC 3.2] loss with a logit of 400: {losses[0]}, reference {losses[1]} (softmax must subtract max z)"


@pytest.mark.groups("streams")
def test_spec_1_2_probabilities_outside_the_unit_interval_are_clipped(backend: Backend, reference: Backend) -> None:
    """[SPEC 1.2] p is clipped to [0, 1] first: -1e10, -0.5, 1.5 and 1e10 encode as 0, 0, 1 and 1, without a
    RuntimeWarning (converting an out-of-range float to an unsigned integer before clipping is undefined
    behaviour in C and NumPy: it happens to give the right bits on one machine and wrong ones on another)."""
    draw = Draw(4, Site.EVAL_STREAM, 2)
    probabilities = [-1e10, -0.5, 1.5, 1e10]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            streams = backend.encode(probabilities, 9, draw)
        except RuntimeWarning as warning:
            raise AssertionError(f"[SPEC 1.2] encoding probabilities outside [0, 1] warned: {warning} (clip p to "
                                 "[0, 1] before computing the threshold)") from None
    got = [s.to01() for s in streams]
    assert got == [s.to01() for s in reference.encode(probabilities, 9, draw)] == ["0" * 9] * 2 + ["1" * 9] * 2, \
        f"[SPEC 1.2] streams of probabilities outside [0, 1]: {got}"
