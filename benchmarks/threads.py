"""Does the numba backend use both cores? Training throughput with numba's thread pool at 1 and 2 threads.

    python benchmarks/threads.py [--images 1000] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.data import load_split, resolve_data_dir
from stochmem.plugins import get_backend

CONFIGS = {
    "float": NetworkConfig(kind="float"),
    "stochastic BL=10": NetworkConfig(kind="stochastic"),
    "memristive BL=10 s=0.1B": NetworkConfig(kind="memristive", device=DeviceParams(sigma=0.1)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    data = load_split(Path(resolve_data_dir(args.data_dir)), "test")
    pixels = [data.image(k) for k in range(args.images)]
    backend = get_backend("numba")
    print(f"{'images/s':<26}{'1 thread':>10}{'2 threads':>11}{'speed-up':>10}")
    for label, config in CONFIGS.items():
        rates = []
        for threads in (1, 2):
            numba.set_num_threads(threads)
            model = backend.create_model(config, 1)
            for k in range(30):
                model.train_step(pixels[k], data.label(k), k, 0.1)
            start = time.perf_counter()
            for k in range(args.images):
                model.train_step(pixels[k], data.label(k), k, 0.1)
            rates.append(args.images / (time.perf_counter() - start))
        print(f"{label:<26}{rates[0]:10.0f}{rates[1]:11.0f}{rates[1] / rates[0]:10.2f}")


if __name__ == "__main__":
    main()
