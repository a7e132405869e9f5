"""Known answers derived by hand from the specification text, independently of the reference's code.

Exact tier. Each answer below was worked out from the clauses it cites and the Philox words alone (Philox itself
is checked against Random123's published known answers in [SPEC 2.1]); the words are quoted so the derivation
can be followed with pencil and paper. The reference passes these like any backend: they check the reference
against the spec, as the vectors check other implementations against the reference.

Common address: seed 5, so the Philox key is (5, 0) [SPEC 2.2].
"""

from __future__ import annotations

import pytest

from stochmem.backend_api import Backend
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.network import Layer, device_weights
from stochmem.rng import Draw, Site

pytestmark = pytest.mark.exact  # each test names its clause group

SEED = 5
LEVEL_TOLERANCE = 1e-9  # [SPEC 6.1]: normals (ln, cos, sin) may differ by a few ulp across math libraries


@pytest.mark.groups("streams")
def test_spec_1_3_known_answer_encode(backend: Backend) -> None:
    """Values [0.3, 0.75], BL = 6, at (FORWARD_STREAM = 3, step 2, layer 1). Bit n of value i is word i*6 + n
    [SPEC 1.3]; word k is lane k mod 4 of the block with counter (k div 4, 2, 1, 3) [SPEC 2.2]:

    words 0-3  041bfed1 951ab023 dbbf129e 5ff0b634   (block 0)
    words 4-7  071775db e2ed27a1 29596ae2 f70113df   (block 1)
    words 8-11 fbe65928 0242d15a deb35363 80c41631   (block 2)

    Thresholds [SPEC 1.2]: floor(0.3 * 2^32) = 4ccccccc, floor(0.75 * 2^32) = c0000000. A bit is 1 iff its word
    is below the threshold: 0.3 -> words 0-5 -> 100010; 0.75 -> words 6-11 -> 100101.
    """
    streams = backend.encode([0.3, 0.75], 6, Draw(SEED, Site.FORWARD_STREAM, 2, 1))
    assert [s.to01() for s in streams] == ["100010", "100101"], "[SPEC 1.2, 1.3] hand-derived streams"


@pytest.mark.groups("streams")
def test_spec_1_4_known_answer_coincidences(backend: Backend) -> None:
    """Rows [0.5, 1.0] at (UPDATE_ROW, 2, 1) and column [0.6] at (UPDATE_COLUMN, 2, 1), BL = 6: the rows are
    011101 and 111111 (1.0 always fires), the column 111101; popcount of the ANDs: 4 and 5."""
    counts = backend.coincidence_counts([0.5, 1.0], [0.6], 6, Draw(SEED, Site.UPDATE_ROW, 2, 1),
                                        Draw(SEED, Site.UPDATE_COLUMN, 2, 1))
    assert counts == [[4, 5]], "[SPEC 1.4] hand-derived coincidence counts"


@pytest.mark.groups("device")
def test_spec_4_3_known_answer_programming_event(backend: Backend) -> None:
    """A device at level 3 receives an event of 2 pulses, sigma = 0.5, event mode, synapse m = 3, noise at
    (PROGRAM_NOISE, 2, 1). Normal 3 is the sine of block 1 [SPEC 2.5]: r sin(theta) = 0.6075965374347378, so the
    increment is 2 + 0.5 * 0.6076 and the level 5.303798268717369 [SPEC 4.3, 4.4]."""
    params = DeviceParams(sigma=0.5)
    after = backend.program([3.0], [2], [3], params, Draw(SEED, Site.PROGRAM_NOISE, 2, 1), 10)
    assert after[0] == pytest.approx(5.303798268717369, abs=LEVEL_TOLERANCE), "[SPEC 4.3] hand-derived level"


@pytest.mark.groups("device")
def test_spec_4_5_known_answer_reset(backend: Backend) -> None:
    """A pair (g+, g-) = (6, 2), sigma = 0.5, synapse 0, noise at (RESET_NOISE, 2, 1): the difference 4 goes back
    onto G+ with one event's noise, normal 0 = 0.7297960203796489, so (4.364898010189824, 0)."""
    g_plus, g_minus = backend.reset([6.0], [2.0], [0], DeviceParams(sigma=0.5), Draw(SEED, Site.RESET_NOISE, 2, 1))
    assert g_plus[0] == pytest.approx(4.364898010189824, abs=LEVEL_TOLERANCE) and g_minus == [0.0], \
        "[SPEC 4.5] hand-derived reset"


