"""The conformance suite tested in-process with pytest's ``pytester``: exact outcomes and the FAILED lines matched,
so a change in what the suite runs, skips or reports is seen here (and coverage sees the suite's code)."""

from __future__ import annotations

from pathlib import Path

import numpy  # noqa: F401  extension modules load once per process: imported here, before pytester's
import pytest
import scipy.stats  # noqa: F401  sys.modules snapshot, they are not dropped and re-imported after each run

import stochmem_numpy.backend  # noqa: F401

pytest_plugins = ["pytester"]

SUITE = Path(__import__("stochmem.conformance", fromlist=["x"]).__file__).resolve().parent


@pytest.fixture
def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run the packaged suite in this process against a backend of tests.broken_backends (or a built-in one)."""
    from stochmem import plugins

    monkeypatch.setenv("STOCHMEM_PLUGINS", "tests.broken_backends,tests.plugins_fixtures.partial")
    plugins.default_host.cache_clear()

    def run(backend: str, *args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(
            "-p", "stochmem.conformance.plugin", "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE),
            "-p", "no:cacheprovider", "-p", "no:randomly", "--stochmem-backend", backend, "-rfsxX", *args, str(SUITE))

    yield run
    plugins.default_host.cache_clear()


def failed_lines(result: pytest.RunResult) -> list[str]:
    """The ids of the FAILED lines of the short summary, relative to the suite's folder."""
    return [line.split("conformance/", 1)[1].split(" - ", 1)[0] for line in result.outlines
            if line.startswith("FAILED ")]


def test_biased_and_fails_exactly_the_product_tests(run_suite):
    result = run_suite("broken-biased-and", "-k", "spec_1_4")
    result.assert_outcomes(failed=4, passed=3, skipped=4)
    assert failed_lines(result) == [
        "test_1_streams.py::test_spec_1_4_coincidences_are_binomial",
        "test_1_streams.py::test_spec_1_4_mean_of_the_product_over_many_cells[0.9-0.3-2]",
        "test_1_streams.py::test_spec_1_4_coincidence_counts_have_the_binomial_spread[0.5-0.6-20]",
        "test_1_streams.py::test_spec_1_4_coincidence_counts_have_the_binomial_spread[0.9-0.2-64]",
    ]
    result.stdout.fnmatch_lines(["E * [[]SPEC 1.4[]] AND of *outside the exact binomial interval*"])
    result.stdout.fnmatch_lines(["SKIPPED *broken-biased-and does not claim exact conformance*"])


def test_wrong_reset_fails_the_reset_tests_and_nothing_else_of_chapter_4(run_suite):
    result = run_suite("broken-reset", "-m", "statistical", "-k", "test_4_device")
    result.assert_outcomes(failed=4, passed=5)
    assert failed_lines(result) == [
        "test_4_device.py::test_spec_4_5_noiseless_reset_preserves_every_weight",
        "test_4_device.py::test_spec_4_5_a_verified_reset_preserves_every_weight_despite_noise",
        "test_4_device.py::test_spec_4_5_a_threshold_resets_only_pairs_near_saturation",
        "test_4_device.py::test_spec_4_5_reset_noise_mean_and_spread"]
    result.stdout.fnmatch_lines(["E * [[]SPEC 4.5[]]*"])


def test_a_listed_deviation_is_a_strict_xfail(run_suite, tmp_path):
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("test_1_streams.py::test_spec_1_1  # a prefix of ids, as the docs say\n")
    result = run_suite("broken-bit-length", "--stochmem-xfails", str(xfails), "-k", "spec_1_1")
    result.assert_outcomes(xfailed=8)
    fixed = tmp_path / "fixed.txt"
    fixed.write_text("test_4_device.py::test_spec_4_2\n")  # listed, but this backend passes it: XPASS(strict)
    result = run_suite("broken-bit-length", "--stochmem-xfails", str(fixed), "-k", "noiseless_programming")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*"])


def test_an_exact_backend_runs_the_exact_tier_and_passes(run_suite):
    result = run_suite("numpy", "-m", "exact")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("skipped", 0) == 0, result.stdout.str()[-3000:]
    assert outcomes["passed"] >= 40


def verdicts(result: pytest.RunResult) -> dict[str, str]:
    """The certification report's verdict per clause group: the lines of its section that name a group."""
    start = next(k for k, line in enumerate(result.outlines) if "stochmem certification" in line)
    found = {}
    for line in result.outlines[start + 1:]:
        if line.startswith("="):  # the next section
            break
        words = line.split(None, 1)
        if len(words) == 2 and words[0] in ("randomness", "streams", "device", "network", "data"):
            found[words[0]] = words[1]
    return found


def test_a_partial_backend_is_certified_for_its_group_alone(run_suite):
    """[SPEC 6.5] A backend claiming only streams: those tests run and certify it; nothing else is tested."""
    result = run_suite("streams-only")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 30, result.stdout.str()[-3000:]
    found = verdicts(result)
    assert found["streams"] == f"CERTIFIED exact ({outcomes['passed']} passed)"
    assert {found[g] for g in ("randomness", "device", "network", "data")} == {"NOT CLAIMED: not tested"}


def test_a_statistical_backend_is_certified_statistical(run_suite):
    """The exact tier does not apply to a statistical claim, so its skipped tests do not make a group incomplete."""
    result = run_suite("randomness-statistical")
    assert verdicts(result)["randomness"].startswith("CERTIFIED statistical (")
    result.stdout.fnmatch_lines(["SKIPPED *randomness-statistical does not claim exact conformance*"])


def test_a_run_that_did_not_run_everything_certifies_nothing(run_suite):
    selected = verdicts(run_suite("streams-only", "-k", "spec_1_3"))
    assert selected["streams"].startswith("INCOMPLETE, nothing failed (")
    assert "deselected" in selected["streams"]
    stopped = verdicts(run_suite("broken-bit-length", "-x", "-k", "test_1_streams or test_2_randomness"))
    assert stopped["streams"].startswith("NOT CERTIFIED (")
    assert not stopped["randomness"].startswith("CERTIFIED")  # never reached: -x stopped the run first
