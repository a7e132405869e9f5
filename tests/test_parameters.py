"""One declaration per parameter: RunSpec, NetworkConfig/DeviceParams, the CLI, the TOML keys, the config.json
schema and the docs page all follow stochmem.parameters, and fail here when they drift from it."""

from __future__ import annotations

import dataclasses

import pytest

from stochmem.config import ConfigError, DeviceParams, NetworkConfig
from stochmem.parameters import ALIASES, BY_NAME, PARAMETERS, reference_table, section
from stochmem.runs import RunSpec

from .conftest import REPO_ROOT


def test_runspec_fields_are_the_parameters_in_order():
    runspec = dataclasses.fields(RunSpec)
    assert [f.name for f in runspec] == [p.name for p in PARAMETERS]
    for f in runspec:
        assert f.metadata["parameter"] is BY_NAME[f.name], f"RunSpec.{f.name} is not declared by its parameter"


def test_network_and_device_fields_follow_their_parameters():
    network = {f.name: f.default for f in dataclasses.fields(NetworkConfig) if f.name != "device"}
    assert set(network) == {p.config_field for p in section("network")}
    assert all(network[p.config_field] == p.default for p in section("network") if p.name != "kind")
    device = {f.name: f.default for f in dataclasses.fields(DeviceParams)}
    assert device == {p.config_field: p.default for p in section("device")}


def test_every_option_of_train_comes_from_its_parameter():
    from stochmem.cli import build_parser

    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith(" train"))
    options = {a.option_strings[0]: a for a in train._actions if a.option_strings}
    for parameter in PARAMETERS:
        action = options[parameter.option]
        assert action.help.startswith(parameter.help), parameter.name
        if "enum" in parameter.schema:
            assert list(action.choices) == parameter.schema["enum"], parameter.name
    args = parser.parse_args(["train"])
    from stochmem.cli import spec_from_args

    assert spec_from_args(args) == RunSpec(), "the command line's defaults are the declared ones"


def test_every_name_and_alias_is_accepted_by_set_and_range_checked():
    from stochmem.reproduce import load_experiment

    for alias, name in ALIASES.items():
        assert BY_NAME[name].qualified == alias
    for key in [*BY_NAME, *ALIASES]:
        name = ALIASES.get(key, key)
        if name in ("data", "backend", "sizes", "kind", "noise_mode"):
            continue
        with pytest.raises(ConfigError, match="is invalid"):
            load_experiment("fig3", [f"{key}=-5"])  # below every declared minimum


@pytest.mark.parametrize("parameter", [p for p in PARAMETERS if p.schema.get("type") in ("integer", "number")],
                         ids=lambda p: p.name)
def test_runspec_and_network_config_accept_the_same_range(parameter):
    """The minimum (or just above an exclusive one) is accepted by both; just below is refused by both."""
    schema = parameter.schema
    if "minimum" in schema:
        low, below = schema["minimum"], schema["minimum"] - (1 if schema["type"] == "integer" else 1e-9)
    else:
        low, below = schema["exclusiveMinimum"] + 1e-9, schema["exclusiveMinimum"]
    RunSpec(**{parameter.name: low})
    with pytest.raises(ConfigError, match=parameter.name.replace("_", "[-_]")):
        RunSpec(**{parameter.name: below})
    if parameter.section == "device":
        DeviceParams(**{parameter.config_field: low})
        with pytest.raises(ConfigError, match=f"device.{parameter.config_field}"):
            DeviceParams(**{parameter.config_field: below})
    elif parameter.section == "network":
        NetworkConfig(**{parameter.config_field: low})
        with pytest.raises(ConfigError, match=f"network.{parameter.config_field}"):
            NetworkConfig(**{parameter.config_field: below})


def test_config_json_schema_holds_every_parameter():
    from stochmem.schema import config_file_schema

    schema = config_file_schema()
    assert list(schema["properties"]["arguments"]["properties"]) == [p.name for p in PARAMETERS]
    network = schema["properties"]["network"]["properties"]
    assert set(network) == {p.config_field for p in section("network")} | {"device"}
    assert set(network["device"]["properties"]) == {p.config_field for p in section("device")}


def test_the_docs_table_is_the_declared_one():
    assert reference_table() in (REPO_ROOT / "docs" / "reference" / "config.md").read_text(), \
        "regenerate: python -m stochmem.parameters"