@pytest.mark.groups("network")
@pytest.mark.kinds("stochastic")
def test_spec_3_8_known_answer_stochastic_step(backend: Backend) -> None:
    """One 1-2 crossbar, weights [[0.75, -0.25], [-0.5, 0.5]] (columns j, rows i = pixel, bias), image [0.6],
    label 1, step 3, eta 1, BL 8.

    Forward [SPEC 3.3]: the pixel's stream at (FORWARD_STREAM, 3, 0) is 10111100, x^ = 5/8, so z = (0.21875,
    0.1875), p = (0.50781186, 0.49218814), loss -ln p_1 = 0.7088942459057149, prediction 0.
    delta = p - e_1 = (0.50781186, -0.50781186) [SPEC 3.6].
    Update [SPEC 3.8]: dw_min = 1/8, C = 1; row streams (UPDATE_ROW, 3, 0) of 0.6 and the bias: 10001110,
    11111111; column streams (UPDATE_COLUMN, 3, 0) of |delta|: 10001000, 10100110; counts [[2, 2], [3, 4]];
    w <- w - sign(delta_j) (1/8) n: [[0.5, -0.5], [-0.125, 1.0]].
    """
    config = NetworkConfig(kind="stochastic", sizes=(1, 2), bit_length=8)
    model = backend.create_model(config, SEED)
    model.load_layers([Layer([[0.75, -0.25], [-0.5, 0.5]])])
    result = model.train_step([0.6], 1, 3, 1.0)
    assert result.prediction == 0 and result.loss == pytest.approx(0.7088942459057149, abs=1e-12), \
        f"[SPEC 3.2, 3.3] hand-derived loss and prediction: {result}"
    assert model.export_layers()[0].weights == [[0.5, -0.5], [-0.125, 1.0]], "[SPEC 3.8] hand-derived weights"


@pytest.mark.groups("network")
@pytest.mark.kinds("memristive")
def test_spec_3_8_4_3_known_answer_memristive_step(backend: Backend) -> None:
    """The same network as a memristive crossbar, sigma = 0, levels g+ = [[3, 1], [0, 2]], g- = [[1, 1], [2, 0]],
    image [0.6], label 1, step 3, eta 0.4, BL 8.

    dw_min = (1 - 1/15)/31 = 0.030107526881720432 [SPEC 4.1], weights dw_min (g+ - g-). Forward: x^ = 5/8 as
    above, z = (0.0376344, 0.0225806), delta = (0.50376337, -0.50376337).
    Update: C = sqrt(0.4 / (8 dw_min)) = 1.2886870394763368 > 1, so the bias row's probability clips at 1 and
    the pixel's is 0.7732; rows 11011110, 11111111; columns (min(1, C |delta|) = 0.6492) 11011000, 11101110;
    counts [[4, 4], [5, 6]]. delta_0 > 0 programs G-, delta_1 < 0 programs G+ [SPEC 4.3]: g+ = [[3, 1], [5, 8]],
    g- = [[5, 5], [2, 0]].
    """
    config = NetworkConfig(kind="memristive", sizes=(1, 2), bit_length=8,
                           device=DeviceParams(sigma=0.0, reset_every=1000))
    g_plus, g_minus = [[3.0, 1.0], [0.0, 2.0]], [[1.0, 1.0], [2.0, 0.0]]
    model = backend.create_model(config, SEED)
    model.load_layers([Layer(device_weights(g_plus, g_minus, config), g_plus, g_minus)])
    model.train_step([0.6], 1, 3, 0.4)
    after = model.export_layers()[0]
    assert (after.g_plus, after.g_minus) == ([[3.0, 1.0], [5.0, 8.0]], [[5.0, 5.0], [2.0, 0.0]]), \
        f"[SPEC 3.8, 4.3] hand-derived levels: g+ {after.g_plus}, g- {after.g_minus}"
