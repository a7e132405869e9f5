"""The conformance suite's pytest plugin: selects the backend under test and applies its known deviations.

Use it through ``stochmem conform NAME``, or directly::

    pytest -p stochmem.conformance.plugin --pyargs stochmem.conformance --stochmem-backend NAME

Options (each also an environment variable):

* ``--stochmem-backend`` / ``STOCHMEM_BACKEND``: the backend under test (default ``reference``);
* ``--stochmem-exec`` / ``STOCHMEM_EXEC`` (``stochmem conform --exec``): instead, a command that speaks the
  process protocol [SPEC 7]; the implementation runs as a subprocess and is tested on the clause groups it
  claims in its handshake; ``--stochmem-exec-timeout`` (``--exec-timeout``) bounds each reply (default 60 s);
* ``--stochmem-xfails`` / ``STOCHMEM_XFAILS``: a file of known deviations, one test id (or id prefix) per line,
  ``#`` comments allowed; matching tests are marked ``xfail(strict=True)``, so a deviation that is fixed is
  noticed too;
* ``--stochmem-seed`` / ``STOCHMEM_CONFORM_SEED``: re-seeds every random draw of the statistical tier (default 0,
  the draws the suite was calibrated on). A conforming backend passes under any seed but for the tier's stated
  false-alarm rate; ``tests/test_stats_meta.py`` runs the tier on the reference under many seeds and counts the
  alarms;
* ``--stochmem-data-dir`` / ``STOCHMEM_DATA_DIR`` (``stochmem conform --data-dir``): real MNIST for the end-to-end
  tier; without it (and without ``../shared/data/mnist`` beside a checkout) the tier trains on the 5,000 real
  MNIST digits of the ``embedded`` extra, and the report header says which data it used.

Tiers are markers: ``exact`` (bit-identical to the reference; skipped for backends that do not claim it),
``statistical`` and ``end_to_end``. Select with ``-m``. Every test also names its clause group
(``groups`` marker, [SPEC 6.5]); tests of groups the backend does not claim are skipped, and the run ends with
a certification report, one verdict per group (:mod:`stochmem.conformance.certification`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from stochmem.backend_api import CLAUSE_GROUPS, Backend, BackendError
from stochmem.conformance.certification import Certification, not_applicable
from stochmem.plugins import default_host

TIERS = {
    "exact": "[SPEC 6.1] bit-identical to the reference (backends that claim exact)",
    "statistical": "[SPEC 6.2] distributions as specified, exact binomial bounds",
    "end_to_end": "[SPEC 6.3] trains like the reference on real MNIST",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stochmem", "stochmem conformance")
    group.addoption("--stochmem-backend", default=os.environ.get("STOCHMEM_BACKEND", "reference"),
                    help="backend under test (env STOCHMEM_BACKEND; default reference)")
    group.addoption("--stochmem-exec", default=os.environ.get("STOCHMEM_EXEC"),
                    help="test a program that speaks the process protocol [SPEC 7] instead (env STOCHMEM_EXEC)")
    group.addoption("--stochmem-exec-timeout", type=float,
                    default=float(os.environ.get("STOCHMEM_EXEC_TIMEOUT", "60")),
                    help="seconds the program may take to answer one request (default 60)")
    group.addoption("--stochmem-xfails", default=os.environ.get("STOCHMEM_XFAILS"),
                    help="file of known deviations, one test id per line (env STOCHMEM_XFAILS)")
    group.addoption("--stochmem-seed", type=int, default=int(os.environ.get("STOCHMEM_CONFORM_SEED", "0")),
                    help="re-seed the statistical tier's draws (env STOCHMEM_CONFORM_SEED; default 0)")
    group.addoption("--stochmem-data-dir", default=os.environ.get("STOCHMEM_DATA_DIR"),
                    help="MNIST folder for the end-to-end tier (env STOCHMEM_DATA_DIR)")


def pytest_configure(config: pytest.Config) -> None:
    for name, description in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.addinivalue_line("markers", "kinds(*kinds): network kinds the test needs the backend to implement")
    config.addinivalue_line("markers", "groups(group): the clause group a test certifies [SPEC 6.5]: "
                                       + ", ".join(CLAUSE_GROUPS))
    if not config.option.collectonly and not hasattr(config, "workerinput"):
        backend = _backend(config)
        config.pluginmanager.register(Certification(backend.name, backend.version, backend.capabilities),
                                      "stochmem-certification")


def pytest_unconfigure(config: pytest.Config) -> None:
    backend = config.stash.get(BACKEND_KEY, None)
    close = getattr(backend, "close", None)
    if close is not None:
        close()


BACKEND_KEY = pytest.StashKey[Backend]()


def _backend(config: pytest.Config) -> Backend:
    """The backend under test, loaded (or, with --stochmem-exec, started) once per run."""
    if BACKEND_KEY in config.stash:
        return config.stash[BACKEND_KEY]
    command = config.getoption("--stochmem-exec")
    try:
        if command:
            from stochmem.protocol.client import connect

            backend: Backend = connect(command, config.getoption("--stochmem-exec-timeout"))
        else:
            backend = default_host().get(config.getoption("--stochmem-backend"))
    except BackendError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[BACKEND_KEY] = backend
    return backend


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = _backend(config)
    lines = [f"stochmem conformance: backend {backend.name} {backend.version} "
             f"({backend.capabilities.describe()})"]
    lines.append(f"end-to-end data: {describe_data(end_to_end_data(config))}")
    if config.getoption("--stochmem-seed"):
        lines.append(f"statistical tier re-seeded with --stochmem-seed {config.getoption('--stochmem-seed')}")
    xfails = config.getoption("--stochmem-xfails")
    if xfails:
        lines.append(f"known deviations from {xfails}")
    return lines


#: ``seeded(k)``: the seed a statistical test uses where it was written with seed ``k``.
Seeded = Callable[[int], int]
GOLDEN = 0x9E3779B97F4A7C15  # odd, so k -> k + salt * GOLDEN is a bijection of the 64-bit seeds for every salt


def seed_mixer(salt: int) -> Seeded:
    """Seed ``k`` under run seed ``salt``: ``k`` itself for salt 0, else another 64-bit seed for every ``k``."""
    return lambda k: (k + salt * GOLDEN) % (1 << 64)


EMBEDDED = "embedded"


def end_to_end_data(config: pytest.Config) -> str | None:
    """Where the end-to-end tier reads digits: a real MNIST folder (the option or env var, else ../shared beside a
    checkout), else ``embedded`` when the embedded extra is installed, else None."""
    candidates: list[str | None] = [config.getoption("--stochmem-data-dir"),
                  str(Path(__file__).resolve().parents[4] / "shared" / "data" / "mnist")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return candidate
    from stochmem.data import DataError
    from stochmem.embedded import embedded_path

    try:
        embedded_path()
    except DataError:
        return None
    return EMBEDDED


def describe_data(source: str | None) -> str:
    if source is None:
        return "none (the end-to-end tier is skipped)"
    if source == EMBEDDED:
        return "the 5,000 real MNIST digits of the embedded extra (no MNIST folder given)"
    return f"real MNIST in {source}"


def read_xfails(path: str) -> list[str]:
    """Test ids (or prefixes) from an xfails file; blank lines and # comments ignored."""
    lines = Path(path).read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = _backend(config)
    xfails = read_xfails(config.getoption("--stochmem-xfails")) if config.getoption("--stochmem-xfails") else []
    for item in items:
        reason = not_applicable(item, backend.capabilities, backend.name)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        if any(item.nodeid.startswith(entry) for entry in xfails):  # an id, or a prefix of ids (a whole module)
            item.add_marker(pytest.mark.xfail(reason="listed in the backend's xfails file", strict=True))


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> Backend:
    """The backend under test."""
    return _backend(pytestconfig)


@pytest.fixture(scope="session")
def seeded(pytestconfig: pytest.Config) -> Seeded:
    """Maps the seeds written in the statistical tests to this run's (``--stochmem-seed``)."""
    return seed_mixer(pytestconfig.getoption("--stochmem-seed"))


@pytest.fixture(scope="session")
def reference() -> Backend:
    """The reference backend, the specification executed."""
    return default_host().get("reference")


@pytest.fixture(scope="session")
def digits(pytestconfig: pytest.Config) -> str:
    """The end-to-end tier's data: a real MNIST folder, or ``embedded`` (see :func:`end_to_end_data`)."""
    source = end_to_end_data(pytestconfig)
    if source is None:
        pytest.skip("the end-to-end tier needs digits: give real MNIST with `stochmem conform --data-dir DIR` "
                    '(pytest: --stochmem-data-dir, or $STOCHMEM_DATA_DIR), or pip install "stochmem[embedded]"')
    return source
