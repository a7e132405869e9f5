"""Generate the language-neutral test vectors of ``specs/vectors/`` from the reference.

Run ``python -m stochmem.vectors`` to (re)write them, ``python -m stochmem.vectors --check`` to fail when the
files on disk differ from what the reference generates now. The files follow the Wycheproof shape: an
``algorithm``, the ``schema`` they validate against, ``numberOfTests``, ``notes``, and ``testGroups`` of tests
with a ``tcId``, a ``comment``, ``flags`` and the inputs and expected outputs. Floats are written with Python's
shortest round-trip repr, so they parse back to the same binary64 value in any conforming JSON reader.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stochmem import SPEC_VERSION, device, network
from stochmem.config import ConfigError, DeviceParams, NetworkConfig, NetworkKind, to_dict
from stochmem.philox import philox4x32
from stochmem.protocol import codec
from stochmem.protocol.codec import bits_hex, device_json, draw_json
from stochmem.rng import Draw, Site, normals, permutation
from stochmem.streams import and_count, encode_many

SCHEMA_NAME = "schema.json"
CHECKOUT_SCHEMA = Path(__file__).resolve().parents[2] / "specs" / "vectors" / SCHEMA_NAME
Json = dict[str, Any]


def envelope(algorithm: str, notes: dict[str, str], groups: list[Json]) -> Json:
    """Wrap test groups in the Wycheproof envelope, numbering tests 1, 2, ... across groups."""
    tc_id = 0
    for group in groups:
        for test in group["tests"]:
            tc_id += 1
            test["tcId"] = tc_id
            test.setdefault("comment", "")
            test.setdefault("flags", [])
            test.setdefault("result", "valid")
    return {
        "algorithm": algorithm,
        "schema": SCHEMA_NAME,
        "specVersion": SPEC_VERSION,
        "generator": "python -m stochmem.vectors",
        "numberOfTests": tc_id,
        "notes": notes,
        "testGroups": groups,
    }


def hex_words(words: tuple[int, ...] | list[int]) -> list[str]:
    return [f"{w:08x}" for w in words]


def philox_vectors() -> Json:
    """[SPEC 2.1] Known answers (the normative three first), then counters and keys from a fixed walk."""
    cases = [((0, 0, 0, 0), (0, 0), ["KnownAnswer"]),
             ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), ["KnownAnswer"]),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0), ["KnownAnswer"])]
    walk = (1, 2, 3, 4)
    for _ in range(8):
        walk = philox4x32(walk, (0xC0FFEE, 0xBEEF))
        cases.append((walk, (walk[0] ^ walk[3], walk[1] ^ walk[2]), ["Generated"]))
    tests = [{"counter": hex_words(c), "key": hex_words(k), "output": hex_words(philox4x32(c, k)), "flags": f}
             for c, k, f in cases]
    return envelope("Philox4x32-10",
                    {"KnownAnswer": "normative known answer of [SPEC 2.1]",
                     "Generated": "counter and key from a fixed Philox walk"},
                    [{"type": "PhiloxTest", "rounds": 10, "tests": tests}])


def stream_vectors() -> Json:
    """[SPEC 1.2, 1.3, 1.4, 2.4-2.6] Stream encodings, AND/popcount, normals and permutations."""
    threshold_probabilities = [0.0, 1.0, 0.5, 2.0**-32, 1 - 2.0**-32, 1e-12, 0.1, 1 / 3, 0.999, 1.5, -0.25]
    encode_tests = []
    for k, (bl, seed) in enumerate([(1, 7), (10, 2024), (37, 2**63 + 5), (100, 1)]):
        draw = Draw(seed, Site.FORWARD_STREAM, step=k * 1000 + 3, layer=k, aux=k)
        streams = encode_many(threshold_probabilities, bl, draw)
        encode_tests.append({"draw": draw_json(draw), "bitLength": bl, "probabilities": threshold_probabilities,
                             "streams": [bits_hex(s) for s in streams],
                             "popcounts": [s.count(1) for s in streams]})
    and_tests = []
    for k, (a, b, bl) in enumerate([(0.5, 0.5, 64), (0.9, 0.2, 10), (1.0, 0.3, 100), (0.0, 0.7, 16)]):
        sa = encode_many([a], bl, Draw(99, Site.UPDATE_ROW, k))[0]
        sb = encode_many([b], bl, Draw(99, Site.UPDATE_COLUMN, k))[0]
        and_tests.append({"a": bits_hex(sa), "b": bits_hex(sb), "bitLength": bl, "andPopcount": and_count(sa, sb),
                          "comment": f"streams of {a} and {b}"})
    normal_tests = [{"draw": draw_json(d), "normals": normals(d, 12)}
                    for d in (Draw(1, Site.PROGRAM_NOISE, 5, 1), Draw(2**40 + 3, Site.INPUT_NOISE, 17, 0, 2))]
    perm_tests = [{"draw": draw_json(d), "size": n, "permutation": permutation(d, n)}
                  for d, n in ((Draw(1, Site.DATA_ORDER, 0), 10), (Draw(5, Site.DATA_ORDER, 3), 33),
                               (Draw(5, Site.DATA_ORDER, 4), 1))]
    return envelope("BernoulliStreams", {},
                    [{"type": "EncodeTest", "comment": "[SPEC 1.2, 1.3] bits of many values from one draw",
                      "tests": encode_tests},
                     {"type": "AndPopcountTest", "comment": "[SPEC 1.4]", "tests": and_tests},
                     {"type": "NormalTest", "comment": "[SPEC 2.5] Box-Muller normals 0..11",
                      "tests": normal_tests},
                     {"type": "PermutationTest", "comment": "[SPEC 2.6]", "tests": perm_tests}])


def device_vectors() -> Json:
    """[SPEC 4.3-4.6] Programming events, resets and initial programming of single synapses."""
    program_tests, reset_tests, init_tests = [], [], []
    for sigma in (0.0, 0.1, 1.0):
        for mode in ("event", "pulse"):
            params = DeviceParams(sigma=sigma, noise_mode=mode)
            noise = Draw(11, Site.PROGRAM_NOISE, 42, 1)
            for synapse, (g, n) in enumerate([(0.0, 1), (3.0, 4), (30.5, 3), (12.25, 10), (5.0, 0)]):
                program_tests.append({"device": device_json(params), "noise": draw_json(noise), "bitLength": 10,
                                      "synapse": synapse, "g": g, "pulses": n,
                                      "result": "valid", "after": device.program(g, n, params, noise, synapse, 10)})
        params = DeviceParams(sigma=sigma)
        noise = Draw(11, Site.RESET_NOISE, 14, 0)
        for synapse, (gp, gm) in enumerate([(5.0, 2.0), (2.0, 9.0), (4.0, 4.0), (31.0, 0.0), (0.3, 0.1)]):
            after = device.reset_pair(gp, gm, params, noise, synapse)
            reset_tests.append({"device": device_json(params), "noise": draw_json(noise), "synapse": synapse,
                                "gPlus": gp, "gMinus": gm, "gPlusAfter": after[0], "gMinusAfter": after[1]})
        for variant in (DeviceParams(sigma=sigma, reset_write="verified"),
                        DeviceParams(sigma=sigma, levels=16, reset_threshold=0.5)) if sigma else ():
            # [SPEC 4.5] a verified write, and a threshold (half of the top level 15: 7.5) that spares some pairs
            for synapse, (gp, gm) in enumerate([(5.0, 2.0), (2.0, 9.0), (7.0, 7.5), (15.0, 0.0), (7.5, 0.0)]):
                after = device.reset_pair(gp, gm, variant, noise, synapse)
                reset_tests.append({"device": device_json(variant), "noise": draw_json(noise), "synapse": synapse,
                                    "gPlus": gp, "gMinus": gm, "gPlusAfter": after[0], "gMinusAfter": after[1]})
        noise = Draw(11, Site.INIT_DEVICE_NOISE, 0, 2)
        for synapse, w in enumerate([0.0, 0.05, -0.05, 0.0161, -0.9, 3.0]):
            after = device.initial_pair(w, params, noise, synapse)
            init_tests.append({"device": device_json(params), "noise": draw_json(noise), "synapse": synapse,
                               "weight": w, "gPlus": after[0], "gMinus": after[1]})
    return envelope("MemristivePair", {},
                    [{"type": "ProgramTest", "comment": "[SPEC 4.3, 4.4] level coordinate after an event",
                      "tests": program_tests},
                     {"type": "ResetTest", "comment": "[SPEC 4.5]", "tests": reset_tests},
                     {"type": "InitialProgramTest", "comment": "[SPEC 4.6]", "tests": init_tests}])


def layers_json(net: network.Network) -> list[Json]:
    """The crossbars of ``net`` as the vectors carry them (copies: training mutates the rows)."""
    return codec.layers_json(net.layers)


TRAINING_SIZES = (12, 5, 3)


def training_image(k: int) -> list[float]:
    """A deterministic 12-pixel 'image' with zeros, ones and fractions (so constant streams are exercised)."""
    return [((k * 7 + p * 5) % 11) / 10 if (k + p) % 4 else 0.0 for p in range(12)]


@dataclass(frozen=True)
class TrainingCase:
    """One TrainingStepTest: a network trained from initialisation for ``steps`` steps from step ``start``."""

    kind: NetworkKind
    steps: int
    device: DeviceParams = field(default_factory=DeviceParams)
    sizes: tuple[int, ...] = TRAINING_SIZES
    bit_length: int = 8
    start: int = 0
    epoch: int = 0  #: the learning rate is lr * lr_decay**epoch [SPEC 3.5]

    def describe(self) -> str:
        extra = "" if self.kind == "float" else f", BL={self.bit_length}"
        if self.kind == "memristive":
            extra += f", sigma={self.device.sigma}B {self.device.noise_mode}, reset every {self.device.reset_every}"
        return (f"{self.kind} {'-'.join(map(str, self.sizes))}{extra}, {self.steps} step(s) from step {self.start}, "
                f"epoch {self.epoch}'s learning rate")


TRAINING_CASES = (
    TrainingCase("float", 1),
    TrainingCase("stochastic", 1),
    TrainingCase("memristive", 1),
    TrainingCase("memristive", 6, DeviceParams(sigma=0.3, reset_every=3, w_max=0.5)),
    TrainingCase("memristive", 4, DeviceParams(sigma=0.0, reset_every=2, levels=8)),
    # Multi-step cases that change weights at every kind, deeper networks, a start past 0 that crosses resets,
    # a decayed learning rate, pulse noise, a sigma that hits the floor and the clip, odd bit lengths.
    TrainingCase("float", 5, sizes=(12, 6, 5, 3), start=41, epoch=3),
    TrainingCase("stochastic", 6, sizes=(12, 6, 5, 3), bit_length=13, start=41, epoch=2),
    TrainingCase("memristive", 8, DeviceParams(sigma=0.1, reset_every=4), sizes=(12, 6, 5, 3), bit_length=11,
                 start=41, epoch=1),
    TrainingCase("memristive", 6, DeviceParams(sigma=0.3, reset_every=3, noise_mode="pulse"), bit_length=9,
                 start=17),
    TrainingCase("memristive", 6, DeviceParams(sigma=2.0, levels=8, reset_every=5), bit_length=33, start=3),
    # [SPEC 4.5] the reset's choices: a verified write, and a threshold that resets only pairs near saturation
    TrainingCase("memristive", 6, DeviceParams(sigma=0.3, reset_every=3, reset_write="verified")),
    TrainingCase("memristive", 8, DeviceParams(sigma=0.5, levels=8, reset_every=2, reset_threshold=0.4),
                 bit_length=12, start=5),
)


def step_details(net: network.Network, image: list[float], label: int, step: int, eta: float) -> Json:
    """[SPEC 3.3-3.8, 4.5] What one training step computes on the way, for locating a difference: per crossbar
    the values its rows carried forward (``crossbarInputs``, decoded streams and the bias) and the activations it
    produced (``activations``), the errors at its outputs (``deltas``), for the stochastic kinds the update's
    pulse probabilities and coincidence counts (``updates``), and on reset steps the state after the update and
    before the reset (``layersAfterUpdate``). Computed on a copy; ``net`` is left as it was."""
    def draw_for(layer: int) -> Draw:
        return Draw(net.seed, Site.FORWARD_STREAM, step, layer)

    acts = network.forward(net, image, draw_for)
    deltas = network.backward(net, acts, label, step)
    inputs_seen = [network.crossbar_inputs(acts.values[k], net.config, draw_for(k)) for k in range(len(net.layers))]
    details: Json = {"crossbarInputs": inputs_seen, "activations": acts.values[1:], "deltas": deltas}
    updated = copy.deepcopy(net)
    updates = []
    for index, layer in enumerate(updated.layers):
        inputs = [*acts.values[index], 1.0]
        if net.config.kind != "float":
            gain, _ = network.update_gain(eta, net.config)
            rows, columns = network.coincidence_streams(inputs, deltas[index], gain, net.config, net.seed, step, index)
            updates.append({"rowProbabilities": [min(1.0, gain * x) for x in inputs],
                            "columnProbabilities": [min(1.0, gain * abs(d)) for d in deltas[index]],
                            "counts": network.coincidence_counts(rows, columns)})
        network.update_layer(layer, inputs, deltas[index], eta, net.config, net.seed, step, index)
    if updates:
        details["updates"] = updates
    if net.config.kind == "memristive" and (step + 1) % net.config.device.reset_every == 0:
        details["layersAfterUpdate"] = layers_json(updated)
    details["updatedLayers"] = layers_json(updated)
    return details


def training_vectors() -> Json:
    """[SPEC 3.3-3.8, 4.3-4.6] Training steps from initialisation, with every crossbar's state after each step."""
    groups = []
    for case in TRAINING_CASES:
        config = NetworkConfig(kind=case.kind, sizes=case.sizes, bit_length=case.bit_length, lr=0.5,
                               device=case.device)
        seed = 20241128
        eta = config.learning_rate(case.epoch)
        net = network.init_network(config, seed)
        initial = layers_json(net)
        trajectory = []
        for step in range(case.start, case.start + case.steps):
            image, label = training_image(step), step % case.sizes[-1]
            details = step_details(net, image, label, step, eta)
            result = network.train_step(net, image, label, step, eta)
            entry = {"step": step, "image": image, "label": label, "eta": eta, "loss": result.loss,
                     "prediction": result.prediction, **details, "layersAfter": layers_json(net)}
            if "layersAfterUpdate" not in details:
                assert details["updatedLayers"] == entry["layersAfter"], "step_details must replay train_step"
            del entry["updatedLayers"]
            trajectory.append(entry)
        groups.append({"type": "TrainingStepTest", "comment": case.describe(),
                       "tests": [{"config": to_dict(config), "seed": seed, "initialLayers": initial,
                                  "steps": trajectory, "finalLayers": layers_json(net)}]})
    return envelope("TrainingStep", {}, groups)


