"""Sweeps and seeds expand into stably named runs; seed statistics are scipy's t intervals; bad sweeps say why."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from stochmem.config import ConfigError
from stochmem.reproduce import load_experiment, slug
from stochmem.statistics import interval


def test_seeds_cross_every_run_and_name_it_stably():
    experiment = load_experiment("fig4", ["seeds=1,2,3", "epochs=2"])
    assert len(experiment.runs) == 7 * 3
    first = experiment.runs[:3]
    assert [run.label for run in first] == ["sigma=0 seed=1", "sigma=0 seed=2", "sigma=0 seed=3"]
    assert {run.setting for run in first} == {"sigma=0"}
    assert [run.spec.seed for run in first] == [1, 2, 3]
    assert slug(first[1].label) == "sigma_0_seed_2"
    assert {run.spec.epochs for run in experiment.runs} == {2}


def test_cli_sweeps_form_the_cartesian_product_in_the_given_order():
    experiment = load_experiment("fig3", [], ["lr=0.1,0.05", "network.sizes=784-8-10,784-16-10", "seed=4,5"])
    assert len(experiment.runs) == 5 * 2 * 2 * 2
    float_runs = [run for run in experiment.runs if run.spec.kind == "float"]
    assert [run.label for run in float_runs][:3] == ["float lr=0.1 sizes=784-8-10 seed=4",
                                                     "float lr=0.1 sizes=784-8-10 seed=5",
                                                     "float lr=0.1 sizes=784-16-10 seed=4"]
    assert float_runs[2].spec.sizes == (784, 16, 10)
    assert {run.setting for run in float_runs} == {"float lr=0.1 sizes=784-8-10", "float lr=0.1 sizes=784-16-10",
                                                   "float lr=0.05 sizes=784-8-10", "float lr=0.05 sizes=784-16-10"}
    with pytest.raises(ConfigError, match="sets bl itself"):  # fig3's stochastic runs set bl: not sweepable
        load_experiment("fig3", [], ["bl=2,10"])


def test_a_sweep_table_in_a_file_is_expanded_with_the_seeds_last(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text('name = "s"\n[defaults]\nkind = "memristive"\nseeds = [7, 8]\n'
                      '[sweep]\n"device.sigma" = [0.0, 0.2]\n[[runs]]\nlabel = "m"\n')
    experiment = load_experiment(str(config))
    assert [run.label for run in experiment.runs] == ["m sigma=0.0 seed=7", "m sigma=0.0 seed=8",
                                                      "m sigma=0.2 seed=7", "m sigma=0.2 seed=8"]
    assert [(run.spec.sigma, run.spec.seed) for run in experiment.runs] == [(0.0, 7), (0.0, 8), (0.2, 7), (0.2, 8)]


@pytest.mark.parametrize(("overrides", "sweeps", "message"), [
    ([], ["sigma=0,0.1"], "sets sigma itself"),  # fig4's runs set sigma: a sweep would silently override it
    ([], ["sigmaa=1,2"], "unknown keys"),
    ([], ["seed"], "expected KEY=V1,V2"),
    ([], ["seed=1,1"], "lists a value twice"),
    (["seeds=1,2"], ["seed=3,4"], "more than once"),
    ([], ["levels=1,32"], "device.levels"),  # each value is validated like a --set
])
def test_bad_sweeps_say_what_is_wrong(overrides, sweeps, message):
    with pytest.raises(ConfigError, match=message):
        load_experiment("fig4", overrides, sweeps)


def test_a_sweep_too_large_to_run_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match="more than 10,000"):
        load_experiment("fig4", [], ["seed=" + ",".join(str(k) for k in range(2000))])


def test_interval_is_the_student_t_interval_of_the_mean():
    values = [97.1, 97.5, 96.9, 97.3]
    result = interval(values)
    mean = sum(values) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    low, high = stats.t.interval(0.95, 3, loc=mean, scale=std / 2)
    assert (result.n, result.mean, result.std) == (4, pytest.approx(mean), pytest.approx(std))
    assert (result.low, result.high) == (pytest.approx(low), pytest.approx(high))
    assert result.half_width() == pytest.approx(stats.t.ppf(0.975, 3) * std / 2)  # 3.18 standard errors
    assert result.describe() == f"{mean:.2f} ± {result.half_width():.2f}"


def test_one_seed_has_no_interval_and_equal_seeds_a_point():
    single = interval([95.0])
    assert single.n == 1 and math.isnan(single.std) and single.to_json()["low"] is None
    assert single.describe() == "95.00"
    same = interval([95.0, 95.0, 95.0])
    assert (same.low, same.high, same.std) == (95.0, 95.0, 0.0)
    with pytest.raises(ValueError):
        interval([])


def test_labels_that_would_share_a_folder_are_refused(tmp_path):
    config = tmp_path / "clash.toml"
    config.write_text('name = "c"\n[[runs]]\nlabel = "a/b"\n[[runs]]\nlabel = "a:b"\nlr = 0.2\n')
    with pytest.raises(ConfigError, match="would share the folder 'a_b'"):
        load_experiment(str(config))
    with pytest.raises(ConfigError, match="lists a value twice"):  # 1 and 1.0 are one value, one folder each
        load_experiment("fig3", [], ["lr=1,1.0"])
