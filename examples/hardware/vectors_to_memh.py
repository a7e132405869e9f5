"""Turn stochmem's JSON test vectors into memory files a hardware testbench reads with ``$readmemh``.

    python examples/hardware/vectors_to_memh.py specs/vectors OUT_DIR

Writes, for the first clause groups a hardware team implements:

* ``philox.memh``: one line per Philox4x32-10 case [SPEC 2.1]: counter (4 words), key (2 words), expected
  output (4 words), each word 8 hex digits, most significant word first as the vectors list them;
* ``encode.memh``: one line per encoded value [SPEC 1.2, 1.3, 2.2]: the Philox key (seed low, seed high word),
  the counter's fixed words (step, layer | aux << 8, site), the value's index i and BL, its 32-bit threshold
  floor(p * 2**32) (``100000000`` for p >= 1), and the expected stream, bit 0 first (as the vectors' hex);
* ``and.memh``: one line per AND/popcount case [SPEC 1.4]: BL, stream A, stream B, expected popcount.

Thresholds are computed here exactly as [SPEC 1.2] says, so the device under test receives integers only. Uses
the standard library alone: copy it into any testbench repository.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def threshold(p: float) -> int:
    """[SPEC 1.2] floor(p * 2**32) after clipping p to [0, 1]; 2**32 for p = 1 (every word fires)."""
    return math.floor(min(max(p, 0.0), 1.0) * 2**32)


def cases(folder: Path, name: str, group_type: str) -> list[dict]:
    document = json.loads((folder / name).read_text())
    return [test for group in document["testGroups"] if group["type"] == group_type for test in group["tests"]]


def philox_lines(folder: Path) -> list[str]:
    return [" ".join([*t["counter"], *t["key"], *t["output"]]) for t in cases(folder, "philox.json", "PhiloxTest")]


def encode_lines(folder: Path) -> list[str]:
    lines = []
    for test in cases(folder, "streams.json", "EncodeTest"):
        draw, bit_length = test["draw"], test["bitLength"]
        key = [draw["seed"] & 0xFFFFFFFF, draw["seed"] >> 32]
        fixed = [draw["step"], draw["layer"] | draw["aux"] << 8, draw["site"]]
        for index, (p, stream) in enumerate(zip(test["probabilities"], test["streams"])):
            words = [f"{w:08x}" for w in [*key, *fixed, index, bit_length]]
            lines.append(" ".join([*words, f"{threshold(p):09x}", stream]))
    return lines


def and_lines(folder: Path) -> list[str]:
    return [f"{t['bitLength']:08x} {t['a']} {t['b']} {t['andPopcount']:08x}"
            for t in cases(folder, "streams.json", "AndPopcountTest")]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    vectors, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, lines in (("philox.memh", philox_lines(vectors)), ("encode.memh", encode_lines(vectors)),
                        ("and.memh", and_lines(vectors))):
        (out / name).write_text("\n".join(lines) + "\n")
        print(f"{out / name}: {len(lines)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
