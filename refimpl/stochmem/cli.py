"""The ``stochmem`` command line: train, evaluate, reproduce, backends, conform, data verify and data fetch."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from stochmem import __version__, parameters
from stochmem.backend_api import CLAUSE_GROUPS, THREADS_ENV, BackendError
from stochmem.cluster import SCHEDULER_ENV
from stochmem.config import ConfigError
from stochmem.data import DATA_DIR_ENV, NOISE_DOMAINS, DataError, load_split, resolve_data_dir, verify_dir
from stochmem.parameters import BY_NAME, PARAMETERS, Parameter
from stochmem.rundir import RunDirError
from stochmem.runs import RunSpec, read_spec

DEBUG_ENV = "STOCHMEM_DEBUG"
DEFAULT_CHECKPOINT_EVERY = 10_000


def parse_sizes(text: str) -> tuple[int, ...]:
    """``784-256-128-10`` -> (784, 256, 128, 10), as an argparse type."""
    try:
        return parameters.parse_sizes(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_data_dir(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str) -> None:
    """The --data-dir option, with where MNIST is looked for when it is not given."""
    parser.add_argument("--data-dir", default=None, help=f"{what} (default: ${DATA_DIR_ENV}, else the user cache)")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (the help then says what happens)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def add_threads(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The --threads option of every command that computes."""
    parser.add_argument("--threads", type=positive_int, default=None,
                        help=f"threads of a compiled backend (default: ${THREADS_ENV}, else this process's share of "
                             "the CPUs; see `stochmem_numba.threads`)")


