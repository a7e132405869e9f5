"""The parameters of a network, its devices and its training, validated on construction.

Every field has the default the specification states. A bad value raises :class:`ConfigError` naming the field,
the value and the allowed range, so a user learns what to change instead of reading a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from stochmem.parameters import (
    BY_NAME,
    NETWORK_KINDS,
    NOISE_MODES,
    ConfigError,
    NetworkKind,
    NoiseMode,
    ResetWrite,
    Section,
    check_values,
    reject_unknown,
    section,
)

__all__ = ["NETWORK_KINDS", "NOISE_MODES", "ConfigError", "DeviceParams", "NetworkConfig", "NetworkKind", "NoiseMode",
           "ResetWrite", "from_dict", "to_dict"]


def _check(instance: Any, name: Section) -> None:
    """Check a NetworkConfig's or DeviceParams' own fields against the declarations of stochmem.parameters."""
    parameters = section(name)
    values = {p.config_field: getattr(instance, p.config_field) for p in parameters}
    check_values(values, parameters, key="config_field", describe=lambda p: p.qualified)


@dataclass(frozen=True)
class DeviceParams:
    """[SPEC 4.1] A memristive device pair: ``levels`` linear conductance states from Gmin to Gmax.

    Conductances are normalised so that Gmax = 1 and Gmin = 1/on_off; the level spacing is
    B = (Gmax - Gmin)/(levels - 1). ``sigma`` is the programming-noise standard deviation in units of B
    (the paper's sigma/B). ``w_max`` is the weight a conductance difference of Gmax would carry, so
    w = w_max (G+ - G-) / Gmax and one level is worth dw_min = w_max (1 - 1/on_off)/(levels - 1).
    """

    levels: int = BY_NAME["levels"].default
    on_off: float = BY_NAME["on_off"].default
    sigma: float = BY_NAME["sigma"].default
    reset_every: int = BY_NAME["reset_every"].default
    noise_mode: NoiseMode = BY_NAME["noise_mode"].default
    w_max: float = BY_NAME["w_max"].default
    reset_write: ResetWrite = BY_NAME["reset_write"].default
    reset_threshold: float = BY_NAME["reset_threshold"].default

    def __post_init__(self) -> None:
        _check(self, "device")

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
    def reset_sigma(self) -> float:
        """[SPEC 4.5] The noise of a reset's write in levels, ``sigma``, or 0 for a verified write."""
        return self.sigma if self.reset_write == "noisy" else 0.0

    @property
    def reset_level(self) -> float:
        """[SPEC 4.5] With a threshold > 0, a pair is reset when its larger level coordinate is at least this
        binary64 product; with the default threshold 0 every pair is reset, whatever its levels."""
        return float(self.reset_threshold * self.top_level)

    @property
    def dw_min(self) -> float:
        """The weight change of one level, w_max * B / Gmax. [SPEC 4.1]"""
        return self.w_max * self.spacing / self.g_max


@dataclass(frozen=True)
class NetworkConfig:
    """[SPEC 3.1] The network: layer sizes, kind, stream length, learning rate schedule and devices."""

    kind: NetworkKind = "float"  #: the Python API's default; a run's (``stochmem train``) is stochmem.parameters'
    sizes: tuple[int, ...] = BY_NAME["sizes"].default
    bit_length: int = BY_NAME["bl"].default
    lr: float = BY_NAME["lr"].default
    lr_decay: float = BY_NAME["lr_decay"].default
    device: DeviceParams = field(default_factory=DeviceParams)

    def __post_init__(self) -> None:
        _check(self, "network")

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
    reject_unknown(data, [f.name for f in fields(NetworkConfig)], "network")
    values = dict(data)
    device_data = values.pop("device", {})
    reject_unknown(device_data, [f.name for f in fields(DeviceParams)], "device")
    if "sizes" in values:
        values["sizes"] = tuple(values["sizes"])
    return replace(NetworkConfig(), device=DeviceParams(**device_data), **values)
