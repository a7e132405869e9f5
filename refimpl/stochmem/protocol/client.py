"""The suite's side of the process protocol [SPEC 7]: a :class:`~stochmem.backend_api.Backend` whose every method
is one request to a subprocess.

:func:`connect` starts the command, performs the handshake and returns an :class:`ExecBackend` (with the data
methods when the implementation claims the ``data`` group). Anything that goes wrong with the subprocess is an
:class:`ExecError` whose message names the request that caused it: the implementation's own error reply, a
crash (with its exit status and the last lines it wrote to stderr), no reply within the timeout (the process is
then stopped), or a malformed reply (not JSON, another id, a missing or ill-typed field). After a crash, a
timeout or a reply that is not a reply to this request the process is restarted for the next request, so one bad
answer fails one test; after :data:`MAX_RESTARTS` restarts it is not started again.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import shlex
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, NoReturn, TypeVar

from bitarray import bitarray

from stochmem import SPEC_VERSION, __version__
from stochmem.backend_api import CLAUSE_GROUPS, BackendError, Capabilities, Model
from stochmem.config import NETWORK_KINDS, DeviceParams, NetworkConfig
from stochmem.data import Dataset
from stochmem.network import Layer, StepResult
from stochmem.protocol import PROTOCOL_VERSION
from stochmem.protocol.codec import (
    Json,
    ProtocolError,
    config_json,
    device_json,
    draw_json,
    floats_json,
    hex_bits,
    hex_word,
    integer,
    integers,
    json_layer,
    json_layers,
    layer_json,
    layers_json,
    number,
    numbers,
    word_hex,
)
from stochmem.rng import Draw

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0  #: seconds an implementation may take to answer one request
MAX_RESTARTS = 5  #: after this many crashes, hangs or malformed replies the implementation is not started again
STDERR_LINES = 20  #: how many of its last stderr lines an error quotes


#: [SPEC 7.2] The first request to every process.
HELLO: Json = {"protocol": PROTOCOL_VERSION, "specVersion": SPEC_VERSION, "client": f"stochmem {__version__}"}


class ExecError(BackendError):
    """The implementation under test failed a request; the message names the request and what happened."""


@dataclass(frozen=True)
class Identity:
    """What the implementation said in the handshake [SPEC 7.2]."""

    name: str
    version: str
    capabilities: Capabilities


class Channel:
    """One subprocess speaking JSON lines: requests on its stdin, replies on its stdout, stderr kept for errors.

    Requests are written and replies read on non-blocking pipes under one deadline (``select``), so a program
    that stops reading or stops answering costs the timeout, never a hang, and no thread stands between a
    request and its reply. Standard error is drained by a thread into the last :data:`STDERR_LINES` lines. The
    program runs in a session of its own, so that stopping it stops what it started too (a simulator behind a
    wrapper script).
    """

    def __init__(self, command: str, timeout: float) -> None:
        self.command, self.timeout = command, timeout
        self.argv = shlex.split(command)
        if not self.argv:
            raise ExecError("--exec needs a command, e.g. --exec './stochmem-c'")
        self.process: subprocess.Popen[bytes] | None = None
        self.unread = bytearray()  #: bytes read from stdout beyond the last complete reply
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.next_id = 1
        self.starts = 0
        self.drain: threading.Thread | None = None
        self.to_drop: list[tuple[int, int]] = []  #: (model handle, process start) freed since the last request
        self.last_request = ""  #: the description of the request whose reply is being decoded

    def start(self) -> None:
        if self.starts > MAX_RESTARTS:
            raise ExecError(f"{self.command!r} crashed, hung or answered malformed replies {MAX_RESTARTS} times; "
                            "not starting it again (see the first failures above)")
        self.starts += 1
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            raise ExecError(f"cannot start {self.command!r}: {error.strerror or error} (give the path of an "
                            "executable, e.g. --exec ./stochmem-c)") from None
        assert self.process.stdin is not None and self.process.stdout is not None
        assert self.process.stderr is not None
        os.set_blocking(self.process.stdin.fileno(), False)
        os.set_blocking(self.process.stdout.fileno(), False)
        self.unread = bytearray()
        self.stderr.clear()
        self.drain = threading.Thread(target=_drain, args=(self.process.stderr, self.stderr), daemon=True)
        self.drain.start()

    def request(self, op: str, fields: Json) -> Json:
        """Send one request and return its reply's ``result``; :class:`ExecError` on any failure."""
        if self.process is None:
            self.start()
            if op != "hello":  # a restarted process is greeted again; the first handshake checked its claims
                self.request("hello", HELLO)
        self._drop_freed_models()
        message = {"id": self.next_id, "op": op, **fields}
        self.next_id += 1
        what = self.last_request = describe(message)
        try:
            line = json.dumps(message, allow_nan=False)
        except ValueError:
            raise ExecError(f"{what}: the request carries a NaN or infinity, which [SPEC 7.3] cannot send") from None
        deadline = time.monotonic() + self.timeout
        if not self._send((line + "\n").encode(), deadline):
            self._fail(what, f"could not be sent within {self.timeout:g} s: the implementation stopped reading "
                             "its input; it was stopped (raise the limit with --exec-timeout)")
        try:
            reply_line = self._receive(deadline)
        except TimeoutError:
            self._fail(what, f"got no reply within {self.timeout:g} s; the implementation was stopped "
                             "(raise the limit with --exec-timeout)")
        if reply_line is None:
            self._fail(what, "got no reply: the implementation closed its output")
        try:
            reply = json.loads(reply_line)
        except ValueError:
            self._fail(what, f"got a reply that is not JSON: {reply_line.strip()!r:.160} (a reply is one JSON "
                             "object on one line of stdout; write logs to stderr)")
        if not isinstance(reply, dict) or reply.get("id") != message["id"]:
            self._fail(what, f"got a reply without this request's id {message['id']}: {reply_line.strip():.160}")
        if "error" in reply:
            error = reply["error"]
            text = error.get("message", error) if isinstance(error, dict) else error
            if isinstance(error, dict) and error.get("code") == "unsupported":
                raise NotImplementedError(f"{what}: the implementation does not support it: {text}")
            raise ExecError(f"{what}: the implementation answered with an error: {text}")
        result: Json | None = reply.get("result")
        if not isinstance(result, dict):
            self._fail(what, f"got a reply with neither an object 'result' nor an 'error': {reply_line.strip():.160}")
        return result

    def _send(self, data: bytes, deadline: float) -> bool:
        """Write all of ``data`` before ``deadline``; False if the pipe stayed full. A closed pipe returns True:
        the missing reply then says what happened, with the exit status."""
        assert self.process is not None and self.process.stdin is not None
        fd, view = self.process.stdin.fileno(), memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view):]
                continue
            except BlockingIOError:
                pass
            except OSError:  # a broken pipe: the program has closed its input or exited
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                return False
        return True

    def _receive(self, deadline: float) -> str | None:
        """The next reply line (decoded, undecodable bytes escaped), None at the end of output; TimeoutError
        when the deadline passes first."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self.unread:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            self.unread += chunk
        end = self.unread.index(b"\n")
        line = bytes(self.unread[:end]).decode("utf-8", "backslashreplace")
        del self.unread[:end + 1]
        return line

    def _drop_freed_models(self) -> None:
        """Free, on the caller's thread and between requests, the models whose Python objects have gone."""
        while self.to_drop:
            handle, start = self.to_drop.pop()
            if start == self.starts and self.process is not None:
                with contextlib.suppress(ExecError, NotImplementedError):  # freeing is a courtesy
                    self.request("dropModel", {"model": handle})

    def _fail(self, what: str, problem: str) -> NoReturn:
        """Stop the process (the next request starts a fresh one) and raise an error naming the request."""
        status = self.stop()
        message = f"{what} {problem}"
        if status is not None:
            message += f"; the implementation exited with status {status}"
        tail = "\n".join(self.stderr)
        if tail:
            message += f"\n--- last lines of its stderr ---\n{tail}"
        raise ExecError(message)

    def stop(self) -> int | None:
        """End the process: close its input (a polite end, [SPEC 7.2]), then kill its session if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return None
        with contextlib.suppress(OSError):
            if process.stdin:
                process.stdin.close()
        try:
            status: int | None = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = None
        with contextlib.suppress(OSError):  # whatever it started goes too (a wrapper script's simulator)
            os.killpg(process.pid, signal.SIGKILL)
        if status is None:
            status = process.wait()
        if self.drain is not None:
            self.drain.join(timeout=2)  # it ends at the end of stderr
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        return status


def _drain(stream: IO[bytes], lines: collections.deque[str]) -> None:
    """Keep the last lines of a program's stderr (so that it never blocks on a full pipe)."""
    with contextlib.suppress(ValueError, OSError):  # the stream closed under it by stop()
        for raw in stream:
            lines.append(raw.decode("utf-8", "backslashreplace").rstrip("\n"))


