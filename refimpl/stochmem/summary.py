"""A reproduction's summary: every run's figures, and every setting's seeds as means with confidence intervals.

``summary.json`` holds both levels (``runs``: one row per run; ``settings``: one per group of runs that differ in
their seed alone, with :class:`stochmem.statistics.Interval` figures), ``summary.md`` the tables, and the figure
(PNG and SVG, when matplotlib is installed) draws each setting's mean with its interval as error bars.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stochmem import rundir
from stochmem.parameters import BY_NAME
from stochmem.statistics import Interval, interval

if TYPE_CHECKING:
    from stochmem.reproduce import Experiment, Run


def run_row(run: Run, outcome: Mapping[str, Any]) -> dict[str, Any]:
    """One run's figures (accuracies in %)."""
    accuracies = [100 * (r["test_accuracy"] or 0.0) for r in outcome["results"]]
    row: dict[str, Any] = {
        "label": run.label, "setting": run.setting or run.label, "seed": run.spec.seed, "spec": run.spec.to_json(),
        "paper": run.paper, "max_test_accuracy": max(accuracies), "final_test_accuracy": accuracies[-1],
        "test_accuracy": accuracies, "train_error": [100 * r["train_error"] for r in outcome["results"]],
        "seconds": sum(r["seconds"] for r in outcome["results"]),
    }
    if outcome["evaluations"]:
        noisy = {}
        for k, (bit_length, evaluation) in enumerate(outcome["evaluations"].items()):
            means = [100 * e["mean_accuracy"] for e in evaluation]
            noisy[bit_length] = {"variances": [e["noise_variance"] for e in evaluation], "mean": means,
                                 "std": [100 * e["std_accuracy"] for e in evaluation],
                                 "drop": means[0] - means[-1],
                                 "paper_drop": run.paper_drop[k] if k < len(run.paper_drop) else None}
        row["noisy"] = noisy
    return row


def setting_row(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed statistics of the runs ``rows`` of one setting."""
    first = rows[0]
    epochs = len(first["test_accuracy"])
    setting: dict[str, Any] = {
        "setting": name, "runs": [row["label"] for row in rows], "seeds": [row["seed"] for row in rows],
        "spec": first["spec"], "paper": first["paper"],
        "best": interval([row["max_test_accuracy"] for row in rows]).to_json(),
        "final": interval([row["final_test_accuracy"] for row in rows]).to_json(),
        "test_accuracy": [interval([row["test_accuracy"][e] for row in rows]).to_json() for e in range(epochs)]
        if all(len(row["test_accuracy"]) == epochs for row in rows) else [],
        "train_error": [interval([row["train_error"][e] for row in rows]).to_json() for e in range(epochs)]
        if all(len(row["train_error"]) == epochs for row in rows) else [],
        "seconds": sum(row["seconds"] for row in rows),
    }
    if "noisy" in first:
        setting["noisy"] = {
            bit_length: {"variances": data["variances"], "paper_drop": data["paper_drop"],
                         "mean": [interval([row["noisy"][bit_length]["mean"][v] for row in rows]).to_json()
                                  for v in range(len(data["variances"]))],
                         # the spread over the noise repeats (the only spread one seed has), averaged over seeds
                         "repeat_std": [sum(row["noisy"][bit_length]["std"][v] for row in rows) / len(rows)
                                        for v in range(len(data["variances"]))],
                         "drop": interval([row["noisy"][bit_length]["drop"] for row in rows]).to_json()}
            for bit_length, data in first["noisy"].items()}
    return setting


def summarise(experiment: Experiment, outcomes: Mapping[str, Mapping[str, Any]],
              failures: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The summary of the finished runs (``outcomes`` by label) and the failed ones (``failures``: messages)."""
    rows = [run_row(run, outcomes[run.label]) for run in experiment.runs if run.label in outcomes]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["setting"], []).append(row)
    return {"experiment": experiment.name, "version": experiment.version, "title": experiment.title,
            "noise_domain": experiment.noise_domain, "runs": rows,
            "settings": [setting_row(name, group) for name, group in groups.items()],
            "failed": dict(failures or {})}


def cell(figure: Mapping[str, Any]) -> str:
    """An interval's table cell: ``mean ± half-width`` (95 % CI), the bare mean for one seed."""
    value = Interval(**figure) if figure.get("std") is not None else None
    return value.describe() if value is not None else f"{figure['mean']:.2f}"


