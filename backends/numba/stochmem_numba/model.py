"""The network on compiled kernels: NumPy arrays for the state, one compiled call per training step or inference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stochmem.config import NetworkConfig
from stochmem.network import Layer, StepResult, update_gain
from stochmem_numba import kernels, precompile
from stochmem_numba import step as steps
from stochmem_numpy.kernels import F64
from stochmem_numpy.model import NumpyModel


def seed_key(seed: int) -> tuple[np.uint64, np.uint64]:
    """[SPEC 2.2] The Philox key of a run's seed."""
    return np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)


def update_rule(config: NetworkConfig, seed: int, eta: float) -> steps.UpdateRule:
    """The compiled kernels' :class:`~stochmem_numba.step.UpdateRule` of a step with learning rate ``eta``."""
    gain, dw_min = update_gain(eta, config) if config.kind != "float" else (0.0, 0.0)
    params = config.device
    return steps.UpdateRule.typed(steps.KIND_CODES[config.kind], eta, gain, dw_min, config.bit_length, params.sigma,
                                  params.noise_mode == "pulse", params.top_level, params.reset_every,
                                  params.reset_sigma, params.reset_level, *seed_key(seed))


def update_crossbar(weights: F64, g_plus: F64 | None, g_minus: F64 | None, inputs: F64, deltas: F64, eta: float,
                    config: NetworkConfig, seed: int, step: int, index: int) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update through the compiled kernel training uses, in place; the
    arguments after the crossbar in the order of the contract's ``update_layer``."""
    steps.crossbar_update(weights, weights if g_plus is None else g_plus, weights if g_minus is None else g_minus,
                          inputs, deltas, update_rule(config, seed, eta), np.uint64(step), index)


class NumbaModel(NumpyModel):
    """Same state as :class:`~stochmem_numpy.model.NumpyModel` (and its initialisation); every step and every
    inference is one call of :mod:`stochmem_numba.step` (in a cold run, while a helper process compiles it, of its
    interpreted twin: :mod:`stochmem_numba.precompile`).

    The first crossbar's weights live column-major in ``first_by_inputs`` (shape (n_in + 1, n_out): the layout
    the kernels read, see :mod:`stochmem_numba.kernels`); ``weights[0]`` is its transposed view, so everything
    inherited (export, checkpoints) sees the usual (n_out, n_in + 1) crossbar and the same memory.
    """

    def __init__(self, config: NetworkConfig, seed: int) -> None:
        super().__init__(config, seed)
        self.kind = steps.KIND_CODES[config.kind]
        self.sizes = np.array(config.sizes, dtype=np.int64)
        self.key = seed_key(seed)
        self.rule: steps.UpdateRule | None = None
        self.stepped = False  # whether train_step ran: the first one may compile with a helper (precompile)
        self.first_by_inputs = self._store_first_column_major()

    def _store_first_column_major(self) -> F64:
        """Move ``weights[0]`` into a column-major array, leave its view in ``weights[0]``; return the array."""
        first = np.ascontiguousarray(self.weights[0].T)
        self.weights[0] = first.T
        return first

    def crossbars(self) -> tuple[F64, ...]:
        """The weights as the kernels take them: the first crossbar column-major, the others row-major."""
        return (self.first_by_inputs, *self.weights[1:])

    def load_layers(self, layers: list[Layer]) -> None:
        super().load_layers(layers)
        self.first_by_inputs = self._store_first_column_major()

    def rule_for(self, eta: float) -> steps.UpdateRule:
        """The update rule of learning rate ``eta`` (kept between steps: eta changes once an epoch)."""
        if self.rule is None or self.rule.eta != eta:
            self.rule = update_rule(self.config, self.seed, eta)
        return self.rule

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        """[SPEC 3.5]"""
        weights, pixels = self.crossbars(), np.asarray(image, dtype=np.float64)
        rule, label, step = self.rule_for(eta), int(label), int(step)  # the types the step is compiled for
        args: tuple[Any, ...]
        if self.kind == steps.KIND_FLOAT:
            train, args = steps.train_step_float, (weights, self.sizes, pixels, label, step, rule)
        elif self.kind == steps.KIND_STOCHASTIC:
            train, args = steps.train_step_stochastic, (weights, self.sizes, pixels, label, step, rule)
        else:
            train, args = steps.train_step_memristive, (weights, tuple(self.g_plus), tuple(self.g_minus),
                                                        self.sizes, pixels, label, step, rule)
        if not self.stepped:
            self.stepped = True
            precompile.prepare_first_step(train, args, self.kind, len(weights))
        loss, prediction = precompile.callable_now(train)(*args)
        if steps.reset_due(rule, step):
            steps.reset_all(weights, self.g_plus, self.g_minus, step, rule, precompile.callable_now(kernels.reset))
        return StepResult(loss, prediction)

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        """[SPEC 3.9]"""
        predict = precompile.callable_now(steps.predict)
        prediction = predict(self.kind != steps.KIND_FLOAT, self.crossbars(), self.sizes,
                             np.asarray(image, dtype=np.float64), int(image_index), int(repeat),
                             int(bit_length or self.config.bit_length), *self.key)
        return int(prediction)

    def wait_until_compiled(self) -> None:
        """Return once training and prediction run compiled: at once, but in a cold run whose helper process is
        still compiling them (:mod:`stochmem_numba.precompile`; at most until its deadline). For benchmarks,
        which time compiled code only."""
        precompile.wait_until_compiled()
