"""Fig. 5's drops per noise domain, as a table with 95 % intervals over the seeds.

Run in a folder holding copies of the float and sigma = 0.1B run directories of the three-seed study
(docs/results/seeds-5-epochs), each evaluated with `stochmem evaluate` (see index.md): it reads their
evaluations.json.
"""
from __future__ import annotations

import json
from pathlib import Path

from stochmem.statistics import interval

rows: dict[tuple[str, str], dict[float, list[float]]] = {}
for run in sorted(Path(".").glob("fig*_seed_*")):
    network = "float" if "float" in run.name else "memristive"
    for e in json.loads((run / "evaluations.json").read_text()):
        reading = "float" if network == "float" else f"memristive, BL={e['bit_length']}"
        rows.setdefault((e["noise_domain"], reading), {}).setdefault(e["noise_variance"], []).append(
            100 * e["mean_accuracy"])
print("| noise domain | network, read with | σ²=0 | σ²=0.01 | σ²=0.1 | σ²=0.2 | drop at 0.2 (points) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for (domain, reading), by_variance in sorted(rows.items()):
    cells = [interval(by_variance[v]).describe() for v in (0.0, 0.01, 0.1, 0.2)]
    drops = [a - b for a, b in zip(by_variance[0.0], by_variance[0.2])]
    print(f"| {domain} | {reading} | " + " | ".join(cells) + f" | {interval(drops).describe()} |")
