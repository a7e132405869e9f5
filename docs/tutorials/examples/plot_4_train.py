"""
4. Train the paper's network
============================

Everything together: a 784-256-128-10 network with sigmoid hidden layers and a softmax output, trained one
image at a time ([SPEC 3.5]) as a float baseline, as a stochastic network (BL = 10) and as a memristive one
(BL = 10, :math:`\\sigma = 0.1B`). To keep this page quick it trains on 500 real MNIST digits (from the 5,000
that the ``embedded`` extra installs) for 8 epochs, with the vectorized NumPy backend, which computes the same
bits as the reference.
"""

# %%
import matplotlib.pyplot as plt

from stochmem.config import DeviceParams, NetworkConfig
from stochmem.embedded import embedded_split
from stochmem.plugins import get_backend
from stochmem.training import train

train_set, test_set = embedded_split()
train_set, test_set = train_set.subset(0, 500), test_set.subset(0, 1000)
backend = get_backend("numpy")
configs = {
    "float": NetworkConfig(kind="float"),
    "stochastic BL=10": NetworkConfig(kind="stochastic", bit_length=10),
    "memristive BL=10, 0.1B": NetworkConfig(kind="memristive", bit_length=10, device=DeviceParams(sigma=0.1)),
}
accuracies = {}
for label, config in configs.items():
    model = backend.create_model(config, seed=1)
    results = train(model, config, 1, train_set, test_set, epochs=8)
    accuracies[label] = [r.test_accuracy for r in results]
    print(f"{label:>24}: test accuracy after each epoch {[f'{100 * a:.1f} %' for a in accuracies[label]]}")

fig, ax = plt.subplots(figsize=(6, 4))
for label, values in accuracies.items():
    ax.plot(range(1, len(values) + 1), [100 * v for v in values], "o-", label=label)
ax.set_xlabel("epoch over 500 digits")
ax.set_ylabel("test accuracy on 1,000 digits (%)")
ax.legend()
fig.tight_layout()

# %%
# On the full 60,000-image training set the same protocol reaches 96.2 % (float), 91.6 % (stochastic) and
# 86.8 % (memristive) after one epoch; the README's *Speed* section measures how long such an epoch takes with
# each backend. See :doc:`/explanation/findings` for the full 30-epoch study.
