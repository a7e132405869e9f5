"""This machine's floor for one memristive training image: the operations an exact implementation cannot avoid,
each priced at the best this CPU was measured to do (a roofline), not at what our kernels do.

    python benchmarks/machine_limit.py [--images 200] [--data-dir DIR]

What is counted, per image (averages over real MNIST training images, counted with the exact NumPy model, so the
counts are every exact backend's):

- Philox blocks: the stream words of the forward and backward passes and of the update's rows and columns
  ([SPEC 1.2]; constant streams draw none), one block per programming event and one per two reset normals
  ([SPEC 2.5]: a Box--Muller pair per block).
- Normals: one per programming event, one per synapse at each reset (every 15 images) ([SPEC 4.3, 4.5]).
- AND/popcount pairs: live row x live column of every crossbar ([SPEC 1.4]).
- Multiply-adds of the dense passes over the nonzero inputs alone (forward: the decoded input of each crossbar;
  backward: crossbars 1 and 2), and the bytes they must read (8 per weight), and the bytes a reset reads and
  writes (g+, g- read; g+, g-, w written: 40 per synapse).

How each is priced (ns each, measured here, single-threaded, the best of several runs):

- A Philox block: a branch-free vectorised loop with the key and counters unknown at compile time, no stores.
- A Box--Muller pair: the cheaper of NumPy's SIMD ``log`` (SVML-class where NumPy has it) and our own vectorised
  one, NumPy's ``sqrt``, and the cheaper of NumPy's ``cos`` + ``sin`` and our vectorised pair; plus its block.
- An AND/popcount pair: a vectorised loop over packed words.
- A multiply-add: the larger of 1 / (peak rate: single-threaded BLAS ``dgemm``, 1024^3) and 8 bytes / (read
  bandwidth of a 2 MiB array: the crossbars' weights, 1.9 MB for the paper's network, priced as if they stayed
  in the cache between images).
- A reset byte: a reset reads and writes the network's whole state once (the weights and both device levels,
  24 bytes a synapse: 5.6 MB for the paper's network), and no more of it than the 2 MiB of the bandwidth
  measurement above can be in the cache when it starts. So that share of its bytes is priced at the 2 MiB
  bandwidth and the rest at the read bandwidth of an array as large as the state (on the 2-core development
  machine, with 2 MB of L2 a core: 88 GB/s at 1 MiB, 59 at 2 MiB, 30 from 4 MiB up). Writes are priced as
  reads (the write-allocate reads of a real cache are left out), generous to the floor again.
  :func:`floor_microseconds` can also price every byte at the 2 MiB bandwidth, as this floor did before
  (``every_byte_cached``): ``throughput.py`` prints both.

Left out: everything that is not arithmetic on the data (call overhead, allocation, branches, the comparisons
that turn words into bits, the programming arithmetic); the floor is a bound no implementation reaches.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: the peak is one core's
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from numba import njit

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.data import load_split, resolve_data_dir
from stochmem_numba.normals import FUSED, cos_sin_of_turn, log_of_word
from stochmem_numba.philox import philox, popcount64
from stochmem_numpy import kernels as numpy_kernels
from stochmem_numpy.model import NumpyModel

CONFIG = NetworkConfig(kind="memristive", bit_length=10, device=DeviceParams(sigma=0.1))


def count_operations(images: int, data_dir: str | None) -> dict[str, float]:
    """Operations per image of memristive BL=10 training (see the module's docstring)."""
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
    words = madds = 0
    sizes = CONFIG.sizes
    try:
        for k in range(images):
            image = np.asarray(train.image(k))
            random = int(((image > 0) & (image < 1)).sum())  # pixels with a random stream
            hidden = sum(sizes[1:-1])
            words += CONFIG.bit_length * (random + hidden  # forward
                                          + sum(sizes[2:])  # backward
                                          + random + hidden + 2  # update rows (the bias rows are constant)
                                          + sum(sizes[1:]))  # update columns
            madds += (int((image > 0).sum()) + 1) * sizes[1] + sum((sizes[n] + 1) * sizes[n + 1]
                                                                    for n in range(1, len(sizes) - 1))
            madds += sum(sizes[n] * sizes[n + 1] for n in range(1, len(sizes) - 1))  # backward
            model.train_step(image, train.label(k), k, 0.1)
    finally:
        numpy_kernels.counts_from_bits = original
    synapses = sum(w.size for w in model.weights)
    events = tally["events"] / images
    reset_normals = synapses / CONFIG.device.reset_every
    return {
        "Philox blocks": words / images / 4 + events + reset_normals / 2,
        "normals (events)": events,
        "normals (reset)": reset_normals,
        "AND/popcount pairs": tally["pairs"] / images,
        "multiply-adds": madds / images,
        "reset bytes": 40 * reset_normals,
        "_state_bytes": STATE_BYTES_PER_SYNAPSE * synapses,
    }


STATE_BYTES_PER_SYNAPSE = 24  # a float64 weight and two float64 device levels
CACHED_BYTES = 2 << 20  # the array size of the cache bandwidth measurement (the weights' 1.9 MB fit in it)


@njit(cache=True, error_model="numpy")
def _blocks(n: int, k0: np.uint64, k1: np.uint64) -> np.uint64:
    acc = np.uint64(0)
    for b in range(n):
        r = philox(np.uint64(b), np.uint64(1), np.uint64(2), np.uint64(3), k0, k1)
        acc ^= r[0] ^ r[1] ^ r[2] ^ r[3]
    return acc


@njit(cache=True, error_model="numpy", fastmath=FUSED)  # as normals_of_blocks compiles them
def _our_log(words: np.ndarray, out: np.ndarray) -> None:
    for n in range(words.size):
        out[n] = log_of_word(words[n])


@njit(cache=True, error_model="numpy", fastmath=FUSED)
def _our_cos_sin(words: np.ndarray, cosines: np.ndarray, sines: np.ndarray) -> None:
    for n in range(words.size):
        cosines[n], sines[n] = cos_sin_of_turn(words[n])


@njit(cache=True)
def _pairs(rows: np.ndarray, column: np.uint64, counts: np.ndarray) -> None:
    for s in range(rows.size):
        counts[s] = popcount64(rows[s] & column)


@njit(cache=True, fastmath=True)
def _read(values: np.ndarray) -> float:
    total = 0.0
    for i in range(values.size):
        total += values[i]
    return total


def fastest_ns(run: Callable[[], object], count: int, repeats: int = 7) -> float:
    """ns per item of the fastest of ``repeats`` runs of ``run`` (which does ``count`` items), after a warm-up."""
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e9


def prices(state_bytes: float) -> dict[str, float]:
    """ns per operation of each kind counted by :func:`count_operations` (see the module's docstring), for a
    network whose state takes ``state_bytes``. The element-wise functions run over 4,096 elements at a time (32 KiB:
    in the L1/L2 cache, so that memory traffic does not price the arithmetic), repeated."""
    rng = np.random.default_rng(0)
    n, repeats = 4096, 256
    words = rng.integers(0, 2**32, n, dtype=np.uint64)
    uniform = (words + 1.0) / 2**32
    out, other = np.empty(n), np.empty(n)

    def repeated(run: Callable[[], object]) -> Callable[[], None]:
        def loop() -> None:
            for _ in range(repeats):
                run()
        return loop

    def each(run: Callable[[], object]) -> float:
        return fastest_ns(repeated(run), n * repeats)

    log = min(each(lambda: np.log(uniform, out=out)), each(lambda: _our_log(words, out)))
    root = each(lambda: np.sqrt(uniform, out=out))
    cos_sin = min(each(lambda: (np.cos(uniform, out=out), np.sin(uniform, out=other))),
                  each(lambda: _our_cos_sin(words, out, other)))
    block = fastest_ns(lambda: _blocks(1 << 20, np.uint64(4), np.uint64(5)), 1 << 20)
    pair = block + log + root + cos_sin
    counts = np.empty(n, dtype=np.int64)
    popcount = each(lambda: _pairs(words, np.uint64(0x3FF), counts))
    a, b = rng.random((1024, 1024)), rng.random((1024, 1024))
    peak = fastest_ns(lambda: a @ b, 1024**3, repeats=3)
    weights = rng.random(CACHED_BYTES // 8)
    per_byte = fastest_ns(lambda: _read(weights), weights.nbytes, repeats=50)
    state = rng.random(int(state_bytes) // 8)
    per_state_byte = fastest_ns(lambda: _read(state), state.nbytes, repeats=20)
    cached = min(1.0, CACHED_BYTES / state_bytes)  # the share of the state a reset may find in the cache
    return {
        "Philox blocks": block,
        "normals (events)": pair - block,  # the event's block is counted with the Philox blocks
        "normals (reset)": (pair - block) / 2,
        "AND/popcount pairs": popcount,
        "multiply-adds": max(peak, 8 * per_byte),
        "reset bytes": cached * per_byte + (1 - cached) * per_state_byte,
        "_peak": peak,
        "_per_byte": per_byte,
        "_per_state_byte": per_state_byte,
    }


def floor_microseconds(images: int, data_dir: str | None, verbose: bool = False) -> tuple[float, float]:
    """The one-core floor of one memristive training image, in microseconds (see the module's docstring), and
    the same floor with every byte priced at the 2 MiB bandwidth (``every_byte_cached``), from the same
    measurements."""
    counts = count_operations(images, data_dir)
    state_bytes = counts.pop("_state_bytes")
    costs = prices(state_bytes)
    every_byte_cached = counts["reset bytes"] * (costs["_per_byte"] - costs["reset bytes"]) / 1000
    total = 0.0
    if verbose:
        print(f"memristive BL=10, sigma=0.1B, 784-256-128-10; averages over {images} training images")
        print(f"peak multiply-add (1-thread dgemm): {costs['_peak']:.3f} ns; read bandwidth at 2 MiB: "
              f"{1 / costs['_per_byte']:.1f} GB/s, at the state's {state_bytes / 1e6:.1f} MB: "
              f"{1 / costs['_per_state_byte']:.1f} GB/s")
        print(f"{'operation':<22}{'per image':>12}{'ns each':>10}{'us/image':>10}")
    for name, count in counts.items():
        micros = count * costs[name] / 1000
        total += micros
        if verbose:
            print(f"{name:<22}{count:12.0f}{costs[name]:10.3f}{micros:10.1f}")
    return total, total + every_byte_cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    total, cached = floor_microseconds(args.images, args.data_dir, verbose=True)
    print(f"{'one core, arithmetic only':<44}{total:10.1f} us  -> {1e6 / total:7.0f} images/s")
    print(f"{'two cores, perfect split':<44}{total / 2:10.1f} us  -> {2e6 / total:7.0f} images/s")
    print(f"{'one core, every byte at 2 MiB bandwidth':<44}{cached:10.1f} us  -> {1e6 / cached:7.0f} images/s")


if __name__ == "__main__":
    main()
