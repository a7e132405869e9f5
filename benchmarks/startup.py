"""Start-up cost of the numba backend, today's against a baseline revision, side by side: the time from a fresh
process to the end of its first training step, with a cold compile cache (every kernel the run needs compiled)
and a warm one (loaded from the cache), for each kind; then the first 15 steps (through the first reset), the
first prediction, and the moment the compiled step and prediction run ("compiled": until then a cold run with a
helper calls their interpreted twins). Today's code runs twice: as a user runs it (all the process's threads: on
two cores or more a helper process compiles part of a cold step's kernels, then the step, while the run trains:
:mod:`stochmem_numba.precompile`) and on one thread (``$STOCHMEM_THREADS=1``: no helper), which shows what the
helper is worth.

    python benchmarks/startup.py [--kinds memristive,stochastic,float] [--baseline REV | --no-baseline]
                                 [--rounds 2]

Each figure is the best of ``--rounds`` fresh processes, today's and the baseline's alternating, each cold run with
an empty ``$NUMBA_CACHE_DIR`` of its own (compilation is single-threaded: the best of a few runs is what a quiet
machine gives). The baseline is extracted as in ``benchmarks/throughput.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from throughput import BASELINE, extract_baseline

ONE_THREAD = "today, one thread"

PROGRAM = """
import json, sys, time
start = time.perf_counter()
from stochmem.config import NetworkConfig
from stochmem.plugins import get_backend
model = get_backend("numba").create_model(NetworkConfig(kind=sys.argv[1]), 1)
marks = {"ready": time.perf_counter() - start}
model.train_step([0.5] * 784, 3, 0, 0.1)
marks["first step"] = time.perf_counter() - start
precompile = sys.modules.get("stochmem_numba.precompile")  # absent from revisions before the helper
helped = bool(precompile and precompile._helpers)  # a helper started (and did not fail) for the first step
for step in range(1, 15):
    model.train_step([0.5] * 784, 3, step, 0.1)
marks["15 steps"] = time.perf_counter() - start
model.predict([0.5] * 784, 0)
marks["+ predict"] = time.perf_counter() - start
getattr(model, "wait_until_compiled", lambda: None)()  # absent from revisions without interpreted twins
marks["compiled"] = time.perf_counter() - start
print(json.dumps({"marks": marks, "helped": helped}))
"""


def run(kind: str, cache_dir: str, import_root: Path | None, threads: str | None) -> tuple[dict[str, float], bool]:
    """The marks of one fresh process (seconds since it started), on ``threads`` threads (None: the default), and
    whether a compile helper ran."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    if threads is not None:
        env["STOCHMEM_THREADS"] = threads
    if import_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(import_root), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", PROGRAM, kind], env=env, capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["marks"], bool(result["helped"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="memristive,stochastic,float")
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        versions: dict[str, tuple[Path | None, str | None]] = {"today": (None, None), ONE_THREAD: (None, "1")}
        if not args.no_baseline:
            versions[args.baseline] = (extract_baseline(args.baseline, Path(folder) / "baseline"), None)
        best: dict[tuple[str, str, str], dict[str, float]] = {}
        helpers: dict[tuple[str, str, str], set[bool]] = {}
        for kind in args.kinds.split(","):
            for round_ in range(args.rounds):
                for number, (version, (root, threads)) in enumerate(versions.items()):
                    cache = Path(folder) / f"cache-{number}-{kind}-{round_}"
                    for state in ("cold", "warm"):
                        marks, helped = run(kind, str(cache), root, threads)
                        key = (kind, version, state)
                        helpers.setdefault(key, set()).add(helped)
                        best[key] = {m: min(v, best.get(key, {}).get(m, v)) for m, v in marks.items()}
                print(f"measured {kind}, round {round_ + 1}", flush=True)
    print("\nseconds from a fresh process (best of", args.rounds, "rounds)")
    print("| kind | version | cache | helper | ready | first step | 15 steps | + predict | compiled |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (kind, version, state), marks in best.items():
        helped = {frozenset({True}): "yes", frozenset({False}): "no"}.get(frozenset(helpers[(kind, version, state)]),
                                                                           "some rounds")
        print(f"| {kind} | {version} | {state} | {helped} | " + " | ".join(f"{marks[m]:.2f}" for m in marks) + " |")
    if not args.no_baseline:
        for kind in args.kinds.split(","):
            before = best[(kind, args.baseline, "cold")]["first step"]
            today, alone = best[(kind, "today", "cold")]["first step"], best[(kind, ONE_THREAD, "cold")]["first step"]
            print(f"{kind}: cold first step {today / before:.2f} of the baseline's"
                  f" ({ONE_THREAD}: {alone / before:.2f}); compiled step and prediction"
                  f" {best[(kind, 'today', 'cold')]['compiled'] / best[(kind, args.baseline, 'cold')]['compiled']:.2f}")


if __name__ == "__main__":
    main()
