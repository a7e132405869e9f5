"""Reproduce the paper's figures: named, versioned experiment configs run as independent runs, in parallel.

An experiment (``stochmem/experiments/<name>.toml``, or a user's file) lists runs that share ``[defaults]``;
``--set KEY=VALUE`` overrides a default for every run (the sweep's own variable stays per run). Each run is a
:class:`~stochmem.runs.RunSpec` trained in its own run directory, so an interrupted reproduction resumes where
it stopped, and the result of a run does not depend on how many worker processes ran the sweep.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from functools import partial
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from stochmem import rundir
from stochmem.backend_api import WORKERS_ENV
from stochmem.config import ConfigError
from stochmem.parameters import ALIASES, BY_NAME, parse_sizes, reject_unknown
from stochmem.runs import (
    RunSpec,
    evaluate_checkpoint,
    execute,
    prepare_resume,
    quiet,
    read_spec,
    recorded_data_dir,
)
from stochmem.schema import check_experiment
from stochmem.training import EpochResult

BUILTIN = ("fig3", "fig4", "fig5")
TOP_KEYS = {"name", "version", "title", "defaults", "runs", "evaluation"}
RUN_EXTRAS = {"label", "paper", "read_bl", "paper_drop"}

@dataclass(frozen=True)
class Run:
    label: str
    spec: RunSpec
    paper: float | None = None  #: the paper's reported test accuracy (%), where it gives one
    read_bl: tuple[int, ...] = ()  #: stream lengths for the noisy-input evaluation (0: the float network)
    paper_drop: tuple[float, ...] = ()  #: the paper's accuracy drop at the largest noise, per read_bl


@dataclass(frozen=True)
class Experiment:
    name: str
    version: int
    title: str
    runs: tuple[Run, ...]
    noise_variances: tuple[float, ...] = ()
    repeats: int = 1


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: a string


def _normalise(key: str, value: Any, source: str) -> tuple[str, Any]:
    key = ALIASES.get(key, key)
    if key == "sizes" and isinstance(value, str):
        try:
            value = list(parse_sizes(value))
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
    return key, value


def load_experiment(name_or_path: str, overrides: list[str] | None = None) -> Experiment:
    """A built-in experiment by name, or a TOML file by path, with ``KEY=VALUE`` overrides; fully validated."""
    if name_or_path in BUILTIN:
        source = f"stochmem/experiments/{name_or_path}.toml"
        text = resources.files("stochmem.experiments").joinpath(f"{name_or_path}.toml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f"{name_or_path!r} is neither a built-in experiment ({', '.join(BUILTIN)}) nor a file")
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(f"{source}: not a TOML experiment file (not UTF-8 text: byte {error.start} cannot be "
                              "decoded); give fig3, fig4, fig5 or a .toml file") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    reject_unknown(document, TOP_KEYS, source)
    check_experiment(document, source)
    defaults = dict(_normalise(key, value, f"{source}: defaults") for key, value in
                    document.get("defaults", {}).items())
    evaluation = dict(document.get("evaluation", {}))
    for override in overrides or []:
        key, sep, text_value = override.partition("=")
        if not sep:
            raise ConfigError(f"--set {override!r} is invalid: expected KEY=VALUE, e.g. device.levels=64")
        key, value = key.strip(), _parse_value(text_value.strip())
        if key.startswith("evaluation."):
            evaluation[key.split(".", 1)[1]] = value
        else:
            name, value = _normalise(key, value, "--set")
            if name not in BY_NAME:
                reject_unknown([key], [*BY_NAME, *ALIASES], "--set")
            defaults[name] = value
    check_experiment({"evaluation": evaluation}, f"{source} with --set")  # the overrides' values too
    runs = []
    for index, entry in enumerate(document.get("runs", [])):
        where = f"{source}: runs[{index}]"
        if "label" not in entry:
            raise ConfigError(f"{where}: every run needs a label")
        values = dict(defaults)
        for key, value in entry.items():
            if key not in RUN_EXTRAS:
                name, value = _normalise(key, value, where)
                values[name] = value
        try:
            spec = RunSpec.from_json(values)
        except ConfigError as error:
            raise ConfigError(f"{where} ({entry['label']}): {error}") from None
        drop = entry.get("paper_drop", ())
        runs.append(Run(entry["label"], spec, entry.get("paper"), tuple(entry.get("read_bl", ())),
                        tuple(drop) if isinstance(drop, list) else (drop,)))
    if not runs:
        raise ConfigError(f"{source}: no [[runs]]")
    if len({run.label for run in runs}) != len(runs):
        raise ConfigError(f"{source}: run labels must be unique")
    unknown_eval = sorted(set(evaluation) - {"noise_variances", "repeats"})
    if unknown_eval:
        raise ConfigError(f"{source}: unknown evaluation keys {unknown_eval}")
    repeats = evaluation.get("repeats", 1)
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"{source}: evaluation.repeats = {repeats!r} is invalid: expected an integer >= 1")
    variances = tuple(float(v) for v in evaluation.get("noise_variances", ()))
    if any(v < 0 for v in variances):
        raise ConfigError(f"{source}: evaluation.noise_variances must be >= 0, got {list(variances)}")
    return Experiment(experiment_name(document.get("name", Path(source).stem), source), int(document.get("version", 1)),
                      str(document.get("title", "")), tuple(runs), variances, repeats)


def slug(label: str) -> str:
    """A run label as a folder name: letters, digits, '-', '_' and '.' kept, anything else '_'; never '.' or '..'
    (a run's folder must stay inside its experiment's)."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    return name if name.strip(".") else name.replace(".", "_") or "_"


EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def experiment_name(value: object, source: str) -> str:
    """An experiment's name, which names its folder under --out: a plain name, never a path."""
    if not isinstance(value, str) or not EXPERIMENT_NAME.fullmatch(value) or value.strip(".") == "":
        raise ConfigError(f"{source}: name = {value!r} is invalid: expected a plain name of letters, digits, '-', "
                          "'_' and '.' (it names the experiment's folder under --out), e.g. fig4-levels")
    return value


class WorkerDied(RuntimeError):
    """A worker process ended without a result (SIGKILL, the OOM killer, a native crash): exit code 3."""


class Messages(Protocol):
    """Where a run reports its progress: a queue shared with the parent process, or anything with ``put``."""

    def put(self, item: str | None) -> None: ...

    def get(self) -> str | None: ...


def _run_task(task: dict[str, Any], messages: Messages | None = None) -> dict[str, Any]:
    """Train (or resume, or skip if finished) one run, then its noisy-input evaluation; in a worker process.

    Each line the run logs (its start, every epoch, its end) goes to ``messages``, prefixed with its label."""
    os.environ[WORKERS_ENV] = str(task["workers"])  # a backend's thread pool takes this worker's share of the CPUs
    spec = RunSpec.from_json(task["spec"])
    run_dir = Path(task["run_dir"])
    data_dir = task["data_dir"]
    say = quiet if messages is None else lambda text: messages.put(f"{task['experiment']}/{task['label']}: {text}")
    with rundir.locked(run_dir):  # one writer per run directory, also across concurrent reproductions
        results, evaluations = _train_and_evaluate(task, spec, run_dir, data_dir, say)
    return {"label": task["label"], "results": [asdict(r) for r in results], "evaluations": evaluations}


