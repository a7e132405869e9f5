"""Compare a backend's model with the reference's, step by step, and name the first difference and its clause.

A failure reads like ``[SPEC 4.5] reset at step 20: crossbar 1 g_minus[2][3] = 4.0, reference 3.0`` so an
implementer knows which clause to read and which value to look at, without bisecting by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from stochmem.backend_api import Model
from stochmem.config import NetworkConfig
from stochmem.network import Layer

#: [SPEC 6.1] Floats of exact backends agree up to rounding; streams, counts and levels' integer parts exactly.
TOLERANCE = 1e-9
FIELDS = ("weights", "g_plus", "g_minus")


def is_reset_step(config: NetworkConfig, step: int) -> bool:
    """[SPEC 4.5] A memristive network resets every pair after training steps ``reset_every - 1``, ``2 reset_every
    - 1``, ... (after the image with ``(step + 1) % reset_every == 0``)."""
    return config.kind == "memristive" and (step + 1) % config.device.reset_every == 0


def clause_of_state(config: NetworkConfig, field: str, step: int | None) -> str:
    """The clause that determines ``field`` of a crossbar after training step ``step`` (None: initialisation)."""
    if step is None:
        return "[SPEC 4.6] initial programming" if field != "weights" or config.kind == "memristive" \
            else "[SPEC 3.4] initialisation"
    if config.kind == "float":
        return f"[SPEC 3.7] float update at step {step}"
    if config.kind == "stochastic":
        return f"[SPEC 3.8] coincidence update at step {step}"
    if is_reset_step(config, step):
        return f"[SPEC 4.3-4.5] programming and reset at step {step}"
    return f"[SPEC 3.8, 4.3] coincidence update and programming at step {step}"


def first_difference(got: Sequence[Layer], want: Sequence[Layer], tolerance: float = TOLERANCE) -> str | None:
    """'crossbar L FIELD[j][i] = got, reference want' for the first value that differs, else None."""
    if len(got) != len(want):
        return f"{len(got)} crossbars, reference {len(want)}"
    for index, (mine, theirs) in enumerate(zip(got, want)):
        for field in FIELDS:
            a, b = getattr(mine, field), getattr(theirs, field)
            if (a is None) != (b is None):
                return f"crossbar {index} {field} is {'missing' if a is None else 'present'}, reference not"
            if a is None:
                continue
            if len(a) != len(b) or any(len(r) != len(s) for r, s in zip(a, b)):
                return f"crossbar {index} {field} has shape {len(a)}x{len(a[0]) if a else 0}, " \
                       f"reference {len(b)}x{len(b[0]) if b else 0}"
            for j, (row, reference_row) in enumerate(zip(a, b)):
                for i, (x, y) in enumerate(zip(row, reference_row)):
                    if not abs(x - y) <= tolerance:
                        return f"crossbar {index} {field}[{j}][{i}] = {x!r}, reference {y!r}"
    return None


def assert_same_layers(got: Sequence[Layer], want: Sequence[Layer], config: NetworkConfig, step: int | None,
                       clause: str | None = None, where: str = "") -> None:
    """Fail naming the clause (``clause``, else the one that determines the state after ``step``), ``where`` and
    the first differing value when two lists of crossbars differ."""
    difference = first_difference(got, want)
    if difference is None:
        return
    field = next((f for f in FIELDS if f in difference), "weights")
    place = f", {where}" if where else ""
    raise AssertionError(f"{clause or clause_of_state(config, field, step)}{place}: {difference}")


def assert_same_state(model: Model, reference: Model, config: NetworkConfig, step: int | None,
                      clause: str | None = None) -> None:
    """:func:`assert_same_layers` of two models' exported crossbars."""
    assert_same_layers(model.export_layers(), reference.export_layers(), config, step, clause)
