"""[SPEC 3] Small networks of every kind learn real MNIST digits well above chance (10 %)."""

from __future__ import annotations

import pytest

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.reference_backend import ReferenceModel
from stochmem.training import evaluate, train

TRAIN_IMAGES, TEST_IMAGES = 600, 300
# Chance is 10 %. At 300 test images a true accuracy of 10 % exceeds 25 % with probability < 1e-10 (binomial),
# so a pass cannot be luck; the floors below sit well under what each kind reaches (quoted in the comments),
# which leaves room for honest changes of the protocol without hiding a broken kind. Measured at this commit:
# float 0.783, stochastic 0.703, memristive 0.683 (from 0.12-0.14 before training).
FLOORS = {"float": 0.70, "stochastic": 0.60, "memristive": 0.55}


@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_small_network_learns_real_digits(kind, train_digits, test_digits):
    config = NetworkConfig(kind=kind, sizes=(784, 32, 10), bit_length=10, lr=0.1,
                           device=DeviceParams(sigma=0.1))
    model = ReferenceModel(config, seed=1)
    before = evaluate(model, 1, test_digits.subset(0, TEST_IMAGES))
    results = train(model, config, 1, train_digits.subset(0, TRAIN_IMAGES), test_digits.subset(0, TEST_IMAGES),
                    epochs=1)
    accuracy = results[0].test_accuracy
    assert accuracy is not None
    print(f"{kind}: test accuracy {accuracy:.3f} (before training {before:.3f})")
    assert accuracy >= FLOORS[kind], f"{kind} reached only {accuracy:.3f} after {TRAIN_IMAGES} images"
    assert accuracy > before + 0.3


def test_training_is_deterministic(train_digits):
    config = NetworkConfig(kind="memristive", sizes=(784, 8, 10), device=DeviceParams(sigma=0.3, reset_every=4))
    runs = []
    for _ in range(2):
        model = ReferenceModel(config, seed=9)
        train(model, config, 9, train_digits.subset(0, 20), None, epochs=2)
        runs.append([layer.weights for layer in model.export_layers()])
    assert runs[0] == runs[1]
