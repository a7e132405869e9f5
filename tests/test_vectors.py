"""specs/vectors: fresh (regenerated identically), valid against the schema, and replayed against the reference."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from bitarray import bitarray
from bitarray.util import hex2ba

from stochmem import SPEC_VERSION, device, network, vectors
from stochmem.config import DeviceParams, from_dict
from stochmem.philox import philox4x32
from stochmem.rng import Draw, Site, normals, permutation
from stochmem.streams import and_count, encode_many

from .conftest import REPO_ROOT

VECTOR_DIR = REPO_ROOT / "specs" / "vectors"
WEIGHT_TOLERANCE = 1e-9  # [SPEC 6.1]


def load(name: str) -> dict:
    return json.loads((VECTOR_DIR / name).read_text())


def cases_of(document: dict, group_type: str) -> list[dict]:
    return [t for g in document["testGroups"] if g["type"] == group_type for t in g["tests"]]


def draw_of(entry: dict) -> Draw:
    return Draw(entry["seed"], Site(entry["site"]), entry["step"], entry["layer"], entry["aux"])


def stream_of(hex_bits: str, length: int) -> bitarray:
    return hex2ba(hex_bits, endian="big")[:length] if hex_bits else bitarray()


@pytest.mark.parametrize("name", sorted(vectors.GENERATORS))
def test_vectors_are_not_stale(name):
    assert (VECTOR_DIR / name).read_text() == vectors.render(vectors.GENERATORS[name]()), (
        f"specs/vectors/{name} differs from what the reference generates; run python -m stochmem.vectors "
        "--out specs/vectors (and bump the spec version if the change alters outputs)")


@pytest.mark.parametrize("name", sorted(vectors.GENERATORS))
def test_vectors_match_the_schema(name):
    schema = json.loads((VECTOR_DIR / "schema.json").read_text())
    document = load(name)
    jsonschema.validate(document, schema)
    assert document["specVersion"] == SPEC_VERSION
    assert document["numberOfTests"] == sum(len(g["tests"]) for g in document["testGroups"])


def test_replay_philox():
    for test in cases_of(load("philox.json"), "PhiloxTest"):
        counter = tuple(int(w, 16) for w in test["counter"])
        key = tuple(int(w, 16) for w in test["key"])
        assert philox4x32(counter, key) == tuple(int(w, 16) for w in test["output"]), test["tcId"]


def test_replay_streams():
    document = load("streams.json")
    for test in cases_of(document, "EncodeTest"):
        streams = encode_many(test["probabilities"], test["bitLength"], draw_of(test["draw"]))
        assert [vectors.bits_hex(s) for s in streams] == test["streams"], test["tcId"]
        assert [s.count(1) for s in streams] == test["popcounts"]
    for test in cases_of(document, "AndPopcountTest"):
        a, b = stream_of(test["a"], test["bitLength"]), stream_of(test["b"], test["bitLength"])
        assert and_count(a, b) == test["andPopcount"], test["tcId"]
    for test in cases_of(document, "NormalTest"):
        assert normals(draw_of(test["draw"]), len(test["normals"])) == pytest.approx(test["normals"], abs=1e-12)
    for test in cases_of(document, "PermutationTest"):
        assert permutation(draw_of(test["draw"]), test["size"]) == test["permutation"]


def test_replay_device():
    document = load("device.json")
    for test in cases_of(document, "ProgramTest"):
        params = DeviceParams(**test["device"])
        after = device.program(test["g"], test["pulses"], params, draw_of(test["noise"]), test["synapse"],
                               test["bitLength"])
        assert after == pytest.approx(test["after"], abs=WEIGHT_TOLERANCE), test["tcId"]
    for test in cases_of(document, "ResetTest"):
        after = device.reset_pair(test["gPlus"], test["gMinus"], DeviceParams(**test["device"]),
                                  draw_of(test["noise"]), test["synapse"])
        assert after == pytest.approx((test["gPlusAfter"], test["gMinusAfter"]), abs=WEIGHT_TOLERANCE)
    for test in cases_of(document, "InitialProgramTest"):
        after = device.initial_pair(test["weight"], DeviceParams(**test["device"]), draw_of(test["noise"]),
                                    test["synapse"])
        assert after == pytest.approx((test["gPlus"], test["gMinus"]), abs=WEIGHT_TOLERANCE)


def assert_layers_close(actual: list[network.Layer], expected: list[dict], where: str) -> None:
    for index, (layer, entry) in enumerate(zip(actual, expected)):
        for field, matrix in (("weights", layer.weights), ("gPlus", layer.g_plus), ("gMinus", layer.g_minus)):
            if field not in entry:
                continue
            flat = [v for row in matrix for v in row]  # type: ignore[union-attr]
            want = [v for row in entry[field] for v in row]
            assert flat == pytest.approx(want, abs=WEIGHT_TOLERANCE), f"{where}: layer {index} {field}"


def test_replay_training_steps():
    tests = cases_of(load("training.json"), "TrainingStepTest")
    assert {t["config"]["kind"] for t in tests} == {"float", "stochastic", "memristive"}
    for test in tests:
        config = from_dict(test["config"])
        net = network.init_network(config, test["seed"])
        assert_layers_close(net.layers, test["initialLayers"], f"tc {test['tcId']} initial")
        for step in test["steps"]:
            result = network.train_step(net, step["image"], step["label"], step["step"], step["eta"])
            assert result.loss == pytest.approx(step["loss"], abs=1e-9)
            assert result.prediction == step["prediction"]
        assert_layers_close(net.layers, test["finalLayers"], f"tc {test['tcId']} final")


def test_check_mode_detects_stale_files(tmp_path: Path, capsys):
    for name in vectors.GENERATORS:
        (tmp_path / name).write_text((VECTOR_DIR / name).read_text())
    assert vectors.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "philox.json").write_text("{}")
    assert vectors.main(["--out", str(tmp_path), "--check"]) == 1
    assert "philox.json" in capsys.readouterr().err
