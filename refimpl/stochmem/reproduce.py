"""Reproduce the paper's figures: named, versioned experiment configs run as independent runs on a Dask cluster.

An experiment (``stochmem/experiments/<name>.toml``, or a user's file) lists runs that share ``[defaults]``;
``--set KEY=VALUE`` overrides a default for every run (the sweep's own variable stays per run); a ``[sweep]``
table, ``--sweep KEY=V1,V2`` and ``seeds`` cross every run with the product of the swept values
(:mod:`stochmem.sweeps`). Each run is a :class:`~stochmem.runs.RunSpec` trained in its own run directory, one Dask
task each (:mod:`stochmem.cluster`), so an interrupted reproduction resumes where it stopped, a worker that dies
costs only its run's progress since the last checkpoint, and the result of a run does not depend on where, or
beside how many others, it ran. The summary (:mod:`stochmem.summary`) reports every setting's seeds as a mean with
its confidence interval.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from distributed import as_completed

from stochmem import rundir
from stochmem.backend_api import THREADS_ENV, WORKERS_ENV
from stochmem.cluster import Executor, report, subscribe, unsubscribe
from stochmem.config import ConfigError
from stochmem.data import NOISE_DOMAINS
from stochmem.parameters import ALIASES, BY_NAME, reject_unknown
from stochmem.progress import RunBoard
from stochmem.runs import (
    RunSpec,
    check_resumable,
    check_same_run,
    evaluate_checkpoint,
    execute,
    load_data,
    prepare_resume,
    read_spec,
    recorded_data_dir,
)
from stochmem.schema import check_experiment
from stochmem.summary import summarise, write_summary
from stochmem.sweeps import (
    SEEDS_KEY,
    Axis,
    Point,
    axes_from_options,
    axes_from_table,
    axis_values,
    check_not_set_per_run,
    combine,
    normalised,
    parse_value,
    points,
)
from stochmem.training import EpochResult

PAPER = ("fig3", "fig4", "fig5")  #: the paper's figures: what `stochmem reproduce all` runs
BUILTIN = (*PAPER, "fig4-ablation", "fig5-domains")  #: every shipped experiment (the ablations of the paper's choices)
TOP_KEYS = {"name", "version", "title", "defaults", "runs", "evaluation", "sweep"}
RUN_EXTRAS = {"label", "paper", "read_bl", "paper_drop"}

@dataclass(frozen=True)
class Run:
    label: str
    spec: RunSpec
    setting: str = ""  #: the label without the seed: runs that differ in the seed alone share it (default: label)
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
    noise_domain: str = "pixels"  #: [SPEC 5.4] the input scale the variances refer to


MAX_RUNS = 10_000


def _normalise(key: str, value: Any, source: str) -> tuple[str, Any]:
    """A parameter's plain name and its value in a run's form (:func:`stochmem.sweeps.normalised`)."""
    name = ALIASES.get(key, key)
    return name, normalised(name, value, source)


def _read_document(name_or_path: str) -> tuple[dict[str, Any], str]:
    """A built-in experiment's or a TOML file's document, and its name for messages."""
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
                              f"decoded); give {', '.join(BUILTIN)} or a .toml file") from None
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error


def load_experiment(name_or_path: str, overrides: Sequence[str] = (), sweeps: Sequence[str] = ()) -> Experiment:
    """A built-in experiment by name, or a TOML file by path, with ``KEY=VALUE`` overrides and ``KEY=V1,V2``
    sweeps (:mod:`stochmem.sweeps`); its runs expanded and fully validated before anything runs."""
    document, source = _read_document(name_or_path)
    reject_unknown(document, TOP_KEYS, source)
    check_experiment(document, source)
    defaults = dict(_normalise(key, value, f"{source}: defaults") for key, value in
                    document.get("defaults", {}).items())
    seeds = defaults.pop(SEEDS_KEY, None)
    evaluation = dict(document.get("evaluation", {}))
    for override in overrides:
        key, sep, text_value = override.partition("=")
        if not sep:
            raise ConfigError(f"--set {override!r} is invalid: expected KEY=VALUE, e.g. device.levels=64")
        key, value = key.strip(), parse_value(text_value.strip())
        if key.startswith("evaluation."):
            evaluation[key.split(".", 1)[1]] = value
        elif key == SEEDS_KEY:
            seeds = text_value.strip()
        else:
            name, value = _normalise(key, value, "--set")
            if name not in BY_NAME:
                reject_unknown([key], [*BY_NAME, *ALIASES], "--set")
            defaults[name] = value
    check_experiment({"evaluation": evaluation}, f"{source} with --set")  # the overrides' values too
    axes = axes_from_table(document.get("sweep", {}), source) + axes_from_options(sweeps)
    if seeds is not None:
        axes.append(Axis("seed", axis_values("seed", seeds, f"{source}: seeds")))
    axes = combine(axes)
    entries = list(document.get("runs", []))
    check_not_set_per_run(axes, entries, source)
    count = len(entries) * math.prod(len(axis.values) for axis in axes)
    if count > MAX_RUNS:
        raise ConfigError(f"{source}: the sweep expands to {count:,} runs, more than {MAX_RUNS:,}; sweep fewer values")
    combinations = points(axes)
    runs = [run for index, entry in enumerate(entries) for point in combinations
            for run in [_expanded_run(entry, point, defaults, f"{source}: runs[{index}]")]]
    if not runs:
        raise ConfigError(f"{source}: no [[runs]]")
    if len({run.label for run in runs}) != len(runs):
        raise ConfigError(f"{source}: run labels must be unique")
    folders: dict[str, str] = {}
    for run in runs:  # two labels, one folder ('a/b' and 'a:b'; 'A' and 'a' on a case-insensitive disk)
        other = folders.setdefault(slug(run.label).casefold(), run.label)
        if other != run.label:
            raise ConfigError(f"{source}: runs {other!r} and {run.label!r} would share the folder "
                              f"{slug(run.label)!r}: give them labels that differ in letters or digits")
    unknown_eval = sorted(set(evaluation) - {"noise_variances", "repeats", "noise_domain"})
    if unknown_eval:
        raise ConfigError(f"{source}: unknown evaluation keys {unknown_eval}")
    repeats = evaluation.get("repeats", 1)
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"{source}: evaluation.repeats = {repeats!r} is invalid: expected an integer >= 1")
    variances = tuple(float(v) for v in evaluation.get("noise_variances", ()))
    if any(v < 0 for v in variances):
        raise ConfigError(f"{source}: evaluation.noise_variances must be >= 0, got {list(variances)}")
    domain = evaluation.get("noise_domain", "pixels")
    if domain not in NOISE_DOMAINS:
        raise ConfigError(f"{source}: evaluation.noise_domain = {domain!r} is invalid: choose one of "
                          f"{', '.join(NOISE_DOMAINS)}")
    return Experiment(experiment_name(document.get("name", Path(source).stem), source), int(document.get("version", 1)),
                      str(document.get("title", "")), tuple(runs), variances, repeats, domain)


def _expanded_run(entry: dict[str, Any], point: Point, defaults: dict[str, Any], where: str) -> Run:
    """The run of one ``[[runs]]`` entry at one point of the sweep."""
    if "label" not in entry:
        raise ConfigError(f"{where}: every run needs a label")
    values = dict(defaults)
    for key, value in entry.items():
        if key not in RUN_EXTRAS:
            name, value = _normalise(key, value, where)
            values[name] = value
    values.update(point.values)
    label = " ".join(filter(None, [entry["label"], point.suffix()]))
    try:
        spec = RunSpec.from_json(values)
    except ConfigError as error:
        raise ConfigError(f"{where} ({label}): {error}") from None
    drop = entry.get("paper_drop", ())
    return Run(label, spec, " ".join(filter(None, [entry["label"], point.setting_suffix()])), entry.get("paper"),
               tuple(entry.get("read_bl", ())), tuple(drop) if isinstance(drop, list) else (drop,))


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


class RunsFailed(RuntimeError):
    """Runs that failed for a reason of their own (each reported once; the others finished): exit code 1."""


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume, or skip if finished) one run, then its noisy-input evaluation: one Dask task.

    Every line the run logs (its start, every epoch, its end) and every finished epoch go to the client as progress
    events (:func:`stochmem.cluster.report`)."""
    if task["workers"]:  # a backend's thread pool takes this worker's share of the CPUs
        os.environ[WORKERS_ENV] = str(task["workers"])
    if task["threads"]:  # --threads, or one thread per run on a remote cluster (its workers share their nodes)
        os.environ[THREADS_ENV] = str(task["threads"])
    spec = RunSpec.from_json(task["spec"])
    run_dir = Path(task["run_dir"])
    name, topic = task["name"], task["topic"]

    def say(text: str) -> None:
        report(topic, {"run": name, "text": text})

    def on_epoch(result: EpochResult) -> None:
        report(topic, {"run": name, "epoch": result.epoch + 1, "epochs": spec.epochs,
                       "accuracy": result.test_accuracy})

    with rundir.locked(run_dir):  # one writer per run directory, also across concurrent reproductions
        results, evaluations = _train_and_evaluate(task, spec, run_dir, task["data_dir"], say, on_epoch)
    report(topic, {"run": name, "last": True})  # the client waits for this: no line of the run is lost
    return {"label": task["label"], "results": [asdict(r) for r in results], "evaluations": evaluations}


