"""A run directory: the resolved configuration, per-epoch metrics, versions, and atomic checkpoints.

Layout of ``RUN_DIR``::

    config.json          what ran: network config, seed, backend, data, subset sizes, epochs
    versions.json        stochmem, the backend, Python, NumPy, the git revision when known
    metrics.csv, .json   one row per finished epoch
    checkpoint.json      the current checkpoint: training state and the name + SHA-256 of its arrays
    checkpoint-<step>.npz  the crossbars' arrays (``allow_pickle=False``; never pickle)

A checkpoint is written as a new ``.npz`` under a temporary name, renamed, then ``checkpoint.json`` is replaced
atomically to point at it, and only then is the previous ``.npz`` removed: an interruption at any moment leaves
a complete, consistent checkpoint. Files are validated before use. NumPy is imported here (not on the reference
path) because ``.npz`` is the safe array format.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stochmem.config import ConfigError, NetworkConfig
from stochmem.network import Layer
from stochmem.parameters import MAX_LAYERS, StrictValidator, first_error, integer_schema, number_schema
from stochmem.schema import check_config_file
from stochmem.training import EpochResult, TrainingState

FORMAT = "stochmem-checkpoint"
FORMAT_VERSION = 1


class RunDirError(ValueError):
    """A run directory is missing, inconsistent, or belongs to another run."""


LOCK_NAME = ".lock"
HOLDER_NAME = ".lock-holder.json"


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's writer lock for the block; a RunDirError naming the holder if another process has it.

    The lock is the OS's advisory file lock (through ``filelock``): it dies with its process, so a run killed by
    SIGKILL or a power cut leaves no stale lock behind; ``.lock-holder.json`` only tells who holds a live one.
    Leftover temporary files of a write that was interrupted are removed once the lock is held.
    """
    from filelock import FileLock, Timeout

    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run_dir / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = "another process"
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            info = json.loads((run_dir / HOLDER_NAME).read_text())
            holder = f"process {info['pid']} on {info['host']} (since {info['since']}: {info['command']})"
        raise RunDirError(f"{run_dir} is in use by {holder}: wait for it to finish, or stop it, before writing to "
                          "this run directory") from None
    try:
        for leftover in run_dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        write_json(run_dir / HOLDER_NAME, {"pid": os.getpid(), "host": platform.node(),
                                           "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                                           "command": " ".join(sys.argv)})
        yield
    finally:
        with contextlib.suppress(OSError):
            (run_dir / HOLDER_NAME).unlink()
        lock.release()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename.

    Either the new content is in place or the old file is untouched. A failed write (a full disk, a read-only
    folder) removes the temporary file and raises a RunDirError naming ``path``.
    """
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise RunDirError(f"cannot write {path}: {error.strerror or error} (free some space or choose another "
                          "folder; the previous version of the file, if any, is intact)") from error
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def write_json(path: Path, document: Any) -> None:
    write_atomically(path, (json.dumps(document, indent=1) + "\n").encode())


def versions(backend: str, backend_version: str) -> dict[str, str]:
    import numpy

    import stochmem

    revision = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):  # not a git checkout: "unknown"
        revision = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                  cwd=Path(stochmem.__file__).parent).stdout.strip()
    return {"stochmem": stochmem.__version__, "spec": stochmem.SPEC_VERSION, "backend": backend,
            "backend_version": backend_version, "python": platform.python_version(), "numpy": numpy.__version__,
            "git_revision": revision or "unknown"}


def start(run_dir: Path, config: dict[str, Any], version_info: dict[str, str]) -> None:
    """Create a run directory for a new run; refuse one that already holds a checkpoint (nothing is lost)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / "checkpoint.json").exists():
        raise RunDirError(f"{run_dir} already holds a run; continue it with --resume or choose another --run-dir")
    write_json(run_dir / "config.json", config)
    write_json(run_dir / "versions.json", version_info)


def read_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "config.json"
    if not path.is_file():
        raise RunDirError(f"{path} not found: is {run_dir} a stochmem run directory?")
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise RunDirError(f"{path} is not valid JSON: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path} cannot be read: {error}") from error
    try:
        check_config_file(document, str(path))
    except ConfigError as error:
        raise RunDirError(f"{error} (the run directory's config was edited or is corrupt)") from None
    return document


def save_checkpoint(run_dir: Path, layers: list[Layer], state: TrainingState, n_train: int) -> None:
    """Write the crossbars and the training state atomically (see the module docstring)."""
    import io

    import numpy as np

    arrays: dict[str, Any] = {}
    for index, layer in enumerate(layers):
        arrays[f"weights_{index}"] = np.asarray(layer.weights, dtype=np.float64)
        if layer.g_plus is not None and layer.g_minus is not None:
            arrays[f"g_plus_{index}"] = np.asarray(layer.g_plus, dtype=np.float64)
            arrays[f"g_minus_{index}"] = np.asarray(layer.g_minus, dtype=np.float64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    step = state.epoch * n_train + state.position
    npz = run_dir / f"checkpoint-{step:010d}.npz"
    write_atomically(npz, blob)
    previous = _current_npz(run_dir)
    write_json(run_dir / "checkpoint.json", {
        "format": FORMAT, "version": FORMAT_VERSION, "arrays": npz.name,
        "sha256": hashlib.sha256(blob).hexdigest(), "crossbars": len(layers),
        "state": {"epoch": state.epoch, "position": state.position, "loss_sum": state.loss_sum,
                  "mistakes": state.mistakes, "results": [asdict(r) for r in state.results]},
    })
    if previous is not None and previous != npz and previous.exists():
        previous.unlink()
    write_metrics(run_dir, state.results)


def _current_npz(run_dir: Path) -> Path | None:
    path = run_dir / "checkpoint.json"
    if not path.is_file():
        return None
    try:
        return run_dir / arrays_name(json.loads(path.read_text()), path)
    except (ValueError, AttributeError):  # unreadable or edited: never delete what it names
        return None


ARRAYS_NAME = re.compile(r"checkpoint-[0-9]{10}\.npz")
_COUNT = integer_schema(0)
_FRACTION = number_schema(minimum=0, maximum=1)
#: The JSON Schema of checkpoint.json (format version 1); the cross-field rules (mistakes <= position, one result
#: per finished epoch) are checked by :func:`_state_of`, the arrays by :func:`check_layers`.
CHECKPOINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "arrays", "sha256", "crossbars", "state"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": FORMAT_VERSION},
        "arrays": {"type": "string", "pattern": f"^{ARRAYS_NAME.pattern}$"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "crossbars": integer_schema(1, MAX_LAYERS),
        "state": {
            "type": "object",
            "required": ["epoch", "position", "loss_sum", "mistakes", "results"],
            "additionalProperties": False,
            "properties": {
                "epoch": _COUNT, "position": _COUNT, "mistakes": _COUNT,
                "loss_sum": number_schema(minimum=0),
                "results": {"type": "array", "maxItems": 100_000, "items": {
                    "type": "object",
                    "required": ["epoch", "learning_rate", "mean_loss", "train_error", "test_accuracy", "seconds"],
                    "additionalProperties": False,
                    "properties": {
                        "epoch": _COUNT, "learning_rate": number_schema(exclusiveMinimum=0),
                        "mean_loss": number_schema(minimum=0), "train_error": _FRACTION,
                        "test_accuracy": {"anyOf": [_FRACTION, {"type": "null"}]},
                        "seconds": number_schema(minimum=0),
                    }}},
            },
        },
    },
}


_CHECKPOINT = StrictValidator(CHECKPOINT_SCHEMA)


def _checkpoint_document(run_dir: Path) -> dict[str, Any]:
    """checkpoint.json of ``run_dir``, its format checked."""
    path = run_dir / "checkpoint.json"
    if not path.is_file():
        raise RunDirError(f"{path} not found: {run_dir} has no checkpoint to resume from")
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RunDirError(f"{path}: the checkpoint cannot be read ({type(error).__name__}: {error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
        raise RunDirError(f"{path}: not a {FORMAT} version {FORMAT_VERSION} file")
    invalid = first_error(_CHECKPOINT, document)
    if invalid:
        raise RunDirError(f"{path}: {invalid} (the checkpoint was edited or is corrupt)")
    return document


def _state_of(document: dict[str, Any]) -> TrainingState:
    """The training state of a checkpoint document, its counters checked (whole numbers in range)."""
    saved = document["state"]
    results = [EpochResult(**r) for r in saved["results"]]
    for name in ("epoch", "position", "mistakes"):
        value = saved[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"state.{name} = {value!r}: expected a whole number >= 0")
    if saved["mistakes"] > saved["position"]:
        raise ValueError(f"state.mistakes = {saved['mistakes']} exceeds state.position = {saved['position']}")
    loss_sum = float(saved["loss_sum"])
    if not math.isfinite(loss_sum) or loss_sum < 0:
        raise ValueError(f"state.loss_sum = {saved['loss_sum']!r}: expected a finite number >= 0")
    if len(results) != saved["epoch"]:
        raise ValueError(f"state.results has {len(results)} epochs, but state.epoch = {saved['epoch']}")
    return TrainingState(saved["epoch"], saved["position"], loss_sum, saved["mistakes"], results)


def load_state(run_dir: Path) -> TrainingState:
    """The training state of the run's checkpoint (its metadata only: the crossbars are not read)."""
    document = _checkpoint_document(run_dir)
    try:
        return _state_of(document)
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirError(f"{run_dir / 'checkpoint.json'}: the checkpoint cannot be read "
                          f"({type(error).__name__}: {error})") from error




def arrays_name(document: dict[str, Any], path: Path) -> str:
    """The checkpoint's ``arrays`` file name: a ``checkpoint-<step>.npz`` in the run directory itself, never a path
    (a checkpoint must not continue from, or later delete, another run's file)."""
    name = document.get("arrays")
    if not isinstance(name, str) or not ARRAYS_NAME.fullmatch(name):
        raise RunDirError(f"{path}: field 'arrays' = {name!r} is invalid: expected a file name checkpoint-<10 digits>"
                          ".npz in the run directory; the checkpoint was edited or is corrupt")
    return name


def check_layers(layers: list[Layer], config: NetworkConfig, where: str) -> None:
    """Fail with a RunDirError naming ``where`` and the array unless ``layers`` fit ``config``: one crossbar per pair
    of layer sizes, shapes (n_out, n_in + 1), finite values, device levels in [0, L - 1] for a memristive network
    (and none otherwise), and weights equal to dw_min (G+ - G-). Checked before any backend sees the arrays."""
    import numpy as np

    sizes = config.sizes
    if len(layers) != len(sizes) - 1:
        raise RunDirError(f"{where}: {len(layers)} crossbars, but the run's sizes {'-'.join(map(str, sizes))} need "
                          f"{len(sizes) - 1}")
    top = float(config.device.top_level)
    for index, layer in enumerate(layers):
        shape = (sizes[index + 1], sizes[index] + 1)
        fields = {"weights": layer.weights, "g_plus": layer.g_plus, "g_minus": layer.g_minus}
        memristive = config.kind == "memristive"
        for name, value in fields.items():
            if name != "weights" and (value is None) == memristive:
                raise RunDirError(f"{where}: crossbar {index} {'lacks' if memristive else 'has'} device levels "
                                  f"({name}) but the network is {config.kind}")
            if value is None:
                continue
            array = np.asarray(value, dtype=np.float64)
            if array.shape != shape:
                raise RunDirError(f"{where}: {name}_{index} has shape {array.shape}, expected {shape} for layer sizes "
                                  f"{sizes[index]} -> {sizes[index + 1]}")
            if not np.isfinite(array).all():
                raise RunDirError(f"{where}: {name}_{index} holds a value that is not finite")
            if name != "weights" and (array.min() < 0.0 or array.max() > top):
                raise RunDirError(f"{where}: {name}_{index} holds a level outside [0, {top:g}] (levels = "
                                  f"{config.device.levels})")
        if memristive:
            implied = config.device.dw_min * (np.asarray(layer.g_plus) - np.asarray(layer.g_minus))
            if not np.allclose(np.asarray(layer.weights), implied, rtol=1e-9, atol=1e-12):
                raise RunDirError(f"{where}: weights_{index} are not dw_min (G+ - G-) of its devices [SPEC 4.2]")


def load_checkpoint(run_dir: Path, config: NetworkConfig | None = None) -> tuple[list[Layer], TrainingState]:
    """The crossbars and training state of the run's checkpoint, validated (format, checksum, the arrays' name;
    with ``config``, every array against the network: :func:`check_layers`)."""
    import io

    import numpy as np

    path = run_dir / "checkpoint.json"
    document = _checkpoint_document(run_dir)
    try:
        npz = run_dir / arrays_name(document, path)
        blob = npz.read_bytes()
        if hashlib.sha256(blob).hexdigest() != document["sha256"]:
            raise RunDirError(f"{npz}: SHA-256 does not match {path}; the checkpoint is corrupt")
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            layers = []
            for index in range(int(document["crossbars"])):
                weights = arrays[f"weights_{index}"].tolist()
                if f"g_plus_{index}" in arrays:
                    layers.append(Layer(weights, arrays[f"g_plus_{index}"].tolist(),
                                        arrays[f"g_minus_{index}"].tolist()))
                else:
                    layers.append(Layer(weights))
        state = _state_of(document)
    except RunDirError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise RunDirError(f"{path}: the checkpoint cannot be read ({type(error).__name__}: {error})") from error
    if config is not None:
        check_layers(layers, config, str(npz))
    return layers, state


def write_metrics(run_dir: Path, results: list[EpochResult]) -> None:
    """metrics.json and metrics.csv: one row per finished epoch."""
    rows = [asdict(r) for r in results]
    write_json(run_dir / "metrics.json", rows)
    import io

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(EpochResult.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(run_dir / "metrics.csv", text.getvalue().encode())
