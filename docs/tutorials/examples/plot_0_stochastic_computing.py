"""
0. Stochastic computing from scratch
====================================

Stochastic computing (:ref:`Gaines 1969 <gaines-1969>`, surveyed by :ref:`Alaghi & Hayes 2013
<alaghi-hayes-2013>`) represents a number as the *probability* that a bit of a stream is 1. Arithmetic then
becomes logic on streams: one AND gate multiplies. This lesson builds the ideas the rest of these docs assume:
what precision costs, the number formats, why correlation between streams decides whether a gate computes what
you think, and how streams are generated. Everything below runs; the figures are drawn as the page is built.
"""

# %%
# A number is a probability, and precision costs length
# ------------------------------------------------------
# A value :math:`p \in [0, 1]` travels as :math:`N` bits, each 1 with probability :math:`p`; it is read back as
# the fraction of ones. That estimate is unbiased with standard deviation :math:`\sqrt{p(1-p)/N}`, at most
# :math:`1/(2\sqrt N)`. To resolve :math:`k` binary digits (an error below :math:`2^{-k}`) the stream must be
# about :math:`4^k/4` bits long: every extra bit of precision costs four times the length, and the latency of a
# stochastic circuit is proportional to :math:`N`. This is the central trade: a multiplier shrinks to one gate,
# time grows exponentially with precision. The paper's networks live at :math:`N = BL = 10` to 100, that is
# 2 to 4 bits per operation, which gradient descent tolerates because it averages over many steps.
import matplotlib.pyplot as plt
import numpy as np

from stochmem.rng import Draw, Site, uniforms

p = 0.3
lengths = 2 ** np.arange(1, 13)
rms = []
for n in lengths:
    u = np.array(uniforms(Draw(1, Site.EVAL_STREAM, int(n)), 400 * int(n))).reshape(400, int(n))
    rms.append(np.sqrt(np.mean(((u < p).mean(axis=1) - p) ** 2)))
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(lengths, rms, "o", label=f"measured RMS error, p = {p} (400 streams each)")
ax.loglog(lengths, np.sqrt(p * (1 - p) / lengths), "-", label=r"$\sqrt{p(1-p)/N}$")
for k in (2, 4, 6):
    ax.axhline(2.0**-k, color="grey", linewidth=0.6)
    ax.text(lengths[0], 2.0**-k * 1.1, f"{k} bits", fontsize="small", color="grey")
ax.set_xlabel("stream length N")
ax.set_ylabel("error of the decoded value")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Unipolar and bipolar formats, and the sign-magnitude choice of the specification
# --------------------------------------------------------------------------------
# *Unipolar*: :math:`x = p \in [0, 1]`; AND multiplies (:math:`P(a \wedge b) = p_a p_b` for independent
# streams). *Bipolar*: :math:`x = 2p - 1 \in [-1, 1]`; XNOR multiplies, because
# :math:`P(\overline{a \oplus b}) = p_a p_b + (1-p_a)(1-p_b)` decodes to :math:`x_a x_b`. Bipolar streams pay
# for their sign with precision: the same :math:`N` bits span twice the range. The specification carries
# signed errors as a sign and a magnitude instead ([SPEC 1.5]): the magnitude is a unipolar stream, and the sign
# never travels as a stream; in the memristive network it decides which device of the pair a coincidence
# programs.
n = 4096
words = np.array(uniforms(Draw(2, Site.EVAL_STREAM), 2 * n)).reshape(2, n)
for x_a, x_b in ((0.6, -0.5), (-0.8, -0.4)):
    a = words[0] < (x_a + 1) / 2
    b = words[1] < (x_b + 1) / 2
    print(f"bipolar {x_a:+} x {x_b:+}: XNOR decodes to {2 * np.mean(a == b) - 1:+.3f}, exact {x_a * x_b:+.3f}")

# %%
# Correlation decides what a gate computes
# ----------------------------------------
# An AND multiplies only *independent* streams. Encode both values from the **same** random words (each bit
# compares its own word with both thresholds) and the streams overlap as much as they can: AND gives
# :math:`\min(a, b)`. Encode one from the words and the other from their complements and they overlap as little
# as they can: AND gives :math:`\max(0, a + b - 1)`. The stochastic cross-correlation (SCC,
# :ref:`Alaghi & Hayes 2013b <alaghi-hayes-correlation-2013>`) runs from -1 to +1 between those extremes.
# Correlation is also a resource: XOR of maximally correlated streams is :math:`|a - b|`, a subtractor in one
# gate.
a_value, b_value = 0.7, 0.4
u, v = words
cases = {"independent (different words)": (u < a_value, v < b_value),
         "SCC = +1 (same words)": (u < a_value, u < b_value),
         "SCC = -1 (complementary words)": (u < a_value, (1 - u) < b_value)}
