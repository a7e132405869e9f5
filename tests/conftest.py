"""Shared fixtures: where real MNIST lives, and the hypothesis profiles (derandomized: tests never flake)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from stochmem.data import DATA_DIR_ENV, Dataset, load_split

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"

# Derandomized everywhere: a statistical test then sees the same examples on every run, so its false-alarm
# rate is a property of the code under test, not of the day.
settings.register_profile("default", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default"))


def mnist_dir() -> Path | None:
    """$STOCHMEM_DATA_DIR if set, else ../shared/data/mnist beside the checkout, else None."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return SHARED_MNIST if SHARED_MNIST.is_dir() else None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = mnist_dir()
    if path is None:
        message = f"real MNIST not found: set {DATA_DIR_ENV} or provide {SHARED_MNIST}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI always has the data: a missing folder is a broken setup, not a skip
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def mnist_train(mnist_path: Path) -> Dataset:
    return load_split(mnist_path, "train")


@pytest.fixture(scope="session")
def mnist_test(mnist_path: Path) -> Dataset:
    return load_split(mnist_path, "test")
