"""Start-up cost of the numba backend: the first training step and prediction with a cold compile cache (every
kernel compiled) and with a warm one (kernels loaded from numba's on-disk cache), each in a fresh process.

    python benchmarks/startup.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

PROGRAM = """
import time
start = time.perf_counter()
from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
backend = get_backend("{backend}")
for kind in ("float", "stochastic", "memristive"):
    model = backend.create_model(NetworkConfig(kind=kind), 1)
    for step in range(15):
        model.train_step([0.5] * 784, 3, step, 0.1)
    model.predict([0.5] * 784, 0)
print(time.perf_counter() - start)
"""


def first_steps(backend: str, cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(backend=backend)], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        wall = time.perf_counter()
        cold = first_steps("numba", cache)
        warm = first_steps("numba", cache)
        numpy_time = first_steps("numpy", cache)
    print("first 15 training steps of each kind + one prediction, fresh process (s):")
    print(f"  numba, cold cache (compiles every kernel): {cold:6.2f}")
    print(f"  numba, warm cache (loads compiled kernels): {warm:6.2f}")
    print(f"  numpy (no compilation), for comparison:     {numpy_time:6.2f}")
    print(f"  (whole measurement {time.perf_counter() - wall:.1f} s)")


if __name__ == "__main__":
    main()
