"""Cartesian sweeps and seeds: one experiment's runs expanded into every combination of the swept values.

An experiment file may carry a ``[sweep]`` table (``sigma = [0.0, 0.1]``, ``seed = [1, 2, 3]``); the command line
adds axes with ``--sweep KEY=V1,V2,...``; ``seeds = [1, 2, 3]`` (in ``[defaults]`` or by ``--set seeds=1,2,3``) is
the seed axis by another name. Each ``[[runs]]`` entry is crossed with the product of the axes, in the order the
axes were given, the seed axis last. A swept value overrides the same parameter's default and ``--set``.

A run of a sweep is named by its entry's label followed by its values, ``sigma=0.1B sigma=0.1 seed=2`` for
instance, so its folder (the label's slug) is the same whatever else the sweep holds, and a sweep that is extended
resumes the runs it already has. Runs that differ in the seed alone form one *setting*: the summary reports the
seeds' statistics per setting (:mod:`stochmem.statistics`).
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stochmem.config import ConfigError
from stochmem.parameters import ALIASES, BY_NAME, parse_sizes, reject_unknown

SEED_AXIS = "seed"
SEEDS_KEY = "seeds"  #: the seed axis by another name, as a default or a --set


@dataclass(frozen=True)
class Axis:
    """One swept parameter (its plain name: ``sigma``, not ``device.sigma``) and its values."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    """One combination of the axes' values: the label suffix, the parameters to set, the setting's label."""

    values: tuple[tuple[str, Any], ...]

    def suffix(self) -> str:
        return " ".join(f"{name}={format_value(value)}" for name, value in self.values)

    def setting_suffix(self) -> str:
        """The suffix without the seed: the runs that share it differ in their seed alone."""
        return " ".join(f"{name}={format_value(value)}" for name, value in self.values if name != SEED_AXIS)


def format_value(value: Any) -> str:
    """A swept value as a label writes it: ``0.1``, ``2``, ``784-8-10``, ``event``."""
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return str(value)


def parse_value(text: str) -> Any:
    """One value as TOML reads it (``0.1``, ``true``, ``"event"``), a bare word as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def plain_name(key: str, where: str) -> str:
    """A parameter's plain name from its plain or dotted one (``device.sigma`` -> ``sigma``), or a ConfigError."""
    name = ALIASES.get(key, key)
    if name == SEEDS_KEY:
        return SEED_AXIS
    if name not in BY_NAME:
        reject_unknown([key], [*BY_NAME, *ALIASES], where)
    return name


def normalised(name: str, value: Any, where: str) -> Any:
    """A swept value in the form a run's parameters take (``sizes`` from ``784-8-10`` to a list)."""
    if name == "sizes" and isinstance(value, str):
        try:
            return list(parse_sizes(value))
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
    return value


def axis_values(name: str, raw: Any, where: str) -> tuple[Any, ...]:
    """The values of axis ``name`` (its plain name) from a TOML list or a comma-separated command-line string."""
    if isinstance(raw, str):
        values: list[Any] = [parse_value(part.strip()) for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        values = list(raw)
    else:
        values = [raw]
    if not values:
        raise ConfigError(f"{where}: {name} has no values: expected e.g. {name}=1,2,3")
    values = [normalised(name, value, where) for value in values]
    if any(a == b for k, a in enumerate(values) for b in values[k + 1:]):  # 1 and 1.0 are one value
        raise ConfigError(f"{where}: {name} lists a value twice: {values}")
    return tuple(values)


def axes_from_table(table: Mapping[str, Any], where: str) -> list[Axis]:
    """The axes of an experiment file's ``[sweep]`` table."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [sweep] must be a table of parameter = [values]")
    axes = []
    for key, raw in table.items():
        name = plain_name(key, f"{where} [sweep]")
        axes.append(Axis(name, axis_values(name, raw, f"{where} [sweep] {key}")))
    return axes


def axes_from_options(options: Sequence[str]) -> list[Axis]:
    """The axes of ``--sweep KEY=V1,V2`` options."""
    axes = []
    for option in options:
        key, sep, text = option.partition("=")
        if not sep or not text.strip():
            raise ConfigError(f"--sweep {option!r} is invalid: expected KEY=V1,V2,..., e.g. device.sigma=0,0.1,0.2")
        name = plain_name(key.strip(), "--sweep")
        axes.append(Axis(name, axis_values(name, text, f"--sweep {key.strip()}")))
    return axes


def combine(axes: Sequence[Axis]) -> list[Axis]:
    """Axes in their given order, the seed axis last; an axis given twice is an error."""
    names = [axis.name for axis in axes]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"the sweep names {repeated} more than once (in [sweep], --sweep or seeds): give each "
                          "parameter's values once")
    return [axis for axis in axes if axis.name != SEED_AXIS] + [axis for axis in axes if axis.name == SEED_AXIS]


def points(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values (one empty point when there are no axes)."""
    return [Point(tuple(zip((axis.name for axis in axes), combination)))
            for combination in itertools.product(*(axis.values for axis in axes))]


def check_not_set_per_run(axes: Sequence[Axis], entries: Sequence[Mapping[str, Any]], source: str) -> None:
    """A swept parameter may not also be set by a ``[[runs]]`` entry: the sweep would silently override it."""
    for axis in axes:
        for entry in entries:
            if any(ALIASES.get(key, key) == axis.name for key in entry):
                raise ConfigError(f"{source}: run {entry.get('label')!r} sets {axis.name} itself, so it cannot also "
                                  f"be swept; sweep another parameter, or write an experiment file whose runs "
                                  f"leave {axis.name} to the sweep")
