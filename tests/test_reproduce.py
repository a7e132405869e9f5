"""The paper's experiments, end to end in reduced form; sweeps independent of the worker count; validation."""

from __future__ import annotations

import json

import pytest

from stochmem import cli
from stochmem.config import ConfigError
from stochmem.reproduce import load_experiment

SMALL = ["--set", "epochs=1", "--set", "train_size=60", "--set", "test_size=40", "--set", "sizes=784-8-10",
         "--set", "backend=numpy", "--set", "evaluation.repeats=2"]


def summary(out, name):
    return json.loads((out / name / "summary.json").read_text())


@pytest.mark.parametrize("name", ["fig3", "fig4", "fig5"])
def test_each_experiment_runs_end_to_end_in_reduced_form(name, tmp_path, reproduce_data_args):
    assert cli.main(["reproduce", name, *SMALL, "--out", str(tmp_path), *reproduce_data_args,
                     "--quiet"]) == 0
    result = summary(tmp_path, name)
    experiment = load_experiment(name)
    assert [row["label"] for row in result["runs"]] == [run.label for run in experiment.runs]
    assert all(0 <= row["max_test_accuracy"] <= 100 for row in result["runs"])
    paper = [row["paper"] for row in result["runs"]]
    paper += [data["paper_drop"] for row in result["runs"] for data in row.get("noisy", {}).values()]
    assert any(value is not None for value in paper)  # the paper's numbers sit beside ours
    table = (tmp_path / name / "summary.md").read_text()
    assert "| setting | seeds | paper (%) | ours, best epoch (%) | ours, final (%)" in table
    assert f"![{name}]({name}.png)" in table
    assert (tmp_path / name / f"{name}.png").stat().st_size > 0 and (tmp_path / name / f"{name}.svg").exists()
    if name == "fig5":
        memristive = next(row for row in result["runs"] if row["label"] == "memristive")
        assert set(memristive["noisy"]) == {"10", "100"}
        assert memristive["noisy"]["10"]["variances"] == [0.0, 0.01, 0.1, 0.2]
        assert memristive["noisy"]["100"]["paper_drop"] == 9.2
        figure = (tmp_path / name / f"{name}.svg").read_text()  # the paper's points, anchored at ours
        assert all(f"minus its drop of {drop:g}" in figure for drop in (14.35, 12.23, 9.2))


