"""Deliberately broken backends: the conformance suite must catch every one, naming the clause.

Loaded as a plugin with ``STOCHMEM_PLUGINS=tests.broken_backends``. Each is the reference with one bug of the kind
people make when they port this system. Those that claim only statistical conformance must be found by the
statistical tier alone; those that claim exactness carry a bug that only shows in part of the contract (deeper
networks, a decayed learning rate, ``predict``'s arguments, ...) and must be found by the exact tier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bitarray import bitarray

from stochmem import device, hookimpl, network
from stochmem.backend_api import BackendRegistry, Capabilities, Model
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.network import Layer, StepResult
from stochmem.reference_backend import ReferenceBackend, ReferenceModel
from stochmem.rng import Draw, Site, normal
from stochmem.streams import threshold


class Broken(ReferenceBackend):
    capabilities = Capabilities(exact=False)


class BiasedAnd(Broken):
    """One spurious coincidence whenever there is room for it."""

    name = "broken-biased-and"

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        counts = super().coincidence_counts(row_probabilities, column_probabilities, bit_length, row_draw,
                                            column_draw)
        return [[min(c + 1, bit_length) for c in row] for row in counts]


class OffByOneBitLength(Broken):
    name = "broken-bit-length"

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        return super().encode(probabilities, bit_length + 1, draw)


class WrongUpdateSign(Broken):
    name = "broken-update-sign"

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        return super().update_layer(layer, inputs, [-d for d in deltas], eta, config, seed, step, index)


class NoProgrammingNoise(Broken):
    name = "broken-no-noise"

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        return super().program(levels, pulses, synapses, dataclasses.replace(params, sigma=0.0), noise, bit_length)


class DecreasingDevice(Broken):
    """Forgets to floor the noisy increment at 0, so a large negative noise lowers the device."""

    name = "broken-decreasing"

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        out = []
        for g, n, m in zip(levels, pulses, synapses):
            if n <= 0:
                out.append(g)
                continue
            increment = n + params.sigma * normal(noise, m) if params.sigma else float(n)
            out.append(device.clip_level(g + increment, params))
        return out


class WrongReset(Broken):
    """Re-programs the difference onto G+ whatever its sign."""

    name = "broken-reset"

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        pairs = [device.reset_pair(abs(gp - gm), 0.0, params, noise, m) for gp, gm, m in zip(g_plus, g_minus,
                                                                                               synapses)]
        return [p[0] for p in pairs], [p[1] for p in pairs]


class InclusiveResetThreshold(Broken):
    """Spares a pair whose larger device is exactly at the reset threshold (<= where [SPEC 4.5] says <)."""

    name = "broken-reset-inclusive"

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        plus, minus = super().reset(g_plus, g_minus, synapses, params, noise)
        for k, (gp, gm) in enumerate(zip(g_plus, g_minus)):
            if params.reset_threshold > 0.0 and max(gp, gm) == params.reset_level:
                plus[k], minus[k] = gp, gm
        return plus, minus


class VerifiedWriteIgnored(Broken):
    """Writes a reset with noise even when the write is verified."""

    name = "broken-verified-reset"

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        return super().reset(g_plus, g_minus, synapses, dataclasses.replace(params, reset_write="noisy"), noise)


class NoSpread(Broken):
    """Streams with exactly round(p N) ones at random places: the right mean, no binomial spread."""

    name = "broken-spread"

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        streams = []
        for i, p in enumerate(probabilities):
            ones = round(threshold(p) / 2**32 * bit_length)
            order = sorted(range(bit_length), key=lambda n, i=i: draw.word(i * bit_length + n))
            stream = bitarray(bit_length)
            stream.setall(0)
            for n in order[:ones]:
                stream[n] = 1
            streams.append(stream)
        return streams


class GainError(Broken):
    """Every probability 2 % too large (a miscalibrated comparator)."""

    name = "broken-gain"

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        return super().encode([min(1.0, 1.02 * p) for p in probabilities], bit_length, draw)


class SigmaError(Broken):
    """Programming noise 5 % too wide."""

    name = "broken-sigma"

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        wider = dataclasses.replace(params, sigma=1.05 * params.sigma)
        return super().program(levels, pulses, synapses, wider, noise, bit_length)


class ResetSigmaError(Broken):
    """Reset noise 5 % too narrow."""

    name = "broken-reset-sigma"

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        return super().reset(g_plus, g_minus, synapses, dataclasses.replace(params, sigma=0.95 * params.sigma), noise)


class ThresholdInclusive(ReferenceBackend):
    """Exact claim; a bit fires when its word *equals* the threshold too (<= instead of <)."""

    name = "broken-threshold"

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        return [bitarray([draw.word(i * bit_length + n) <= threshold(p) and threshold(p) > 0
                          for n in range(bit_length)]) for i, p in enumerate(probabilities)]


def step_with(net: network.Network, image: Sequence[float], label: int, step: int, eta: float,
              draw_layer: int = 99, reset_offset: int = 1) -> StepResult:
    """network.train_step with two places to plant a bug: crossbars from ``draw_layer`` on take that crossbar's
    update draws, and the reset comes after steps with (step + reset_offset) % reset_every == 0."""
    acts = network.forward(net, list(image), lambda layer: Draw(net.seed, Site.FORWARD_STREAM, step, layer))
    deltas = network.backward(net, acts, label, step)
    for index, layer in enumerate(net.layers):
        network.update_layer(layer, [*acts.values[index], 1.0], deltas[index], eta, net.config, net.seed, step,
                             min(index, draw_layer))
    if net.config.kind == "memristive" and (step + reset_offset) % net.config.device.reset_every == 0:
        for index, layer in enumerate(net.layers):
            network.reset_layer(layer, net.config, net.seed, index, step)
    return StepResult(network.cross_entropy(acts.values[-1], label), network.argmax(acts.logits))


class ModelBug(ReferenceBackend):
    """Exact claim; the model (``model_class``) carries the bug."""

    model_class: type[ReferenceModel] = ReferenceModel

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return self.model_class(config, seed)


class DeepModel(ReferenceModel):
    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        return step_with(self.net, image, label, step, eta, draw_layer=1)


class DeepLayers(ModelBug):
    """The third crossbar and later ones reuse the second one's update streams (only networks of 3+ crossbars)."""

    name = "broken-deep"
    model_class = DeepModel


