"""One training run, as the command line and the experiment runner describe it, executed with its run directory.

A :class:`RunSpec` is everything that determines a run's result (network, devices, data subset, epochs, seed,
backend). :func:`execute` trains it, optionally writing a run directory with checkpoints and resuming one.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from stochmem import __version__, rundir
from stochmem.backend_api import image_reader, input_corrupter
from stochmem.config import (
    ConfigError,
    DeviceParams,
    NetworkConfig,
    NetworkKind,
    NoiseMode,
    ResetWrite,
    from_dict,
    to_dict,
)
from stochmem.data import NOISE_DOMAINS, Dataset, load_idx_split, load_split, pixel_variance, resolve_data_dir
from stochmem.parameters import BY_NAME, check_values, reject_unknown, section
from stochmem.training import EpochResult, TrainingState, train


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's result. Each field is a parameter of :mod:`stochmem.parameters`, where
    its type, range, default, unit and help are declared (and the command line, the TOML keys, the config.json
    schema and the docs derived)."""

    kind: NetworkKind = BY_NAME["kind"].dataclass_field()
    sizes: tuple[int, ...] = BY_NAME["sizes"].dataclass_field()
    bl: int = BY_NAME["bl"].dataclass_field()
    lr: float = BY_NAME["lr"].dataclass_field()
    lr_decay: float = BY_NAME["lr_decay"].dataclass_field()
    levels: int = BY_NAME["levels"].dataclass_field()
    on_off: float = BY_NAME["on_off"].dataclass_field()
    sigma: float = BY_NAME["sigma"].dataclass_field()
    reset_every: int = BY_NAME["reset_every"].dataclass_field()
    noise_mode: NoiseMode = BY_NAME["noise_mode"].dataclass_field()
    w_max: float = BY_NAME["w_max"].dataclass_field()
    reset_write: ResetWrite = BY_NAME["reset_write"].dataclass_field()
    reset_threshold: float = BY_NAME["reset_threshold"].dataclass_field()
    epochs: int = BY_NAME["epochs"].dataclass_field()
    train_size: int = BY_NAME["train_size"].dataclass_field()
    test_size: int = BY_NAME["test_size"].dataclass_field()
    seed: int = BY_NAME["seed"].dataclass_field()
    data: str = BY_NAME["data"].dataclass_field()
    backend: str = BY_NAME["backend"].dataclass_field()  #: resolved on construction: a spec names what runs it

    def __post_init__(self) -> None:
        from stochmem.plugins import resolve_backend_name

        check_values(asdict(self))  # types, ranges, finiteness of every field, before anything reads one
        object.__setattr__(self, "sizes", tuple(self.sizes))
        object.__setattr__(self, "backend", resolve_backend_name(self.backend))

    def network_config(self) -> NetworkConfig:
        """The network and devices this run trains ([SPEC 3.1, 4.1]), each field set by its parameter."""
        device = DeviceParams(**{p.config_field: getattr(self, p.name) for p in section("device")})
        network = {p.config_field: getattr(self, p.name) for p in section("network")}
        return NetworkConfig(**network, device=device)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["sizes"] = list(self.sizes)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        reject_unknown(data, BY_NAME, "run")
        values = dict(data)
        if isinstance(values.get("sizes"), list):
            values["sizes"] = tuple(values["sizes"])
        return replace(cls(), **values)


def read_spec(run_dir: Path) -> RunSpec:
    """The run recorded in ``run_dir``'s config.json (checked against its schema), whose ``network`` record must
    be the network its ``arguments`` make: an edit of one without the other is refused, not trained on."""
    config = rundir.read_config(run_dir)
    path = run_dir / "config.json"
    try:
        spec = RunSpec.from_json(config["arguments"])
    except ConfigError as error:
        raise rundir.RunDirError(f"{path}: arguments: {error}") from None
    if "network" in config and from_dict(config["network"]) != spec.network_config():
        raise rundir.RunDirError(f"{path}: network does not match the network the arguments describe (one of them "
                                 "was edited): restore the file or start a new run")
    return spec


def data_folder(spec: RunSpec, data_dir: str | None) -> str | None:
    """The absolute folder ``spec``'s images are read from (None for the embedded digits), as a run records it."""
    if spec.data == "embedded":
        return None
    if spec.data == "idx":
        if not data_dir:
            raise ConfigError("data = idx reads your own data set: give its folder with --data-dir")
        return str(Path(data_dir).resolve())
    return str(resolve_data_dir(data_dir).resolve())


