"""The network of the paper: sigmoid hidden layers, a softmax output, trained one image at a time.

One crossbar per layer. Crossbar ``l`` maps the ``n_in`` activations of layer ``l`` plus an always-on bias row to
``n_out`` pre-activations: ``weights[j][i]`` is the synapse from input row ``i`` (``i == n_in`` is the bias) to
output column ``j``. The three kinds of network differ only in how signals cross a crossbar:

* ``float``: exact products (the software baseline);
* ``stochastic``: activations and errors travel as Bernoulli streams of BL bits, the update counts pulse
  coincidences (eq. 1, 2, 4), weights are floats;
* ``memristive``: as ``stochastic``, with every weight held by a pair of devices (:mod:`stochmem.device`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from operator import mul

from bitarray import bitarray

from stochmem import device
from stochmem.config import NetworkConfig
from stochmem.rng import Draw, Site, uniform_from_word
from stochmem.streams import and_count, decode, encode_many, sign

Matrix = list[list[float]]
DrawFor = Callable[[int], Draw]  # layer index -> the draw that feeds that layer's streams


@dataclass
class Layer:
    """One crossbar: ``weights[j][i]``, and for a memristive network the level coordinates of its devices."""

    weights: Matrix
    g_plus: Matrix | None = None
    g_minus: Matrix | None = None

    @property
    def n_out(self) -> int:
        return len(self.weights)

    @property
    def n_in(self) -> int:
        """Inputs without the bias row."""
        return len(self.weights[0]) - 1


@dataclass
class Network:
    """The state of a network: its configuration, its seed and its crossbars."""

    config: NetworkConfig
    seed: int
    layers: list[Layer] = field(default_factory=list)


@dataclass
class Activations:
    """What the forward pass leaves for the backward pass.

    ``values[l]`` are the activations entering crossbar ``l`` (``values[0]`` is the image, without the bias);
    ``values[-1]`` is the softmax output. ``logits`` are the output crossbar's pre-activations.
    """

    values: list[list[float]]
    logits: list[float]


# --- the neuron and its loss ------------------------------------------------------------------------------------


def sigmoid(z: float) -> float:
    """[SPEC 3.2] The hidden-layer activation 1/(1 + e^-z), evaluated without overflow for large abs(z)."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax(z: list[float]) -> list[float]:
    """[SPEC 3.2] The output activation: exp(z_j - max z) normalised to sum 1."""
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    total = math.fsum(exps)
    return [e / total for e in exps]


def cross_entropy(probabilities: list[float], label: int) -> float:
    """[SPEC 3.2] The loss -ln p_label, with p floored at 1e-300 so a confident mistake stays finite."""
    return -math.log(max(probabilities[label], 1e-300))


def argmax(values: list[float]) -> int:
    """[SPEC 3.9] The predicted class: the index of the largest value, the lowest index on ties."""
    best = 0
    for index, value in enumerate(values):
        if value > values[best]:
            best = index
    return best


def dot(row: list[float], inputs: list[float]) -> float:
    """[SPEC 3.3] A column sum: the correctly rounded sum of the products ``row[i] * inputs[i]`` (math.fsum).

    Correct rounding makes the value independent of summation order, so other implementations can match it
    exactly where they choose to, and otherwise differ by at most rounding.
    """
    return math.fsum(map(mul, row, inputs))


# --- construction -----------------------------------------------------------------------------------------------


def init_weights(n_in: int, n_out: int, seed: int, layer: int) -> Matrix:
    """[SPEC 3.4] Initial weights of crossbar ``layer``: uniform in [-r, r), r = 4 sqrt(6/(n_in + n_out)).

    The Glorot-Bengio range for sigmoid units; the bias row is drawn like the others.

    Weight (j, i) takes word ``j*(n_in+1) + i`` of the draw (INIT_WEIGHTS, step 0, layer):
    w = r (2u - 1) with u = word / 2**32.
    """
    radius = 4.0 * math.sqrt(6.0 / (n_in + n_out))
    words = Draw(seed, Site.INIT_WEIGHTS, 0, layer).words(0, n_out * (n_in + 1))
    width = n_in + 1
    return [
        [radius * (2.0 * uniform_from_word(word) - 1.0) for word in words[j * width : (j + 1) * width]]
        for j in range(n_out)
    ]


