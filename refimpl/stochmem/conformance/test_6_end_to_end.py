"""Conformance, chapter 6.3: the backend and the reference train the same small network on real MNIST digits
(the MNIST files when given, else the embedded extra's 5,000)."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest

from stochmem.backend_api import Backend
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.conformance.plugin import EMBEDDED
from stochmem.conformance.reference_cache import cached
from stochmem.data import Dataset, load_split
from stochmem.embedded import embedded_split
from stochmem.training import train

pytestmark = pytest.mark.groups("network")

TRAIN, TEST = 1000, 500
CONFIGS = {
    "float": NetworkConfig(kind="float", sizes=(784, 16, 10)),
    "stochastic": NetworkConfig(kind="stochastic", sizes=(784, 16, 10), bit_length=10),
    "memristive": NetworkConfig(kind="memristive", sizes=(784, 16, 10), bit_length=10,
                                device=DeviceParams(sigma=0.1)),
}
#: [SPEC 6.3] A statistical backend's accuracy differs from the reference's by the difference of two test
#: accuracies on 500 images: each is binomial with variance at most 1/(4 * 500), so the difference has standard
#: deviation at most sqrt(2/(4*500)) ~ 0.032. Training noise adds to this; 6 sd (0.19) bounds the false alarm
#: below 1e-8 for the binomial part and leaves room for training variability.
STATISTICAL_TOLERANCE = 6 * math.sqrt(2 / (4 * TEST))
#: [SPEC 6.3] Every kind must learn: after 1,000 images the reference reaches 0.76 (float), 0.68 (stochastic) and
#: 0.61-0.63 (memristive) on 500 test images of either data source, chance is 0.10. A network whose true accuracy
#: is 0.25 or less scores 0.35 or more with probability below 1e-7 (binomial, 500 images), so this floor separates
#: a network that learns from one that does not.
LEARNING_FLOOR = 0.35
EXACT_WEIGHT_TOLERANCE = 1e-6  # [SPEC 6.1] rounding accumulated over 200 steps


@functools.cache
def _data(source: str) -> tuple[Dataset, Dataset]:
    """The first TRAIN training and TEST test digits of ``source`` (a MNIST folder, or ``embedded``)."""
    if source == EMBEDDED:
        train_set, test_set = embedded_split()
    else:
        train_set, test_set = load_split(Path(source), "train"), load_split(Path(source), "test")
    return train_set.subset(0, TRAIN), test_set.subset(0, TEST)


@functools.cache
def _reference_run(kind: str, source: str) -> tuple[float, list[list[float]]]:
    """The reference's run, from the disk cache when the same code trained it before (:mod:`.reference_cache`).

    Any MNIST folder that loads is the official MNIST (its SHA-256 is verified), so the key names the data source,
    not the folder."""
    from stochmem.plugins import default_host

    key = {"kind": kind, "data": EMBEDDED if source == EMBEDDED else "mnist", "train": TRAIN, "test": TEST,
           "config": repr(CONFIGS[kind])}
    accuracy, rows = cached(key, lambda: _run(default_host().get("reference"), kind, source))
    return accuracy, rows


def _run(backend: Backend, kind: str, source: str) -> tuple[float, list[list[float]]]:
    train_set, test_set = _data(source)
    config = CONFIGS[kind]
    model = backend.create_model(config, 17)
    results = train(model, config, 17, train_set, test_set, epochs=1)
    return results[0].test_accuracy or 0.0, [layer.weights[0] for layer in model.export_layers()]


@pytest.mark.end_to_end
@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_spec_6_3_trains_like_the_reference(backend: Backend, digits: str, kind: str) -> None:
    if kind not in backend.capabilities.kinds:
        pytest.skip(f"{backend.name} does not implement {kind}")
    reference_accuracy, reference_rows = _reference_run(kind, digits)
    # The reference against itself needs no second run: its training is deterministic ([SPEC 2.2]).
    accuracy, rows = (reference_accuracy, reference_rows) if backend.name == "reference" else \
        _run(backend, kind, digits)
    assert accuracy >= LEARNING_FLOOR, (f"[SPEC 6.3] {kind}: test accuracy {accuracy:.3f} after {TRAIN} images: "
                                        f"the network does not learn (the reference reaches {reference_accuracy:.3f}, "
                                        "chance is 0.10)")
    assert abs(accuracy - reference_accuracy) <= STATISTICAL_TOLERANCE, (
        f"[SPEC 6.3] {kind}: test accuracy {accuracy:.3f}, reference {reference_accuracy:.3f}")
    if backend.capabilities.exact:
        assert accuracy == reference_accuracy, f"[SPEC 6.1] {kind}: exact backend's accuracy differs"
        worst = max(abs(a - b) for row, ref in zip(rows, reference_rows) for a, b in zip(row, ref))
        assert worst <= EXACT_WEIGHT_TOLERANCE, f"[SPEC 6.1] {kind}: first weight rows differ by {worst}"