def markdown(experiment: Experiment, summary: Mapping[str, Any]) -> list[str]:
    """The lines of ``summary.md``."""
    settings = summary["settings"]
    several = any(len(s["seeds"]) > 1 for s in settings)
    lines = [f"# {experiment.title}", ""]
    if several:
        lines += ["Each setting: the mean over its seeds ± the half-width of the 95 % confidence interval of the mean "
                  "(Student t). *Best epoch* is the maximum test accuracy over epochs, as the paper reports it "
                  "(optimistic: the epoch is chosen on the test set); *final* is after the last epoch.", ""]
    lines += ["| setting | seeds | paper (%) | ours, best epoch (%) | ours, final (%) | epochs | time (s) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in settings:
        paper = f"{s['paper']:.2f}" if s["paper"] is not None else "–"
        lines.append(f"| {s['setting']} | {len(s['seeds'])} | {paper} | {cell(s['best'])} | {cell(s['final'])} | "
                     f"{len(s['test_accuracy'])} | {s['seconds']:.0f} |")
    noisy = [(s, bl, data) for s in settings for bl, data in s.get("noisy", {}).items()]
    if noisy:
        variances = noisy[0][2]["variances"]
        lines += ["", f"Input noise variances σ² of {experiment.noise_domain} inputs ([SPEC 5.4]).",
                  "", "| setting, read with | " + " | ".join(f"σ²={v:g}" for v in variances)
                  + " | drop (points) | paper drop |", "| --- |" + " ---: |" * (len(variances) + 2)]
        for s, bl, data in noisy:
            reading = "float" if bl == "0" else f"BL={bl}"
            paper_drop = f"{data['paper_drop']:.2f}" if data["paper_drop"] is not None else "–"
            cells = [cell(m) if len(s["seeds"]) > 1 else f"{m['mean']:.2f} ± {std:.2f}"
                     for m, std in zip(data["mean"], data["repeat_std"])]
            lines.append(f"| {s['setting']}, {reading} | " + " | ".join(cells)
                         + f" | {cell(data['drop'])} | {paper_drop} |")
        if any(len(s["seeds"]) == 1 for s, _bl, _data in noisy):
            lines += ["", f"With one seed, ± is the standard deviation over the {experiment.repeats} repeats of the "
                      "input noise; with several, the half-width of the 95 % confidence interval over the seeds."]
    if several:
        lines += ["", "Every run:", "", "| run | seed | best epoch (%) | final (%) |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {r['label']} | {r['seed']} | {r['max_test_accuracy']:.2f} | {r['final_test_accuracy']:.2f} |"
                  for r in summary["runs"]]
    if summary["failed"]:
        lines += ["", "Failed runs (run the same command again once the cause is fixed):", ""]
        lines += [f"- {label}: {message}" for label, message in summary["failed"].items()]
    return lines


def write_summary(base: Path, experiment: Experiment, summary: dict[str, Any]) -> None:
    """summary.json, summary.md (paper vs ours) and the figure (PNG and SVG) when matplotlib is installed."""
    rundir.write_json(base / "summary.json", summary)
    lines = markdown(experiment, summary)
    try:
        if summary["settings"]:
            plot(base, experiment, summary)
            lines += ["", f"![{experiment.name}]({experiment.name}.png)"]
    except ImportError:
        rundir.write_atomically(base / "PLOTS-MISSING.txt", b"install matplotlib to draw the figures\n")
    rundir.write_atomically(base / "summary.md", ("\n".join(lines) + "\n").encode())


def error_bar(figure: Mapping[str, Any]) -> float:
    """An interval's half-width for an error bar (0 for one seed)."""
    return (figure["high"] - figure["low"]) / 2 if figure.get("high") is not None else 0.0


def same_value(recorded: Any, default: Any) -> bool:
    """Whether a spec's value (read from JSON: lists) equals a parameter's default (tuples)."""
    return bool(tuple(recorded) == tuple(default) if isinstance(recorded, list) else recorded == default)


def sigma_curves(settings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The settings as curves over the programming noise: settings whose specs differ in sigma alone share a curve
    (sorted by sigma), named by the parameters in which its spec differs from the defaults, among those that vary
    between curves ("as specified" where none does)."""
    curves: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
    for s in settings:
        key = tuple(sorted((name, repr(value)) for name, value in s["spec"].items() if name not in ("sigma", "seed")))
        curves.setdefault(key, []).append(s)
    varying = {name for key in curves for name, value in key if any((name, value) not in other for other in curves)}
    named = []
    for members in curves.values():
        spec = members[0]["spec"]
        changed = [f"{name}={spec[name]}" for name in sorted(varying)
                   if name not in BY_NAME or not same_value(spec[name], BY_NAME[name].default)]
        named.append((", ".join(changed) or "as specified", sorted(members, key=lambda s: s["spec"]["sigma"])))
    return named


def plot(base: Path, experiment: Experiment, summary: dict[str, Any]) -> None:
    """The experiment's figure: error bars are 95 % confidence intervals over seeds (none for one seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    settings = summary["settings"]
    seeds = max(len(s["seeds"]) for s in settings)
    bars = f"\n(error bars: 95 % CI over {seeds} seeds)" if seeds > 1 else ""
    if seeds == 1 and any("noisy" in s for s in settings):
        bars = f"\n(error bars: sd over {experiment.repeats} noise repeats)"
    if any("noisy" in s for s in settings):
        for s in settings:
            for bl, data in s.get("noisy", {}).items():
                label = s["setting"] + ("" if bl == "0" else f", read BL={bl}")
                spread = ([error_bar(m) for m in data["mean"]] if len(s["seeds"]) > 1 else data["repeat_std"])
                means = [m["mean"] for m in data["mean"]]
                drawn = ax.errorbar(data["variances"], means, yerr=spread, marker="o", capsize=3, label=label)
                if data["paper_drop"] is not None:  # the paper states drops, not accuracies: anchor at ours
                    ax.plot(data["variances"][-1], means[0] - data["paper_drop"], "*", markersize=13,
                            color=drawn.lines[0].get_color(), markeredgecolor="k",
                            label=f"paper: ours at 0 minus its drop of {data['paper_drop']:g}")
        ax.set_xlabel("input noise variance $\\sigma_i^2$")
        ax.set_ylabel("test accuracy (%)")
    elif all(s["spec"]["kind"] == "memristive" for s in settings) and len({s["spec"]["sigma"] for s in settings}) > 1:
        for label, curve in sigma_curves(settings):
            sigmas = [s["spec"]["sigma"] for s in curve]
            best = ax.errorbar(sigmas, [s["best"]["mean"] for s in curve], yerr=[error_bar(s["best"]) for s in curve],
                               marker="o", capsize=3, label=f"{label}: best epoch")
            ax.errorbar(sigmas, [s["final"]["mean"] for s in curve], yerr=[error_bar(s["final"]) for s in curve],
                        marker="s", capsize=3, linestyle="--", color=best.lines[0].get_color(), alpha=0.6,
                        label=f"{label}: final epoch")
        reported = [(s["spec"]["sigma"], s["paper"]) for s in settings if s["paper"] is not None]
        if reported:
            ax.plot(*zip(*reported), "k*", markersize=12, label="paper")
        ax.set_xlabel("programming noise $\\sigma/B$")
        ax.set_ylabel("test accuracy (%)")
    else:
        for s in settings:
            if not s["train_error"]:
                continue
            epochs = range(1, len(s["train_error"]) + 1)
            means = [e["mean"] for e in s["train_error"]]
            (line,) = ax.plot(epochs, means, "o-", label=f"{s['setting']} (test, best {cell(s['best'])} %)")
            if len(s["seeds"]) > 1:
                ax.fill_between(epochs, [e["low"] for e in s["train_error"]], [e["high"] for e in s["train_error"]],
                                color=line.get_color(), alpha=0.2)
            if s["paper"] is not None:
                ax.axhline(100 - s["paper"], color=line.get_color(), linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training error (%)   (dotted: paper's test error)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
        bars = bars.replace("error bars", "shaded")
    ax.set_title(textwrap.fill(experiment.title, 70) + bars, fontsize="medium")
    if len(ax.get_legend_handles_labels()[1]) > 6:  # beside the axes: inside, it would cover the curves
        fig.set_size_inches(9.5, 4.2)
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    else:
        ax.legend(fontsize="small")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        fig.savefig(base / f"{experiment.name}.{suffix}", bbox_inches="tight")
    plt.close(fig)