def describe(message: Json) -> str:
    """'request #12 (encode: {...})', the arguments shortened, for error messages."""
    arguments = {k: v for k, v in message.items() if k not in ("id", "op")}
    text = json.dumps(arguments)
    return f"request #{message['id']} ({message['op']}: {text if len(text) <= 160 else text[:157] + '...'})"


def handshake(channel: Channel) -> Identity:
    """[SPEC 7.2] ``hello``: agree on the protocol version and read the implementation's claims."""
    try:
        result = channel.request("hello", HELLO)
        if result.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(f"it speaks protocol {result.get('protocol')!r}, this stochmem speaks "
                                f"{PROTOCOL_VERSION}")
        name, version = result.get("name"), result.get("version")
        if not isinstance(name, str) or not name or not isinstance(version, str):
            raise ProtocolError("name and version must be non-empty strings")
        groups, kinds = result.get("groups"), result.get("kinds", [])
        if not isinstance(groups, list) or not groups or not set(groups) <= set(CLAUSE_GROUPS):
            raise ProtocolError(f"groups must be a non-empty list of {list(CLAUSE_GROUPS)}, got {groups!r}")
        if not isinstance(kinds, list) or not set(kinds) <= set(NETWORK_KINDS):
            raise ProtocolError(f"kinds must be a list of {list(NETWORK_KINDS)}, got {kinds!r}")
        if not isinstance(result.get("exact"), bool):
            raise ProtocolError("exact must be true or false")
        capabilities = Capabilities(kinds=frozenset(kinds), exact=result["exact"], groups=frozenset(groups))
    except (ProtocolError, ValueError, TypeError, ExecError, NotImplementedError) as error:
        channel.stop()
        raise ExecError(f"the handshake of {channel.command!r} failed: {error}") from None
    return Identity(name, version, capabilities)


