"""Does the numba backend survive a busy machine? Memristive training throughput under four scenarios, for each
thread setting, side by side in one run.

    python benchmarks/contention.py [--images 3000] [--settings default,1,2] [--data-dir DIR]

Scenarios (every training process is a fresh interpreter with a warm compile cache):

- ``alone``: one training process on an otherwise idle machine;
- ``beside a busy process``: one training process while one CPU-bound process spins on a core;
- ``two runs at once``: two training processes started together (the rate is the slower one's);
- ``reproduce --workers 2``: two training processes, each told it is one of two workers (``STOCHMEM_WORKERS=2``),
  as ``stochmem reproduce --workers 2`` starts them.

A setting is a thread count (``1``, ``2``) passed as ``STOCHMEM_THREADS``, or ``default``: what the backend
chooses when nothing is set. Each setting may carry a numba threading layer after a colon (``2:omp``,
``2:workqueue``) to compare layers; without one the backend's own choice is used. The last column divides the
default's rate by the best setting's rate in that scenario: the default should never be far below 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import sys, time
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.plugins import get_backend
from stochmem.data import load_split
from stochmem.embedded import embedded_split
images = int(sys.argv[1])
data = load_split(__import__("pathlib").Path(sys.argv[2]), "train") if sys.argv[2] else embedded_split()[0]
pixels = [data.image(k % len(data)) for k in range(images)]
labels = [data.label(k % len(data)) for k in range(images)]
model = get_backend("numba").create_model(NetworkConfig(kind="memristive", device=DeviceParams(sigma=0.1)), 1)
for k in range(20):  # compile (or load from the cache) and warm up
    model.train_step(pixels[k], labels[k], k, 0.1)
start = time.perf_counter()
for k in range(images):
    model.train_step(pixels[k], labels[k], k, 0.1)
print(images / (time.perf_counter() - start))
"""

SCENARIOS = ("alone", "beside a busy process", "two runs at once", "reproduce --workers 2")


def child_env(setting: str, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STOCHMEM_THREADS", "NUMBA_THREADING_LAYER",
                                                           "NUMBA_NUM_THREADS", "OMP_WAIT_POLICY")}
    threads, _, layer = setting.partition(":")
    if threads != "default":
        env["STOCHMEM_THREADS"] = threads
    if layer:
        env["NUMBA_THREADING_LAYER"] = layer
    if workers > 1:
        env["STOCHMEM_WORKERS"] = str(workers)
    return env


def run(scenario: str, setting: str, images: int, data_dir: str) -> float:
    """Images/s of the slowest training process of ``scenario`` under ``setting``."""
    runs = 2 if scenario in ("two runs at once", "reproduce --workers 2") else 1
    workers = 2 if scenario == "reproduce --workers 2" else 1
    busy = None
    if scenario == "beside a busy process":
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
    try:
        children = [subprocess.Popen([sys.executable, "-c", CHILD, str(images), data_dir],
                                     env=child_env(setting, workers), stdout=subprocess.PIPE, text=True)
                    for _ in range(runs)]
        rates = []
        for child in children:
            out, _ = child.communicate(timeout=1800)
            if child.returncode != 0:
                raise SystemExit(f"a training process failed under setting {setting!r} ({scenario})")
            rates.append(float(out.strip().splitlines()[-1]))
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    return min(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--settings", default="default,1,2", help="comma-separated: default, 1, 2, 2:omp, ...")
    parser.add_argument("--data-dir", default="", help="real MNIST (default: the embedded digits)")
    args = parser.parse_args()
    settings = args.settings.split(",")
    if "default" not in settings:
        settings.insert(0, "default")
    run("alone", "default", 50, args.data_dir)  # fills the compile cache before anything is timed
    print(f"memristive BL=10 training, images/s of the slowest process, {args.images} images, "
          f"{os.cpu_count()} CPUs, {Path(sys.executable).name} {sys.version.split()[0]}")
    print(f"{'scenario':<24}" + "".join(f"{s:>13}" for s in settings) + f"{'default/best':>14}")
    for scenario in SCENARIOS:
        rates = {setting: run(scenario, setting, args.images, args.data_dir) for setting in settings}
        best = max(rates.values())
        print(f"{scenario:<24}" + "".join(f"{rates[s]:13.0f}" for s in settings)
              + f"{rates['default'] / best:14.2f}", flush=True)


if __name__ == "__main__":
    main()
