"""Slow: the paper's 784-256-128-10 network trained by the pure-Python reference on real MNIST (tox -e slow)."""

from __future__ import annotations

import pytest

from stochmem.config import NetworkConfig
from stochmem.reference_backend import ReferenceModel
from stochmem.training import train


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "floor"), [("float", 0.70), ("stochastic", 0.65), ("memristive", 0.6)])
def test_paper_network_learns_from_2000_images(kind, floor, mnist_train, mnist_test):
    config = NetworkConfig(kind=kind)
    results = train(ReferenceModel(config, 1), config, 1, mnist_train.subset(0, 2000), mnist_test.subset(0, 1000),
                    epochs=1)
    assert (results[0].test_accuracy or 0.0) >= floor