def _train_and_evaluate(task: dict[str, Any], spec: RunSpec, run_dir: Path, data_dir: str | None,
                        say: Callable[[str], None]) -> tuple[list[EpochResult], dict[str, Any]]:
    """The body of :func:`_run_task`, with its run directory locked by the caller."""
    if (run_dir / "checkpoint.json").is_file():  # an interrupted run continues; a shorter one is extended
        data_dir = recorded_data_dir(run_dir, spec, data_dir)
        state = prepare_resume(run_dir, spec)
        if state.epoch >= spec.epochs:
            say(f"trained earlier ({state.epoch} epochs)")
            results = state.results
        else:
            results = execute(spec, run_dir, data_dir, resume=True, say=say)
    else:
        results = execute(spec, run_dir, data_dir, say=say)
    evaluations: dict[str, Any] = {}
    for bit_length in task["read_bl"]:
        say(f"evaluating on noisy inputs {task['variances']}, read with BL={bit_length or spec.bl}, "
            f"{task['repeats']} repeats")
        evaluations[str(bit_length)], _state = evaluate_checkpoint(run_dir, spec, data_dir,
                                                                   task["variances"], bit_length or None,
                                                                   task["repeats"])
    return results, evaluations


def _relay(messages: Messages, say: Callable[[str], None]) -> None:
    """Pass the runs' progress lines to ``say`` as they come, until ``None``."""
    while (line := messages.get()) is not None:
        say(f"  {line}")


def shared_run_dir(out: Path, run_dir: Path, spec: RunSpec) -> Path:
    """``run_dir``, made a link to an identical run of another experiment under ``out`` when there is one.

    Fig. 5 trains the float baseline of Fig. 3 and the sigma = 0.1B network of Fig. 4 again: same configuration,
    same seed, hence the same result ([SPEC 2.2]). Linking trains it once; the experiments run one after another,
    so the second finds the run finished (or extends it, when it is shorter) and only evaluates it.
    """
    if run_dir.exists() or run_dir.is_symlink():
        return run_dir
    for config in sorted(out.glob("*/*/config.json")):
        other = config.parent
        if other.parent == run_dir.parent or other.is_symlink():
            continue
        try:
            same = read_spec(other) == spec
        except (ConfigError, rundir.RunDirError, KeyError, TypeError):
            continue  # not a run this version can read: never share it
        if same:
            run_dir.symlink_to(os.path.relpath(other, run_dir.parent), target_is_directory=True)
            return run_dir
    return run_dir


