"""How close is the compiled backend to this machine's limit? Operations per memristive image against measured
single-core costs of each operation.

    python benchmarks/machine_limit.py [--images 200] [--data-dir DIR]

1. Counts, over real MNIST training images with the NumPy model (exact, so the counts are the numba backend's
   too): Philox words for streams, AND/popcount pairs that can coincide, programming events (one normal each),
   reset normals per image, multiply-adds of the dense passes.
2. Costs, each timed single-threaded in a tight compiled loop: a Philox word, a Box--Muller normal (in the
   vectorised loops the kernels use: every synapse of a row for a reset, scattered synapses for events), an
   AND/popcount with its weight update, a multiply-add (NumPy's BLAS matrix-vector product).
3. The sum is a lower bound on the time of one image on one core (no glue, no memory stalls beyond the
   loops'); divided by two it bounds a perfect two-core run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from numba import njit

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.data import load_split, resolve_data_dir
from stochmem_numba.kernels import event_normals
from stochmem_numba.normals import fill_normals
from stochmem_numba.philox import philox, popcount64
from stochmem_numpy import kernels as numpy_kernels
from stochmem_numpy.model import NumpyModel

CONFIG = NetworkConfig(kind="memristive", bit_length=10, device=DeviceParams(sigma=0.1))


def count_operations(images: int, data_dir: str | None) -> dict[str, float]:
    train = load_split(Path(resolve_data_dir(data_dir)), "train")
    tally = {"pairs": 0, "events": 0}
    original = numpy_kernels.counts_from_bits

    def counting(row_bits: np.ndarray, column_bits: np.ndarray) -> np.ndarray:
        counts = original(row_bits, column_bits)
        tally["pairs"] += int(row_bits.any(axis=1).sum()) * int(column_bits.any(axis=1).sum())
        tally["events"] += int((counts > 0).sum())
        return counts

    numpy_kernels.counts_from_bits = counting
    model = NumpyModel(CONFIG, 1)
    words = 0
    sizes = CONFIG.sizes
    for k in range(images):
        image = np.asarray(train.image(k))
        active = int((image > 0).sum())
        words += CONFIG.bit_length * (active + sum(sizes[1:-1])  # forward
                                      + sum(sizes[2:])  # backward
                                      + active + 1 + sum(s + 1 for s in sizes[1:-1])  # update rows
                                      + sum(sizes[1:]))  # update columns
        model.train_step(image, train.label(k), k, 0.1)
    numpy_kernels.counts_from_bits = original
    synapses = sum(w.size for w in model.weights)
    return {
        "Philox words": words / images,
        "AND/popcount pairs": tally["pairs"] / images,
        "normals (events)": tally["events"] / images,
        "normals (reset)": synapses / CONFIG.device.reset_every,
        "multiply-adds": float(synapses + sum(w[:, :-1].size for w in model.weights[1:])),
    }


@njit(cache=True)
def _words(n: int) -> np.uint64:
    acc = np.uint64(0)
    for b in range(n // 4):
        r = philox(np.uint64(b), np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4), np.uint64(5))
        acc ^= r[0] ^ r[1] ^ r[2] ^ r[3]
    return acc


@njit(cache=True)
def _pairs(rows: np.ndarray, columns: np.ndarray, weights: np.ndarray) -> None:
    for j in range(columns.size):
        for i in range(rows.size):
            n = popcount64(rows[i] & columns[j])
            if n:
                weights[j, i] -= 0.001 * n


def per_operation_ns() -> dict[str, float]:
    def timed(run, count: int) -> float:
        run()
        start = time.perf_counter()
        run()
        return (time.perf_counter() - start) / count * 1e9

    rng = np.random.default_rng(0)
    rows = rng.integers(0, 2**10, 785, dtype=np.uint64)
    columns = rng.integers(0, 2**10, 256, dtype=np.uint64)
    weights = np.zeros((256, 785))
    matrix, vector = rng.random((256, 785)), rng.random(785)
    key = (np.uint64(4), np.uint64(5), np.uint64(1), np.uint64(2))  # Philox key, step, layer
    firing = np.sort(rng.choice(2_000_000, 1_000_000, replace=False))  # scattered synapses, as events are
    events, reset = np.empty(firing.size), np.empty(1_000_000)

    def matvec() -> None:
        for _ in range(1000):
            matrix @ vector

    return {
        "Philox words": timed(lambda: _words(4_000_000), 4_000_000),
        "AND/popcount pairs": timed(lambda: [_pairs(rows, columns, weights) for _ in range(20)], 20 * 785 * 256),
        "normals (events)": timed(lambda: event_normals(0, firing, *key, events), firing.size),
        "normals (reset)": timed(lambda: fill_normals(np.int64(0), key[2], key[3], np.uint64(8), key[0], key[1],
                                                      reset), reset.size),
        "multiply-adds": timed(matvec, 1000 * 256 * 785),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    counts = count_operations(args.images, args.data_dir)
    costs = per_operation_ns()
    total = 0.0
    print(f"memristive BL=10, sigma=0.1B, 784-256-128-10; averages over {args.images} training images")
    print(f"{'operation':<22}{'per image':>12}{'ns each':>10}{'us/image':>10}")
    for name, count in counts.items():
        micros = count * costs[name] / 1000
        total += micros
        print(f"{name:<22}{count:12.0f}{costs[name]:10.2f}{micros:10.1f}")
    print(f"{'one core, no overhead':<44}{total:10.1f} us  -> {1e6 / total:7.0f} images/s")
    print(f"{'two cores, perfect split':<44}{total / 2:10.1f} us  -> {2e6 / total:7.0f} images/s")


if __name__ == "__main__":
    main()
