"""
3. A memristive synapse
=======================

A memristive device can only *increase* its conductance by programming pulses, and only up to its maximum.
The paper therefore holds each weight in a pair, :math:`w \\propto G^+ - G^-`: raising the weight programs
:math:`G^+`, lowering it programs :math:`G^-` ([SPEC 4.2, 4.3]). With 32 levels and an on/off ratio of 15 the
devices saturate quickly, so every 15 images both are reset to :math:`G_{min}` and the difference is
re-programmed onto one of them ([SPEC 4.5]). Each programming event lands on its target plus Gaussian noise of
standard deviation :math:`\\sigma`, measured in level spacings :math:`B`.
"""

# %%
# Conductance trajectories
# ------------------------
# A synapse receives a random sequence of update events (a few coincidences each, mostly upwards). Watch the
# two devices climb, saturate, and fall back at each reset, while their difference, the weight, carries on.
import matplotlib.pyplot as plt

from stochmem import device
from stochmem.config import DeviceParams
from stochmem.rng import Draw, Site, uniforms

images = 90
events = uniforms(Draw(11, Site.DATA_ORDER), 2 * images)
fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
for ax, sigma in zip(axes, (0.0, 0.5)):
    params = DeviceParams(sigma=sigma)
    g_plus, g_minus = 0.0, 0.0
    history = []
    for t in range(images):
        pulses = int(events[2 * t] * 4)
        upwards = events[2 * t + 1] < 0.65
        noise = Draw(5, Site.PROGRAM_NOISE, t)
        if upwards:
            g_plus = device.program(g_plus, pulses, params, noise, 0, 10)
        else:
            g_minus = device.program(g_minus, pulses, params, noise, 0, 10)
        if (t + 1) % params.reset_every == 0:
            g_plus, g_minus = device.reset_pair(g_plus, g_minus, params, Draw(5, Site.RESET_NOISE, t), 0)
        history.append((device.conductance(g_plus, params), device.conductance(g_minus, params),
                        device.weight(g_plus, g_minus, params)))
    ax.plot([h[0] for h in history], label="$G^+$")
    ax.plot([h[1] for h in history], label="$G^-$")
    ax.plot([h[2] for h in history], "k", label="weight")
    for t in range(params.reset_every - 1, images, params.reset_every):
        ax.axvline(t, color="grey", linewidth=0.5)
    ax.set_ylabel("normalised conductance / weight")
    ax.set_title(rf"$\sigma = {sigma}\,B$: {params.levels} levels, on/off {params.on_off:g}, reset every "
                 f"{params.reset_every} images")
    ax.legend(loc="upper left", fontsize="small")
axes[-1].set_xlabel("image")
fig.tight_layout()

# %%
# Levels blur
# -----------
# With :math:`\sigma = 0` every conductance sits exactly on one of the 32 levels and a reset keeps the weight
# exactly. With noise they blur: program 20,000 devices from :math:`G_{min}` with 1 to 4 pulses each and look
# at where they land. At :math:`\sigma = 0.1B` the levels are still distinct; at :math:`0.5B` neighbours
# overlap; at :math:`B` a device's level no longer tells how many pulses it received. Each reset adds one more
# such event: this is how device variability becomes learning noise (see the explanation pages).
import numpy as np

fig, axes = plt.subplots(1, 3, figsize=(9, 3), sharey=True)
pulses = [1 + k % 4 for k in range(20_000)]
for ax, sigma in zip(axes, (0.1, 0.5, 1.0)):
    params = DeviceParams(sigma=sigma)
    noise = Draw(8, Site.PROGRAM_NOISE, 0)
    levels = [device.program(0.0, n, params, noise, k, 10) for k, n in enumerate(pulses)]
    ax.hist(levels, bins=np.arange(-0.5, 8.5, 0.05), color="C0")
    ax.set_title(rf"$\sigma = {sigma}\,B$")
    ax.set_xlabel("level after 1-4 pulses")
axes[0].set_ylabel("devices")
fig.tight_layout()
