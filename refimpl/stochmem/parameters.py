"""Every run parameter declared once: its type and range, default, unit, help text and specification clause.

This table is the single source the rest derives from: the fields of ``stochmem.runs.RunSpec``, the
validation of :class:`stochmem.config.NetworkConfig` and :class:`stochmem.config.DeviceParams`, the command
line's options (``stochmem train --help``), the keys and aliases an experiment TOML and ``--set`` accept, the
JSON Schema a run directory's ``config.json`` is checked against, and the configuration reference page of the
docs (``python -m stochmem.parameters`` prints it; the tests fail when any of them drifts from this table).

Ranges are JSON Schema fragments checked by :func:`check_values`, with two rules made strict: an ``integer`` is a
whole number that is not a boolean (``2.0`` and ``true`` are refused), and ``"finite": true`` refuses NaN and
infinities. A failure is a :class:`ConfigError` naming the parameter, the value and what is expected.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from jsonschema import Draft202012Validator, ValidationError, validators

NetworkKind = Literal["float", "stochastic", "memristive"]
NoiseMode = Literal["event", "pulse"]
ResetWrite = Literal["noisy", "verified"]
NETWORK_KINDS: tuple[str, ...] = get_args(NetworkKind)
NOISE_MODES: tuple[str, ...] = get_args(NoiseMode)
RESET_WRITES: tuple[str, ...] = get_args(ResetWrite)
#: Where a run's images come from: MNIST (checksums verified), the embedded 5,000 digits, or your own data set in
#: MNIST's IDX layout in --data-dir (see :func:`stochmem.data.load_idx_split`).
DATA_SOURCES = ("mnist", "embedded", "idx")
MAX_SIZE = 1 << 20  #: the widest layer accepted (a guard against typos that would exhaust memory)
MAX_LAYERS = 255  #: crossbars are numbered in 8 bits of the Philox counter [SPEC 2.2]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range or of the wrong kind."""


Section = Literal["network", "device", "run"]


@dataclass(frozen=True, eq=False)  # identity: the schema dicts are not hashable
class Parameter:
    """One run parameter.

    ``name`` is the ``RunSpec`` field, the command-line option (``--name``, ``_`` written
    ``-``) and the key of an experiment TOML; ``field`` is the field of :class:`~stochmem.config.NetworkConfig`
    (section ``network``) or :class:`~stochmem.config.DeviceParams` (section ``device``) it sets, whose dotted
    name (``network.bit_length``) an experiment TOML and ``--set`` accept too.
    """

    name: str
    section: Section
    default: Any
    schema: dict[str, Any]
    help: str
    unit: str = ""
    clause: str = ""
    field: str = ""  #: the NetworkConfig/DeviceParams field, when it differs from ``name``

    @property
    def option(self) -> str:
        """The command-line option, e.g. ``--reset-every``."""
        return "--" + self.name.replace("_", "-")

    @property
    def config_field(self) -> str:
        """The field of NetworkConfig or DeviceParams this parameter sets ('' for run parameters)."""
        return "" if self.section == "run" else self.field or self.name

    @property
    def qualified(self) -> str:
        """``network.bit_length``, ``device.sigma``; a run parameter's plain name."""
        return f"{self.section}.{self.config_field}" if self.section != "run" else self.name

    def dataclass_field(self) -> Any:
        """A dataclass field with this parameter's default and the parameter itself as metadata."""
        default = self.default
        if isinstance(default, list):
            default = tuple(default)
        return dataclasses.field(default=default, metadata={"parameter": self})


