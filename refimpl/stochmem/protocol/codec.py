"""[SPEC 7.3] The protocol's types: the contract's Python values as JSON and back, with errors that name the field.

Streams are hex strings, bit n of a stream being bit 3 - (n mod 4) of hex digit n div 4 (as in the vectors);
Philox words are 8-digit hex strings; draws are objects ``{seed, site, step, layer, aux}``; matrices are lists of
rows ``m[j][i]`` (output j, input i, the bias last); floats are JSON numbers that parse back to the same binary64
value. Decoders check what they read and raise :class:`ProtocolError` naming the field and what was wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from bitarray import bitarray
from bitarray.util import ba2hex, hex2ba

from stochmem.config import DeviceParams, NetworkConfig, from_dict, to_dict
from stochmem.network import Layer
from stochmem.rng import Draw, Site

Json = dict[str, Any]
HEX_WORD = re.compile(r"[0-9a-f]{8}")
HEX_DIGITS = re.compile(r"[0-9a-f]*")


class ProtocolError(ValueError):
    """A message that does not follow [SPEC 7]; the text names the field and what was wrong."""


def bits_hex(stream: bitarray) -> str:
    """[SPEC 7.3] A stream as hex: bit n is bit 3 - (n mod 4) of hex digit n // 4, the last digit zero-padded."""
    return ba2hex(bitarray(stream.to01() + "0" * (-len(stream) % 4), endian="big"))


