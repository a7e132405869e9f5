"""The process protocol [SPEC 7]: the client names the request behind every failure, the server answers the
protocol's vectors, any backend is certified over the bridge as in-process, and clause groups select the tests."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap

import pytest

from stochmem.backend_api import CLAUSE_GROUPS, GROUP_OPERATIONS, Capabilities
from stochmem.conformance.coverage import conformance_modules
from stochmem.protocol.client import MAX_RESTARTS, ExecError, connect
from stochmem.rng import Draw, Site

from .conftest import REPO_ROOT

FAKE = f"{sys.executable} {REPO_ROOT / 'tests' / 'exec_fixtures' / 'misbehaving.py'}"
DRAW = Draw(5, Site.FORWARD_STREAM, 2, 1)


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO_ROOT))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """connect(MODE) to the misbehaving implementation; every connection is closed afterwards."""
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    opened = []

    def open_mode(mode: str, timeout: float = 20.0):
        backend = connect(f"{FAKE} {mode} {tmp_path / 'started'}", timeout)
        opened.append(backend)
        return backend

    yield open_mode
    for backend in opened:
        backend.close()


def test_a_well_behaved_session_answers_like_the_reference(fake):
    backend = fake("none")
    assert (backend.name, backend.capabilities.exact) == ("reference", True)
    assert [s.to01() for s in backend.encode([0.3, 0.75], 6, DRAW)] == ["100010", "100101"]  # test_0's answer


@pytest.mark.parametrize(("mode", "expected"), [
    ("crash", ["request #2 (encode:", "closed its output", "exited with status 3",
               "segmentation fault in encode (on purpose)"]),
    ("garbage", ["request #2 (encode:", "not JSON: 'encode: 3 streams'", "write logs to stderr"]),
    ("wrong-id", ["request #2 (encode:", "without this request's id 2"]),
    ("short", ["request #2 (encode:", "the reply is malformed: streams must be a list of 2 hex strings"]),
    ("refuse", ["request #2 (encode:", "answered with an error: no stream unit on this board"]),
])
def test_each_failure_names_the_request_and_what_went_wrong(fake, mode, expected):
    backend = fake(mode)
    with pytest.raises(ExecError) as caught:
        backend.encode([0.3, 0.75], 6, DRAW)
    for text in expected:
        assert text in str(caught.value), str(caught.value)
    # One bad answer fails one request: the next is answered (by a restarted process where it had to stop).
    assert [s.to01() for s in backend.encode([0.3, 0.75], 6, DRAW)] == ["100010", "100101"]


def test_a_hung_implementation_is_stopped_after_the_timeout(fake):
    backend = fake("hang", timeout=1.0)
    with pytest.raises(ExecError, match=r"request #2 \(encode: .*no reply within 1 s; the implementation was "
                                         r"stopped \(raise the limit with --exec-timeout\)"):
        backend.encode([0.5], 4, DRAW)


def test_an_implementation_that_keeps_crashing_is_not_restarted_forever(fake):
    backend = fake("crash-always")
    for _ in range(MAX_RESTARTS + 1):
        with pytest.raises(ExecError, match="closed its output"):
            backend.encode([0.5], 4, DRAW)
    with pytest.raises(ExecError, match=f"{MAX_RESTARTS} times; not starting it again"):
        backend.encode([0.5], 4, DRAW)


def test_a_handshake_of_another_protocol_is_refused(fake):
    with pytest.raises(ExecError, match=r"handshake .* failed: it speaks protocol 0, this stochmem speaks 1"):
        fake("old-protocol")


def test_the_protocol_vectors_are_what_stochmem_serve_answers_over_a_pipe():
    """specs/vectors/protocol.json replayed through a real `stochmem serve reference` process, line by line."""
    document = json.loads((REPO_ROOT / "specs" / "vectors" / "protocol.json").read_text())
    exchanges = sorted((test for group in document["testGroups"] for test in group["tests"]),
                       key=lambda test: test["request"]["id"])
    requests = "".join(json.dumps(test["request"]) + "\n" for test in exchanges)
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "serve", "reference"], input=requests,
                            capture_output=True, text=True, env=env(), timeout=120)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert replies == [test["reply"] for test in exchanges]


def test_a_backend_is_certified_over_the_bridge_in_every_group():
    """[SPEC 6.5, 7] numpy served by `stochmem serve` and graded through --exec: every group certified (the
    end-to-end tier runs in the `slow` marked test below and in the bridge benchmark)."""
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", "--exec",
                             f"{sys.executable} -m stochmem.cli serve numpy", "-m", "not end_to_end", "-q",
                             "-p", "no:randomly"], capture_output=True, text=True, env=env(), timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for group in ("randomness", "streams", "device", "data"):
        assert f"  {group:<11} CERTIFIED exact" in result.stdout, result.stdout[-3000:]
    assert "  network     INCOMPLETE, nothing failed" in result.stdout  # its end-to-end tests were deselected


@pytest.mark.slow
def test_the_end_to_end_tier_over_the_bridge():
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", "--exec",
                             f"{sys.executable} -m stochmem.cli serve numpy", "-q", "-p", "no:randomly"],
                            capture_output=True, text=True, env=env(), timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:]
    for group in CLAUSE_GROUPS:
        assert f"  {group:<11} CERTIFIED exact" in result.stdout, result.stdout[-3000:]


def backend_calls(function) -> set[str]:
    """The backend operations a test calls: ``backend.X(...)`` and ``implementation.X(...)`` in its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in ("backend", "implementation"):
            calls.add(node.attr)
    return calls


