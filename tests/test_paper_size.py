"""Slow: the paper's 784-256-128-10 network trained by the pure-Python reference on real MNIST (tox -e slow)."""

from __future__ import annotations

import pytest

from stochmem.config import NetworkConfig
from stochmem.reference_backend import ReferenceModel
from stochmem.training import train


# Measured with this protocol (seed 1, first 2,000 training and 1,000 test images): float 77.1 %, stochastic
# 64.6 %, memristive 45.5 % (chance: 10 %). One pass over 2,000 images is early in training; a full epoch
# reaches 96.2 / 91.6 / 86.8 % (numba backend, same protocol). The floors sit a few points below the measurements.
@pytest.mark.slow
@pytest.mark.parametrize(("kind", "floor"), [("float", 0.72), ("stochastic", 0.60), ("memristive", 0.40)])
def test_paper_network_learns_from_2000_images(kind, floor, train_digits, test_digits):
    config = NetworkConfig(kind=kind)
    results = train(ReferenceModel(config, 1), config, 1, train_digits.subset(0, 2000), test_digits.subset(0, 1000),
                    epochs=1)
    assert (results[0].test_accuracy or 0.0) >= floor
