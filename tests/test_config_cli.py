"""Configuration validation and the command line: clear errors that say what to change."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stochmem import cli
from stochmem.config import ConfigError, DeviceParams, NetworkConfig, from_dict, to_dict


@pytest.mark.parametrize(("make", "field"), [
    (lambda: DeviceParams(levels=1), "device.levels"),
    (lambda: DeviceParams(on_off=1.0), "device.on_off"),
    (lambda: DeviceParams(sigma=-0.1), "device.sigma"),
    (lambda: DeviceParams(reset_every=0), "device.reset_every"),
    (lambda: DeviceParams(noise_mode="always"), "device.noise_mode"),
    (lambda: DeviceParams(w_max=0.0), "device.w_max"),
    (lambda: NetworkConfig(kind="quantum"), "network.kind"),
    (lambda: NetworkConfig(sizes=(784,)), "network.sizes"),
    (lambda: NetworkConfig(bit_length=0), "network.bit_length"),
    (lambda: NetworkConfig(lr=float("nan")), "network.lr"),
    (lambda: NetworkConfig(lr_decay=1.5), "network.lr_decay"),
])
def test_out_of_range_values_name_the_field(make, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        make()


def test_round_trip_and_unknown_keys():
    config = NetworkConfig(kind="memristive", sizes=(4, 3, 2), device=DeviceParams(levels=8))
    assert from_dict(to_dict(config)) == config
    with pytest.raises(ConfigError, match=r"network: unknown keys \[.epochz.\]"):
        from_dict({"kind": "float", "epochz": 3})
    with pytest.raises(ConfigError, match=r"device: unknown keys"):
        from_dict({"device": {"level": 3}})


def test_learning_rate_schedule():
    config = NetworkConfig(lr=0.2, lr_decay=0.5)
    assert [config.learning_rate(e) for e in range(3)] == [0.2, 0.1, 0.05]


def test_cli_help_reads_well():
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "train", "--help"], capture_output=True,
                            text=True, check=True)
    for option in ("--kind", "--bl", "--sigma", "--levels", "--on-off", "--epochs", "--train-size", "--seed",
                   "--data-dir"):
        assert option in result.stdout


def test_cli_train_small_run(data_args, capsys):
    code = cli.main(["train", "--kind", "memristive", "--sizes", "784-8-10", "--train-size", "30",
                     "--test-size", "20", *data_args, "--sigma", "0.2"])
    out = capsys.readouterr().out
    assert code == 0 and "test accuracy" in out and "memristive network 784-8-10" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--levels", "1"], "device.levels"),
    (["--on-off", "0.5"], "device.on_off"),
    (["--sigma", "-1"], "device.sigma"),
    (["--bl", "0"], "network.bit_length"),
    (["--epochs", "0"], "--epochs"),
    (["--train-size", "0"], "--train-size"),
])
def test_cli_rejects_bad_values_with_a_clear_message(args, message, data_args, capsys):
    code = cli.main(["train", *data_args, "--sizes", "784-4-10", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_missing_data_says_where_to_put_it(tmp_path, capsys):
    assert cli.main(["train", "--data-dir", str(tmp_path)]) == 2
    assert "not found in" in capsys.readouterr().err


def test_cli_data_verify(mnist_path, capsys):
    assert cli.main(["data", "verify", "--data-dir", str(mnist_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok  ") == 6 and "60000 images" in out


def test_cli_bad_sizes():
    with pytest.raises(SystemExit):
        cli.main(["train", "--sizes", "784-x-10"])