def add_parameter(group: argparse._ArgumentGroup, parameter: Parameter) -> None:
    """The option of one run parameter, its type, choices, default and help taken from its declaration."""
    schema = parameter.schema
    kwargs: dict[str, Any] = {"default": parameter.default, "help": parameter.help}
    if "enum" in schema:
        kwargs["choices"] = schema["enum"]
    elif schema.get("type") == "array":
        kwargs["type"] = parse_sizes
        kwargs["default"] = "-".join(map(str, parameter.default))  # parsed by argparse like a typed value
    elif schema.get("type") in ("integer", "number"):
        kwargs["type"] = int if schema["type"] == "integer" else float
    if parameter.unit:
        kwargs["help"] += f" [{parameter.unit}]"
    if parameter.name == "epochs":  # None: the run's own count when resuming (more extends it), else the default
        kwargs["default"] = None
        kwargs["help"] += f" (default {parameter.default}; with --resume, more than the run has extends it)"
    group.add_argument(parameter.option, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stochmem",
        description="Stochastic deep learning on memristive crossbars: the reference implementation of "
                    "Babu & Rajendran, 'Stochastic Deep Learning in Memristive Networks'.",
        epilog="Exit codes: 0 success; 1 the conformance suite found a deviation (conform), or runs of reproduce "
               "failed (each named in one line; the others finished); 2 bad input, a missing or corrupt file, or a "
               "run directory in use, said in one line (stochmem: error: ...); 3 reproduce could not reach or start "
               "its Dask cluster; 130 interrupted (the line says how to resume).",
    )
    parser.add_argument("--version", action="version", version=f"stochmem {__version__}")
    parser.add_argument("--debug", action="store_true", default=bool(os.environ.get(DEBUG_ENV)),
                        help=f"show the full traceback of an error instead of one line (or set ${DEBUG_ENV}=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a network and report its test accuracy",
        description="Train a float, stochastic or memristive network on MNIST and print the test accuracy "
                    "after every epoch.",
        formatter_class=HelpFormatter)
    groups = {"network": train.add_argument_group("network"),
              "device": train.add_argument_group("memristive device (--kind memristive)"),
              "run": train.add_argument_group("run")}
    for parameter in PARAMETERS:
        add_parameter(groups[parameter.section], parameter)
    run = groups["run"]
    add_data_dir(run, "folder with the MNIST files, or your own data set for --data idx")
    run.add_argument("--quiet", action="store_true", help="print only the final accuracy")
    run.add_argument("--run-dir", default=None,
                     help="write the resolved config, metrics, versions, log and atomic checkpoints here")
    run.add_argument("--checkpoint-every", type=int, default=None,
                     help=f"with --run-dir: checkpoint every N images and at every epoch end (default "
                          f"{DEFAULT_CHECKPOINT_EVERY:,}; with --resume, the run's own)")
    run.add_argument("--resume", action="store_true",
                     help="continue the interrupted run in --run-dir with its own saved configuration (--epochs may "
                          "extend it); the result is bit-identical to an uninterrupted run")
    run.add_argument("--allow-data-change", action="store_true",
                     help="with --resume: accept a --data-dir other than the folder the run was started with "
                          "(the files moved)")
    add_threads(run)

    evaluate = commands.add_parser(
        "evaluate", help="test a trained run: noisy inputs, another stream length, repeated draws",
        description="Load the checkpoint of RUN_DIR and measure its test accuracy, optionally on noise-corrupted "
                    "inputs (the paper's Fig. 5: x + N(0, variance) clipped to [0, 1]) and with another bit length "
                    "for reading; mean and standard deviation over independent repeats.",
        formatter_class=HelpFormatter)
    evaluate.add_argument("run_dir", help="a run directory written by `stochmem train --run-dir`")
    evaluate.add_argument("--input-noise", type=float, nargs="+", default=[0.0],
                          help="noise variances sigma_i^2 (e.g. 0 0.01 0.1 0.2)")
    evaluate.add_argument("--noise-domain", choices=list(NOISE_DOMAINS), default="pixels",
                          help="the input scale the variances refer to: pixels in [0, 1] (default), signed inputs in "
                               "[-1, 1], or standardised inputs (MNIST mean and std) [SPEC 5.4]")
    evaluate.add_argument("--bl", type=int, default=None, help="bit length for reading (default: the training BL)")
    evaluate.add_argument("--repeats", type=int, default=1, help="independent stream and noise draws")
    evaluate.add_argument("--test-size", type=int, default=None, help="test images (default: the run's)")
    add_data_dir(evaluate, "MNIST folder (default: the one the run was trained on)")
    evaluate.add_argument("--allow-data-change", action="store_true",
                          help="accept a --data-dir other than the folder the run was trained on")
    add_threads(evaluate)
    reproduce = commands.add_parser(
        "reproduce", help="run the paper's experiments (fig3, fig4, fig5) or their ablations, compared with the paper",
        description="Run a named experiment config (shipped in stochmem/experiments) or your own TOML file on a Dask "
                    "cluster (a local one by default): every run trains in its own run directory under --out (an "
                    "interrupted reproduction resumes; a worker that dies costs only its run's progress since the "
                    "last checkpoint), then a summary table (paper vs ours, seeds as mean and 95 %% confidence "
                    "interval) and the figure are written.",
        formatter_class=HelpFormatter)
    reproduce.add_argument("experiments", nargs="+", help="fig3, fig4, fig5, all (those three), fig4-ablation, "
                           "fig5-domains, or paths to TOML files")
    reproduce.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                           help="override a default of every run, e.g. --set device.levels=64 --set epochs=5; "
                                "--set seeds=1,2,3 runs every setting with each seed")
    reproduce.add_argument("--sweep", dest="sweeps", action="append", default=[], metavar="KEY=V1,V2,...",
                           help="cross every run with these values (a cartesian product over all --sweep options), "
                                "e.g. --sweep device.sigma=0,0.1,0.2 --sweep seed=1,2,3")
    reproduce.add_argument("--workers", type=int, default=1,
                           help="worker processes of the local Dask cluster (each gets its share of the CPUs' "
                                "threads)")
    reproduce.add_argument("--scheduler", default=None, metavar="ADDRESS",
                           help="run on the existing Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786) instead of "
                                f"a local one (or set ${SCHEDULER_ENV}); --out and the data must be on a folder "
                                "its workers share")
    reproduce.add_argument("--dry-run", action="store_true",
                           help="list the runs, their folders and where they would run, and stop")
    add_threads(reproduce)
    reproduce.add_argument("--out", default="runs", help="folder for run directories and summaries")
    add_data_dir(reproduce, "MNIST folder")
    reproduce.add_argument("--quiet", action="store_true", help="print only where the summaries are")
    commands.add_parser("backends", help="list the registered backends, their versions and capabilities")
    conform = commands.add_parser(
        "conform", help="run the conformance suite against a backend",
        description="Run the conformance suite (a pytest plugin shipped in stochmem) against one backend and "
                    "report, clause by clause, where it agrees with the reference. Extra arguments go to pytest.")
    conform.add_argument("backend", nargs="?", default=None, help="backend name (see `stochmem backends`)")
    conform.add_argument("--exec", dest="exec_command", metavar="COMMAND", default=None,
                         help="instead of a backend, test a program in any language that speaks the process protocol "
                              "(specs/07-protocol.md), e.g. --exec ./stochmem-c; it is graded on the clause groups "
                              "it claims")
    conform.add_argument("--exec-timeout", type=float, default=60.0, metavar="SECONDS",
                         help="how long the program may take to answer one request (default 60)")
    conform.add_argument("--xfails", default=None, help="file of known deviations: one test id per line")
    conform.add_argument("--data-dir", default=None,
                         help="real MNIST for the end-to-end tier (default: $STOCHMEM_DATA_DIR, else the 5,000 digits "
                              "of the embedded extra; the report header says which)")
    conform.epilog = "Any further arguments (e.g. -m statistical, -k spec_4, -q) are passed to pytest."

    serve = commands.add_parser(
        "serve", help="serve a backend over the process protocol on stdin/stdout (an oracle for other programs)",
        description="Answer process-protocol requests (specs/07-protocol.md), one JSON object per line on stdin, "
                    "with the named backend; `stochmem conform --exec \"stochmem serve numpy\"` tests the bridge.")
    serve.add_argument("backend", nargs="?", default="reference", help="backend name (default reference)")
    vectors = commands.add_parser(
        "vectors", help="export the JSON test vectors of chosen clause groups (for testbenches that read files)",
        description="Write the specification's JSON test vectors (generated from the reference) for the chosen "
                    "clause groups into a folder, with their schema: the files a testbench that cannot speak the "
                    "process protocol (an HDL simulation, say) compares against.")
    vectors.add_argument("--groups", default=",".join(CLAUSE_GROUPS),
                         help=f"comma-separated clause groups (default all: {','.join(CLAUSE_GROUPS)})")
    vectors.add_argument("--out", required=True, help="folder to write the vector files into (created if needed)")

    data = commands.add_parser("data", help="check or fetch the MNIST files")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    verify = data_commands.add_parser("verify", help="check the four MNIST files' checksums and formats")
    add_data_dir(verify, "folder to check")
    fetch = data_commands.add_parser("fetch", help="download MNIST into the data folder, checksums verified")
    add_data_dir(fetch, "target folder")
    fetch.add_argument("--mirror", action="append", default=None, help="base URL to try (repeatable)")
    return parser


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The run the command line describes (validated: a bad value is an error naming the option)."""
    values = {f.name: getattr(args, f.name) for f in fields(RunSpec)}
    values["sizes"] = tuple(values["sizes"])
    if values["epochs"] is None:
        values["epochs"] = BY_NAME["epochs"].default
    return RunSpec(**values)


def command_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from stochmem import rundir

    run_dir = Path(args.run_dir) if args.run_dir else None
    if run_dir is None:
        if args.resume:
            raise ConfigError("--resume needs --run-dir: the folder of the run to continue")
        return train_and_report(args, None)
    with rundir.locked(run_dir):  # one writer per run directory
        return train_and_report(args, run_dir)


def train_and_report(args: argparse.Namespace, run_dir: Path | None) -> int:
    """The body of ``stochmem train``, with the run directory (if any) locked by the caller."""
    from stochmem import rundir
    from stochmem.runs import execute, prepare_resume, recorded_data_dir

    data_dir = args.data_dir
    resume = args.resume
    if resume:
        assert run_dir is not None
        spec = read_spec(run_dir)
        if args.epochs is not None:
            spec = replace(spec, epochs=args.epochs)
        data_dir = recorded_data_dir(run_dir, spec, data_dir, args.allow_data_change)
        if (run_dir / "checkpoint.json").is_file():
            prepare_resume(run_dir, spec)
        else:  # stopped before its first checkpoint: nothing was kept, so the run starts over, as configured
            print(f"{run_dir} has no checkpoint yet: training its run from the start")
            resume = False
    else:
        spec = spec_from_args(args)
    checkpoint_every = args.checkpoint_every
    if checkpoint_every is None:  # a resumed run keeps the cadence it was started with
        recorded = rundir.read_config(run_dir).get("checkpoint_every") if args.resume and run_dir else None
        checkpoint_every = DEFAULT_CHECKPOINT_EVERY if recorded is None else recorded
    results = execute(spec, run_dir, data_dir, resume, checkpoint_every,
                      say=(lambda _text: None) if args.quiet else print, progress=not args.quiet)
    if args.quiet:
        print(f"test accuracy {100 * (results[-1].test_accuracy or 0.0):.2f} %")
    return 0


def command_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from stochmem import rundir
    from stochmem.runs import evaluate_checkpoint, recorded_data_dir

    run_dir = Path(args.run_dir)
    spec = read_spec(run_dir)
    if args.test_size is not None:
        spec = replace(spec, test_size=args.test_size)
    data_dir = recorded_data_dir(run_dir, spec, args.data_dir, args.allow_data_change)
    with rundir.locked(run_dir):  # evaluations.json has one writer, and no training runs meanwhile
        rows, state = evaluate_checkpoint(run_dir, spec, data_dir, args.input_noise, args.bl, args.repeats,
                                          args.noise_domain)
        record = run_dir / "evaluations.json"
        previous = json.loads(record.read_text()) if record.is_file() else []
        rundir.write_json(record, [*previous, *rows])
    print(f"{run_dir}: {spec.kind} network after {state.epoch} epoch(s) + {state.position} images; "
          f"{spec.test_size} test images, read with BL={rows[0]['bit_length']}, {args.repeats} repeat(s)")
    for row in rows:
        print(f"  input noise variance {row['noise_variance']:g}: test accuracy {100 * row['mean_accuracy']:.2f} % "
              f"+- {100 * row['std_accuracy']:.2f} %")
    return 0


def command_reproduce(args: argparse.Namespace) -> int:
    from pathlib import Path

    from stochmem.cluster import connect, describe, scheduler_address
    from stochmem.reproduce import PAPER, RunsFailed, dry_run, load_experiment, preflight, run_experiment

    if args.workers < 1:
        raise ConfigError(f"--workers = {args.workers} is invalid: expected an integer >= 1")
    names = [name for entry in args.experiments for name in (PAPER if entry == "all" else (entry,))]
    experiments = [load_experiment(name, args.overrides, args.sweeps) for name in names]  # all valid before any runs
    scheduler = scheduler_address(args.scheduler)
    out = Path(args.out).absolute()  # workers, maybe on other machines, may not share this working directory
    data_dir = str(Path(args.data_dir).absolute()) if args.data_dir else None
    say = (lambda _text: None) if args.quiet else print
    if args.dry_run:
        for experiment in experiments:
            dry_run(experiment, out, describe(scheduler, args.workers), say=print)
        return 0
    preflight(experiments, out, data_dir, local=scheduler is None)
    failed = []
    with contextlib.ExitStack() as stack:
        try:
            executor = stack.enter_context(connect(scheduler, args.workers))
        except (OSError, ValueError) as error:  # unreachable, or an address Dask cannot parse
            if args.debug:
                raise
            print(f"stochmem: error: cannot start or reach {describe(scheduler, args.workers)}: "
                  f"{' '.join(str(error).split())}", file=sys.stderr)
            return 3
        if executor.dashboard:
            say(f"Dask dashboard: {executor.dashboard}")
        for experiment in experiments:
            try:
                run_experiment(experiment, out, data_dir, executor, say=say,
                               live=not args.quiet and sys.stdout.isatty(), threads=args.threads)
            except RunsFailed as error:
                failed.append(str(error))
            if args.quiet:
                print(out / experiment.name / "summary.md")
    for line in failed:
        print(f"stochmem: error: runs failed: {line}", file=sys.stderr)
    return 1 if failed else 0


def command_backends() -> int:
    from stochmem.plugins import default_host

    host = default_host()
    for entry in host.entries():
        if entry.unavailable:
            print(f"{entry.name:<12} unavailable: {entry.unavailable}  [plugin {entry.plugin}]")
        else:
            assert entry.capabilities is not None
            print(f"{entry.name:<12} {entry.version:<10} {entry.capabilities.describe()}  [plugin {entry.plugin}]"
                  + (f"\n{'':<12} {entry.description}" if entry.description else ""))
    for error in host.errors:
        print(f"error: {error}", file=sys.stderr)
    return 0


EXEC_PLACEHOLDER = "-"


def command_conform(args: argparse.Namespace) -> int:
    from stochmem.conformance.runner import run_conformance

    if args.backend == EXEC_PLACEHOLDER:
        args.backend = None
    if (args.backend is None) == (args.exec_command is None):
        raise ConfigError("conform needs either a backend name or --exec COMMAND (not both)")
    extra = list(args.pytest_args)
    if args.exec_command is not None:
        extra = ["--stochmem-exec", args.exec_command, "--stochmem-exec-timeout", str(args.exec_timeout), *extra]
    return run_conformance(args.backend or "reference", xfails=args.xfails, data_dir=args.data_dir,
                           extra_args=extra)


def command_serve(args: argparse.Namespace) -> int:
    from stochmem.plugins import default_host
    from stochmem.protocol.server import serve

    return serve(default_host().get(args.backend), sys.stdin, sys.stdout)


def command_vectors(args: argparse.Namespace) -> int:
    from stochmem.vectors import export_groups

    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    for path, count in export_groups(groups, Path(args.out)):
        print(f"wrote {path} ({count} tests)")
    return 0


def command_data(args: argparse.Namespace) -> int:
    directory = resolve_data_dir(args.data_dir)
    if args.data_command == "fetch":
        from stochmem.fetch import DEFAULT_MIRRORS, fetch_mnist

        fetch_mnist(directory, args.mirror or list(DEFAULT_MIRRORS), log=print)
    for name, path in verify_dir(directory):
        print(f"ok  {name}  {path}")
    for split in ("train", "test"):
        print(f"ok  {split}: {len(load_split(directory, split, verify=False))} images, formats valid")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "conform" and args.exec_command is not None and args.backend is not None:
        # With --exec there is no backend name: the optional positional must not swallow a pytest argument
        # (`-m "not end_to_end"`), so parse again with a placeholder in its place.
        argv = list(sys.argv[1:] if argv is None else argv)
        after = argv.index("conform") + 1
        if argv[after] == args.backend:  # `conform NAME --exec ...`: a name was given, not swallowed
            parser.error("conform takes a backend name or --exec COMMAND, not both")
        argv.insert(after, EXEC_PLACEHOLDER)
        args, extra = parser.parse_known_args(argv)
    if extra and args.command != "conform":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    if getattr(args, "threads", None) is not None:
        os.environ[THREADS_ENV] = str(args.threads)  # read by backends with a thread pool, and by worker processes
    try:
        if args.command == "train":
            return command_train(args)
        if args.command == "reproduce":
            return command_reproduce(args)
        if args.command == "evaluate":
            return command_evaluate(args)
        if args.command == "backends":
            return command_backends()
        if args.command == "conform":
            return command_conform(args)
        if args.command == "serve":
            return command_serve(args)
        if args.command == "vectors":
            return command_vectors(args)
        return command_data(args)
    except (ConfigError, DataError, BackendError, RunDirError, OSError) as error:
        if args.debug:
            raise
        print(f"stochmem: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stochmem: interrupted{how_to_resume(args)}", file=sys.stderr)
        return 130


def how_to_resume(args: argparse.Namespace) -> str:
    """'; resume with: COMMAND' for a command whose work survives an interruption, else ''."""
    if args.command == "train" and args.run_dir:
        if not os.path.isfile(os.path.join(args.run_dir, "checkpoint.json")):
            return " before the first checkpoint: nothing to resume, run the same command again"
        return f"; resume with: stochmem train --run-dir {shlex.quote(args.run_dir)} --resume"
    if args.command == "reproduce":
        return "; run the same command again to resume (finished runs are kept, the others continue)"
    return ""


if __name__ == "__main__":
    sys.exit(main())
