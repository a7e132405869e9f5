"""What the process protocol costs the conformance suite: the same backend graded in-process and over the bridge
(``stochmem conform --exec "stochmem serve NAME"``), side by side in one run.

    python benchmarks/conform_bridge.py [--backend numpy] [--rounds 2] [--full]

Each round runs both, alternating, in fresh processes; the figure is the best wall time of each (the machine's
speed drifts, so only the ratio within one run means anything). Without ``--full`` the end-to-end tier is left
out (it dominates and is the same training loop either way, one request per image); with it, every tier runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", *args], capture_output=True,
                            text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"conform {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="every tier, the end-to-end one included")
    args = parser.parse_args()
    selection = [] if args.full else ["-m", "not end_to_end"]
    common = [*selection, "-q", "-p", "no:randomly"]
    served = f"{sys.executable} -m stochmem.cli serve {args.backend}"
    best = {"in-process": float("inf"), "over the bridge": float("inf")}
    for _ in range(args.rounds):
        best["in-process"] = min(best["in-process"], timed([args.backend, *common]))
        best["over the bridge"] = min(best["over the bridge"], timed(["--exec", served, *common]))
    tiers = "every tier" if args.full else "every tier but end_to_end"
    print(f"stochmem conform {args.backend}, {tiers}, best of {args.rounds} (wall time of the command)")
    print(f"{'path':<16} {'seconds':>8} {'ratio':>6}")
    for path, seconds in best.items():
        print(f"{path:<16} {seconds:8.1f} {seconds / best['in-process']:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
