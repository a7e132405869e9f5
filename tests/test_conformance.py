"""The conformance suite passes on our backends and has teeth: it fails each broken backend, naming the clause."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .broken_backends import BROKEN
from .conftest import REPO_ROOT, mnist_dir


def conform(backend: str, *args: str, plugins: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), STOCHMEM_PLUGINS=plugins)
    data = mnist_dir()
    if data is not None:
        env["STOCHMEM_DATA_DIR"] = str(data)
    return subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", backend, *args], capture_output=True,
                          text=True, env=env, cwd=REPO_ROOT, timeout=600)


@pytest.mark.parametrize("backend", ["reference", "numpy", "numba"])
def test_our_backends_conform_in_every_tier(backend):
    result = conform(backend)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"backend {backend} 0.1.0" in result.stdout  # the report header names what ran
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("optional method" in line for line in skipped), f"every tier must run, end to end included: {skipped}"
    assert bool(skipped) == (backend == "reference"), "numpy and numba offer read_image and corrupt: tested"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_suite_catches_a_broken_backend(name):
    _backend, clause, chapters = BROKEN[name]
    result = conform(name, "-m", "not end_to_end", "-k", chapters, "-q", plugins="tests.broken_backends")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert failures, result.stdout[-3000:]
    assert clause in result.stdout, f"no failure names {clause}:\n" + "\n".join(failures)


def test_xfails_file_marks_known_deviations(tmp_path):
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("# the off-by-one backend's known deviation\ntest_1_streams.py::test_spec_1_1\n")
    result = conform("broken-bit-length", "--xfails", str(xfails), "-k", "spec_1_1", "-q",
                     plugins="tests.broken_backends")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "xfailed" in result.stdout.splitlines()[-1]


def test_unknown_backend_is_a_clear_error():
    result = conform("no-such-backend")
    assert result.returncode != 0
    assert "unknown backend 'no-such-backend'" in result.stdout + result.stderr


def test_reference_cache_serves_only_the_same_key_and_code(tmp_path, monkeypatch):
    from stochmem.conformance import reference_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def compute(value):
        calls.append(value)
        return [value, [[1.5]]]

    assert reference_cache.cached({"kind": "float"}, lambda: compute(0.5)) == [0.5, [[1.5]]]
    assert reference_cache.cached({"kind": "float"}, lambda: compute(0.9)) == [0.5, [[1.5]]], "served from disk"
    assert reference_cache.cached({"kind": "memristive"}, lambda: compute(0.7)) == [0.7, [[1.5]]]
    monkeypatch.setattr(reference_cache, "source_digest", lambda: "edited sources")
    assert reference_cache.cached({"kind": "float"}, lambda: compute(0.1)) == [0.1, [[1.5]]], "new code, new run"
    assert calls == [0.5, 0.7, 0.1]
    assert all(path.suffix == ".json" for path in (tmp_path / "stochmem" / "conformance").iterdir())


@pytest.mark.parametrize(("broken", "located"), [
    ("BiasedAnd", "[SPEC 1.4, 3.8] located: coincidence_counts of crossbar 0 at step 5: counts[0][0] = "),
    ("WrongUpdateSign", "[SPEC 3.7, 3.8, 4.3] located: update_layer at step 5: crossbar 0 "),
    ("WrongReset", "[SPEC 4.5] located: reset at step 5: crossbar 0 "),
    (None, "[SPEC 3.3, 3.6] located: every part of step 5"),
])
def test_a_training_vector_failure_is_located_in_the_part_that_differs(broken, located):
    """The replay of a failed training-step vector names the first part that differs, replayed alone through the
    contract (a backend whose model is right but whose contract method is broken stands in for one whose model
    uses that broken part)."""
    from stochmem.config import from_dict
    from stochmem.conformance.locate import locate
    from stochmem.conformance.vectors_source import cases
    from stochmem.reference_backend import ReferenceBackend

    from . import broken_backends

    backend = getattr(broken_backends, broken)() if broken else ReferenceBackend()
    case = next(c for c in cases("training.json", "TrainingStepTest")
                if c["config"]["kind"] == "memristive" and c["config"]["device"]["sigma"] == 0.3
                and c["config"]["device"]["w_max"] == 0.5)
    config = from_dict(case["config"])
    steps = case["steps"]
    entry = next(s for s in steps if "layersAfterUpdate" in s and s["step"] == 5)
    before = steps[steps.index(entry) - 1]["layersAfter"]
    message = locate(backend, config, case["seed"], entry, before)
    assert message.startswith(located), message