class ExecModel:
    """A network held by the implementation, addressed by the handle it returned from ``createModel``."""

    def __init__(self, channel: Channel, config: NetworkConfig, seed: int) -> None:
        self.channel, self.config = channel, config
        result = channel.request("createModel", {"config": config_json(config), "seed": seed})
        self.handle = _checked(lambda: integer(result.get("model"), "model"), channel)
        # Free the implementation's copy when this object goes: the handle is queued here (a finalizer may run
        # on any thread, mid-request) and sent before the next request, unless the process that holds it is gone.
        weakref.finalize(self, channel.to_drop.append, (self.handle, channel.starts))

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        result = self.channel.request("trainStep", {"model": self.handle, "image": floats_json(image),
                                                    "label": int(label), "step": int(step), "eta": float(eta)})
        return _checked(lambda: StepResult(number(result.get("loss"), "loss"),
                                           integer(result.get("prediction"), "prediction")), self.channel)

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        result = self.channel.request("predict", {"model": self.handle, "image": floats_json(image),
                                                  "imageIndex": int(image_index), "repeat": int(repeat),
                                                  "bitLength": bit_length})
        return _checked(lambda: integer(result.get("prediction"), "prediction"), self.channel)

    def export_layers(self) -> list[Layer]:
        result = self.channel.request("exportLayers", {"model": self.handle})
        return _checked(lambda: json_layers(result.get("layers"), "layers", self.config.n_layers), self.channel)

    def load_layers(self, layers: list[Layer]) -> None:
        self.channel.request("loadLayers", {"model": self.handle, "layers": layers_json(layers)})


def _checked(decode: Callable[[], T], channel: Channel) -> T:
    """Decode a reply, turning a malformed field into an ExecError that names the request (the stream of replies
    is still in step, so the process is not restarted)."""
    try:
        return decode()
    except ProtocolError as error:
        raise ExecError(f"{channel.last_request}: the reply is malformed: {error}") from None


