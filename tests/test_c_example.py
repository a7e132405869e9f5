"""The C example (examples/c-backend): built with the system C compiler, certified exact by
``stochmem conform --exec`` for the clause groups it claims, checked against the exported vectors without the
protocol, and failed, naming the clause, when one line of it is broken."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "c-backend"
COMPILER = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
pytestmark = pytest.mark.skipif(COMPILER is None, reason="no C compiler (cc, gcc or clang) on PATH: the C example "
                                                         "cannot be built here")
CFLAGS = ["-std=c99", "-ffp-contract=off", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror"]
GROUPS = "randomness,streams,device"

#: One-line bugs a hardware team could make, each with the clause the suite must name when it fails them.
BROKEN = {
    "bit rule fires on equality": ("streams.c", "if ((uint64_t)draw_word(draw, first + n) < threshold)",
                                   "if ((uint64_t)draw_word(draw, first + n) <= threshold)", "[SPEC 1.2"),
    "Philox round uses the wrong key word": ("philox.c", "c2 = hi0 ^ c3 ^ k1;", "c2 = hi0 ^ c3 ^ k0;",
                                             "[SPEC 2.1]"),
    "programming increment not floored": ("device.c", "return increment > 0.0 ? increment : 0.0;",
                                          "return increment;", "[SPEC 4."),
    "reset programs an equal pair": ("device.c", "else if (difference < 0.0)", "else if (difference <= 0.0)",
                                     "[SPEC 4.5]"),
}


def build(source: Path, out: Path) -> Path:
    """Compile the example's sources in ``source`` into ``out``/stochmem-c (warnings are errors)."""
    binary = out / "stochmem-c"
    result = subprocess.run([str(COMPILER), *CFLAGS, "-o", str(binary), *sorted(map(str, source.glob("*.c"))),
                             "-lm"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return binary


def broken_copy(tmp_path: Path, name: str) -> Path:
    """The example's sources with the one line of ``BROKEN[name]`` changed, built."""
    file, old, new, _ = BROKEN[name]
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE / "src", source)
    text = (source / file).read_text()
    assert text.count(old) == 1, f"the line to break is no longer in {file}: {old}"
    (source / file).write_text(text.replace(old, new))
    return build(source, tmp_path)


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(EXAMPLE / "src", tmp_path_factory.mktemp("c-backend"))


def stochmem(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "stochmem.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO_ROOT, timeout=900)


def test_the_c_example_is_certified_exact_for_the_groups_it_claims(binary):
    result = stochmem("conform", "--exec", str(binary), "-p", "no:randomly")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "backend stochmem-c 0.1.0 (exact; groups randomness,streams,device)" in result.stdout
    for group in GROUPS.split(","):
        assert f"  {group:<11} CERTIFIED exact" in result.stdout, result.stdout[-3000:]
    for group in ("network", "data"):
        assert f"  {group:<11} NOT CLAIMED: not tested" in result.stdout


#: Two variants run in the default suite, the other two with the slow tests (each is a conformance run).
DEFAULT_BROKEN = ("bit rule fires on equality", "Philox round uses the wrong key word")


@pytest.mark.parametrize("name", [name if name in DEFAULT_BROKEN else pytest.param(name, marks=pytest.mark.slow)
                                  for name in sorted(BROKEN)])
def test_a_one_line_bug_is_failed_naming_its_clause(tmp_path, name):
    clause = BROKEN[name][3]
    result = stochmem("conform", "--exec", str(broken_copy(tmp_path, name)), "-p", "no:randomly")
    assert result.returncode == 1, result.stdout[-3000:]
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    errors = [line for line in result.stdout.splitlines() if line.startswith("E ")]  # the failures' messages
    assert failures and any(clause in line for line in errors), "\n".join(failures + errors[:20])
    assert "NOT CERTIFIED" in result.stdout


def test_the_c_example_checks_itself_against_exported_vectors(binary, tmp_path):
    """The path for a testbench that only reads files: export the groups' vectors, compare without the protocol."""
    exported = stochmem("vectors", "--groups", GROUPS, "--out", str(tmp_path / "vectors"))
    assert exported.returncode == 0, exported.stderr
    result = subprocess.run([str(binary), "--check-vectors", str(tmp_path / "vectors")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = [json.loads((tmp_path / "vectors" / name).read_text())["numberOfTests"]
              for name in ("philox.json", "streams.json", "device.json")]
    assert f"{sum(counts)} of {sum(counts)} vector tests pass" in result.stdout


def test_a_broken_c_example_fails_its_vector_check(tmp_path):
    assert stochmem("vectors", "--groups", GROUPS, "--out", str(tmp_path / "vectors")).returncode == 0
    broken = broken_copy(tmp_path, "Philox round uses the wrong key word")
    result = subprocess.run([str(broken), "--check-vectors", str(tmp_path / "vectors")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "FAIL [SPEC 2.1] Philox4x32-10 tcId 1" in result.stderr


def close(got: Any, want: Any) -> bool:
    """Replies equal, numbers within 1e-12 ([SPEC 2.5]: another libm may round ln, cos, sin differently)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(close(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(close, got, want))
    if isinstance(want, float):
        return isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=0, abs_tol=1e-12)
    return bool(got == want)


def test_the_c_example_answers_the_protocol_vectors_of_its_groups(binary):
    """specs/vectors/protocol.json's exchanges of randomness, streams and device, line by line over the pipe."""
    document = json.loads((REPO_ROOT / "specs" / "vectors" / "protocol.json").read_text())
    exchanges = [test for group in document["testGroups"] if group["clauseGroup"] in GROUPS.split(",")
                 for test in group["tests"]]
    hello = {"id": 0, "op": "hello", "protocol": 1}
    lines = [hello, *(test["request"] for test in exchanges), {"id": 99, "op": "bye"}]
    result = subprocess.run([str(binary)], input="".join(json.dumps(r) + "\n" for r in lines),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(lines), result.stdout
    assert replies[0]["result"]["groups"] == GROUPS.split(",")
    for test, reply in zip(exchanges, replies[1:-1]):
        assert close(reply, test["reply"]), f"{test['request']['op']}: {reply} != {test['reply']}"
    assert replies[-1] == {"id": 99, "result": {}}


def test_the_c_example_refuses_bad_requests_with_error_replies(binary):
    lines = ['{"id": 1, "op": "encode", "probabilities": [0.5], "bitLength": 4}',  # no draw
             "not json",
             '{"id": 3, "op": "createModel", "config": {}, "seed": 1}']  # a group it does not claim
    result = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                            timeout=60)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in replies] == [1, None, 3]
    assert [r["error"]["code"] for r in replies] == ["invalid", "invalid", "unsupported"]
    assert "draw" in replies[0]["error"]["message"]


def test_garbled_requests_get_one_error_reply_each_and_never_a_crash(binary):
    """Every request of the protocol vectors cut short, with a byte changed, or a field removed: one JSON reply per
    line, the process alive to the end (the example was also run this way under AddressSanitizer)."""
    import random

    document = json.loads((REPO_ROOT / "specs" / "vectors" / "protocol.json").read_text())
    requests = [test["request"] for group in document["testGroups"] for test in group["tests"]
                if test["request"]["op"] != "bye"]
    rng = random.Random(7)
    lines = []
    for request in requests * 10:
        text = json.dumps(request)
        cut = rng.randrange(1, len(text))
        lines += [text[:cut], text[:cut] + "\u00e9\x01" + text[cut + 1:],
                  json.dumps({k: v for k, v in request.items() if k != rng.choice([*request][1:])})]
    result = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(lines)
    assert all("result" in r or r["error"]["code"] in ("invalid", "unsupported") for r in replies)


def test_malformed_vector_files_fail_the_check_without_a_crash(binary, tmp_path):
    assert stochmem("vectors", "--groups", GROUPS, "--out", str(tmp_path)).returncode == 0
    tests = {}
    for name in ("philox.json", "streams.json", "device.json"):
        document = json.loads((tmp_path / name).read_text())
        tests[name] = document["numberOfTests"]
        for group in document["testGroups"]:
            for test in group["tests"]:
                test.pop(sorted(k for k in test if k not in ("tcId", "comment", "flags", "result"))[0])
        (tmp_path / name).write_text(json.dumps(document))
    result = subprocess.run([str(binary), "--check-vectors", str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr  # failures, not a signal
    assert f"0 of {sum(tests.values())} vector tests pass" in result.stdout