def _train_and_evaluate(task: dict[str, Any], spec: RunSpec, run_dir: Path, data_dir: str | None,
                        say: Callable[[str], None], on_epoch: Callable[[EpochResult], None]
                        ) -> tuple[list[EpochResult], dict[str, Any]]:
    """The body of :func:`run_task`, with its run directory locked by the caller."""
    if (run_dir / "checkpoint.json").is_file():  # an interrupted run continues; a shorter one is extended
        data_dir = recorded_data_dir(run_dir, spec, data_dir)
        state = prepare_resume(run_dir, spec)
        if state.epoch >= spec.epochs:
            say(f"trained earlier ({state.epoch} epochs)")
            results = state.results
        else:
            results = execute(spec, run_dir, data_dir, resume=True, say=say, on_epoch=on_epoch)
    else:
        results = execute(spec, run_dir, data_dir, say=say, on_epoch=on_epoch)
    evaluations: dict[str, Any] = {}
    for bit_length in task["read_bl"]:
        say(f"evaluating on noisy inputs {task['variances']}, read with BL={bit_length or spec.bl}, "
            f"{task['repeats']} repeats")
        evaluations[str(bit_length)], _state = evaluate_checkpoint(run_dir, spec, data_dir,
                                                                   task["variances"], bit_length or None,
                                                                   task["repeats"], task["noise_domain"])
    return results, evaluations


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


