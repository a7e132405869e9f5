"""
5. One training step on a crossbar, stream by stream
====================================================

The lessons so far used ``train()``. Here one training step of a memristive crossbar is written out, every
stream and every count visible, and checked at the end against the reference's ``train_step``. The network is
the smallest that has every part: 6 inputs, 3 outputs, one crossbar of device pairs (so the errors come straight
from the softmax), BL = 8.

What stays digital: the activations :math:`x` and the errors :math:`\\delta` are numbers the periphery holds
exactly. Only their transport across the array is stochastic: :math:`x` crosses forward as row pulses
([SPEC 3.3]); in the update, :math:`C x_i` pulses the rows and :math:`C |\\delta_j|` the columns, and a synapse
changes where pulses coincide ([SPEC 3.8]). The sign of :math:`\\delta_j` never travels: it picks which device of
the pair the column programs ([SPEC 1.5, 4.3]). A counter of images triggers the reset ([SPEC 4.5]).
"""

# %%
# The crossbar and its periphery
# ------------------------------
# Drawn from source (matplotlib): rows carry the input streams in, columns integrate and return the errors,
# each crossing is a pair of devices, and the periphery (drivers, integrators, the sign logic and the reset
# counter) stays digital.
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

fig, ax = plt.subplots(figsize=(7, 4.6))
ax.set_xlim(0, 10)
ax.set_ylim(0, 7)
ax.axis("off")
rows, columns = 4, 3
for i in range(rows):
    y = 5.6 - i * 1.1
    ax.annotate("", xy=(8.2, y), xytext=(2.2, y), arrowprops={"arrowstyle": "-", "color": "C0", "lw": 1.5})
    ax.text(2.1, y, f"row {i}: stream of $x_{i}$ (forward)\nor $C x_{i}$ (update)", ha="right", va="center",
            fontsize=7)
for j in range(columns):
    x = 3.6 + j * 1.9
    ax.annotate("", xy=(x, 1.2), xytext=(x, 6.2), arrowprops={"arrowstyle": "-", "color": "C1", "lw": 1.5})
    ax.text(x, 0.95, f"column {j}\n$\\sum_i w_{{{j}i}}\\hat x_i$ out,\n$C|\\delta_{j}|$ pulses in", ha="center",
            va="top", fontsize=7)
    for i in range(rows):
        y = 5.6 - i * 1.1
        ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.18), 0.28, 0.36, boxstyle="round,pad=0.02", color="C2"))
        ax.add_patch(FancyBboxPatch((x + 0.04, y - 0.18), 0.28, 0.36, boxstyle="round,pad=0.02", color="C3"))
ax.text(3.28, 6.45, "$G^+$", color="C2", ha="center", fontsize=8)
ax.text(3.78, 6.45, "$G^-$", color="C3", ha="center", fontsize=8)
ax.add_patch(FancyBboxPatch((8.6, 1.6), 1.3, 4.4, boxstyle="round,pad=0.05", fill=False))
ax.text(9.25, 3.8, "periphery\n(digital):\nsoftmax,\n$\\delta$ exact,\nsign of $\\delta_j$\nselects\n$G^+$ or $G^-$,\n"
        "reset\ncounter", ha="center", va="center", fontsize=7)
fig.tight_layout()

# %%
# The network and the image
# -------------------------
# A fresh memristive network (its devices programmed from the initial weights, [SPEC 4.6]) and one image.
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.network import init_network, softmax

config = NetworkConfig(kind="memristive", sizes=(6, 3), bit_length=8, device=DeviceParams(sigma=0.1))
seed, step, label, eta = 7, 0, 2, 0.1
net = init_network(config, seed)
layer = net.layers[0]
image = [0.0, 0.2, 0.5, 0.75, 1.0, 0.9]

# %%
# Forward: rows pulse, columns integrate
# --------------------------------------
# Each input becomes BL bits at (FORWARD_STREAM, step, layer 0) ([SPEC 1.3]); the bias row is always on.
# Column j reads :math:`z_j = \sum_i w_{ji}\,\mathrm{popcount}(X_i)/BL`.
import math

from stochmem.rng import Draw, Site
from stochmem.streams import and_count, encode_many