def protocol_vectors() -> Json:
    """[SPEC 7] Exchanges of the process protocol: each request and the reference's reply, as ``stochmem serve``
    answers them (in memory; the same session throughout, so the model handles follow on)."""
    from stochmem.protocol.server import Session
    from stochmem.reference_backend import ReferenceBackend

    session = Session(ReferenceBackend())
    device_params = device_json(DeviceParams(sigma=0.5))
    config = to_dict(NetworkConfig(kind="memristive", sizes=(3, 2), bit_length=5, lr=0.5,
                                   device=DeviceParams(sigma=0.1, reset_every=2)))
    requests: list[tuple[str, Json, str]] = [
        ("session", {"op": "hello", "protocol": 1, "specVersion": SPEC_VERSION, "client": "stochmem"},
         "handshake: the implementation states its claims"),
        ("randomness", {"op": "philox", "counter": ["00000000"] * 4, "key": ["00000000"] * 2}, "[SPEC 2.1]"),
        ("randomness", {"op": "normals", "draw": draw_json(Draw(5, Site.PROGRAM_NOISE, 2, 1)), "count": 4},
         "[SPEC 2.5]"),
        ("streams", {"op": "encode", "probabilities": [0.3, 0.75, 0.0, 1.0], "bitLength": 6,
                     "draw": draw_json(Draw(5, Site.FORWARD_STREAM, 2, 1))}, "[SPEC 1.2, 1.3]"),
        ("streams", {"op": "coincidenceCounts", "rowProbabilities": [0.5, 1.0, 0.25],
                     "columnProbabilities": [0.6, 0.1], "bitLength": 6,
                     "rowDraw": draw_json(Draw(5, Site.UPDATE_ROW, 2, 1)),
                     "columnDraw": draw_json(Draw(5, Site.UPDATE_COLUMN, 2, 1))}, "[SPEC 1.4]: counts[j][i]"),
        ("device", {"op": "program", "levels": [3.0, 30.5, 0.0], "pulses": [2, 3, 0], "synapses": [3, 4, 5],
                    "device": device_params, "noise": draw_json(Draw(5, Site.PROGRAM_NOISE, 2, 1)),
                    "bitLength": 10}, "[SPEC 4.3, 4.4]"),
        ("device", {"op": "reset", "gPlus": [6.0, 1.0, 2.0], "gMinus": [2.0, 4.0, 2.0], "synapses": [0, 1, 2],
                    "device": device_params, "noise": draw_json(Draw(5, Site.RESET_NOISE, 2, 1))}, "[SPEC 4.5]"),
        ("network", {"op": "createModel", "config": config, "seed": 7}, "[SPEC 3.4, 4.6]: returns a handle"),
        ("network", {"op": "trainStep", "model": 1, "image": [0.2, 1.0, 0.0], "label": 1, "step": 1, "eta": 0.5},
         "[SPEC 3.5, 4.5]: step 1 is a reset step (reset_every 2)"),
        ("network", {"op": "predict", "model": 1, "image": [0.2, 1.0, 0.0], "imageIndex": 4, "repeat": 0,
                     "bitLength": None}, "[SPEC 3.9]"),
        ("network", {"op": "exportLayers", "model": 1}, "[SPEC 3.5]"),
        ("network", {"op": "loadLayers", "model": 1, "layers": [
            {"weights": [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
             "gPlus": [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
             "gMinus": [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]}]}, "[SPEC 3.5]"),
        ("network", {"op": "updateLayer", "layer": {"weights": [[0.5, -0.25], [0.0, 1.0]]}, "inputs": [0.8, 1.0],
                     "deltas": [0.3, -0.6], "eta": 0.3, "config": to_dict(NetworkConfig(kind="stochastic",
                                                                                      sizes=(1, 2), bit_length=7)),
                     "seed": 9, "step": 2, "index": 0}, "[SPEC 3.7, 3.8]"),
        ("network", {"op": "dropModel", "model": 1}, "frees the model"),
        ("data", {"op": "readImage", "pixels": [0, 51, 255]}, "[SPEC 5.3]"),
        ("data", {"op": "corrupt", "image": [0.0, 0.5, 1.0], "variance": 0.2, "seed": 5, "imageIndex": 17,
                  "repeat": 0}, "[SPEC 5.4]"),
        ("session", {"op": "trainStep", "model": 1, "image": [0.2, 1.0, 0.0], "label": 1, "step": 1, "eta": 0.5},
         "an error reply: the model was dropped"),
        ("session", {"op": "bye"}, "the end of the session; the implementation exits"),
    ]
    groups: dict[str, list[Json]] = {}
    for number, (group, request, comment) in enumerate(requests, start=1):
        message = {"id": number, **request}
        reply = session.answer(json.dumps(message))
        specific = request["op"] == "hello" or "error" in reply
        groups.setdefault(group, []).append({"request": message, "reply": reply, "comment": comment,
                                             "flags": ["ImplementationSpecific"] if specific else []})
    return envelope("ProcessProtocol", {
        "session": "one session, in order: the ids and model handles follow on",
        "ImplementationSpecific": "the reply is the reference's own (its name and claims in the handshake, the "
                                  "wording of an error): another implementation answers with its own"},
                    [{"type": "ExchangeTest", "clauseGroup": group, "tests": tests} for group, tests in groups.items()])


GENERATORS: dict[str, Callable[[], Json]] = {
    "philox.json": philox_vectors,
    "streams.json": stream_vectors,
    "device.json": device_vectors,
    "training.json": training_vectors,
    "protocol.json": protocol_vectors,
}
#: [SPEC 6.5] The clause group of each type of test group (protocol exchanges carry their own ``clauseGroup``).
CLAUSE_GROUP_OF_TYPE = {
    "PhiloxTest": "randomness", "NormalTest": "randomness", "PermutationTest": "randomness",
    "EncodeTest": "streams", "AndPopcountTest": "streams",
    "ProgramTest": "device", "ResetTest": "device", "InitialProgramTest": "device",
    "TrainingStepTest": "network",
}


def select_groups(document: Json, groups: Collection[str]) -> Json | None:
    """``document`` with only the test groups of the chosen clause groups (tcIds kept, so a failure can be
    looked up in the full file), or None when none is left. Protocol exchanges of the session always stay."""
    kept = [group for group in document["testGroups"]
            if group.get("clauseGroup", CLAUSE_GROUP_OF_TYPE.get(group["type"])) in {*groups, "session"}]
    if not any(group.get("clauseGroup") != "session" for group in kept):
        return None
    return {**document, "numberOfTests": sum(len(g["tests"]) for g in kept), "testGroups": kept}


def export_groups(groups: Sequence[str], out: Path) -> list[tuple[Path, int]]:
    """[SPEC 6.5] Write the vector files of ``groups`` (and the schema) into ``out``; returns (path, tests)."""
    from stochmem.backend_api import CLAUSE_GROUPS

    unknown = [g for g in groups if g not in CLAUSE_GROUPS]
    if unknown or not groups:
        raise ConfigError(f"--groups: unknown clause group {', '.join(unknown) or '(none given)'}; choose from "
                          f"{', '.join(CLAUSE_GROUPS)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, generate in GENERATORS.items():
        selected = select_groups(generate(), groups)
        if selected is not None:
            path = out / name
            path.write_text(render(selected))
            written.append((path, selected["numberOfTests"]))
    schema = CHECKOUT_SCHEMA
    if schema.is_file():  # a source checkout; an installed package carries the generators, not specs/
        (out / SCHEMA_NAME).write_text(schema.read_text())
        written.append((out / SCHEMA_NAME, 0))
    return written


def render(document: Json) -> str:
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stochmem.vectors", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("specs/vectors"), help="vector folder")
    parser.add_argument("--check", action="store_true", help="fail if the files differ from a fresh generation")
    args = parser.parse_args(argv)
    stale = []
    for name, generate in GENERATORS.items():
        text, path = render(generate()), args.out / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"stale vectors: {', '.join(stale)}; regenerate with python -m stochmem.vectors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