def hex_bits(text: Any, bit_length: int, field: str) -> bitarray:
    """The inverse of :func:`bits_hex`: exactly ceil(bit_length / 4) lower-case hex digits, padding bits zero."""
    digits = -(-bit_length // 4)
    if not isinstance(text, str) or len(text) != digits or not HEX_DIGITS.fullmatch(text):
        raise ProtocolError(f"{field} must be a string of {digits} lower-case hex digits (BL {bit_length}), got "
                            f"{text!r:.80}")
    bits = hex2ba(text, endian="big") if text else bitarray(endian="big")
    if bits[bit_length:].any():
        raise ProtocolError(f"{field}: the padding bits after bit {bit_length - 1} must be 0, got {text!r:.80}")
    return bits[:bit_length]


def word_hex(word: int) -> str:
    return f"{word:08x}"


def hex_word(text: Any, field: str) -> int:
    """A 32-bit word written as exactly 8 lower-case hex digits (no sign, prefix, spaces or underscores)."""
    if not isinstance(text, str) or not HEX_WORD.fullmatch(text):
        raise ProtocolError(f"{field} must be a 32-bit word as 8 lower-case hex digits, got {text!r:.40}")
    return int(text, 16)


def draw_json(draw: Draw) -> Json:
    return {"seed": draw.seed, "site": int(draw.site), "step": draw.step, "layer": draw.layer, "aux": draw.aux}


def json_draw(value: Any, field: str) -> Draw:
    if not isinstance(value, dict) or set(value) != {"seed", "site", "step", "layer", "aux"}:
        raise ProtocolError(f"{field} must be an object with exactly seed, site, step, layer and aux, got "
                            f"{value!r:.120}")
    try:
        return Draw(integer(value["seed"], f"{field}.seed"), Site(integer(value["site"], f"{field}.site")),
                    integer(value["step"], f"{field}.step"), integer(value["layer"], f"{field}.layer"),
                    integer(value["aux"], f"{field}.aux"))
    except ValueError as error:
        raise ProtocolError(f"{field}: {error}") from None


def integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{field} must be an integer, got {value!r:.40}")
    return value


def natural(value: Any, field: str, least: int = 0) -> int:
    """An integer >= ``least`` (a count, a bit length)."""
    if integer(value, field) < least:
        raise ProtocolError(f"{field} must be an integer >= {least}, got {value}")
    return int(value)


def number(value: Any, field: str) -> float:
    """A finite JSON number (an integer is accepted: 3 and 3.0 are the same value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProtocolError(f"{field} must be a finite number, got {value!r:.40}")
    return float(value)


def numbers(value: Any, field: str, length: int | None = None) -> list[float]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = f" of {length}" if length is not None else ""
        raise ProtocolError(f"{field} must be a list{size} of numbers, got {_short(value)}")
    return [number(v, f"{field}[{k}]") for k, v in enumerate(value)]


def integers(value: Any, field: str, length: int | None = None) -> list[int]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = f" of {length}" if length is not None else ""
        raise ProtocolError(f"{field} must be a list{size} of integers, got {_short(value)}")
    return [integer(v, f"{field}[{k}]") for k, v in enumerate(value)]


def matrix(value: Any, field: str, shape: tuple[int, int] | None = None) -> list[list[float]]:
    rows = shape[0] if shape else None
    if not isinstance(value, list) or (rows is not None and len(value) != rows):
        raise ProtocolError(f"{field} must be a list{f' of {rows}' if rows is not None else ''} rows, got "
                            f"{_short(value)}")
    return [numbers(row, f"{field}[{j}]", shape[1] if shape else None) for j, row in enumerate(value)]


def floats_json(values: Sequence[float]) -> list[float]:
    """Values as JSON numbers (NumPy scalars and ints become Python floats)."""
    return [float(v) for v in values]


def layer_json(layer: Layer) -> Json:
    entry: Json = {"weights": [floats_json(row) for row in layer.weights]}
    if layer.g_plus is not None and layer.g_minus is not None:
        entry["gPlus"] = [floats_json(row) for row in layer.g_plus]
        entry["gMinus"] = [floats_json(row) for row in layer.g_minus]
    return entry


def json_layer(value: Any, field: str, shape: tuple[int, int] | None = None) -> Layer:
    if not isinstance(value, dict) or "weights" not in value or not set(value) <= {"weights", "gPlus", "gMinus"}:
        raise ProtocolError(f"{field} must be an object with weights (and gPlus, gMinus for a memristive "
                            f"crossbar), got keys {sorted(value) if isinstance(value, dict) else _short(value)}")
    weights = matrix(value["weights"], f"{field}.weights", shape)
    if ("gPlus" in value) != ("gMinus" in value):
        raise ProtocolError(f"{field} must carry both gPlus and gMinus or neither")
    if "gPlus" not in value:
        return Layer(weights)
    size = (len(weights), len(weights[0]) if weights else 0)
    return Layer(weights, matrix(value["gPlus"], f"{field}.gPlus", size),
                 matrix(value["gMinus"], f"{field}.gMinus", size))


def layers_json(layers: Sequence[Layer]) -> list[Json]:
    return [layer_json(layer) for layer in layers]


def json_layers(value: Any, field: str, count: int | None = None) -> list[Layer]:
    if not isinstance(value, list) or (count is not None and len(value) != count):
        raise ProtocolError(f"{field} must be a list of {count if count is not None else ''} crossbars, got "
                            f"{_short(value)}")
    return [json_layer(entry, f"{field}[{k}]") for k, entry in enumerate(value)]


def config_json(config: NetworkConfig) -> Json:
    return {**to_dict(config), "device": device_json(config.device)}


def json_config(value: Any, field: str) -> NetworkConfig:
    try:
        return from_dict(value)
    except (TypeError, ValueError) as error:
        raise ProtocolError(f"{field}: {error}") from None


#: [SPEC 7.3] Device fields added in 1.2.0, written only when they differ from their defaults, so that a device
#: object of the paper's reset reads as it did in 1.0 and 1.1.
OPTIONAL_DEVICE_FIELDS = ("reset_write", "reset_threshold")


def device_json(params: DeviceParams) -> Json:
    """Device parameters as the protocol and the vectors carry them (the fields of 1.2.0 only when set)."""
    out: Json = to_dict(NetworkConfig(device=params))["device"]
    for name in OPTIONAL_DEVICE_FIELDS:
        if out[name] == getattr(DeviceParams(), name):
            del out[name]
    return out


def json_device(value: Any, field: str) -> DeviceParams:
    if not isinstance(value, dict):
        raise ProtocolError(f"{field} must be an object of device parameters, got {_short(value)}")
    return json_config({"device": value}, field).device


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
