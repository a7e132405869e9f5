"""The hardware how-to's converter turns the vectors into memory files whose lines a testbench can check: the
same answers, recomputed here from the lines alone (Philox words, thresholds, streams)."""

from __future__ import annotations

import subprocess
import sys

from stochmem.philox import philox4x32

from .conftest import REPO_ROOT


def test_memory_files_carry_the_vectors(tmp_path):
    script = REPO_ROOT / "examples" / "hardware" / "vectors_to_memh.py"
    result = subprocess.run([sys.executable, str(script), str(REPO_ROOT / "specs" / "vectors"), str(tmp_path)],
                            capture_output=True, text=True, check=True)
    assert "philox.memh" in result.stdout
    for line in (tmp_path / "philox.memh").read_text().splitlines():
        words = [int(w, 16) for w in line.split()]
        assert philox4x32(tuple(words[:4]), tuple(words[4:6])) == tuple(words[6:])
    lines = (tmp_path / "encode.memh").read_text().splitlines()
    assert len(lines) > 20
    for line in lines:
        fields = line.split()
        key_lo, key_hi, step, layer_aux, site, index, bit_length = (int(f, 16) for f in fields[:7])
        level, expected = int(fields[7], 16), fields[8]
        bits = ""
        for n in range(bit_length):  # what the device under test does: word index i*BL + n, compare, emit
            word_index = index * bit_length + n
            block = philox4x32((word_index // 4, step, layer_aux, site), (key_lo, key_hi))
            bits += "1" if block[word_index % 4] < level else "0"
        padded = bits + "0" * (-len(bits) % 4)
        assert f"{int(padded, 2):0{len(padded) // 4}x}" == expected, line
    for line in (tmp_path / "and.memh").read_text().splitlines():
        bit_length, a, b, count = line.split()
        width = int(bit_length, 16)
        ones = bin(int(a, 16) & int(b, 16)).count("1")
        assert ones == int(count, 16) and width >= 1
