"""
1. Numbers as bit streams
=========================

In stochastic computing a number :math:`p \\in [0, 1]` is carried by a stream of :math:`N` random bits, each
1 with probability :math:`p` ([SPEC 1.1]). Reading the stream back means counting its ones. Multiplying two
numbers is a single AND gate per bit: the bits of :math:`A \\wedge B` are 1 with probability :math:`ab`, so

.. math:: c = \\frac{1}{N}\\sum_{n=1}^{N} (A_n \\wedge B_n), \\qquad E(c) = ab, \\qquad
          \\mathrm{Var}(c) = \\frac{ab(1-ab)}{N}

(the paper's eq. 3). This lesson encodes, decodes and multiplies, then watches the error shrink as
:math:`1/\\sqrt{N}`.
"""

# %%
# Encode two numbers
# ------------------
# Every random bit in stochmem comes from a named *draw* of the Philox4x32-10 generator ([SPEC 2]); bit
# ``n`` of value ``i`` is 1 iff its 32-bit word is below ``floor(p * 2**32)`` ([SPEC 1.2]). Two different sites
# give independent streams.
from stochmem.rng import Draw, Site
from stochmem.streams import and_count, decode, encode_many

a, b, n_bits = 0.6, 0.5, 32
stream_a = encode_many([a], n_bits, Draw(seed=1, site=Site.UPDATE_ROW))[0]
stream_b = encode_many([b], n_bits, Draw(seed=1, site=Site.UPDATE_COLUMN))[0]
print("A      ", stream_a.to01(), "decodes to", decode(stream_a))
print("B      ", stream_b.to01(), "decodes to", decode(stream_b))
print("A AND B", (stream_a & stream_b).to01(), "->", and_count(stream_a, stream_b) / n_bits, "vs ab =", a * b)

# %%
# The error shrinks as one over the square root of N
# --------------------------------------------------
# Repeat the product over many seeds for growing ``N`` and compare the spread of the estimates with
# :math:`\sqrt{ab(1-ab)/N}`. The NumPy backend (through the same ``Backend`` contract every engine offers,
# :class:`stochmem.backend_api.Backend`) computes the same bits as the reference, faster.
import matplotlib.pyplot as plt
import numpy as np

from stochmem.plugins import get_backend

backend = get_backend("numpy")

lengths = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
repeats = 2000
spread = []
for n in lengths:
    streams_a = backend.encode([a] * repeats, n, Draw(seed=7, site=Site.UPDATE_ROW, step=n))
    streams_b = backend.encode([b] * repeats, n, Draw(seed=7, site=Site.UPDATE_COLUMN, step=n))
    estimates = np.array([and_count(sa, sb) / n for sa, sb in zip(streams_a, streams_b)])
    spread.append(estimates.std())

theory = [np.sqrt(a * b * (1 - a * b) / n) for n in lengths]
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(lengths, spread, "o", label=f"measured spread of c ({repeats} seeds)")
ax.loglog(lengths, theory, "-", label=r"$\sqrt{ab(1-ab)/N}$")
ax.set_xlabel("stream length N (bits)")
ax.set_ylabel("standard deviation of c")
ax.set_title(f"product of a={a} and b={b} by AND")
ax.legend()
fig.tight_layout()

# %%
# Ten bits already carry a product to within about 0.15; a hundred bits to within 0.05. The paper trains with
# BL = 10 and finds the network barely notices ([SPEC 3.3]): the noise averages out over many synapses and
# many images.
