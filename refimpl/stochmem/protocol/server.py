"""Serve any registered backend over the process protocol [SPEC 7]: ``stochmem serve NAME``.

This is the protocol's other side written in Python. It lets a program in another language use the reference
(or a fast exact backend) as an oracle over stdin/stdout, it generates the protocol's vectors
(``specs/vectors/protocol.json``), and ``stochmem conform --exec "stochmem serve numpy"`` proves that the bridge
carries every clause group: the same backend certified in-process and over the protocol.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any

from stochmem.backend_api import GROUP_OPERATIONS, Backend, Model, input_corrupter
from stochmem.data import PIXEL_MAX
from stochmem.protocol import PROTOCOL_VERSION
from stochmem.protocol.codec import (
    Json,
    ProtocolError,
    bits_hex,
    floats_json,
    hex_word,
    integer,
    integers,
    json_config,
    json_device,
    json_draw,
    json_layer,
    json_layers,
    layer_json,
    layers_json,
    natural,
    number,
    numbers,
    word_hex,
)

Handler = Callable[["Session", Json], Json]


class Session:
    """One connection: the backend served and the models it created, by handle."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.models: dict[int, Model] = {}
        self.next_model = 1

    def model(self, request: Json) -> Model:
        handle = integer(request.get("model"), "model")
        if handle not in self.models:
            raise ProtocolError(f"model {handle} is not a handle this process returned (or it was dropped)")
        return self.models[handle]

    def hello(self, request: Json) -> Json:
        if request.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(f"this server speaks protocol {PROTOCOL_VERSION}, the client asked for "
                                f"{request.get('protocol')!r}")
        capabilities = self.backend.capabilities
        groups = sorted(capabilities.claimed)
        if "data" in groups and not (hasattr(self.backend, "read_image") and hasattr(self.backend, "corrupt")):
            groups.remove("data")  # the optional methods are not offered: the data group is not claimed
        return {"protocol": PROTOCOL_VERSION, "name": self.backend.name, "version": self.backend.version,
                "exact": capabilities.exact, "groups": groups, "kinds": sorted(capabilities.kinds)}

    def answer(self, line: str) -> Json:
        """The reply to one request line (never raises: every failure becomes an error reply)."""
        try:
            request = json.loads(line)
        except ValueError:
            return {"id": None, "error": {"code": "invalid", "message": f"not JSON: {line.strip()!r:.80}"}}
        if not isinstance(request, dict):
            return {"id": None, "error": {"code": "invalid", "message": "a request must be a JSON object"}}
        reply_id = request.get("id")
        handler = HANDLERS.get(request.get("op"))  # type: ignore[arg-type]
        if handler is None:
            return {"id": reply_id, "error": {"code": "unsupported",
                                              "message": f"unknown operation {request.get('op')!r}"}}
        try:
            return {"id": reply_id, "result": handler(self, request)}
        except ProtocolError as error:
            return {"id": reply_id, "error": {"code": "invalid", "message": str(error)}}
        except NotImplementedError as error:
            return {"id": reply_id, "error": {"code": "unsupported", "message": str(error) or request["op"]}}
        except Exception as error:  # the backend's failure goes back to the client, named
            return {"id": reply_id, "error": {"code": "failed", "message": f"{type(error).__name__}: {error}"}}


def _philox(session: Session, request: Json) -> Json:
    counter, key = request.get("counter"), request.get("key")
    if not isinstance(counter, list) or len(counter) != 4 or not isinstance(key, list) or len(key) != 2:
        raise ProtocolError("counter must be 4 words and key 2 words, as 8-digit hex strings")
    c = tuple(hex_word(w, f"counter[{k}]") for k, w in enumerate(counter))
    k2 = tuple(hex_word(w, f"key[{k}]") for k, w in enumerate(key))
    output = session.backend.philox((c[0], c[1], c[2], c[3]), (k2[0], k2[1]))
    return {"output": [word_hex(int(w)) for w in output]}


def _normals(session: Session, request: Json) -> Json:
    count = natural(request.get("count"), "count")
    return {"normals": floats_json(session.backend.normals(json_draw(request.get("draw"), "draw"), count))}


def _encode(session: Session, request: Json) -> Json:
    streams = session.backend.encode(numbers(request.get("probabilities"), "probabilities"),
                                     natural(request.get("bitLength"), "bitLength", 1),
                                     json_draw(request.get("draw"), "draw"))
    return {"streams": [bits_hex(s) for s in streams]}


def _coincidence_counts(session: Session, request: Json) -> Json:
    counts = session.backend.coincidence_counts(
        numbers(request.get("rowProbabilities"), "rowProbabilities"),
        numbers(request.get("columnProbabilities"), "columnProbabilities"),
        natural(request.get("bitLength"), "bitLength", 1), json_draw(request.get("rowDraw"), "rowDraw"),
        json_draw(request.get("columnDraw"), "columnDraw"))
    return {"counts": [[int(c) for c in row] for row in counts]}


def _program(session: Session, request: Json) -> Json:
    levels = numbers(request.get("levels"), "levels")
    after = session.backend.program(levels, integers(request.get("pulses"), "pulses", len(levels)),
                                    integers(request.get("synapses"), "synapses", len(levels)),
                                    json_device(request.get("device"), "device"),
                                    json_draw(request.get("noise"), "noise"),
                                    natural(request.get("bitLength"), "bitLength", 1))
    return {"levels": floats_json(after)}