def init_network(config: NetworkConfig, seed: int) -> Network:
    """[SPEC 3.4, 4.6] A fresh network; for the memristive kind the initial weights are programmed onto devices."""
    net = Network(config=config, seed=seed)
    for layer, (n_in, n_out) in enumerate(zip(config.sizes[:-1], config.sizes[1:])):
        weights = init_weights(n_in, n_out, seed, layer)
        if config.kind != "memristive":
            net.layers.append(Layer(weights))
            continue
        params = config.device
        noise = Draw(seed, Site.INIT_DEVICE_NOISE, 0, layer)
        pairs = [
            [device.initial_pair(w, params, noise, j * (n_in + 1) + i) for i, w in enumerate(row)]
            for j, row in enumerate(weights)
        ]
        g_plus = [[pair[0] for pair in row] for row in pairs]
        g_minus = [[pair[1] for pair in row] for row in pairs]
        net.layers.append(Layer(device_weights(g_plus, g_minus, config), g_plus, g_minus))
    return net


def device_weights(g_plus: Matrix, g_minus: Matrix, config: NetworkConfig) -> Matrix:
    """[SPEC 4.2] The weights a crossbar of device pairs carries."""
    return [device.weight_row(row_plus, row_minus, config.device) for row_plus, row_minus in zip(g_plus, g_minus)]


# --- forward pass (eq. 1) ---------------------------------------------------------------------------------------


def crossbar_inputs(values: list[float], config: NetworkConfig, draw: Draw | None) -> list[float]:
    """[SPEC 3.3] What the rows of a crossbar carry, bias row (always 1) last.

    Float: the activations themselves. Stochastic and memristive: each activation is encoded into a stream of
    BL bits (row pulses, [SPEC 1.3]) and the column integrates the pulses over the BL time slots, so the row
    contributes its decoded value popcount/BL.
    """
    if config.kind == "float" or draw is None:
        return [*values, 1.0]
    streams = encode_many(values, config.bit_length, draw)
    return [*(decode(stream) for stream in streams), 1.0]


def forward(net: Network, image: list[float], draw_for: DrawFor | None) -> Activations:
    """[SPEC 3.3, eq. 1] y_j = f(sum_i w_ij x_i) layer by layer: sigmoid for hidden layers, softmax at the top.

    ``draw_for(l)`` names the random draw of crossbar ``l``'s input streams; it is ignored by the float kind.
    """
    values = [list(image)]
    logits: list[float] = []
    for index, layer in enumerate(net.layers):
        inputs = crossbar_inputs(values[-1], net.config, draw_for(index) if draw_for else None)
        pre = [dot(row, inputs) for row in layer.weights]
        if index == len(net.layers) - 1:
            logits = pre
            values.append(softmax(pre))
        else:
            values.append([sigmoid(z) for z in pre])
    return Activations(values, logits)


# --- backward pass (eq. 2) --------------------------------------------------------------------------------------


def output_error(probabilities: list[float], label: int) -> list[float]:
    """[SPEC 3.6] delta at the softmax output under cross-entropy: p_j - [j == label]."""
    return [p - (1.0 if j == label else 0.0) for j, p in enumerate(probabilities)]


def transmitted_errors(deltas: list[float], config: NetworkConfig, draw: Draw) -> list[float]:
    """[SPEC 3.6, 1.5] The errors as the crossbar's columns carry them backwards.

    Float: delta itself. Stochastic and memristive: sign and magnitude, the magnitude min(1, abs(delta)) as a
    stream of BL bits, decoded to sign(delta) * popcount/BL.
    """
    if config.kind == "float":
        return list(deltas)
    streams = encode_many([min(1.0, abs(d)) for d in deltas], config.bit_length, draw)
    return [sign(d) * decode(stream) for d, stream in zip(deltas, streams)]


