"""[SPEC 3] The network: gradients, the coincidence update's expectation, the protocol and the reset."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stochmem import network
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.rng import Draw, Site

SIZES = (6, 5, 4, 3)
IMAGE = [0.0, 0.2, 0.9, 1.0, 0.5, 0.33]


def loss_of(net: network.Network, image: list[float], label: int) -> float:
    return network.cross_entropy(network.forward(net, image, None).values[-1], label)


@pytest.mark.parametrize("label", [0, 2])
def test_spec_3_6_3_7_float_gradients_match_finite_differences(label):
    """The float update divided by -eta is dL/dw for every weight of every crossbar (central differences)."""
    net = network.init_network(NetworkConfig(kind="float", sizes=SIZES), seed=3)
    eta, h = 1e-3, 1e-6
    updated = copy.deepcopy(net)
    network.train_step(updated, IMAGE, label, step=0, eta=eta)
    for index, layer in enumerate(net.layers):
        for j, row in enumerate(layer.weights):
            for i in range(len(row)):
                analytic = (layer.weights[j][i] - updated.layers[index].weights[j][i]) / eta
                plus, minus = copy.deepcopy(net), copy.deepcopy(net)
                plus.layers[index].weights[j][i] += h
                minus.layers[index].weights[j][i] -= h
                numeric = (loss_of(plus, IMAGE, label) - loss_of(minus, IMAGE, label)) / (2 * h)
                assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-8), (index, j, i)


def test_spec_3_2_softmax_and_sigmoid_are_stable():
    assert network.sigmoid(-1000.0) == 0.0 and network.sigmoid(1000.0) == 1.0
    assert sum(network.softmax([1000.0, 0.0, -1000.0])) == pytest.approx(1.0)
    assert network.argmax([1.0, 3.0, 3.0]) == 1


@settings(max_examples=20)
@given(x=st.floats(0.01, 1.0), delta=st.floats(-1.0, 1.0).filter(lambda d: abs(d) > 0.01),
       kind=st.sampled_from(["stochastic", "memristive"]), eta=st.sampled_from([0.01, 0.1, 0.5]))
def test_spec_3_8_expected_coincidence_update_is_the_gradient_step(x, delta, kind, eta):
    """Over 400 seeds the summed coincidences are Binomial(400 BL, C x . C |delta|): E[dw] = -eta x delta."""
    config = NetworkConfig(kind=kind, sizes=(1, 1), bit_length=10)
    gain, dw_min = network.update_gain(eta, config)
    p_row, p_col = min(1.0, gain * x), min(1.0, gain * abs(delta))
    if p_row == 1.0 or p_col == 1.0:
        return  # clipped: the expectation is then deliberately smaller ([SPEC 3.8])
    assert config.bit_length * dw_min * p_row * p_col == pytest.approx(eta * x * abs(delta))
    seeds, total = 400, 0
    for seed in range(seeds):
        rows, columns = network.coincidence_streams([x], [delta], gain, config, seed, step=7, layer=0)
        total += network.coincidence_counts(rows, columns)[0][0]
    assert_binomial(total, seeds * config.bit_length, p_row * p_col, FAMILY_ALPHA / 20,
                    "[SPEC 3.8] coincidences over seeds")


def test_spec_3_8_stochastic_update_moves_weights_by_whole_steps():
    config = NetworkConfig(kind="stochastic", sizes=SIZES, bit_length=8)
    net = network.init_network(config, seed=5)
    before = copy.deepcopy(net)
    network.train_step(net, IMAGE, 1, step=0, eta=0.4)
    dw_min = 0.4 / 8
    moved = 0
    for layer_before, layer_after in zip(before.layers, net.layers):
        for row_before, row_after in zip(layer_before.weights, layer_after.weights):
            for w0, w1 in zip(row_before, row_after):
                steps = (w1 - w0) / dw_min
                assert steps == pytest.approx(round(steps), abs=1e-9) and abs(steps) <= 8
                moved += steps != 0
    assert moved > 0


def test_spec_3_5_4_5_reset_happens_every_reset_every_images():
    config = NetworkConfig(kind="memristive", sizes=SIZES, device=DeviceParams(sigma=0.0, reset_every=3))
    net = network.init_network(config, seed=2)
    for step in range(6):
        network.train_step(net, IMAGE, step % 3, step, eta=0.5)
        after_reset = (step + 1) % 3 == 0
        for layer in net.layers:
            assert layer.g_plus is not None and layer.g_minus is not None
            for row_plus, row_minus in zip(layer.g_plus, layer.g_minus):
                for gp, gm in zip(row_plus, row_minus):
                    assert gp.is_integer() and gm.is_integer(), "[SPEC 4.2] sigma=0 leaves the grid"
                    if after_reset:
                        assert min(gp, gm) == 0.0, "[SPEC 4.5] reset left both devices programmed"


def test_spec_3_3_stochastic_forward_uses_decoded_streams():
    config = NetworkConfig(kind="stochastic", sizes=(4, 2), bit_length=5)
    net = network.init_network(config, seed=1)
    draw = Draw(1, Site.EVAL_STREAM, 0)
    inputs = network.crossbar_inputs([0.0, 1.0, 0.5, 0.25], config, draw)
    assert inputs[0] == 0.0 and inputs[1] == 1.0 and inputs[-1] == 1.0
    assert all(round(v * 5) == v * 5 for v in inputs)
    logits = network.forward(net, [0.0, 1.0, 0.5, 0.25], lambda _layer: draw).logits
    assert logits == [network.dot(row, inputs) for row in net.layers[0].weights]


def test_spec_3_9_predict_with_a_longer_reading_stream():
    net = network.init_network(NetworkConfig(kind="stochastic", sizes=SIZES), seed=1)
    predictions = {network.predict(net, IMAGE, 0, repeat, bit_length=1000) for repeat in range(3)}
    assert len(predictions) == 1  # BL=1000 reads nearly exactly
    assert predictions == {network.argmax(network.forward(
        network.Network(NetworkConfig(kind="float", sizes=SIZES), 1, net.layers), IMAGE, None).logits)}


def test_spec_3_4_initial_weights_are_in_range():
    net = network.init_network(NetworkConfig(kind="float"), seed=1)
    for layer, (n_in, n_out) in zip(net.layers, [(784, 256), (256, 128), (128, 10)]):
        radius = 4 * math.sqrt(6 / (n_in + n_out))
        flat = [w for row in layer.weights for w in row]
        assert len(flat) == n_out * (n_in + 1)
        assert max(abs(w) for w in flat) < radius
        assert max(flat) > 0.9 * radius and min(flat) < -0.9 * radius
