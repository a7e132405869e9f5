"""The plugin host: entry points, opt-outs, and clear errors that name a broken plugin."""

from __future__ import annotations

import pytest

from stochmem import cli
from stochmem.backend_api import Backend, BackendError, Capabilities
from stochmem.plugins import PluginHost


def test_builtins_register_through_entry_points():
    host = PluginHost(extra_plugins=[])
    names = {entry.name: entry.plugin for entry in host.entries()}
    assert names["reference"] == "reference" and names["numpy"] == "numpy"
    assert host.errors == []
    assert isinstance(host.get("numpy"), Backend)


def test_autoload_can_be_disabled(monkeypatch):
    monkeypatch.setenv("STOCHMEM_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = PluginHost(extra_plugins=[])
    assert [entry.name for entry in host.entries()] == ["reference"]  # the specification itself always stays
    with pytest.raises(BackendError, match="unknown backend 'numpy'; registered backends: reference"):
        host.get("numpy")


def test_a_plugin_can_be_blocked_by_name():
    host = PluginHost(blocked=["numpy"], extra_plugins=[])
    assert "numpy" not in {entry.name for entry in host.entries()}


def test_import_failure_is_reported_with_the_plugin_name():
    host = PluginHost(extra_plugins=["tests.plugins_fixtures.fails_import"])
    assert any('Error importing plugin "tests.plugins_fixtures.fails_import"' in e and "some_gpu_sdk" in e
               for e in host.errors), host.errors
    with pytest.raises(BackendError, match="some_gpu_sdk"):
        host.get("gpu")  # the unknown-backend error lists what went wrong while loading plugins


def test_unknown_hook_is_reported():
    host = PluginHost(extra_plugins=["tests.plugins_fixtures.unknown_hook"])
    assert any("unknown_hook" in e and "stochmem_register_backend" in e for e in host.errors), host.errors


def test_malformed_and_unavailable_backends_are_reported():
    host = PluginHost(extra_plugins=["tests.plugins_fixtures.malformed"])
    assert any("failed to register" in e and "invalid name 'bad name!'" in e for e in host.errors), host.errors
    with pytest.raises(BackendError, match=r"backend 'half' .* is malformed: it lacks \['coincidence_counts'"):
        host.get("half")
    with pytest.raises(BackendError, match=r"unavailable: needs CUDA: pip install"):
        host.get("gpu")


def test_capabilities_are_validated():
    with pytest.raises(ValueError, match="kinds"):
        Capabilities(kinds=frozenset({"analog"}))


def test_backends_command_lists_versions_and_capabilities(capsys):
    assert cli.main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "reference" in out and ("exact; groups randomness,streams,device,network,data; "
                                                      "kinds float,stochastic,memristive") in out


@pytest.mark.parametrize("kind", ["float", "stochastic", "memristive"])
def test_train_with_numpy_gives_the_reference_result(kind, data_args, capsys):
    args = ["train", "--kind", kind, "--sizes", "784-12-10", "--train-size", "60", "--test-size", "60",
            *data_args, "--sigma", "0.3", "--reset-every", "7"]
    outputs = []
    for backend in ("reference", "numpy", "numba"):
        assert cli.main([*args, "--backend", backend]) == 0
        lines = capsys.readouterr().out.splitlines()
        outputs.append([line.split(" (")[0] for line in lines if line.startswith(("epoch", "test accuracy"))])
    assert outputs[0] == outputs[1] == outputs[2]  # same loss, training error and accuracy to the printed digits


def test_numba_backend_without_numba_says_which_extra_to_install(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "numba" else real_find_spec(name, *args))
    host = PluginHost(extra_plugins=[])
    with pytest.raises(BackendError, match=r'numba is not installed: pip install "stochmem\[numba\]"'):
        host.get("numba")
    assert isinstance(host.get("numpy"), Backend)  # nothing else breaks