def backward(net: Network, acts: Activations, label: int, step: int) -> list[list[float]]:
    """[SPEC 3.6, eq. 2] The error delta at the outputs of every crossbar, output layer last.

    delta_i^(k) = f'(z_i) sum_j w_ij delta_j^(k+1) with f' = a(1 - a) for the sigmoid; the sum runs over the
    transmitted errors of the layer above (streams for the stochastic kinds, BACKWARD_STREAM site).
    """
    deltas: list[list[float]] = [output_error(acts.values[-1], label)]
    for index in range(len(net.layers) - 1, 0, -1):
        layer = net.layers[index]
        sent = transmitted_errors(deltas[0], net.config, Draw(net.seed, Site.BACKWARD_STREAM, step, index))
        below = acts.values[index]
        errors = [math.fsum(layer.weights[j][i] * sent[j] for j in range(layer.n_out)) for i in range(layer.n_in)]
        deltas.insert(0, [e * a * (1.0 - a) for e, a in zip(errors, below)])
    return deltas


# --- the weight update (eq. 2, eq. 4) ---------------------------------------------------------------------------


def update_gain(eta: float, config: NetworkConfig) -> tuple[float, float]:
    """[SPEC 3.8] (C, dw_min) of the coincidence update: C_x = C_delta = C = sqrt(eta / (BL dw_min)).

    Stochastic kind: dw_min = eta / BL, hence C = 1 and the pulse probabilities are x and abs(delta) themselves.
    Memristive kind: dw_min is one device level ([SPEC 4.1]) and C follows from the learning rate.
    Either way E[update] = BL dw_min C^2 x delta = eta x delta while no probability is clipped.
    """
    bl = config.bit_length
    dw_min = eta / bl if config.kind == "stochastic" else config.device.dw_min
    return math.sqrt(eta / (bl * dw_min)), dw_min


def coincidence_streams(inputs: list[float], deltas: list[float], gain: float, config: NetworkConfig,
                        seed: int, step: int, layer: int) -> tuple[list[bitarray], list[bitarray]]:
    """[SPEC 3.8] Row streams (probability min(1, C x_i)) and column streams (min(1, C abs(delta_j))) of an update."""
    bl = config.bit_length
    rows = encode_many([min(1.0, gain * x) for x in inputs], bl, Draw(seed, Site.UPDATE_ROW, step, layer))
    columns = encode_many([min(1.0, gain * abs(d)) for d in deltas], bl,
                          Draw(seed, Site.UPDATE_COLUMN, step, layer))
    return rows, columns


def coincidence_counts(rows: list[bitarray], columns: list[bitarray]) -> list[list[int]]:
    """[SPEC 3.8, eq. 4] n_ji = popcount(row_i AND column_j) for every synapse of the crossbar.

    A row or column that never pulses sees no coincidence, so its AND is not computed (MNIST is mostly zeros).
    """
    active_rows = [i for i, row in enumerate(rows) if row.any()]
    counts = [[0] * len(rows) for _ in columns]
    for j, column in enumerate(columns):
        if column.any():
            for i in active_rows:
                counts[j][i] = and_count(rows[i], column)
    return counts


