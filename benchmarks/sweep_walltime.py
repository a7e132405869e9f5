"""Wall time of one sweep on a one-worker and on a two-worker local Dask cluster, side by side, and that both give
the same figures.

    python benchmarks/sweep_walltime.py [--experiment fig4] [--seeds 1,2,3] [--set epochs=1 ...] [--data-dir DIR]

Each configuration runs ``stochmem reproduce`` in a fresh process into a fresh temporary folder (nothing resumed),
one after the other; the wall time includes starting the cluster and its workers (and, in each new worker
process, loading the compiled kernels from the cache: run once beforehand so that it is warm).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SETTINGS = ["epochs=1", "train_size=10000", "test_size=10000"]


def reproduce(out: Path, workers: int, args: argparse.Namespace) -> float:
    """Seconds of one ``stochmem reproduce`` on ``workers`` local worker processes."""
    command = [sys.executable, "-m", "stochmem.cli", "reproduce", args.experiment, "--set", f"seeds={args.seeds}",
               "--workers", str(workers), "--out", str(out), "--quiet"]
    for setting in args.settings or DEFAULT_SETTINGS:
        command += ["--set", setting]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def figures(out: Path, experiment: str) -> list[tuple[str, list[float]]]:
    summary = json.loads((out / experiment / "summary.json").read_text())
    return [(row["label"], row["test_accuracy"]) for row in summary["runs"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="fig4")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help=f"settings of every run (default: {' '.join(DEFAULT_SETTINGS)})")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        times, results = {}, {}
        for workers in (1, 2):
            out = Path(folder) / f"workers-{workers}"
            times[workers] = reproduce(out, workers, args)
            results[workers] = figures(out, args.experiment)
            print(f"{workers} worker(s): {times[workers]:.1f} s", flush=True)
    runs = len(results[1])
    print(f"\n{args.experiment}, seeds {args.seeds}, {' '.join(args.settings or DEFAULT_SETTINGS)}: {runs} runs")
    print("| local cluster | wall time (s) | runs/minute | speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for workers, seconds in times.items():
        print(f"| {workers} worker{'s' if workers > 1 else ''} | {seconds:.1f} | {60 * runs / seconds:.1f} | "
              f"{times[1] / seconds:.2f} |")
    print("identical figures on 1 and 2 workers:", results[1] == results[2])


if __name__ == "__main__":
    main()