def tasks_of(experiment: Experiment, out: Path, data_dir: str | None, executor: Executor, topic: str,
             threads: int | None) -> list[dict[str, Any]]:
    """One task per run (creating ``out/<name>/`` and the links of runs shared with other experiments).

    Workers of a remote cluster run each run on one thread unless ``threads`` says otherwise: they share their
    nodes with each other, and a pool per worker would oversubscribe the cores."""
    base = out / experiment.name
    base.mkdir(parents=True, exist_ok=True)
    remote = executor.local_workers is None
    return [{"label": run.label, "name": f"{experiment.name}/{run.label}", "spec": run.spec.to_json(),
             "run_dir": str(shared_run_dir(out, base / slug(run.label), run.spec)),
             "data_dir": data_dir, "read_bl": list(run.read_bl), "variances": list(experiment.noise_variances),
             "noise_domain": experiment.noise_domain,
             "repeats": experiment.repeats, "workers": executor.local_workers, "topic": topic,
             "threads": threads or (1 if remote else None)} for run in experiment.runs]


def run_experiment(experiment: Experiment, out: Path, data_dir: str | None, executor: Executor,
                   say: Callable[[str], None] = print, live: bool = False, threads: int | None = None
                   ) -> dict[str, Any]:
    """Run every run of ``experiment`` under ``out/<name>/`` on ``executor``; write and return the summary.

    Runs that fail are reported once each while the others go on; the summary of the others is written, then
    :class:`RunsFailed` names the failures. Interrupted, the runs not yet started are cancelled."""
    group = f"stochmem-run-{uuid.uuid4().hex[:8]}"  # this reproduction's task group and progress topic
    tasks = tasks_of(experiment, out, data_dir, executor, group, threads)
    base = out / experiment.name
    say(f"{experiment.name}: {experiment.title}; {len(tasks)} runs on {executor.where}, into {base}")
    outcomes: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    with RunBoard([task["name"] for task in tasks], say, live) as board:
        subscribe(executor, group, board.event)
        # One task group: Dask queues its tasks on the scheduler and hands them out as workers free up (tasks in
        # groups of one were all assigned up front to one worker, measured: 13 runs on one, the other idle).
        futures = {executor.client.submit(run_task, task, key=(group, task["name"]), pure=False): task
                   for task in tasks}
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                task = futures[future]
                if future.status == "finished":
                    outcomes[task["label"]] = future.result()
                    board.finished(task["name"])
                else:
                    failures[task["label"]] = failure_message(future)
                    board.finished(task["name"], failures[task["label"]])
            board.wait_for_last_events([task["name"] for task in tasks if task["label"] in outcomes])
        except KeyboardInterrupt:
            executor.client.cancel(list(futures))  # queued runs never start; a started one ends at its task's end
            raise
        finally:
            unsubscribe(executor, group)
    summary = summarise(experiment, outcomes, failures)
    write_summary(base, experiment, summary)
    say(f"summary: {base / 'summary.md'}")
    if failures:
        raise RunsFailed("; ".join(f"{experiment.name}/{label}: {message}" for label, message in failures.items()))
    return summary


