"""The parameters of a network, its devices and its training, validated on construction.

Every field has the default the specification states. A bad value raises :class:`ConfigError` naming the field,
the value and the allowed range, so a user learns what to change instead of reading a traceback.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, get_args

NetworkKind = Literal["float", "stochastic", "memristive"]
NoiseMode = Literal["event", "pulse"]
NETWORK_KINDS: tuple[str, ...] = get_args(NetworkKind)
NOISE_MODES: tuple[str, ...] = get_args(NoiseMode)


class ConfigError(ValueError):
    """A configuration value is out of its allowed range or of the wrong kind."""


def _require(condition: bool, name: str, value: object, expected: str) -> None:
    if not condition:
        raise ConfigError(f"{name} = {value!r} is invalid: expected {expected}")


@dataclass(frozen=True)
class DeviceParams:
    """[SPEC 4.1] A memristive device pair: ``levels`` linear conductance states from Gmin to Gmax.

    Conductances are normalised so that Gmax = 1 and Gmin = 1/on_off; the level spacing is
    B = (Gmax - Gmin)/(levels - 1). ``sigma`` is the programming-noise standard deviation in units of B
    (the paper's sigma/B). ``w_max`` is the weight a conductance difference of Gmax would carry, so
    w = w_max (G+ - G-) / Gmax and one level is worth dw_min = w_max (1 - 1/on_off)/(levels - 1).
    """

    levels: int = 32
    on_off: float = 15.0
    sigma: float = 0.1
    reset_every: int = 15
    noise_mode: NoiseMode = "event"
    w_max: float = 1.0

    def __post_init__(self) -> None:
        _require(isinstance(self.levels, int) and self.levels >= 2, "device.levels", self.levels,
                 "an integer >= 2")
        _require(math.isfinite(self.on_off) and self.on_off > 1.0, "device.on_off", self.on_off,
                 "a finite number > 1 (Gmax/Gmin)")
        _require(math.isfinite(self.sigma) and self.sigma >= 0.0, "device.sigma", self.sigma,
                 "a finite number >= 0 (sigma/B)")
        _require(isinstance(self.reset_every, int) and self.reset_every >= 1, "device.reset_every",
                 self.reset_every, "an integer >= 1 (images between resets)")
        _require(self.noise_mode in NOISE_MODES, "device.noise_mode", self.noise_mode,
                 f"one of {', '.join(NOISE_MODES)}")
        _require(math.isfinite(self.w_max) and self.w_max > 0.0, "device.w_max", self.w_max,
                 "a finite number > 0")

    @property
    def g_max(self) -> float:
        return 1.0

    @property
    def g_min(self) -> float:
        return self.g_max / self.on_off

    @property
    def spacing(self) -> float:
        """B, the conductance step of one level."""
        return (self.g_max - self.g_min) / (self.levels - 1)

    @property
    def top_level(self) -> int:
        """The highest level coordinate, ``levels - 1``."""
        return self.levels - 1

    @property
    def dw_min(self) -> float:
        """The weight change of one level, w_max * B / Gmax. [SPEC 4.1]"""
        return self.w_max * self.spacing / self.g_max


@dataclass(frozen=True)
class NetworkConfig:
    """[SPEC 3.1] The network: layer sizes, kind, stream length, learning rate schedule and devices."""

    kind: NetworkKind = "float"
    sizes: tuple[int, ...] = (784, 256, 128, 10)
    bit_length: int = 10
    lr: float = 0.1
    lr_decay: float = 0.9
    device: DeviceParams = field(default_factory=DeviceParams)

    def __post_init__(self) -> None:
        _require(self.kind in NETWORK_KINDS, "network.kind", self.kind, f"one of {', '.join(NETWORK_KINDS)}")
        _require(len(self.sizes) >= 2 and all(isinstance(s, int) and s >= 1 for s in self.sizes),
                 "network.sizes", self.sizes, "at least two positive integers, input first")
        _require(len(self.sizes) <= 256, "network.sizes", self.sizes, "at most 255 layers")
        _require(isinstance(self.bit_length, int) and self.bit_length >= 1, "network.bit_length",
                 self.bit_length, "an integer >= 1 (BL)")
        _require(math.isfinite(self.lr) and self.lr > 0.0, "network.lr", self.lr, "a finite number > 0")
        _require(math.isfinite(self.lr_decay) and 0.0 < self.lr_decay <= 1.0, "network.lr_decay",
                 self.lr_decay, "a number in (0, 1]")

    def learning_rate(self, epoch: int) -> float:
        """[SPEC 3.5] eta_e = lr * lr_decay ** e for epoch e (counted from 0)."""
        return self.lr * self.lr_decay**epoch

    @property
    def n_layers(self) -> int:
        """The number of crossbars (weight layers)."""
        return len(self.sizes) - 1


def to_dict(config: NetworkConfig) -> dict[str, Any]:
    """A JSON-ready dictionary of ``config``."""
    out = asdict(config)
    out["sizes"] = list(config.sizes)
    return out


def from_dict(data: dict[str, Any]) -> NetworkConfig:
    """The inverse of :func:`to_dict`; unknown keys are an error that names them."""
    known = {f.name for f in fields(NetworkConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown network keys {unknown}; known keys are {sorted(known)}")
    values = dict(data)
    device_data = values.pop("device", {})
    device_known = {f.name for f in fields(DeviceParams)}
    device_unknown = sorted(set(device_data) - device_known)
    if device_unknown:
        raise ConfigError(f"unknown device keys {device_unknown}; known keys are {sorted(device_known)}")
    if "sizes" in values:
        values["sizes"] = tuple(values["sizes"])
    return replace(NetworkConfig(), device=DeviceParams(**device_data), **values)