def integer_schema(minimum: int, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def number_schema(**bounds: float) -> dict[str, Any]:
    return {"type": "number", "finite": True, **bounds}


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("kind", "network", "stochastic", {"enum": list(NETWORK_KINDS)},
              "network kind: float weights, stochastic streams, or memristive device pairs", clause="[SPEC 3.1]"),
    Parameter("sizes", "network", (784, 256, 128, 10),
              {"type": "array", "items": integer_schema(1, MAX_SIZE), "minItems": 2, "maxItems": MAX_LAYERS + 1},
              "layer sizes, input first (on the command line 784-256-128-10)", "neurons", "[SPEC 3.1]"),
    Parameter("bl", "network", 10, integer_schema(1, 1 << 20), "bit length BL of every stream", "bits", "[SPEC 1.1]",
              field="bit_length"),
    Parameter("lr", "network", 0.1, number_schema(exclusiveMinimum=0), "learning rate of epoch 0", clause="[SPEC 3.5]"),
    Parameter("lr_decay", "network", 0.9, number_schema(exclusiveMinimum=0, maximum=1),
              "learning rate factor per epoch: eta_e = lr * lr_decay**e", clause="[SPEC 3.5]"),
    Parameter("levels", "device", 32, integer_schema(2, 1 << 20), "conductance levels per device", "levels",
              "[SPEC 4.1]"),
    Parameter("on_off", "device", 15.0, number_schema(exclusiveMinimum=1), "on/off ratio Gmax/Gmin",
              clause="[SPEC 4.1]"),
    Parameter("sigma", "device", 0.1, number_schema(minimum=0), "programming noise standard deviation",
              "B (level spacing)", "[SPEC 4.3]"),
    Parameter("reset_every", "device", 15, integer_schema(1), "images between resets", "images", "[SPEC 4.5]"),
    Parameter("noise_mode", "device", "event", {"enum": list(NOISE_MODES)},
              "one noise draw per programming event, or one per pulse", clause="[SPEC 4.3]"),
    Parameter("w_max", "device", 1.0, number_schema(exclusiveMinimum=0), "the weight a conductance difference of Gmax "
              "carries", clause="[SPEC 4.1]"),
    Parameter("reset_write", "device", "noisy", {"enum": list(RESET_WRITES)},
              "how a reset re-programs the difference: noisy (one event's programming noise, the default) or "
              "verified (a write-verify loop: exactly, no noise)", clause="[SPEC 4.5]"),
    Parameter("reset_threshold", "device", 0.0, number_schema(minimum=0, maximum=1),
              "reset only pairs whose larger device is at or above this fraction of the top level (0: every pair, "
              "the paper's reset)", clause="[SPEC 4.5]"),
    Parameter("epochs", "run", 1, integer_schema(1, 100_000), "passes over the training images", "epochs",
              "[SPEC 3.5]"),
    Parameter("train_size", "run", 1000, integer_schema(1), "training images (the first N of the set)", "images",
              "[SPEC 5.3]"),
    Parameter("test_size", "run", 500, integer_schema(1), "test images (the first N of the set)", "images",
              "[SPEC 5.3]"),
    Parameter("seed", "run", 1, integer_schema(0, (1 << 64) - 1), "the run's seed: every random draw derives from it",
              clause="[SPEC 2.2]"),
    Parameter("data", "run", "mnist", {"enum": list(DATA_SOURCES)},
              "mnist: the MNIST files in --data-dir (checksums verified); embedded: the 5,000 digits of the "
              "[embedded] extra; idx: your own data set in MNIST's file layout in --data-dir", clause="[SPEC 5.1]"),
    Parameter("backend", "run", "auto", {"type": "string", "minLength": 1, "maxLength": 200},
              "engine (see `stochmem backends`); auto: the fastest installed exact one (numba, else numpy: "
              "bit-identical to the reference, which stays one flag away: --backend reference)"),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
#: Dotted names an experiment TOML and ``--set`` accept besides the plain ones: ``network.bit_length`` -> ``bl``.
ALIASES: dict[str, str] = {p.qualified: p.name for p in PARAMETERS if p.section != "run"}


def reject_unknown(keys: Iterable[str], known: Iterable[str], what: str) -> None:
    """Raise a ConfigError naming the unknown ``keys`` of ``what`` and listing the known ones."""
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise ConfigError(f"{what}: unknown keys {unknown}; known keys are {sorted(known)}")


def parse_sizes(text: str) -> tuple[int, ...]:
    """Layer sizes as the command line and ``--set`` write them: ``784-256-128-10`` (or with commas)."""
    try:
        return tuple(int(part) for part in text.replace(",", "-").split("-"))
    except ValueError:
        raise ConfigError(f"sizes = {text!r} is invalid: expected e.g. 784-256-128-10") from None


def section(name: Section) -> tuple[Parameter, ...]:
    """The parameters of one section, in declaration order."""
    return tuple(p for p in PARAMETERS if p.section == name)


def _finite(_validator: Any, wanted: bool, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    if wanted and isinstance(instance, float) and not math.isfinite(instance):
        yield ValidationError(f"{instance!r} is not a finite number")


def _strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = validators.extend(
    Draft202012Validator, validators={"finite": _finite},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer))


def first_error(validator: Any, document: Any) -> str | None:
    """``where = value is invalid: why`` for the first error of ``document`` under ``validator`` (a
    :data:`StrictValidator`), the path written ``runs[0].label``; None when it is valid."""
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
    if not errors:
        return None
    error = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path).lstrip(".") or "(file)"
    return f"{where} = {error.instance!r} is invalid: {error.message}"


