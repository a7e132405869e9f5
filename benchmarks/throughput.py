"""Training and inference throughput of every backend, a frozen baseline and this machine's floor, side by side.

    python benchmarks/throughput.py [--images N] [--backends numba,numpy,reference] [--threads 1,all]
                                    [--baseline REV | --no-baseline] [--rounds 3] [--data-dir DIR]

Measures images/s at batch size 1 on the paper's 784-256-128-10 network, real MNIST test digits read the way
training reads them (the backend's ``read_image``), for float, stochastic (BL=10) and memristive (BL=10,
sigma=0.1B) training, and inference at BL=10 and BL=100.

- Every (backend, thread count) is measured in a fresh process (``$STOCHMEM_THREADS`` set for it), one after
  another, so that no measurement shares the CPU with another.
- ``--baseline REV`` (default: the last revision before the kernels were restructured) measures the numba backend
  of git revision REV beside today's: its ``stochmem_numba`` package is extracted with ``git archive`` into a
  temporary folder that comes first on ``PYTHONPATH`` (its compile cache is its own: it hashes its own source).
- Each figure is the best of five timed passes after a warm-up pass (the best, not the mean: on a shared machine
  the noise only ever slows a pass down), and the best over ``--rounds`` rounds: each round measures every
  column once, today's numba and the baseline's one after the other, so that a slow spell of the machine (on
  the 2-core development VM the speed of whole minutes drifted by 30 % and more) reaches both sides of a ratio.
  The reference is timed on fewer images (it is slow by design) and in the first round only.
- The last block is the one-core floor of ``benchmarks/machine_limit.py`` for memristive training, priced in
  every round (the fastest round's floor is the one quoted: the most demanding), and beside it the same floor
  with every byte at the cache's bandwidth (as it was priced before the reset's bytes were priced at the state's
  size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BASELINE = "fc07842"  # numba kernels before the restructuring of issue 14 (streams drawn one value at a time)
ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("train float", "train stochastic BL=10", "train memristive BL=10 s=0.1B", "infer memristive BL=10",
             "infer memristive BL=100")


def best_rate(run: Callable[[int], None], count: int, passes: int = 5, compiled: Callable[[], None] = lambda: None
              ) -> float:
    """Images/s of the fastest of ``passes`` timed passes over ``count`` images, after a warm-up pass and
    ``compiled()`` (which returns once the model runs compiled code only)."""
    run(min(count, 20))
    compiled()
    fastest = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        run(count)
        fastest = min(fastest, time.perf_counter() - start)
    return count / fastest


def measure(backend_name: str, data_dir: str | None, images: int) -> dict[str, float]:
    """Images/s of every workload of one backend, in this process."""
    from stochmem.backend_api import image_reader
    from stochmem.config import DeviceParams, NetworkConfig
    from stochmem.data import load_split, resolve_data_dir
    from stochmem.plugins import default_host

    configs = {
        "float": NetworkConfig(kind="float"),
        "stochastic BL=10": NetworkConfig(kind="stochastic", bit_length=10),
        "memristive BL=10 s=0.1B": NetworkConfig(kind="memristive", bit_length=10, device=DeviceParams(sigma=0.1)),
    }
    backend = default_host().get(backend_name)
    data = load_split(Path(resolve_data_dir(data_dir)), "test")
    read = image_reader(backend)
    pixels = [read(data, k) for k in range(images)]
    labels = [data.label(k) for k in range(images)]
    figures: dict[str, float] = {}
    for label, config in configs.items():
        model = backend.create_model(config, 1)

        def train(count: int, model=model) -> None:
            for k in range(count):
                model.train_step(pixels[k], labels[k], k, 0.1)

        # a cold numba run trains with interpreted twins while a helper compiles the step: time compiled code only
        compiled = getattr(model, "wait_until_compiled", lambda: None)
        figures[f"train {label}"] = best_rate(train, images, compiled=compiled)
        if config.kind == "memristive":
            for bl in (10, 100):
                def infer(count: int, model=model, bl=bl) -> None:
                    for k in range(count):
                        model.predict(pixels[k], k, 0, bl)

                figures[f"infer memristive BL={bl}"] = best_rate(infer, images)
    return figures


def extract_baseline(revision: str, folder: Path) -> Path:
    """``backends/numba`` of git revision ``revision``, extracted under ``folder``; returns its import root."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "backends/numba/stochmem_numba"],
                             capture_output=True, check=True).stdout
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "backends" / "numba"