class ExecBackend:
    """An implementation in another process, behind the :class:`~stochmem.backend_api.Backend` contract."""

    def __init__(self, channel: Channel, identity: Identity) -> None:
        self.channel = channel
        self.name, self.version, self.capabilities = identity.name, identity.version, identity.capabilities

    def close(self) -> None:
        """[SPEC 7.2] Say goodbye and end the process."""
        if self.channel.process is not None:
            with contextlib.suppress(ExecError, NotImplementedError):
                self.channel.request("bye", {})
            self.channel.stop()

    def philox(self, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
        result = self.channel.request("philox", {"counter": [word_hex(w) for w in counter],
                                                 "key": [word_hex(w) for w in key]})
        output = result.get("output")
        if not isinstance(output, list) or len(output) != 4:
            raise ExecError(f"{self.channel.last_request}: the reply is malformed: output must be 4 words, got "
                            f"{output!r:.80}")
        words = _checked(lambda: [hex_word(w, f"output[{k}]") for k, w in enumerate(output)], self.channel)
        return (words[0], words[1], words[2], words[3])

    def normals(self, draw: Draw, count: int) -> list[float]:
        result = self.channel.request("normals", {"draw": draw_json(draw), "count": int(count)})
        return _checked(lambda: numbers(result.get("normals"), "normals", count), self.channel)

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        result = self.channel.request("encode", {"probabilities": floats_json(probabilities),
                                                 "bitLength": int(bit_length), "draw": draw_json(draw)})
        streams = result.get("streams")
        if not isinstance(streams, list) or len(streams) != len(probabilities):
            raise ExecError(f"{self.channel.last_request}: the reply is malformed: streams must be a list of "
                            f"{len(probabilities)} hex strings, got {streams!r:.80}")
        return _checked(lambda: [hex_bits(s, bit_length, f"streams[{k}]") for k, s in enumerate(streams)],
                        self.channel)

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        result = self.channel.request("coincidenceCounts", {
            "rowProbabilities": floats_json(row_probabilities),
            "columnProbabilities": floats_json(column_probabilities), "bitLength": int(bit_length),
            "rowDraw": draw_json(row_draw), "columnDraw": draw_json(column_draw)})
        counts = result.get("counts")
        if not isinstance(counts, list) or len(counts) != len(column_probabilities):
            raise ExecError(f"{self.channel.last_request}: the reply is malformed: counts must be a list of "
                            f"{len(column_probabilities)} rows (one per column stream), got {counts!r:.80}")
        return _checked(lambda: [integers(row, f"counts[{j}]", len(row_probabilities))
                                 for j, row in enumerate(counts)], self.channel)

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        result = self.channel.request("updateLayer", {
            "layer": layer_json(layer), "inputs": floats_json(inputs), "deltas": floats_json(deltas),
            "eta": float(eta), "config": config_json(config), "seed": int(seed), "step": int(step),
            "index": int(index)})
        shape = (len(layer.weights), len(layer.weights[0]) if layer.weights else 0)
        return _checked(lambda: json_layer(result.get("layer"), "layer", shape), self.channel)

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        result = self.channel.request("program", {
            "levels": floats_json(levels), "pulses": [int(n) for n in pulses], "synapses": [int(m) for m in synapses],
            "device": device_json(params), "noise": draw_json(noise), "bitLength": int(bit_length)})
        return _checked(lambda: numbers(result.get("levels"), "levels", len(levels)), self.channel)

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        result = self.channel.request("reset", {
            "gPlus": floats_json(g_plus), "gMinus": floats_json(g_minus), "synapses": [int(m) for m in synapses],
            "device": device_json(params), "noise": draw_json(noise)})
        return _checked(lambda: (numbers(result.get("gPlus"), "gPlus", len(g_plus)),
                                 numbers(result.get("gMinus"), "gMinus", len(g_minus))), self.channel)

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return ExecModel(self.channel, config, seed)


class ExecDataBackend(ExecBackend):
    """An :class:`ExecBackend` whose implementation claims the ``data`` group: it also reads and corrupts images."""

    def read_image(self, dataset: Dataset, index: int) -> Sequence[float]:
        pixels = dataset.images[index]
        result = self.channel.request("readImage", {"pixels": list(pixels)})
        return _checked(lambda: numbers(result.get("inputs"), "inputs", len(pixels)), self.channel)

    def corrupt(self, image: Sequence[float], variance: float, seed: int, image_index: int,
                repeat: int = 0) -> Sequence[float]:
        result = self.channel.request("corrupt", {"image": floats_json(image), "variance": float(variance),
                                                  "seed": int(seed), "imageIndex": int(image_index),
                                                  "repeat": int(repeat)})
        return _checked(lambda: numbers(result.get("image"), "image", len(image)), self.channel)


def connect(command: str, timeout: float = DEFAULT_TIMEOUT) -> ExecBackend:
    """Start ``command``, shake hands, and return the implementation as a backend; :class:`ExecError` if not."""
    channel = Channel(command, timeout)
    identity = handshake(channel)
    backend_class = ExecDataBackend if "data" in identity.capabilities.claimed else ExecBackend
    return backend_class(channel, identity)
