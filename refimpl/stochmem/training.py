"""The training protocol: epochs, data order, learning-rate schedule, and evaluation.

[SPEC 3.5] Epoch e presents the training images in the order of the permutation (DATA_ORDER, step = e); the
image at position k of epoch e is training step t = e * n_train + k; the learning rate is eta_e.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from stochmem.backend_api import Model
from stochmem.config import NetworkConfig
from stochmem.data import Dataset, corrupt
from stochmem.rng import Draw, Site, permutation


@dataclass(frozen=True)
class EpochResult:
    """What one epoch of training measured."""

    epoch: int
    learning_rate: float
    mean_loss: float
    train_error: float  #: fraction of training images misclassified by the forward pass that trained on them
    test_accuracy: float | None
    seconds: float


def epoch_order(seed: int, epoch: int, n_train: int) -> list[int]:
    """[SPEC 3.5, 2.6] The order in which epoch ``epoch`` presents the training images."""
    return permutation(Draw(seed, Site.DATA_ORDER, epoch), n_train)


def train_epoch(model: Model, config: NetworkConfig, seed: int, train: Dataset, epoch: int,
                on_image: Callable[[int, int], None] | None = None) -> tuple[float, float]:
    """[SPEC 3.5] One epoch of training; returns (mean loss, training error). ``on_image(done, total)`` reports."""
    eta = config.learning_rate(epoch)
    n_train = len(train)
    total_loss = 0.0
    mistakes = 0
    for position, index in enumerate(epoch_order(seed, epoch, n_train)):
        step = epoch * n_train + position
        result = model.train_step(train.image(index), train.label(index), step, eta)
        total_loss += result.loss
        mistakes += result.prediction != train.label(index)
        if on_image is not None:
            on_image(position + 1, n_train)
    return total_loss / n_train, mistakes / n_train


def evaluate(model: Model, seed: int, test: Dataset, repeat: int = 0, bit_length: int | None = None,
             noise_variance: float = 0.0) -> float:
    """[SPEC 3.9, 5.4] Test accuracy: the fraction of ``test`` classified correctly.

    ``repeat`` selects independent stream (and input-noise) draws; ``bit_length`` overrides BL for reading;
    ``noise_variance`` corrupts every input as the paper's Fig. 5 does.
    """
    correct = 0
    for index in range(len(test)):
        image = corrupt(test.image(index), noise_variance, seed, index, repeat)
        correct += model.predict(image, index, repeat, bit_length) == test.label(index)
    return correct / len(test)


def train(model: Model, config: NetworkConfig, seed: int, train_set: Dataset, test_set: Dataset | None,
          epochs: int,
          on_image: Callable[[int, int], None] | None = None,
          on_epoch: Callable[[EpochResult], None] | None = None) -> list[EpochResult]:
    """Train for ``epochs`` epochs, evaluating on ``test_set`` after each; returns one result per epoch."""
    results = []
    for epoch in range(epochs):
        start = time.perf_counter()
        mean_loss, train_error = train_epoch(model, config, seed, train_set, epoch, on_image)
        accuracy = evaluate(model, seed, test_set) if test_set is not None and len(test_set) else None
        result = EpochResult(epoch, config.learning_rate(epoch), mean_loss, train_error, accuracy,
                             time.perf_counter() - start)
        results.append(result)
        if on_epoch is not None:
            on_epoch(result)
    return results
