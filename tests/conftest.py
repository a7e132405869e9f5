"""Shared fixtures: where the digits come from, and the hypothesis profiles (derandomized: tests never flake).

Real MNIST is read from $STOCHMEM_DATA_DIR, else from ../shared/data/mnist beside the checkout. Without it (a fresh
clone) the tests that train use the 5,000 real MNIST digits of the ``embedded`` extra instead (``train_digits``,
``test_digits``, ``data_args``), and only the tests that are about the MNIST files themselves are skipped, each
naming why. ``STOCHMEM_REQUIRE_MNIST=1`` (CI's run beside the data) turns those skips into failures.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

from stochmem.data import DATA_DIR_ENV, Dataset, load_split
from stochmem.embedded import embedded_split

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"

# Derandomized everywhere: a statistical test then sees the same examples on every run, so its false-alarm
# rate is a property of the code under test, not of the day.
settings.register_profile("default", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default"))


def load_script(relative_path: str, name: str) -> ModuleType:
    """The script at ``relative_path`` in the repository (an example, a docs or mutation tool), imported as
    module ``name`` without putting its folder on ``sys.path``."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relative_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long runs (``slow``, ``fuzz``) take as long as they take; every other test has pyproject's timeout.

    The per-test timeout (pytest-timeout) turns a hang into one failing test with its stack, instead of a CI run
    that stops at its wall-clock limit and reports nothing.
    """
    for item in items:
        if item.get_closest_marker("timeout") is None and (item.get_closest_marker("slow")
                                                           or item.get_closest_marker("fuzz")):
            item.add_marker(pytest.mark.timeout(0))


def mnist_dir() -> Path | None:
    """$STOCHMEM_DATA_DIR if set, else ../shared/data/mnist beside the checkout, else None."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return SHARED_MNIST if SHARED_MNIST.is_dir() else None


REQUIRE_MNIST_ENV = "STOCHMEM_REQUIRE_MNIST"


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The real MNIST folder, for tests about the MNIST files themselves; skipped (with the reason) without it."""
    path = mnist_dir()
    if path is None:
        message = f"real MNIST not found: set {DATA_DIR_ENV} or provide {SHARED_MNIST}"
        if os.environ.get(REQUIRE_MNIST_ENV):
            pytest.fail(message)  # a run that promised the data: a missing folder is a broken setup, not a skip
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def mnist_train(mnist_path: Path) -> Dataset:
    return load_split(mnist_path, "train")


@pytest.fixture(scope="session")
def mnist_test(mnist_path: Path) -> Dataset:
    return load_split(mnist_path, "test")


@functools.cache
def digits() -> tuple[Dataset, Dataset]:
    """(train, test) real digits: MNIST when found, else the embedded extra's 4,000 + 1,000."""
    path = mnist_dir()
    if path is not None:
        return load_split(path, "train"), load_split(path, "test")
    return embedded_split()


@pytest.fixture(scope="session")
def train_digits() -> Dataset:
    """Real training digits: MNIST's when found, else the embedded 4,000 (see the module's docstring)."""
    return digits()[0]


@pytest.fixture(scope="session")
def test_digits() -> Dataset:
    """Real test digits: MNIST's when found, else the embedded 1,000."""
    return digits()[1]


def data_options() -> list[str]:
    """Command-line options of ``stochmem train`` for the same digits as :func:`digits`."""
    path = mnist_dir()
    return ["--data-dir", str(path)] if path is not None else ["--data", "embedded"]


@pytest.fixture(scope="session")
def data_args() -> list[str]:
    """``stochmem train`` options that select the test digits (see :func:`data_options`)."""
    return data_options()


@pytest.fixture(scope="session")
def reproduce_data_args() -> list[str]:
    """``stochmem reproduce`` options that select the test digits."""
    path = mnist_dir()
    return ["--data-dir", str(path)] if path is not None else ["--set", "data=embedded"]
