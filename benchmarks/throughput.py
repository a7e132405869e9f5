"""Training and inference throughput of every registered backend, side by side in one run.

    python benchmarks/throughput.py [--images N] [--backends reference,numpy] [--data-dir DIR]

Measures images/s at batch size 1 on the paper's 784-256-128-10 network, real MNIST test digits as inputs, for
float, stochastic (BL=10) and memristive (BL=10, sigma=0.1B) training, and inference at BL=10 and BL=100.
Each figure is the median of three timed passes after one warm-up pass; ratios against the first backend
listed over each other backend are printed. The reference is timed on fewer images (it is slow by design).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.data import Dataset, load_split, resolve_data_dir
from stochmem.plugins import default_host

CONFIGS = {
    "float": NetworkConfig(kind="float"),
    "stochastic BL=10": NetworkConfig(kind="stochastic", bit_length=10),
    "memristive BL=10 s=0.1B": NetworkConfig(kind="memristive", bit_length=10, device=DeviceParams(sigma=0.1)),
}


def rate(run: Callable[[int], None], count: int, repeats: int = 3) -> float:
    run(min(count, 20))  # warm-up: caches, lazy imports, first-call costs
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(count)
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def measure(backend_name: str, data: Dataset, images: int) -> dict[str, float]:
    backend = default_host().get(backend_name)
    pixels = [data.image(k) for k in range(images)]
    labels = [data.label(k) for k in range(images)]
    figures: dict[str, float] = {}
    for label, config in CONFIGS.items():
        model = backend.create_model(config, 1)

        def train(count: int, model=model) -> None:
            for k in range(count):
                model.train_step(pixels[k], labels[k], k, 0.1)

        figures[f"train {label}"] = rate(train, images)
        if config.kind == "memristive":
            for bl in (10, 100):
                def infer(count: int, model=model, bl=bl) -> None:
                    for k in range(count):
                        model.predict(pixels[k], k, 0, bl)

                figures[f"infer memristive BL={bl}"] = rate(infer, images)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=600, help="images per timed pass (fast backends)")
    parser.add_argument("--reference-images", type=int, default=20, help="images per timed pass (reference)")
    parser.add_argument("--backends", default=None, help="comma-separated; default: every available backend")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    data = load_split(Path(resolve_data_dir(args.data_dir)), "test")
    host = default_host()
    names = args.backends.split(",") if args.backends else [e.name for e in host.entries() if e.load]
    results = {}
    for name in names:
        count = args.reference_images if name == "reference" else args.images
        results[name] = measure(name, data, count)
        print(f"measured {name} ({count} images per pass)", flush=True)
    rows = list(next(iter(results.values())))
    width = max(len(r) for r in rows)
    print(f"\n{'images/s':<{width}}  " + "  ".join(f"{n:>12}" for n in names)
          + "".join(f"  {names[0] + '/' + n:>16}" for n in names[1:]))
    for row in rows:
        values = [results[n][row] for n in names]
        print(f"{row:<{width}}  " + "  ".join(f"{v:12.1f}" for v in values)
              + "".join(f"  {values[0] / v:16.1f}" for v in values[1:]))


if __name__ == "__main__":
    main()
