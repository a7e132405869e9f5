"""
2. A stochastic neuron and a stochastic weight update
=====================================================

Equation 1 of the paper computes a neuron's input as :math:`\\sum_i w_{ij} x_i`. In a crossbar each input
:math:`x_i` arrives as a stream of BL pulses on row :math:`i`; column :math:`j` integrates the current
:math:`w_{ij}` of every pulse, so it sees :math:`\\sum_i w_{ij}\\,\\mathrm{popcount}(X_i)/BL` ([SPEC 3.3]).

Equation 4 updates the weights by counting coincidences of a row stream (probability :math:`C x_i`) and a
column stream (probability :math:`C |\\delta_j|`): each coincidence moves :math:`w_{ij}` by
:math:`\\mp\\Delta w_{min}`, so the *expected* move is :math:`-BL\\,\\Delta w_{min} C^2 x_i \\delta_j = -\\eta x_i
\\delta_j`, the gradient step ([SPEC 3.8]).
"""

# %%
# The neuron's input is noisy, and unbiased
# -----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import gaussian_kde

from stochmem.plugins import get_backend
from stochmem.rng import Draw, Site

backend = get_backend("numpy")  # any engine, through the Backend contract (stochmem.backend_api)
inputs = np.linspace(0.05, 0.95, 50)
weights = np.sin(np.arange(50.0)) * 0.3
exact = float(weights @ inputs)


def column_input(bit_length: int, draw: Draw) -> float:
    """What column j integrates: each row's weight times the fraction of time slots its stream pulses."""
    streams = backend.encode(list(inputs), bit_length, draw)
    return float(weights @ np.array([s.count(1) / bit_length for s in streams]))


fig, ax = plt.subplots(figsize=(6, 4))
grid = np.linspace(exact - 1.0, exact + 1.0, 400)
for bl in (10, 100):
    samples = [column_input(bl, Draw(3, Site.EVAL_STREAM, k)) for k in range(2000)]
    # A smooth density estimate: a histogram of these sums shows the lattice of popcounts as a comb, not the spread
    ax.plot(grid, gaussian_kde(samples)(grid), label=f"BL = {bl}: mean {np.mean(samples):.3f}, "
                                                     f"sd {np.std(samples):.3f}")
ax.axvline(exact, color="k", linestyle="--", label=f"exact sum {exact:.3f}")
ax.legend(loc="upper left", fontsize="small")
ax.set_xlabel(r"column input $\sum_i w_{ij}\,\mathrm{popcount}(X_i)/BL$")
ax.set_ylabel("density over 2,000 stream draws")
fig.tight_layout()

# %%
# The coincidence update equals the gradient step on average
# ----------------------------------------------------------
# One crossbar, one image: the row probabilities are the inputs, the column probabilities the errors.
# Average the weight change over 500 independent draws and compare it with :math:`-\eta x_i\delta_j`.
from stochmem.config import NetworkConfig
from stochmem.network import update_gain

config = NetworkConfig(kind="stochastic", sizes=(8, 4), bit_length=10)
eta = 0.5
x = np.linspace(0.1, 1.0, 8)
delta = np.array([0.4, -0.7, 0.1, -0.25])
gain, dw_min = update_gain(eta, config)
total = np.zeros((4, 8))
draws = 500
for seed in range(draws):
    counts = backend.coincidence_counts(list(np.minimum(1, gain * x)), list(np.minimum(1, gain * np.abs(delta))),
                                        10, Draw(seed, Site.UPDATE_ROW), Draw(seed, Site.UPDATE_COLUMN))
    total += -np.sign(delta)[:, None] * dw_min * np.array(counts)
mean_update = total / draws
gradient_step = -eta * np.outer(delta, x)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot(gradient_step.ravel(), mean_update.ravel(), "o")
lim = np.abs(gradient_step).max() * 1.1
ax.plot([-lim, lim], [-lim, lim], "k--", linewidth=1)
ax.set_xlabel(r"gradient step $-\eta x_i \delta_j$")
ax.set_ylabel(f"mean coincidence update ({draws} draws)")
ax.set_aspect("equal")
fig.tight_layout()
print("largest deviation:", float(np.abs(mean_update - gradient_step).max()))