def recorded_data_dir(run_dir: Path, spec: RunSpec, data_dir: str | None, allow_change: bool = False) -> str | None:
    """The data folder to continue or evaluate the run in ``run_dir`` with: the one it was started with.

    ``data_dir`` (the user's --data-dir) may name the same folder; a different one is refused unless
    ``allow_change`` (the files moved), since the run's result depends on its images. Runs written before the
    folder was recorded take ``data_dir`` as given.
    """
    recorded: str | None = rundir.read_config(run_dir).get("data", {}).get("folder")
    if recorded is None:
        return data_dir
    if data_dir is None or allow_change:
        return data_dir or recorded
    if data_folder(spec, data_dir) != recorded:
        raise ConfigError(f"{run_dir} was trained on the images in {recorded}, but --data-dir names {data_dir}: "
                          "leave --data-dir out to use the run's own folder, or add --allow-data-change if the "
                          "files moved")
    return recorded


def load_data(spec: RunSpec, data_dir: str | None) -> tuple[Dataset, Dataset]:
    """The training and test subsets of the run ([SPEC 5.3]: the first N images)."""
    if spec.data == "embedded":
        from stochmem.embedded import embedded_split

        train_set, test_set = embedded_split()
    elif spec.data == "idx":
        if not data_dir:
            raise ConfigError("data = idx reads your own data set: give its folder with --data-dir")
        train_set, test_set = load_idx_split(Path(data_dir), "train"), load_idx_split(Path(data_dir), "test")
    else:
        directory = resolve_data_dir(data_dir)
        train_set, test_set = load_split(directory, "train"), load_split(directory, "test")
    check_fits(spec, train_set, test_set)
    for name, size, available in (("train_size", spec.train_size, len(train_set)),
                                  ("test_size", spec.test_size, len(test_set))):
        if size > available:
            raise ConfigError(f"{name} (--{name.replace('_', '-')}) = {size} is invalid: this data has {available} "
                              "images")
    return train_set.subset(0, spec.train_size), test_set.subset(0, spec.test_size)


def check_fits(spec: RunSpec, *datasets: Dataset) -> None:
    """The network's input and output sizes must match the images' pixels and the labels' range."""
    inputs, outputs = spec.sizes[0], spec.sizes[-1]
    for dataset in datasets:
        if dataset.rows * dataset.cols != inputs:
            raise ConfigError(f"the images have {dataset.rows}x{dataset.cols} = {dataset.rows * dataset.cols} "
                              f"pixels but the network has {inputs} inputs: set --sizes "
                              f"{dataset.rows * dataset.cols}-...-{outputs}")
        if max(dataset.labels) >= outputs:
            raise ConfigError(f"label {max(dataset.labels)} needs at least {max(dataset.labels) + 1} outputs but "
                              f"the network has {outputs}: set --sizes {inputs}-...-{max(dataset.labels) + 1}")


def describe(spec: RunSpec) -> str:
    config = spec.network_config()
    return (f"{config.kind} network {'-'.join(map(str, config.sizes))}"
            + ("" if config.kind == "float" else f", BL={config.bit_length}")
            + (f", sigma={config.device.sigma}B" if config.kind == "memristive" else ""))