for label, (a, b) in cases.items():
    print(f"{label:>32}: AND {np.mean(a & b):.3f}   XOR {np.mean(a ^ b):.3f}")
print(f"{'expected':>32}: AND ab = {a_value * b_value:.3f}, min = {min(a_value, b_value):.3f}, "
      f"max(0, a+b-1) = {max(0.0, a_value + b_value - 1):.3f}; XOR at SCC = +1: |a-b| = {a_value - b_value:.3f}")

# %%
# In the crossbar update every synapse of row :math:`i` sees the same row stream, and every synapse of column
# :math:`j` the same column stream ([SPEC 3.8]). Each count :math:`n_{ji}` is still Binomial, because its row and
# column streams are independent of each other, but the counts of one column are correlated with each other
# through the shared column stream: the update of a column is a *correlated* random vector, not a set of
# independent ones. The conformance suite's test of the update's expectation accounts for exactly this.

# %%
# Generating streams: LFSRs, shifted copies, and deterministic sequences
# ----------------------------------------------------------------------
# Hardware usually compares the value with the output of a linear-feedback shift register (LFSR): cheap, but
# two streams drawn from one LFSR, or from a copy shifted by one clock, are strongly correlated, and their AND
# is no product. Low-discrepancy and deterministic streams (a van der Corput sequence, or a unary stream whose
# ones come first) spread their ones evenly, so a single value converges as :math:`1/N` instead of
# :math:`1/\sqrt N`; but their regularity makes two such streams correlated unless they are designed together.
# The specification keeps independent random streams drawn from a counter-based generator (:ref:`Salmon et al.
# 2011 <salmon-2011>`, [SPEC 2]): every word is addressed by (seed, site, step, layer, index), so any number of
# streams are independent of each other, reproducible, and computable in parallel.


def lfsr16(seed: int, count: int) -> np.ndarray:
    """A 16-bit Fibonacci LFSR (taps 16, 14, 13, 11): ``count`` successive states / 2**16."""
    state, out = seed, np.empty(count)
    for k in range(count):
        bit = ((state >> 0) ^ (state >> 2) ^ (state >> 3) ^ (state >> 5)) & 1
        state = (state >> 1) | (bit << 15)
        out[k] = state / 65536
    return out


def van_der_corput(count: int) -> np.ndarray:
    """The base-2 radical inverse of 1 .. count: a low-discrepancy sequence in [0, 1)."""
    out = np.zeros(count)
    for k in range(count):
        value, base, index = 0.0, 0.5, k + 1
        while index:
            value += base * (index & 1)
            index >>= 1
            base /= 2
        out[k] = value
    return out


n = 1024
lfsr = lfsr16(0xACE1, n + 1)
rows = {"Philox (independent words)": (u[:n] < a_value, v[:n] < b_value),
        "one LFSR, shifted by one": (lfsr[1:] < a_value, lfsr[:-1] < b_value)}
for label, (a, b) in rows.items():
    print(f"{label:>28}: AND = {np.mean(a & b):.3f} (product {a_value * b_value:.3f})")

sizes = 2 ** np.arange(3, 12)
random_error = [np.mean([abs(np.mean(np.array(uniforms(Draw(3, Site.EVAL_STREAM, int(m), aux=r), int(m)))
                                     < p) - p) for r in range(50)]) for m in sizes]
sequence_error = [abs(np.mean(van_der_corput(int(m)) < p) - p) for m in sizes]
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(sizes, random_error, "o-", label="random stream (mean over 50)")
ax.loglog(sizes, np.maximum(sequence_error, 1e-5), "s-", label="van der Corput stream")
ax.loglog(sizes, 1 / sizes, "k:", label="1/N")
ax.loglog(sizes, 0.4 / np.sqrt(sizes), "k--", label=r"$\propto 1/\sqrt{N}$")
ax.set_xlabel("stream length N")
ax.set_ylabel(f"error of the decoded value (p = {p})")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Where the energy argument holds, and where it does not
# ------------------------------------------------------
# An AND gate is far smaller and cheaper than a fixed-point multiplier, and a crossbar can apply all
# :math:`N_{rows} \times N_{columns}` coincidences of an update at once, in :math:`BL` time slots, which is what
# makes the scheme attractive for training (:ref:`Gokmen & Vlasov 2016 <gokmen-vlasov-2016>`). The argument
# weakens where the streams must be generated: a random word per stream bit is far more expensive than the gate
# that consumes it (the hardware how-to puts numbers on the specified generator), and long streams cost time
# exponentially in the precision they buy. Stochastic computing wins where low precision suffices, operations are
# massively parallel, and stream generation is shared or cheap.