def test_every_conformance_test_names_the_one_group_whose_operations_it_calls():
    """[SPEC 6.5] A groups marker that lies would certify a group on tests of another (or skip tests a claim
    needs): each test's marker must be the group of every backend operation its source calls."""
    group_of_operation = {op: group for group, ops in GROUP_OPERATIONS.items() for op in ops}
    checked = 0
    for module in conformance_modules():
        module_marks = getattr(module, "pytestmark", [])
        module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or function.__module__ != module.__name__:
                continue
            marks = [m for m in [*getattr(function, "pytestmark", []), *module_marks] if m.name == "groups"]
            assert len(marks) == 1 and len(marks[0].args) == 1, f"{module.__name__}.{name}: one groups marker"
            group = marks[0].args[0]
            called = {group_of_operation[op] for op in backend_calls(function) if op in group_of_operation}
            assert called <= {group}, f"{module.__name__}.{name} is marked {group} but calls {called}"
            assert called or group in ("network", "data"), f"{module.__name__}.{name} calls no operation"
            checked += 1
    assert checked >= 50  # every test function of the suite was checked


def test_default_groups_keep_what_old_backends_were_tested_on():
    assert Capabilities().claimed == frozenset(CLAUSE_GROUPS)
    assert "device" not in Capabilities(kinds=frozenset({"float"})).claimed  # device tests needed memristive
    streams_only = Capabilities(kinds=frozenset(), groups=frozenset({"streams"}))
    assert streams_only.describe() == "exact; groups streams"
    with pytest.raises(ValueError, match="kinds must be"):
        Capabilities(groups=frozenset({"streams"}))  # kinds without the network group
    with pytest.raises(ValueError, match="groups must be"):
        Capabilities(groups=frozenset({"analog"}))


@pytest.mark.parametrize(("args", "message"), [
    (["conform"], "conform needs either a backend name or --exec COMMAND"),
    (["conform", "--exec", "./no-such-program"], "cannot start './no-such-program': No such file or directory"),
    (["vectors", "--groups", "streams,analog", "--out", "x"], "unknown clause group analog"),
])
def test_bad_exec_and_vectors_arguments_exit_2_in_one_line(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", *args], capture_output=True, text=True,
                            env=env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_vectors_export_keeps_only_the_chosen_groups(tmp_path):
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "vectors", "--groups", "streams",
                             "--out", str(tmp_path)], capture_output=True, text=True, env=env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["protocol.json", "schema.json", "streams.json"]
    streams = json.loads((tmp_path / "streams.json").read_text())
    assert [g["type"] for g in streams["testGroups"]] == ["EncodeTest", "AndPopcountTest"]
    assert streams["numberOfTests"] == sum(len(g["tests"]) for g in streams["testGroups"])
    protocol = json.loads((tmp_path / "protocol.json").read_text())
    assert {g["clauseGroup"] for g in protocol["testGroups"]} == {"session", "streams"}