def update_layer(layer: Layer, inputs: list[float], deltas: list[float], eta: float, config: NetworkConfig,
                 seed: int, step: int, index: int) -> None:
    """[SPEC 3.7, 3.8, 4.3] Apply one image's update to crossbar ``index``; ``inputs`` include the bias (1.0).
    The arguments come in the order of the contract's ``Backend.update_layer``.

    Float: w_ji <- w_ji - (eta delta_j) x_i.
    Stochastic: w_ji <- w_ji - sign(delta_j) dw_min n_ji.
    Memristive: n_ji > 0 programs G- (delta_j > 0, the weight must fall) or G+ (delta_j < 0) by n_ji levels.
    """
    if config.kind == "float":
        for j, row in enumerate(layer.weights):
            scaled = eta * deltas[j]
            layer.weights[j] = [w - scaled * x for w, x in zip(row, inputs)]
        return
    gain, dw_min = update_gain(eta, config)
    rows, columns = coincidence_streams(inputs, deltas, gain, config, seed, step, index)
    counts = coincidence_counts(rows, columns)
    if config.kind == "stochastic":
        for j, row in enumerate(layer.weights):
            step_size = sign(deltas[j]) * dw_min
            layer.weights[j] = [w - step_size * n for w, n in zip(row, counts[j])]
        return
    assert layer.g_plus is not None and layer.g_minus is not None
    params = config.device
    noise = Draw(seed, Site.PROGRAM_NOISE, step, index)
    width = layer.n_in + 1
    for j, counts_j in enumerate(counts):
        if not any(counts_j):
            continue
        target = layer.g_minus[j] if deltas[j] > 0.0 else layer.g_plus[j]
        for i, n in enumerate(counts_j):
            if n:
                target[i] = device.program(target[i], n, params, noise, j * width + i, config.bit_length)
        layer.weights[j] = device.weight_row(layer.g_plus[j], layer.g_minus[j], params)


def reset_layer(layer: Layer, config: NetworkConfig, seed: int, index: int, step: int) -> None:
    """[SPEC 4.5] Reset every synapse of crossbar ``index`` (RESET_NOISE site, this step)."""
    assert layer.g_plus is not None and layer.g_minus is not None
    params = config.device
    noise = Draw(seed, Site.RESET_NOISE, step, index)
    width = layer.n_in + 1
    for j in range(layer.n_out):
        pairs = [
            device.reset_pair(gp, gm, params, noise, j * width + i)
            for i, (gp, gm) in enumerate(zip(layer.g_plus[j], layer.g_minus[j]))
        ]
        layer.g_plus[j] = [pair[0] for pair in pairs]
        layer.g_minus[j] = [pair[1] for pair in pairs]
        layer.weights[j] = device.weight_row(layer.g_plus[j], layer.g_minus[j], params)


@dataclass(frozen=True)
class StepResult:
    """What one training step's forward pass saw: its cross-entropy loss and its predicted class."""

    loss: float
    prediction: int


def train_step(net: Network, image: list[float], label: int, step: int, eta: float) -> StepResult:
    """[SPEC 3.5-3.8, 4.5] One image: forward, backward, update every crossbar, then the periodic reset.

    ``step`` is the global image counter (epoch * n_train + position). All deltas are computed from the weights
    before the update.
    """
    acts = forward(net, image, lambda layer: Draw(net.seed, Site.FORWARD_STREAM, step, layer))
    deltas = backward(net, acts, label, step)
    for index, layer in enumerate(net.layers):
        update_layer(layer, [*acts.values[index], 1.0], deltas[index], eta, net.config, net.seed, step, index)
    if net.config.kind == "memristive" and (step + 1) % net.config.device.reset_every == 0:
        for index, layer in enumerate(net.layers):
            reset_layer(layer, net.config, net.seed, index, step)
    return StepResult(cross_entropy(acts.values[-1], label), argmax(acts.logits))


def predict(net: Network, image: list[float], image_index: int, repeat: int = 0,
            bit_length: int | None = None) -> int:
    """[SPEC 3.9] The class the network predicts for one image (EVAL_STREAM site: step = image index, aux = repeat).

    ``bit_length`` overrides the stream length for inference (the paper reads a BL=10 network with BL=100).
    """
    reader = net
    if bit_length is not None and bit_length != net.config.bit_length:
        reader = Network(replace(net.config, bit_length=bit_length), net.seed, net.layers)
    acts = forward(reader, image, lambda layer: Draw(net.seed, Site.EVAL_STREAM, image_index, layer, repeat))
    return argmax(acts.logits)