class ResetScheduleModel(ReferenceModel):
    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        return step_with(self.net, image, label, step, eta, reset_offset=0)


class ResetSchedule(ModelBug):
    """Resets after steps 0, N, 2N, ... instead of N-1, 2N-1, ... (invisible when training starts at step 0 and
    the vectors stop before the first reset)."""

    name = "broken-reset-schedule"
    model_class = ResetScheduleModel


class ConfiguredRateModel(ReferenceModel):
    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        return super().train_step(image, label, step, self.net.config.lr)


class IgnoresDecayedRate(ModelBug):
    """Trains with the configured learning rate, not the step's eta (right in epoch 0 only)."""

    name = "broken-decayed-lr"
    model_class = ConfiguredRateModel


class EventNoiseModel(ReferenceModel):
    def __init__(self, config: NetworkConfig, seed: int) -> None:
        super().__init__(dataclasses.replace(config, device=dataclasses.replace(config.device, noise_mode="event")),
                         seed)


class IgnoresPulseMode(ModelBug):
    """Draws one noise value per event even in pulse mode."""

    name = "broken-pulse-mode"
    model_class = EventNoiseModel


class TrainingLengthReadModel(ReferenceModel):
    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        return super().predict(image, image_index, repeat, None)


class PredictIgnoresBitLength(ModelBug):
    """predict reads with the training BL whatever ``bit_length`` asks."""

    name = "broken-predict-bit-length"
    model_class = TrainingLengthReadModel


class FirstRepeatModel(ReferenceModel):
    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        return super().predict(image, image_index, 0, bit_length)


class PredictIgnoresRepeat(ModelBug):
    """predict draws the streams of repeat 0 for every repeat."""

    name = "broken-predict-repeat"
    model_class = FirstRepeatModel


class HalfLoadModel(ReferenceModel):
    def load_layers(self, layers: list[Layer]) -> None:
        own = self.export_layers()
        super().load_layers([dataclasses.replace(layer, g_minus=mine.g_minus) for layer, mine in zip(layers, own)])


class LoadForgetsDevices(ModelBug):
    """load_layers takes the weights and G+ but keeps its own G- levels."""

    name = "broken-load-layers"
    model_class = HalfLoadModel


#: name -> (backend, text its failure must contain, the -k selection of the suite to run it through: the tests
#: that must catch it. Running 18 reference-speed backends through the whole suite would take most of the test run.)
BROKEN = {
    "broken-biased-and": (BiasedAnd, "[SPEC 1.4]", "spec_1_4"),
    "broken-bit-length": (OffByOneBitLength, "[SPEC 1.1]", "spec_1_1"),
    "broken-update-sign": (WrongUpdateSign, "[SPEC 3.8]", "test_3_network"),
    "broken-no-noise": (NoProgrammingNoise, "[SPEC 4.3]", "test_4_device"),
    "broken-decreasing": (DecreasingDevice, "[SPEC 4.4]", "test_4_device"),
    "broken-reset": (WrongReset, "[SPEC 4.5]", "test_4_device"),
    "broken-reset-inclusive": (InclusiveResetThreshold, "[SPEC 4.5] pair 1", "test_4_device"),
    "broken-verified-reset": (VerifiedWriteIgnored, "[SPEC 4.5] a verified reset changed weight", "test_4_device"),
    "broken-spread": (NoSpread, "[SPEC 1.2] popcounts", "spread"),
    "broken-gain": (GainError, "[SPEC 1.2] ones in 2**21 bits", "long_streams"),
    "broken-sigma": (SigmaError, "[SPEC 4.3] programming noise", "test_4_device"),
    "broken-reset-sigma": (ResetSigmaError, "[SPEC 4.5] reset programming error", "test_4_device"),
    "broken-threshold": (ThresholdInclusive, "[SPEC 1.2] value", "word_equal"),
    "broken-deep": (DeepLayers, "[SPEC 3.8", "test_3_training"),
    "broken-reset-schedule": (ResetSchedule, "and reset at step", "test_3_training"),
    "broken-decayed-lr": (IgnoresDecayedRate, "at step 41", "test_3_training"),
    "broken-pulse-mode": (IgnoresPulseMode, "[SPEC 4.3-4.5] programming and reset at step 41", "test_3_training"),
    "broken-predict-bit-length": (PredictIgnoresBitLength, "[SPEC 3.9] predict(", "test_3_training"),
    "broken-predict-repeat": (PredictIgnoresRepeat, "[SPEC 3.9] predict(", "test_3_training"),
    "broken-load-layers": (LoadForgetsDevices, "[SPEC 3.5] load_layers", "test_3_training"),
}


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    for name, (cls, _clause, _chapters) in BROKEN.items():
        assert cls.name == name
        registry.add(name, cls, version="0", capabilities=cls.capabilities, description=cls.__doc__ or "")
