"""The schema of a run's parameters, checked with a JSON Schema validator before anything else reads them.

One schema serves every door a run comes in by: the command line, an experiment TOML with its ``--set``
overrides, and a run directory's ``config.json``. Two rules JSON Schema leaves loose are made strict here: an
``integer`` is a whole number that is not a boolean (``2.0`` and ``true`` are refused), and ``"finite": true``
refuses NaN and infinities. A failure is one line naming the field, the value and what is expected.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from stochmem.config import NETWORK_KINDS, NOISE_MODES, ConfigError

#: A run field's name in the network and device configuration ([SPEC 3.1], [SPEC 4.1]), as errors show it.
CONFIG_NAMES = {"kind": "network.kind", "sizes": "network.sizes", "bl": "network.bit_length", "lr": "network.lr",
                "lr_decay": "network.lr_decay", "levels": "device.levels", "on_off": "device.on_off",
                "sigma": "device.sigma", "reset_every": "device.reset_every", "noise_mode": "device.noise_mode",
                "w_max": "device.w_max"}
MAX_SIZE = 1 << 20  #: the widest layer accepted (a guard against typos that would exhaust memory)


def _finite(_validator: Any, wanted: bool, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    if wanted and isinstance(instance, float) and not math.isfinite(instance):
        yield ValidationError(f"{instance!r} is not a finite number")


def _strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = validators.extend(
    Draft202012Validator, validators={"finite": _finite},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer))


def _integer(minimum: int, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _number(**bounds: float) -> dict[str, Any]:
    return {"type": "number", "finite": True, **bounds}


def run_schema(data_sources: tuple[str, ...]) -> dict[str, Any]:
    """The JSON Schema of :class:`stochmem.runs.RunSpec`'s fields ([SPEC 3.1, 3.5, 4.1, 5.3])."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "kind": {"enum": list(NETWORK_KINDS)},
            "sizes": {"type": "array", "items": _integer(1, MAX_SIZE), "minItems": 2, "maxItems": 64},
            "bl": _integer(1, 1 << 20),
            "lr": _number(exclusiveMinimum=0),
            "lr_decay": _number(exclusiveMinimum=0),
            "levels": _integer(2, 1 << 20),
            "on_off": _number(exclusiveMinimum=1),
            "sigma": _number(minimum=0),
            "reset_every": _integer(1),
            "noise_mode": {"enum": list(NOISE_MODES)},
            "w_max": _number(exclusiveMinimum=0),
            "epochs": _integer(1, 100_000),
            "train_size": _integer(1),
            "test_size": _integer(1),
            "seed": _integer(0, (1 << 64) - 1),
            "data": {"enum": list(data_sources)},
            "backend": {"type": "string", "minLength": 1},
        },
    }


def check_run(values: Mapping[str, Any], data_sources: tuple[str, ...]) -> None:
    """Raise a ConfigError naming the first offending field unless ``values`` fit :func:`run_schema`."""
    errors = sorted(StrictValidator(run_schema(data_sources)).iter_errors(dict(values)),
                    key=lambda error: list(error.path))
    if errors:
        error = errors[0]
        field = str(error.path[0]) if error.path else "(run)"
        inner = "".join(f"[{part}]" for part in list(error.path)[1:])
        name = f"{CONFIG_NAMES[field]} (--{field.replace('_', '-')})" if field in CONFIG_NAMES else \
            f"{field} (--{field.replace('_', '-')})" if field in values else field
        raise ConfigError(f"{name}{inner} = {error.instance!r} is invalid: {error.message}")


def _numbers(minimum: float | None = None) -> dict[str, Any]:
    item = _number() if minimum is None else _number(minimum=minimum)
    return {"type": "array", "items": item}


#: The keys of an experiment TOML besides the runs' parameters: checked before any run trains.
EXPERIMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "version": _integer(1),
        "title": {"type": "string"},
        "defaults": {"type": "object"},
        "evaluation": {"type": "object", "additionalProperties": False,
                       "properties": {"noise_variances": _numbers(minimum=0), "repeats": _integer(1, 10_000)}},
        "runs": {"type": "array", "maxItems": 10_000, "items": {
            "type": "object",  # a missing label has its own message (reproduce.load_experiment)
            "properties": {
                "label": {"type": "string", "minLength": 1, "maxLength": 200},
                "paper": {"anyOf": [_number(minimum=0, maximum=100), {"type": "null"}]},
                "read_bl": {"type": "array", "items": _integer(0, 1 << 20)},
                "paper_drop": {"anyOf": [_number(), _numbers()]},
            },
        }},
    },
}


def check_experiment(document: Mapping[str, Any], source: str) -> None:
    """Raise a ConfigError naming the file and the first offending key unless ``document`` fits
    :data:`EXPERIMENT_SCHEMA` (the runs' parameters are checked by :func:`check_run`)."""
    errors = sorted(StrictValidator(EXPERIMENT_SCHEMA).iter_errors(dict(document)), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path).lstrip(".") or "(file)"
        raise ConfigError(f"{source}: {where} = {error.instance!r} is invalid: {error.message}")