def _reset(session: Session, request: Json) -> Json:
    g_plus = numbers(request.get("gPlus"), "gPlus")
    plus, minus = session.backend.reset(g_plus, numbers(request.get("gMinus"), "gMinus", len(g_plus)),
                                        integers(request.get("synapses"), "synapses", len(g_plus)),
                                        json_device(request.get("device"), "device"),
                                        json_draw(request.get("noise"), "noise"))
    return {"gPlus": floats_json(plus), "gMinus": floats_json(minus)}


def _update_layer(session: Session, request: Json) -> Json:
    layer = session.backend.update_layer(
        json_layer(request.get("layer"), "layer"), numbers(request.get("inputs"), "inputs"),
        numbers(request.get("deltas"), "deltas"), number(request.get("eta"), "eta"),
        json_config(request.get("config"), "config"), integer(request.get("seed"), "seed"),
        integer(request.get("step"), "step"), integer(request.get("index"), "index"))
    return {"layer": layer_json(layer)}


def _create_model(session: Session, request: Json) -> Json:
    model = session.backend.create_model(json_config(request.get("config"), "config"),
                                         integer(request.get("seed"), "seed"))
    handle, session.next_model = session.next_model, session.next_model + 1
    session.models[handle] = model
    return {"model": handle}


def _train_step(session: Session, request: Json) -> Json:
    result = session.model(request).train_step(numbers(request.get("image"), "image"),
                                               integer(request.get("label"), "label"),
                                               integer(request.get("step"), "step"), number(request.get("eta"), "eta"))
    return {"loss": float(result.loss), "prediction": int(result.prediction)}


def _predict(session: Session, request: Json) -> Json:
    bit_length = request.get("bitLength")
    prediction = session.model(request).predict(
        numbers(request.get("image"), "image"), integer(request.get("imageIndex"), "imageIndex"),
        integer(request.get("repeat", 0), "repeat"),
        None if bit_length is None else integer(bit_length, "bitLength"))
    return {"prediction": int(prediction)}


def _export_layers(session: Session, request: Json) -> Json:
    return {"layers": layers_json(session.model(request).export_layers())}


def _load_layers(session: Session, request: Json) -> Json:
    session.model(request).load_layers(json_layers(request.get("layers"), "layers"))
    return {}


def _drop_model(session: Session, request: Json) -> Json:
    session.model(request)
    del session.models[request["model"]]
    return {}


def _read_image(session: Session, request: Json) -> Json:
    from stochmem.backend_api import ReadsImages
    from stochmem.data import Dataset

    pixels = integers(request.get("pixels"), "pixels")
    if not all(0 <= p <= PIXEL_MAX for p in pixels):
        raise ProtocolError("pixels must be bytes, 0 to 255")
    dataset = Dataset([bytes(pixels)], bytes([0]), rows=1, cols=len(pixels))
    backend = session.backend
    inputs = backend.read_image(dataset, 0) if isinstance(backend, ReadsImages) else dataset.image(0)
    return {"inputs": floats_json(inputs)}


def _corrupt(session: Session, request: Json) -> Json:
    image = input_corrupter(session.backend)(
        numbers(request.get("image"), "image"), number(request.get("variance"), "variance"),
        integer(request.get("seed"), "seed"), integer(request.get("imageIndex"), "imageIndex"),
        integer(request.get("repeat", 0), "repeat"))
    return {"image": floats_json(image)}


def _bye(session: Session, request: Json) -> Json:
    return {}


#: [SPEC 7.4] Every request, by its ``op``; the contract's operations plus the session's own.
HANDLERS: dict[str, Handler] = {
    "hello": Session.hello, "bye": _bye,
    "philox": _philox, "normals": _normals,
    "encode": _encode, "coincidenceCounts": _coincidence_counts,
    "program": _program, "reset": _reset,
    "updateLayer": _update_layer, "createModel": _create_model, "trainStep": _train_step, "predict": _predict,
    "exportLayers": _export_layers, "loadLayers": _load_layers, "dropModel": _drop_model,
    "readImage": _read_image, "corrupt": _corrupt,
}
#: The protocol's name of each contract operation (the Python ``Backend``'s method names are snake_case).
OPERATION_NAMES = {"philox": "philox", "normals": "normals", "encode": "encode",
                   "coincidence_counts": "coincidenceCounts", "program": "program", "reset": "reset",
                   "update_layer": "updateLayer", "create_model": "createModel", "read_image": "readImage",
                   "corrupt": "corrupt"}
assert set(OPERATION_NAMES) == {op for ops in GROUP_OPERATIONS.values() for op in ops}


def serve(backend: Backend, instream: IO[str], outstream: IO[str]) -> int:
    """Answer requests from ``instream`` until ``bye`` or its end; returns the exit status (0)."""
    session = Session(backend)
    for line in instream:
        if not line.strip():
            continue
        reply = session.answer(line)
        try:
            text = json.dumps(reply, allow_nan=False)
        except ValueError:
            text = json.dumps({"id": reply.get("id"), "error": {
                "code": "failed", "message": "the result holds a NaN or an infinity, which JSON cannot carry"}})
        outstream.write(text + "\n")
        outstream.flush()
        if reply.get("result") is not None and _is_bye(line):
            break
    return 0


def _is_bye(line: str) -> bool:
    try:
        request: Any = json.loads(line)
    except ValueError:
        return False
    return isinstance(request, dict) and request.get("op") == "bye"


def main(argv: list[str] | None = None) -> int:
    from stochmem.backend_api import BackendError
    from stochmem.plugins import default_host

    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else "reference"
    try:
        backend = default_host().get(name)
    except BackendError as error:
        print(f"stochmem serve: {error}", file=sys.stderr)
        return 2
    return serve(backend, sys.stdin, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