def run_experiment(experiment: Experiment, out: Path, data_dir: str | None, workers: int = 1,
                   say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every run of ``experiment`` under ``out/<name>/``; write and return the summary."""
    if workers < 1:
        raise ConfigError(f"--workers = {workers} is invalid: expected an integer >= 1")
    base = out / experiment.name
    base.mkdir(parents=True, exist_ok=True)
    tasks = [{"label": run.label, "experiment": experiment.name, "spec": run.spec.to_json(),
              "run_dir": str(shared_run_dir(out, base / slug(run.label), run.spec)),
              "data_dir": data_dir, "read_bl": list(run.read_bl), "variances": list(experiment.noise_variances),
              "repeats": experiment.repeats, "workers": workers} for run in experiment.runs]
    say(f"{experiment.name}: {experiment.title}; {len(tasks)} runs, {workers} worker(s), into {base}")
    context = get_context("spawn")
    with context.Manager() as manager:
        messages = manager.Queue()
        relay = threading.Thread(target=_relay, args=(messages, say), daemon=True)
        relay.start()
        try:
            if workers == 1:
                outcomes = [_run_task(task, messages) for task in tasks]
            else:
                with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                    try:
                        outcomes = list(pool.map(partial(_run_task, messages=messages), tasks))
                    except BrokenProcessPool:
                        raise WorkerDied(f"a worker process of {experiment.name} died (killed, or out of memory) "
                                         "before its runs finished; run the same command again: finished runs "
                                         "are kept and the others continue from their last checkpoint") from None
        finally:
            messages.put(None)
            relay.join()
    summary = summarise(experiment, outcomes)
    write_summary(base, experiment, summary)
    say(f"summary: {base / 'summary.md'}")
    return summary


def summarise(experiment: Experiment, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for run, outcome in zip(experiment.runs, outcomes):
        accuracies = [100 * (r["test_accuracy"] or 0.0) for r in outcome["results"]]
        row: dict[str, Any] = {
            "label": run.label, "spec": run.spec.to_json(), "paper": run.paper,
            "max_test_accuracy": max(accuracies), "final_test_accuracy": accuracies[-1],
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
        rows.append(row)
    return {"experiment": experiment.name, "version": experiment.version, "title": experiment.title, "runs": rows}


def write_summary(base: Path, experiment: Experiment, summary: dict[str, Any]) -> None:
    """summary.json, summary.md (paper vs ours) and the figure (PNG and SVG) when matplotlib is installed."""
    rundir.write_json(base / "summary.json", summary)
    lines = [f"# {experiment.title}", "", "| run | paper (%) | ours, max (%) | ours, final (%) | epochs | time (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in summary["runs"]:
        paper = f"{row['paper']:.2f}" if row["paper"] is not None else "–"
        lines.append(f"| {row['label']} | {paper} | {row['max_test_accuracy']:.2f} | {row['final_test_accuracy']:.2f}"
                     f" | {len(row['test_accuracy'])} | {row['seconds']:.0f} |")
    noisy_rows = [(row, bl, data) for row in summary["runs"] for bl, data in row.get("noisy", {}).items()]
    if noisy_rows:
        variances = noisy_rows[0][2]["variances"]
        lines += ["", "| run, read with | " + " | ".join(f"σ²={v:g}" for v in variances)
                  + " | drop (points) | paper drop |", "| --- |" + " ---: |" * (len(variances) + 2)]
        for row, bl, data in noisy_rows:
            reading = "float" if bl == "0" else f"BL={bl}"
            cells = " | ".join(f"{m:.2f} ± {s:.2f}" for m, s in zip(data["mean"], data["std"]))
            paper_drop = f"{data['paper_drop']:.2f}" if data["paper_drop"] is not None else "–"
            lines.append(f"| {row['label']}, {reading} | {cells} | {data['drop']:.2f} | {paper_drop} |")
    try:
        plot(base, experiment, summary)
        lines += ["", f"![{experiment.name}]({experiment.name}.png)"]
    except ImportError:
        rundir.write_atomically(base / "PLOTS-MISSING.txt", b"install matplotlib to draw the figures\n")
    rundir.write_atomically(base / "summary.md", ("\n".join(lines) + "\n").encode())


def plot(base: Path, experiment: Experiment, summary: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    rows = summary["runs"]
    if any("noisy" in row for row in rows):
        for row in rows:
            for bl, data in row.get("noisy", {}).items():
                label = f"{row['label']}" + ("" if bl == "0" else f", read BL={bl}")
                ax.errorbar(data["variances"], data["mean"], yerr=data["std"], marker="o", capsize=3, label=label)
        ax.set_xlabel("input noise variance $\\sigma_i^2$")
        ax.set_ylabel("test accuracy (%)")
    elif all(row["spec"]["kind"] == "memristive" for row in rows) and len({r["spec"]["sigma"] for r in rows}) > 1:
        sigmas = [row["spec"]["sigma"] for row in rows]
        ax.plot(sigmas, [row["max_test_accuracy"] for row in rows], "o-", label="ours (max over epochs)")
        reported = [(row["spec"]["sigma"], row["paper"]) for row in rows if row["paper"] is not None]
        if reported:
            ax.plot(*zip(*reported), "k*", markersize=12, label="paper")
        ax.set_xlabel("programming noise $\\sigma/B$")
        ax.set_ylabel("maximum test accuracy (%)")
    else:
        for row in rows:
            epochs = range(1, len(row["train_error"]) + 1)
            label = f"{row['label']} (test {row['max_test_accuracy']:.2f} %)"
            (line,) = ax.plot(epochs, row["train_error"], "o-", label=label)
            if row["paper"] is not None:
                ax.axhline(100 - row["paper"], color=line.get_color(), linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training error (%)   (dotted: paper's test error)")
    ax.set_title(experiment.title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        fig.savefig(base / f"{experiment.name}.{suffix}")
    plt.close(fig)

