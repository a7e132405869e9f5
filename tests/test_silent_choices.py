"""The paper's silent choices as parameters ([SPEC 4.5] reset write and threshold, [SPEC 5.4] noise domain):
their reference semantics, their defaults (what 1.0 computed), and the shipped ablation experiments."""

from __future__ import annotations

import pytest

from stochmem import device
from stochmem.config import ConfigError, DeviceParams
from stochmem.data import NOISE_DOMAINS, pixel_variance
from stochmem.reproduce import PAPER, load_experiment
from stochmem.rng import Draw, Site, normal

NOISE = Draw(3, Site.RESET_NOISE, 14, 1)


def test_the_defaults_reset_every_pair_with_a_noisy_write():
    params = DeviceParams(sigma=0.5)
    assert (params.reset_write, params.reset_threshold, params.reset_sigma, params.reset_level) == \
        ("noisy", 0.0, 0.5, 0.0)
    assert device.reset_pair(9.0, 2.0, params, NOISE, 4) == (7.0 + 0.5 * normal(NOISE, 4), 0.0)


def test_a_verified_write_draws_no_noise():
    assert device.reset_pair(9.0, 2.0, DeviceParams(sigma=0.5, reset_write="verified"), NOISE, 4) == (7.0, 0.0)
    assert device.reset_pair(2.0, 9.25, DeviceParams(sigma=3.0, reset_write="verified"), NOISE, 4) == (0.0, 7.25)


@pytest.mark.parametrize(("g_plus", "g_minus", "spared"), [(15.0, 14.0, True), (15.5, 2.0, False),
                                                           (3.0, 15.49, True), (31.0, 31.0, False)])
def test_a_threshold_spares_pairs_below_it(g_plus, g_minus, spared):
    params = DeviceParams(sigma=0.5, reset_threshold=0.5)  # half of the top level 31: 15.5
    after = device.reset_pair(g_plus, g_minus, params, NOISE, 0)
    assert (after == (g_plus, g_minus)) == spared
    if not spared:
        assert min(after) == 0.0


@pytest.mark.parametrize("bad", [{"reset_write": "sometimes"}, {"reset_threshold": 1.5},
                                 {"reset_threshold": -0.1}])
def test_out_of_range_choices_are_refused(bad):
    with pytest.raises(ConfigError):
        DeviceParams(**bad)


def test_noise_domains_scale_the_variance_to_pixels():
    assert pixel_variance(0.2) == 0.2
    assert pixel_variance(0.2, "signed") == pytest.approx(0.05)
    assert pixel_variance(0.2, "standardised") == pytest.approx(0.2 * 0.3081**2)
    assert set(NOISE_DOMAINS) == {"pixels", "signed", "standardised"}
    with pytest.raises(ValueError, match="unknown"):
        pixel_variance(0.2, "decibels")


def test_the_shipped_ablations_load_and_are_not_part_of_all():
    ablation = load_experiment("fig4-ablation")
    assert len(ablation.runs) == 5 * 4 * 3  # variants x sigma x seeds
    assert {run.spec.reset_write for run in ablation.runs} == {"noisy", "verified"}
    assert {run.spec.reset_threshold for run in ablation.runs} == {0.0, 0.9}
    domains = load_experiment("fig5-domains")
    assert domains.noise_domain == "standardised" and load_experiment("fig5").noise_domain == "pixels"
    assert "fig4-ablation" not in PAPER


def test_an_unknown_noise_domain_in_an_experiment_is_refused(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('name = "x"\n[[runs]]\nlabel = "a"\n[evaluation]\nnoise_domain = "decibels"\n')
    with pytest.raises(ConfigError, match="noise_domain"):
        load_experiment(str(path))


def test_the_numba_reset_kernel_matches_the_reference_at_the_threshold():
    """The numba backend's model resets with its own kernel (its contract ``reset`` is NumPy's): the pairs of the
    reset vectors, a pair exactly at the threshold among them, through ``stochmem_numba.kernels.reset``."""
    np = pytest.importorskip("numpy")
    kernels = pytest.importorskip("stochmem_numba.kernels")
    from stochmem_numba.model import seed_key

    pairs = [(5.0, 2.0), (2.0, 9.0), (7.0, 7.5), (15.0, 0.0), (7.5, 0.0), (0.0, 0.0), (7.49, 7.5), (3.0, 3.0)]
    for params in (DeviceParams(sigma=1.0, levels=16, reset_threshold=0.5),  # threshold 7.5, reached by 3 pairs
                   DeviceParams(sigma=1.0, reset_write="verified"), DeviceParams(sigma=0.7)):
        noise = Draw(11, Site.RESET_NOISE, 14, 2)
        g_plus = np.array([[p[0] for p in pairs]])
        g_minus = np.array([[p[1] for p in pairs]])
        want = [device.reset_pair(gp, gm, params, noise, m) for m, (gp, gm) in enumerate(pairs)]
        for column_major in (False, True):  # the first crossbar's weights are stored transposed
            plus, minus = g_plus.copy(), g_minus.copy()
            weights = params.dw_min * (plus - minus)
            stored = np.ascontiguousarray(weights.T) if column_major else weights
            kernels.reset(stored, plus, minus, float(params.reset_sigma), float(params.reset_level),
                          float(params.top_level), params.dw_min, *seed_key(11), np.uint64(14), np.uint64(2),
                          column_major)
            got = [float(v) for pair in zip(plus[0], minus[0]) for v in pair]
            assert got == pytest.approx([v for pair in want for v in pair], abs=1e-12), params
            row = stored[:, 0] if column_major else stored[0]
            assert row == pytest.approx([params.dw_min * (a - b) for a, b in want], abs=1e-12)


@pytest.mark.parametrize("domain", ["pixels", "standardised"])
def test_evaluate_reads_the_variances_in_their_domain(tmp_path, monkeypatch, domain):
    """`stochmem evaluate --noise-domain` reaches the corruption as the pixel variance of [SPEC 5.4]."""
    from stochmem import cli, training
    from stochmem.data import DataError
    from stochmem.embedded import embedded_path

    try:
        embedded_path()
    except DataError:
        pytest.skip('needs the embedded digits: pip install "stochmem[embedded]"')
    run = tmp_path / "run"
    assert cli.main(["train", "--data", "embedded", "--kind", "float", "--sizes", "784-10", "--train-size", "20",
                     "--test-size", "10", "--epochs", "1", "--backend", "numpy", "--run-dir", str(run),
                     "--quiet"]) == 0
    seen = []
    real = training.evaluate

    def spy(model, seed, test, repeat=0, bit_length=None, noise_variance=0.0, *args, **kwargs):
        seen.append(noise_variance)
        return real(model, seed, test, repeat, bit_length, noise_variance, *args, **kwargs)

    monkeypatch.setattr(training, "evaluate", spy)
    assert cli.main(["evaluate", str(run), "--input-noise", "0.2", "--noise-domain", domain]) == 0
    assert seen == [pytest.approx(pixel_variance(0.2, domain))]
