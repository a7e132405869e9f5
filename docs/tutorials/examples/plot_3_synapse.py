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
# With :math:`\sigma = 0` every conductance sits exactly on one of the 32 levels and a reset keeps the weight
# exactly. With :math:`\sigma = 0.5B` the levels blur, and each reset adds one more noisy programming event:
# this is how device variability becomes learning noise (see the explanation pages).