def test_progress_reaches_the_terminal_from_every_worker(tmp_path, reproduce_data_args, capsys):
    args = ["reproduce", "fig5", *SMALL, "--out", str(tmp_path), *reproduce_data_args, "--workers", "2"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "fig5/float: epoch 1/1: lr 0.1" in out and "fig5/memristive: epoch 1/1: lr 0.1" in out
    assert "fig5/memristive: evaluating on noisy inputs [0.0, 0.01, 0.1, 0.2], read with BL=100" in out
    assert cli.main(args) == 0
    assert "fig5/float: trained earlier (1 epochs)" in capsys.readouterr().out
    assert cli.main([*args, "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "fig5" / "summary.md")


def test_a_run_two_experiments_share_is_trained_once(tmp_path, reproduce_data_args):
    common = [*SMALL, "--out", str(tmp_path), *reproduce_data_args, "--quiet"]
    assert cli.main(["reproduce", "fig3", "fig4", *common]) == 0
    assert cli.main(["reproduce", "fig5", *common]) == 0
    assert (tmp_path / "fig5" / "float").resolve() == (tmp_path / "fig3" / "float").resolve()
    assert (tmp_path / "fig5" / "memristive").resolve() == (tmp_path / "fig4" / "sigma_0.1B").resolve()
    rows = {f"{name}/{row['label']}": row
            for name in ("fig3", "fig4", "fig5") for row in summary(tmp_path, name)["runs"]}
    assert rows["fig5/float"]["test_accuracy"] == rows["fig3/float"]["test_accuracy"]
    assert rows["fig5/memristive"]["test_accuracy"] == rows["fig4/sigma=0.1B"]["test_accuracy"]
    other = [*SMALL, "--out", str(tmp_path / "other"), *reproduce_data_args, "--quiet"]
    assert cli.main(["reproduce", "fig3", *other]) == 0
    assert cli.main(["reproduce", "fig5", *other, "--set", "lr=0.2"]) == 0
    assert not (tmp_path / "other" / "fig5" / "float").is_symlink()  # another learning rate: trained anew


def test_sweep_result_does_not_depend_on_the_number_of_workers(tmp_path, reproduce_data_args):
    results = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        assert cli.main(["reproduce", "fig4", *SMALL, "--workers", str(workers), "--out", str(out),
                         *reproduce_data_args, "--quiet"]) == 0
        results.append([(r["label"], r["test_accuracy"], r["train_error"]) for r in summary(out, "fig4")["runs"]])
    assert results[0] == results[1]


def test_rerunning_skips_finished_runs_and_refuses_a_different_one(tmp_path, reproduce_data_args, capsys):
    args = ["reproduce", "fig3", *SMALL, "--out", str(tmp_path), *reproduce_data_args, "--quiet"]
    assert cli.main(args) == 0
    first = summary(tmp_path, "fig3")
    assert cli.main(args) == 0  # every run is complete: nothing is retrained
    assert summary(tmp_path, "fig3")["runs"] == first["runs"]
    assert cli.main([*args, "--set", "lr=0.2"]) == 2
    assert "holds a different run" in capsys.readouterr().err


@pytest.mark.parametrize(("overrides", "message"), [
    (["epochz=3"], "unknown key"),
    (["device.levels=1"], "device.levels"),
    (["device.on_off=1"], "device.on_off"),
    (["sigma=-0.5"], "device.sigma"),
    (["bl=0"], "network.bit_length"),
    (["epochs"], "expected KEY=VALUE"),
    (["evaluation.repeats=0"], "evaluation.repeats"),
])
def test_bad_overrides_say_what_is_wrong(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_experiment("fig5", overrides)


def test_user_config_files_are_validated(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nrunz = []\n')
    with pytest.raises(ConfigError, match=r"unknown keys \['runz'\]"):
        load_experiment(str(bad))
    bad.write_text('[[runs]]\nkind = "float"\n')
    with pytest.raises(ConfigError, match="needs a label"):
        load_experiment(str(bad))
    bad.write_text('[[runs]]\nlabel = "a"\nlevels = 1\nkind = "memristive"\n')
    with pytest.raises(ConfigError, match=r"runs\[0\] \(a\).*device\.levels"):
        load_experiment(str(bad))
    with pytest.raises(ConfigError, match="neither a built-in experiment"):
        load_experiment("fig9")


def test_overrides_reach_every_run_but_not_the_sweep_variable():
    experiment = load_experiment("fig4", ["device.levels=64", "epochs=2"])
    assert {run.spec.levels for run in experiment.runs} == {64}
    assert {run.spec.epochs for run in experiment.runs} == {2}
    assert [run.spec.sigma for run in experiment.runs] == [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]


@pytest.mark.parametrize("name", ["/tmp/elsewhere", "../escape", "..", "a/b", "", 7])
def test_an_experiment_name_never_leaves_the_output_folder(tmp_path, name, capsys):
    config = tmp_path / "exp.toml"
    config.write_text(f"name = {json.dumps(name)}\n[defaults]\nepochs = 1\n[[runs]]\nlabel = 'a'\n")
    out = tmp_path / "out"
    assert cli.main(["reproduce", str(config), "--out", str(out)]) == 2
    assert "name = " in capsys.readouterr().err
    assert not out.exists(), "nothing is written before the config is validated"


def test_a_run_label_never_leaves_the_experiment_folder():
    from stochmem.reproduce import slug

    for label in ("..", ".", "../x", "a/../../b"):
        assert "/" not in slug(label) and slug(label).strip(".") != "", label


def test_settings_that_differ_in_sigma_alone_share_a_curve_named_by_what_differs():
    from stochmem.summary import sigma_curves

    def setting(sigma, seed=1, **changes):
        spec = {"kind": "memristive", "sigma": sigma, "seed": seed, "reset_write": "noisy", "w_max": 1.0, "epochs": 3}
        return {"spec": {**spec, **changes}}

    settings = [setting(0.3), setting(0.5, reset_write="verified"), setting(0.0), setting(0.3, reset_write="verified"),
                setting(0.3, w_max=0.5)]
    curves = {label: [s["spec"]["sigma"] for s in members] for label, members in sigma_curves(settings)}
    assert curves == {"as specified": [0.0, 0.3], "reset_write=verified": [0.3, 0.5], "w_max=0.5": [0.3]}
    sizes = [setting(0.0, sizes=[784, 256, 128, 10]), setting(0.3, sizes=[784, 256, 128, 10]),
             setting(0.3, sizes=[784, 8, 10])]  # JSON lists against the default's tuple
    assert [label for label, _ in sigma_curves(sizes)] == ["as specified", "sizes=[784, 8, 10]"]