bl = config.bit_length
forward_streams = encode_many(image, bl, Draw(seed, Site.FORWARD_STREAM, step, 0))
seen = [s.count(1) / bl for s in forward_streams] + [1.0]
z = [math.fsum(w * x for w, x in zip(row, seen)) for row in layer.weights]
p = softmax(z)
for pixel, stream in zip(image, forward_streams):
    print(f"x = {pixel:4}: {stream.to01()} -> {stream.count(1) / bl}")
print("column sums z =", [round(v, 4) for v in z], " softmax p =", [round(v, 4) for v in p])

# %%
# The error stays digital
# -----------------------
# :math:`\delta_j = p_j - [j = y]` ([SPEC 3.6]), computed exactly by the periphery.
delta = [pj - (1.0 if j == label else 0.0) for j, pj in enumerate(p)]
print("delta =", [round(d, 4) for d in delta])

# %%
# The update: row and column pulses, coincidences, devices
# --------------------------------------------------------
# With :math:`\Delta w_{min}` one device level ([SPEC 4.1]), the gain is
# :math:`C = \sqrt{\eta / (BL\,\Delta w_{min})}` ([SPEC 3.8]). Row i pulses with probability
# :math:`\min(1, C x_i)` (the *exact* input, bias 1), column j with :math:`\min(1, C|\delta_j|)`; each synapse
# counts the slots where both pulse. A positive :math:`\delta_j` must lower the weights of column j, so its
# coincidences program :math:`G^-`; a negative one programs :math:`G^+`.
import numpy as np

from stochmem import device

dw_min = config.device.dw_min
gain = math.sqrt(eta / (bl * dw_min))
inputs = [*image, 1.0]
row_streams = encode_many([min(1.0, gain * x) for x in inputs], bl, Draw(seed, Site.UPDATE_ROW, step, 0))
column_streams = encode_many([min(1.0, gain * abs(d)) for d in delta], bl, Draw(seed, Site.UPDATE_COLUMN, step, 0))
counts = [[and_count(row, column) for row in row_streams] for column in column_streams]

g_plus = [list(r) for r in layer.g_plus]
g_minus = [list(r) for r in layer.g_minus]
noise = Draw(seed, Site.PROGRAM_NOISE, step, 0)
width = len(inputs)
for j, counts_j in enumerate(counts):
    target = g_minus if delta[j] > 0 else g_plus
    for i, n in enumerate(counts_j):
        if n:
            target[j][i] = device.program(target[j][i], n, config.device, noise, j * width + i, bl)
weights_by_hand = [device.weight_row(gp, gm, config.device) for gp, gm in zip(g_plus, g_minus)]
print(f"C = {gain:.3f}, dw_min = {dw_min:.4f}")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1, 1.2]})
axes[0].imshow([[int(b) for b in s] for s in row_streams], cmap="Blues", aspect="auto")
axes[0].set_title("row pulses $C x_i$")
axes[0].set_xlabel("time slot")
axes[0].set_ylabel("row i (last: bias)")
axes[1].imshow([[int(b) for b in s] for s in column_streams], cmap="Oranges", aspect="auto")
axes[1].set_title(r"column pulses $C|\delta_j|$")
axes[1].set_xlabel("time slot")
axes[1].set_ylabel("column j")
image_counts = axes[2].imshow(np.array(counts), cmap="Greens", aspect="auto")
for j, row in enumerate(counts):
    for i, n in enumerate(row):
        axes[2].text(i, j, str(n), ha="center", va="center", fontsize=8)
axes[2].set_title(r"coincidences $n_{ji}$ ($G^-$ if $\delta_j>0$)")
axes[2].set_xlabel("row i")
axes[2].set_ylabel("column j")
fig.colorbar(image_counts, ax=axes[2])
fig.tight_layout()

# %%
# The same step, by the reference
# -------------------------------
# ``train_step`` does all of the above (and the reset, at steps the schedule names: not this one). The state
# written out by hand must equal it exactly.
from stochmem.network import train_step

result = train_step(net, image, label, step, eta)
assert net.layers[0].g_plus == g_plus and net.layers[0].g_minus == g_minus
assert net.layers[0].weights == weights_by_hand
print(f"train_step agrees with the step written out: loss {result.loss:.4f}, prediction {result.prediction}")