def values_schema(parameters: tuple[Parameter, ...], key: str = "name") -> dict[str, Any]:
    """The JSON Schema of an object holding ``parameters`` (by ``name``, or by ``config_field``), nothing else."""
    return {"type": "object", "additionalProperties": False,
            "properties": {getattr(p, key): p.schema for p in parameters}}


def _validator(parameters: tuple[Parameter, ...], key: str) -> Any:
    cache_key = (parameters, key)
    if cache_key not in _VALIDATORS:
        _VALIDATORS[cache_key] = StrictValidator(values_schema(parameters, key))
    return _VALIDATORS[cache_key]


_VALIDATORS: dict[tuple[tuple[Parameter, ...], str], Any] = {}


def check_values(values: Mapping[str, Any], parameters: tuple[Parameter, ...] = PARAMETERS, key: str = "name",
                 describe: Any = None) -> None:
    """Raise a ConfigError naming the first offending parameter unless ``values`` fit the declared schemas.

    ``key`` says how ``values`` name the parameters (``name`` as RunSpec does, ``config_field`` as NetworkConfig
    and DeviceParams do); ``describe(parameter)`` how the message names one (default: its qualified name and
    option, e.g. ``device.levels (--levels)``).
    """
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    errors = sorted(_validator(parameters, key).iter_errors(plain), key=lambda error: list(error.path))
    if not errors:
        return
    error = errors[0]
    if not error.path:  # an unknown key (additionalProperties)
        known = sorted(getattr(p, key) for p in parameters)
        raise ConfigError(f"{error.message}; known keys are {known}")
    by_key = {getattr(p, key): p for p in parameters}
    parameter = by_key[str(error.path[0])]
    inner = "".join(f"[{part}]" for part in list(error.path)[1:])
    name = describe(parameter) if describe else f"{parameter.qualified} ({parameter.option})" \
        if parameter.section != "run" else parameter.option
    raise ConfigError(f"{name}{inner} = {error.instance!r} is invalid: {error.message}")


def _range(parameter: Parameter) -> str:
    schema = parameter.schema
    if "enum" in schema:
        return ", ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        item = schema["items"]
        return f"{schema['minItems']} to {schema['maxItems']} integers in [{item['minimum']}, {item['maximum']:,}]"
    if schema.get("type") == "string":
        return "a name"
    kind = "integer" if schema.get("type") == "integer" else "number"
    low = f"> {schema['exclusiveMinimum']}" if "exclusiveMinimum" in schema else \
        f"≥ {schema['minimum']}" if "minimum" in schema else ""
    high = f"≤ {schema['maximum']:,}" if "maximum" in schema else ""
    return f"{kind} {' and '.join(part for part in (low, high) if part)}".strip()


def _default(parameter: Parameter) -> str:
    if parameter.name == "sizes":
        return "-".join(map(str, parameter.default))
    return f"`{parameter.default}`"


def reference_table() -> str:
    """The docs' table of every parameter (docs/reference/config.md)."""
    lines = ["| option / TOML key | also | default | allowed | unit | what | clause |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in PARAMETERS:
        also = f"`{p.qualified}`" if p.section != "run" else ""
        lines.append(f"| `{p.option}` / `{p.name}` | {also} | {_default(p)} | {_range(p)} | {p.unit} | "
                     f"{p.help.replace('|', '/')} | {p.clause} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(reference_table() + "\n")