class ProgressLine:
    """A one-line progress report on a terminal: epoch, images done, running training accuracy, speed.

    Silent when standard error is not a terminal (logs, CI) or when the run is quiet.
    """

    def __init__(self, epochs: int, state: TrainingState, enabled: bool) -> None:
        self.epochs, self.state = epochs, state
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and done < total):
            return
        self.last = now
        accuracy = 100 * (1 - self.state.mistakes / done)
        rate = done / max(now - self.started, 1e-9) if done > 1 else 0.0
        bar = "#" * (30 * done // total)
        sys.stderr.write(f"\repoch {self.state.epoch + 1}/{self.epochs} [{bar:<30}] {done}/{total} images, "
                         f"training accuracy {accuracy:5.1f} %, {rate:6.0f} img/s ")
        if done == total:
            sys.stderr.write("\n")
            self.started = time.perf_counter()
        sys.stderr.flush()


def execute(spec: RunSpec, run_dir: Path | None = None, data_dir: str | None = None, resume: bool = False,
            checkpoint_every: int = 10000, say: Callable[[str], None] = print,
            progress: bool = False, on_epoch: Callable[[EpochResult], None] | None = None) -> list[EpochResult]:
    """Train ``spec``; with ``run_dir`` write config, versions, metrics, log and checkpoints, or resume them.

    ``progress`` shows a live progress line on a terminal; ``on_epoch`` is called with each finished epoch.
    """
    from stochmem.plugins import get_backend

    if checkpoint_every < 0:
        raise ConfigError(f"checkpoint_every = {checkpoint_every} is invalid: expected an integer >= 0")
    config = spec.network_config()
    backend = get_backend(spec.backend)
    if config.kind not in backend.capabilities.kinds:
        raise ConfigError(f"backend {backend.name!r} does not implement the {config.kind} kind "
                          f"({backend.capabilities.describe()})")
    train_set, test_set = load_data(spec, data_dir)
    model = backend.create_model(config, spec.seed)
    state = TrainingState()
    if run_dir is not None:
        if resume:
            layers, state = rundir.load_checkpoint(run_dir, config)
            check_position(run_dir, state, len(train_set))
            model.load_layers(layers)
        else:
            rundir.start(run_dir, {"arguments": spec.to_json(), "network": to_dict(config),
                                   "data": {"source": spec.data, "folder": data_folder(spec, data_dir)},
                                   "checkpoint_every": checkpoint_every},
                         rundir.versions(backend.name, backend.version))
    log = (run_dir / "log.txt").open("a") if run_dir is not None else None

    def tell(text: str) -> None:
        say(text)
        if log is not None and run_dir is not None:
            try:
                log.write(text + "\n")
                log.flush()
            except OSError as error:
                raise rundir.RunDirError(f"cannot write {run_dir / 'log.txt'}: {error.strerror or error} (free "
                                         "some space; the last checkpoint is intact: continue with --resume)"
                                         ) from error

    tell(f"stochmem {__version__}: {describe(spec)}; {len(train_set)} training and {len(test_set)} test images "
         f"({spec.data}); seed {spec.seed}; backend {backend.name} {backend.version}"
         + (f"; resuming at epoch {state.epoch + 1}, image {state.position}" if resume else ""))
    if resume:  # versions.json describes the start; a resumed part may run other code (equal up to rounding)
        tell(f"resumed with {json.dumps(rundir.versions(backend.name, backend.version), sort_keys=True)}")
    start = time.perf_counter()

    def report(result: EpochResult) -> None:
        tell(f"epoch {result.epoch + 1}/{spec.epochs}: lr {result.learning_rate:.4g}, loss {result.mean_loss:.4f}, "
             f"training error {100 * result.train_error:.2f} %, test accuracy "
             f"{100 * (result.test_accuracy or 0):.2f} % ({result.seconds:.1f} s)")
        if on_epoch is not None:
            on_epoch(result)

    def checkpoint(current: TrainingState) -> None:
        assert run_dir is not None
        rundir.save_checkpoint(run_dir, model.export_layers(), current, len(train_set))

    try:
        results = train(model, config, spec.seed, train_set, test_set, spec.epochs,
                        on_image=ProgressLine(spec.epochs, state, progress), on_epoch=report, state=state,
                        on_checkpoint=checkpoint if run_dir is not None else None,
                        checkpoint_every=checkpoint_every, read=image_reader(backend))
        tell(f"test accuracy {100 * (results[-1].test_accuracy or 0.0):.2f} % ({time.perf_counter() - start:.1f} s)")
    finally:
        if log is not None:
            log.close()
    return results


def check_position(run_dir: Path, state: TrainingState, n_train: int) -> None:
    """A checkpoint's position lies inside its epoch of ``n_train`` images."""
    if state.position > n_train:
        raise rundir.RunDirError(f"{run_dir / 'checkpoint.json'}: state.position = {state.position} lies beyond the "
                                 f"epoch's {n_train} training images; the checkpoint was edited or is corrupt")


def prepare_resume(run_dir: Path, spec: RunSpec) -> TrainingState:
    """Check that ``run_dir`` holds ``spec``, or the same run with fewer epochs, and return its saved state.

    A shorter run is a prefix of a longer one ([SPEC 3.5]: epoch e's order and learning rate depend on e alone), so
    asking for more epochs extends it: its config is rewritten with the new count and training continues from the
    last checkpoint, ending bit-identical to a run asked for that many epochs from the start. Anything else that
    differs, or fewer epochs than are already finished, is refused (nothing is lost).
    """
    saved, state = check_resumable(run_dir, spec)
    config = rundir.read_config(run_dir)
    if spec.epochs != saved.epochs:
        config["arguments"] = spec.to_json()
        rundir.write_json(run_dir / "config.json", config)
        with (run_dir / "log.txt").open("a") as log:
            log.write(f"extended from {saved.epochs} to {spec.epochs} epochs\n")
    return state


def check_same_run(run_dir: Path, spec: RunSpec) -> RunSpec:
    """The run ``run_dir``'s config holds, or a ConfigError naming what differs unless it is ``spec`` but for the
    number of epochs."""
    saved = read_spec(run_dir)
    if replace(saved, epochs=spec.epochs) != spec:
        changed = sorted(k for k, v in spec.to_json().items() if saved.to_json()[k] != v and k != "epochs")
        raise ConfigError(f"{run_dir} holds a different run (it differs in {', '.join(changed)}); "
                          "choose another --out/--run-dir or delete it")
    return saved


def check_resumable(run_dir: Path, spec: RunSpec) -> tuple[RunSpec, TrainingState]:
    """The run ``run_dir`` holds and its saved state, or a ConfigError unless ``spec`` can continue it (the same
    run, asking for as many epochs as are finished or more); changes nothing (see :func:`prepare_resume`)."""
    saved = check_same_run(run_dir, spec)
    state = rundir.load_state(run_dir)  # the crossbars are read, and checked, by whoever trains or evaluates
    if spec.epochs < state.epoch:
        raise ConfigError(f"{run_dir} has already finished {state.epoch} epochs: ask for at least that many "
                          f"(epochs = {spec.epochs})")
    return saved, state


def quiet(_text: str) -> None:
    """A ``say`` that prints nothing."""


def evaluate_checkpoint(run_dir: Path, spec: RunSpec, data_dir: str | None, variances: list[float],
                        bit_length: int | None, repeats: int, noise_domain: str = "pixels"
                        ) -> tuple[list[dict[str, Any]], TrainingState]:
    """[SPEC 3.9, 5.4] Accuracy of a run's checkpoint per noise variance (mean, spread and every repeat), and
    the training state the checkpoint was taken at. The variances are stated for inputs in ``noise_domain``
    (:data:`stochmem.data.NOISE_DOMAINS`)."""
    import statistics

    from stochmem.plugins import get_backend
    from stochmem.training import evaluate

    if repeats < 1:
        raise ConfigError(f"repeats = {repeats} is invalid: expected an integer >= 1")
    if bit_length is not None and bit_length < 1:
        raise ConfigError(f"bit length = {bit_length} is invalid: expected an integer >= 1 (BL)")
    if any(v < 0 for v in variances):
        raise ConfigError(f"noise variances {variances} are invalid: they must be >= 0")
    if noise_domain not in NOISE_DOMAINS:
        raise ConfigError(f"noise domain {noise_domain!r} is invalid: choose one of {', '.join(NOISE_DOMAINS)}")
    backend = get_backend(spec.backend)
    _, test_set = load_data(spec, data_dir)
    model = backend.create_model(spec.network_config(), spec.seed)
    layers, state = rundir.load_checkpoint(run_dir, spec.network_config())
    model.load_layers(layers)
    reading = bit_length or spec.bl
    noise = input_corrupter(backend)
    read = image_reader(backend)
    rows = []
    for variance in variances:
        in_pixels = pixel_variance(variance, noise_domain)
        accuracies = [evaluate(model, spec.seed, test_set, repeat, bit_length, in_pixels, noise, read)
                      for repeat in range(repeats)]
        rows.append({"noise_variance": variance, "noise_domain": noise_domain, "bit_length": reading,
                     "repeats": repeats,
                     "mean_accuracy": statistics.fmean(accuracies),
                     "std_accuracy": statistics.stdev(accuracies) if repeats > 1 else 0.0,
                     "accuracies": accuracies})
    return rows, state