def measure_in_process(backend: str, threads: str, args: argparse.Namespace, import_root: Path | None = None
                       ) -> dict[str, float]:
    """:func:`measure` in a fresh process with ``$STOCHMEM_THREADS=threads`` (unset for "all": the default)."""
    env = dict(os.environ)
    env.pop("STOCHMEM_THREADS", None)
    if threads != "all":
        env["STOCHMEM_THREADS"] = threads
    if import_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(import_root), env.get("PYTHONPATH")]))
    count = args.reference_images if backend == "reference" else args.images
    command = [sys.executable, __file__, "--measure", backend, "--images", str(count)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if import_root is not None:
        command += ["--expect-root", str(import_root)]
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"measuring {backend} (threads {threads}) failed:\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def floor_rates(args: argparse.Namespace) -> tuple[float, float]:
    """The one-core floor of memristive training (images/s) from ``benchmarks/machine_limit.py``, and the same
    with every byte at the cache's bandwidth."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import machine_limit

    floor, every_byte_cached = machine_limit.floor_microseconds(200, args.data_dir)
    return 1e6 / floor, 1e6 / every_byte_cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="images per timed pass (fast backends)")
    parser.add_argument("--reference-images", type=int, default=20, help="images per timed pass (reference)")
    parser.add_argument("--backends", default=None, help="comma-separated; default: every available backend")
    parser.add_argument("--threads", default="1,all", help="comma-separated thread counts; 'all' is the default")
    parser.add_argument("--baseline", default=BASELINE, help="git revision whose numba backend is measured too")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of measurements, alternating the columns")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--expect-root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        if args.expect_root:
            import stochmem_numba

            if not Path(stochmem_numba.__file__).resolve().is_relative_to(Path(args.expect_root).resolve()):
                sys.exit(f"the baseline did not load: stochmem_numba came from {stochmem_numba.__file__}")
        print(json.dumps(measure(args.measure, args.data_dir, args.images)))
        return

    from stochmem.plugins import default_host

    names = args.backends.split(",") if args.backends else [e.name for e in default_host().entries() if e.load]
    threads = args.threads.split(",")
    columns: dict[str, dict[str, float]] = {}
    floors = (0.0, 0.0)
    with tempfile.TemporaryDirectory() as folder:
        baseline_root = None
        if not args.no_baseline and "numba" in names:
            baseline_root = extract_baseline(args.baseline, Path(folder))
        for round_ in range(args.rounds):
            for name in names:
                if name == "reference" and round_ > 0:
                    continue
                for count in ["1"] if name == "reference" else threads:
                    versions = {f"{name} t={count}": None}
                    if name == "numba" and baseline_root is not None:
                        versions[f"numba@{args.baseline} t={count}"] = baseline_root
                    for column, root in versions.items():
                        figures = measure_in_process(name, count, args, root)
                        best = columns.setdefault(column, figures)
                        columns[column] = {w: max(best[w], figures[w]) for w in figures}
            floors = max(floors, floor_rates(args))  # the fastest round's prices: the most demanding floor
            print(f"measured round {round_ + 1} of {args.rounds}", flush=True)
    print_table(columns, floors)


def print_table(columns: dict[str, dict[str, float]], floors: tuple[float, float]) -> None:
    """A Markdown table: images/s per column, then today's numba over the baseline, and numba against the floor
    (and against the floor with every byte at the cache's bandwidth)."""
    names = list(columns)
    ratios = [(a, b) for a in names for b in names if a.startswith("numba t=") and b.startswith("numba@")
              and a.split(" ")[1] == b.split(" ")[1]]
    header = ["images/s", *names, *(f"{a.split(' ')[1]}: new/old" for a, _ in ratios)]
    print("\n| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    for workload in WORKLOADS:
        values = [columns[n][workload] for n in names]
        cells = [f"{v:.1f}" if v < 100 else f"{v:.0f}" for v in values]
        cells += [f"{columns[a][workload] / columns[b][workload]:.2f}" for a, b in ratios]
        print(f"| {workload} | " + " | ".join(cells) + " |")
    floor, every_byte_cached = floors
    print(f"\none-core floor of memristive training (benchmarks/machine_limit.py): {floor:.0f} images/s "
          f"(every byte at the cache's bandwidth: {every_byte_cached:.0f})")
    for name in names:
        if name.startswith("numba"):
            rate = columns[name]["train memristive BL=10 s=0.1B"]
            print(f"  {name}: {rate / floor:.1%} of the one-core floor ({rate / every_byte_cached:.1%})")


if __name__ == "__main__":
    main()
