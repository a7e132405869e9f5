"""The training protocol: epochs, data order, learning-rate schedule, and evaluation.

[SPEC 3.5] Epoch e presents the training images in the order of the permutation (DATA_ORDER, step = e); the
image at position k of epoch e is training step t = e * n_train + k; the learning rate is eta_e.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stochmem.backend_api import ImageReader, InputCorrupter, Model
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


@dataclass
class TrainingState:
    """Where a run stands: enough, with the model's layers, to resume it bit for bit ([SPEC 2.2]: the
    randomness of step t depends on t alone, so nothing else needs saving)."""

    epoch: int = 0
    position: int = 0  #: images of ``epoch`` already trained
    loss_sum: float = 0.0  #: summed loss of those images, in order
    mistakes: int = 0
    results: list[EpochResult] = field(default_factory=list)  #: finished epochs


def train_epoch(model: Model, config: NetworkConfig, seed: int, train: Dataset, state: TrainingState,
                on_image: Callable[[int, int], None] | None = None,
                on_checkpoint: Callable[[TrainingState], None] | None = None, checkpoint_every: int = 0,
                read: ImageReader = Dataset.image) -> None:
    """[SPEC 3.5] Train the rest of epoch ``state.epoch`` from ``state.position``, updating ``state``.

    ``on_image(done, total)`` reports progress; ``on_checkpoint(state)`` is called every ``checkpoint_every``
    images (0: never); ``read`` gives the inputs of an image.
    """
    eta = config.learning_rate(state.epoch)
    n_train = len(train)
    order = epoch_order(seed, state.epoch, n_train)
    for position in range(state.position, n_train):
        index = order[position]
        step = state.epoch * n_train + position
        result = model.train_step(read(train, index), train.label(index), step, eta)
        state.loss_sum += result.loss
        state.mistakes += result.prediction != train.label(index)
        state.position = position + 1
        if on_image is not None:
            on_image(position + 1, n_train)
        if on_checkpoint is not None and checkpoint_every and state.position % checkpoint_every == 0 \
                and state.position < n_train:
            on_checkpoint(state)


def evaluate(model: Model, seed: int, test: Dataset, repeat: int = 0, bit_length: int | None = None,
             noise_variance: float = 0.0, noise: InputCorrupter = corrupt,
             read: ImageReader = Dataset.image) -> float:
    """[SPEC 3.9, 5.4] Test accuracy: the fraction of ``test`` classified correctly.

    ``repeat`` selects independent stream (and input-noise) draws; ``bit_length`` overrides BL for reading;
    ``noise_variance`` corrupts every input as the paper's Fig. 5 does, with ``noise`` (the reference's
    :func:`~stochmem.data.corrupt`, or a backend's faster twin); ``read`` gives the inputs of an image.
    """
    correct = 0
    for index in range(len(test)):
        image = noise(read(test, index), noise_variance, seed, index, repeat)
        correct += model.predict(image, index, repeat, bit_length) == test.label(index)
    return correct / len(test)


def train(model: Model, config: NetworkConfig, seed: int, train_set: Dataset, test_set: Dataset | None,
          epochs: int,
          on_image: Callable[[int, int], None] | None = None,
          on_epoch: Callable[[EpochResult], None] | None = None,
          state: TrainingState | None = None,
          on_checkpoint: Callable[[TrainingState], None] | None = None,
          checkpoint_every: int = 0, read: ImageReader = Dataset.image) -> list[EpochResult]:
    """Train until ``epochs`` epochs are done, evaluating on ``test_set`` after each; returns every epoch's result.

    ``state`` resumes an interrupted run; ``on_checkpoint`` is called every ``checkpoint_every`` images and after
    each epoch (once its evaluation is in ``state.results``); ``read`` gives the inputs of an image.
    """
    state = state if state is not None else TrainingState()
    while state.epoch < epochs:
        start = time.perf_counter()
        train_epoch(model, config, seed, train_set, state, on_image, on_checkpoint, checkpoint_every, read)
        accuracy = evaluate(model, seed, test_set, read=read) if test_set is not None and len(test_set) else None
        n_train = len(train_set)
        result = EpochResult(state.epoch, config.learning_rate(state.epoch), state.loss_sum / n_train,
                             state.mistakes / n_train, accuracy, time.perf_counter() - start)
        state.results.append(result)
        state.epoch, state.position, state.loss_sum, state.mistakes = state.epoch + 1, 0, 0.0, 0
        if on_epoch is not None:
            on_epoch(result)
        if on_checkpoint is not None:
            on_checkpoint(state)
    return state.results
