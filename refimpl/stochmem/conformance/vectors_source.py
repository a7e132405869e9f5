"""Where the suite reads the test vectors: ``specs/vectors`` of a source checkout, else the same documents
generated in memory by :mod:`stochmem.vectors` (the project's tests prove the two are identical)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from stochmem import vectors
from stochmem.rng import Draw, Site

CHECKOUT_VECTORS = Path(__file__).resolve().parents[3] / "specs" / "vectors"


@functools.cache
def load_vectors(name: str) -> dict[str, Any]:
    path = CHECKOUT_VECTORS / name
    if path.is_file():
        document: dict[str, Any] = json.loads(path.read_text())
        return document
    return json.loads(vectors.render(vectors.GENERATORS[name]()))  # type: ignore[no-any-return]


def cases(name: str, group_type: str) -> list[dict[str, Any]]:
    """The tests of every group of ``group_type`` in vector file ``name``."""
    return [test for group in load_vectors(name)["testGroups"] if group["type"] == group_type
            for test in group["tests"]]


def draw_of(entry: dict[str, Any]) -> Draw:
    return Draw(entry["seed"], Site(entry["site"]), entry["step"], entry["layer"], entry["aux"])
