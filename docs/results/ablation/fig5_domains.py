"""Fig. 5's drops per noise domain: a table with 95 % intervals over the seeds, and the figure with the paper's
points.

    python docs/results/ablation/fig5_domains.py RUN_DIR... [--figure PATH_WITHOUT_SUFFIX]

Each RUN_DIR is a float or memristive run directory (its name says which) evaluated with ``stochmem evaluate``
in both noise domains (see index.md); the script reads their evaluations.json. The paper states drops at
sigma_i^2 = 0.2, not accuracies: its points are drawn at our noise-free mean minus its drop.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from stochmem.reproduce import load_experiment
from stochmem.statistics import interval

VARIANCES = (0.0, 0.01, 0.1, 0.2)
DOMAIN_NAMES = {"pixels": "pixels in [0, 1] (as the paper states)", "standardised": "standardised inputs"}


def paper_drops() -> dict[str, float]:
    """The paper's drop at the largest variance per reading, as the shipped fig5-domains experiment states them."""
    drops = {}
    for run in load_experiment("fig5-domains").runs:
        for bl, drop in zip(run.read_bl, run.paper_drop):
            drops["float" if bl == 0 else f"memristive, BL={bl}"] = drop
    return drops


PAPER_DROP = paper_drops()


def accuracies(runs: list[Path]) -> dict[tuple[str, str], dict[float, list[float]]]:
    """(domain, reading) -> variance -> the per-seed mean accuracies (%)."""
    rows: dict[tuple[str, str], dict[float, list[float]]] = {}
    for run in runs:
        network = "float" if "float" in run.name else "memristive"
        for e in json.loads((run / "evaluations.json").read_text()):
            reading = "float" if network == "float" else f"memristive, BL={e['bit_length']}"
            rows.setdefault((e["noise_domain"], reading), {}).setdefault(e["noise_variance"], []).append(
                100 * e["mean_accuracy"])
    return rows


def table(rows: dict[tuple[str, str], dict[float, list[float]]]) -> None:
    print("| noise domain | network, read with | " + " | ".join(f"σ²={v:g}" for v in VARIANCES)
          + " | drop at 0.2 (points) | paper's drop |")
    print("| --- | --- |" + " ---: |" * (len(VARIANCES) + 2))
    for (domain, reading), by_variance in sorted(rows.items()):
        cells = [interval(by_variance[v]).describe() for v in VARIANCES]
        drops = [a - b for a, b in zip(by_variance[0.0], by_variance[0.2])]
        print(f"| {domain} | {reading} | " + " | ".join(cells) + f" | {interval(drops).describe()} | "
              f"{PAPER_DROP[reading]:g} |")


def figure(rows: dict[tuple[str, str], dict[float, list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    domains = sorted({domain for domain, _ in rows})
    fig, axes = plt.subplots(1, len(domains), figsize=(5.2 * len(domains), 4.2), sharey=True)
    for ax, domain in zip(axes, domains):
        for reading in PAPER_DROP:
            by_variance = rows[(domain, reading)]
            figures = [interval(by_variance[v]) for v in VARIANCES]
            drawn = ax.errorbar(VARIANCES, [f.mean for f in figures],
                                yerr=[(f.high - f.low) / 2 for f in figures], marker="o", capsize=3, label=reading)
            ax.plot(VARIANCES[-1], figures[0].mean - PAPER_DROP[reading], "*", markersize=13,
                    color=drawn.lines[0].get_color(), markeredgecolor="k")
        ax.set_title(f"variances read for {DOMAIN_NAMES.get(domain, domain)}", fontsize="medium")
        ax.set_xlabel("input noise variance $\\sigma_i^2$")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].plot([], [], "*", color="grey", markeredgecolor="k", markersize=13,
                 label="paper: ours at 0 minus its drop")
    axes[0].legend(fontsize="small")
    fig.suptitle(f"Fig. 5 per noise domain: mean and 95 % CI over {len(next(iter(rows.values()))[0.0])} seeds",
                 fontsize="medium")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        fig.savefig(path.with_suffix(f".{suffix}"), bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--figure", type=Path, help="write PATH.png and PATH.svg")
    args = parser.parse_args()
    rows = accuracies(args.runs)
    table(rows)
    if args.figure:
        figure(rows, args.figure)


if __name__ == "__main__":
    main()
