"""The schemas of the files a run reads, checked with a JSON Schema validator before anything else reads them.

The run parameters themselves are declared once, in :mod:`stochmem.parameters`; this module adds the experiment
TOML's own keys and the run directory's ``config.json`` (the checkpoint's schema sits with its reader,
:mod:`stochmem.rundir`). A failure is one line naming the file, the field, the value and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stochmem.data import NOISE_DOMAINS
from stochmem.parameters import (
    DATA_SOURCES,
    PARAMETERS,
    ConfigError,
    StrictValidator,
    first_error,
    integer_schema,
    number_schema,
    section,
    values_schema,
)


def config_file_schema() -> dict[str, Any]:
    """The JSON Schema of a run directory's ``config.json``: the run's parameters (``arguments``), the network
    they make (``network``, :func:`stochmem.config.to_dict`'s layout) and where its images came from (``data``)."""
    network = values_schema(section("network"), key="config_field")
    network["properties"]["device"] = values_schema(section("device"), key="config_field")
    return {
        "type": "object",
        "required": ["arguments"],
        "additionalProperties": False,
        "properties": {
            "arguments": values_schema(PARAMETERS),
            "checkpoint_every": integer_schema(0),
            "network": network,
            "data": {"type": "object", "additionalProperties": False,
                     "properties": {"source": {"enum": list(DATA_SOURCES)},
                                    "folder": {"anyOf": [{"type": "string", "maxLength": 4096}, {"type": "null"}]}}},
        },
    }


_CONFIG_FILE = StrictValidator(config_file_schema())


def check_config_file(document: Any, source: str) -> None:
    """Raise a ConfigError naming ``source`` and the first offending field unless ``document`` fits
    :func:`config_file_schema`."""
    error = first_error(_CONFIG_FILE, document)
    if error:
        raise ConfigError(f"{source}: {error}")


def number_arrays(minimum: float | None = None) -> dict[str, Any]:
    item = number_schema() if minimum is None else number_schema(minimum=minimum)
    return {"type": "array", "items": item}


#: The keys of an experiment TOML besides the runs' parameters: checked before any run trains.
EXPERIMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "version": integer_schema(1),
        "title": {"type": "string"},
        "defaults": {"type": "object"},
        "evaluation": {"type": "object", "additionalProperties": False,
                       "properties": {"noise_variances": number_arrays(minimum=0),
                                      "repeats": integer_schema(1, 10_000),
                                      "noise_domain": {"enum": list(NOISE_DOMAINS)}}},
        "runs": {"type": "array", "maxItems": 10_000, "items": {
            "type": "object",  # a missing label has its own message (reproduce.load_experiment)
            "properties": {
                "label": {"type": "string", "minLength": 1, "maxLength": 200},
                "paper": {"anyOf": [number_schema(minimum=0, maximum=100), {"type": "null"}]},
                "read_bl": {"type": "array", "items": integer_schema(0, 1 << 20)},
                "paper_drop": {"anyOf": [number_schema(), number_arrays()]},
            },
        }},
    },
}


_EXPERIMENT = StrictValidator(EXPERIMENT_SCHEMA)


def check_experiment(document: Mapping[str, Any], source: str) -> None:
    """Raise a ConfigError naming the file and the first offending key unless ``document`` fits
    :data:`EXPERIMENT_SCHEMA` (the runs' parameters are checked by :func:`stochmem.parameters.check_values`)."""
    error = first_error(_EXPERIMENT, dict(document))
    if error:
        raise ConfigError(f"{source}: {error}")