def failure_message(future: Any) -> str:
    """One line for a failed run: its error's message, or what a worker death or a cancellation means."""
    if future.status == "cancelled":
        return ("cancelled by the cluster (its scheduler restarted or closed); run the same command again: the run "
                "continues from its last checkpoint")
    error = future.exception()
    if type(error).__name__ == "KilledWorker":
        return ("its worker died each time it ran (killed, or out of memory); the run directory keeps its last "
                "checkpoint: run the same command again to continue")
    return " ".join(str(error).split()) or type(error).__name__


def run_state(folder: Path, spec: RunSpec) -> str:
    """What running ``spec`` in ``folder`` would do: new, resume, finished; a ConfigError or RunDirError if the
    folder holds another run or a damaged one. Reads only."""
    if not (folder / "config.json").is_file():
        return "new"
    if not (folder / "checkpoint.json").is_file():
        check_same_run(folder, spec)
        return "restarts (no checkpoint yet)"
    _saved, state = check_resumable(folder, spec)
    return "finished" if state.epoch >= spec.epochs else f"resumes at epoch {state.epoch + 1}"


def preflight(experiments: Sequence[Experiment], out: Path, data_dir: str | None, local: bool) -> None:
    """Refuse, before anything runs: two experiments of one name (one folder), a run directory that holds another
    run, and (on this machine's cluster, whose workers read the same files) data that cannot be read."""
    names = [experiment.name for experiment in experiments]
    for name in sorted({name for name in names if names.count(name) > 1}):
        raise ConfigError(f"two experiments are named {name!r}: they would share {out / name}; rename one")
    for experiment in experiments:
        for run in experiment.runs:
            run_state(out / experiment.name / slug(run.label), run.spec)
    if local:
        checked = set()
        for run in (run for experiment in experiments for run in experiment.runs):
            key = (run.spec.data, run.spec.train_size, run.spec.test_size)
            if key not in checked:
                load_data(run.spec, data_dir)  # a DataError naming the file and what to do
                checked.add(key)


def dry_run(experiment: Experiment, out: Path, where: str, say: Callable[[str], None] = print) -> None:
    """Say what would run, where, and into which folders, without starting anything or writing a file."""
    base = out / experiment.name
    say(f"{experiment.name}: {experiment.title}; {len(experiment.runs)} runs would run on {where}, into {base}")
    for run in experiment.runs:
        folder = base / slug(run.label)
        try:
            state = run_state(folder, run.spec)
        except (ConfigError, rundir.RunDirError) as error:
            state = f"refused: {error}"
        say(f"  {run.label}  ->  {folder}  ({state})")
