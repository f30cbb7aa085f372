"""
Sparsity of the activity during training
========================================

The Polar-FFA paper follows how sparse the layers' activity becomes as
training goes on, measured by the Hoyer sparsity (0 when every unit is
equally active, 1 when a single unit carries all the activity). skff records
it after every epoch in ``history_``: the mean Hoyer sparsity of each layer on a
fixed random subset of (up to) 256 training samples, once with their true
labels embedded (``sparsity_positive``) and once with fixed wrong labels
(``sparsity_negative``). This example plots both for an
:class:`~skff.FFClassifier` and a :class:`~skff.PolarFFClassifier` on the
digits data.
"""

# %%
# Training
# --------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, PolarFFClassifier
from skff.metrics import hoyer_sparsity, neural_usage

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = dict(hidden_layer_sizes=(200, 200), batch_size=64, max_iter=40, random_state=0)
models = {"FF": FFClassifier(**settings), "Polar-FF": PolarFFClassifier(**settings)}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>8}: test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Sparsity per epoch, layer and kind of data
# ------------------------------------------
# Both keys hold one value per layer per epoch: an array of shape
# ``(n_epochs, n_layers)``.
sparsity = {}
for name, model in models.items():
    positive = np.array(model.history_[:, "sparsity_positive"])
    negative = np.array(model.history_[:, "sparsity_negative"])
    sparsity[name] = positive, negative
    for layer in range(positive.shape[1]):
        print(
            f"{name:>8} layer {layer + 1}: positive {positive[0, layer]:.3f} -> {positive[-1, layer]:.3f}, "
            f"negative {negative[0, layer]:.3f} -> {negative[-1, layer]:.3f} (epoch 1 -> {len(positive)})"
        )

fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True, sharey=True)
for row, (name, (positive, negative)) in enumerate(sparsity.items()):
    epochs = np.arange(1, len(positive) + 1)
    for layer in range(positive.shape[1]):
        ax = axes[row, layer]
        ax.plot(epochs, positive[:, layer], label="positive data (true label)")
        ax.plot(epochs, negative[:, layer], linestyle="--", label="negative data (wrong label)")
        ax.set_title(f"{name}, layer {layer + 1}")
        ax.grid(alpha=0.3)
for ax in axes[:, 0]:
    ax.set_ylabel("mean Hoyer sparsity")
for ax in axes[1]:
    ax.set_xlabel("epoch")
axes[0, 0].legend(loc="lower right")
fig.tight_layout()

# %%
# In this run every layer of both models becomes sparser as it trains, the
# second layers most of all, and positive data ends up with sparser activity
# than negative data. The gap is clearest in Polar-FF's first layer, where
# positive data should excite mainly the positive half of the units and
# negative data mainly the other half. FF's first layer stays the least
# sparse.
#
# The same measure on held-out data
# ---------------------------------
# ``history_`` uses training samples. :meth:`~skff.PolarFFClassifier.latent_activations`
# gives the activity on the test set, where :func:`~skff.metrics.hoyer_sparsity`
# measures each sample and :func:`~skff.metrics.neural_usage` how evenly the
# units share the work over the data set (``sparsity`` 0: all units used
# equally; ``active_fraction``: share of units that are ever used).
for name, model in models.items():
    positive = model.latent_activations(X_test, y_test)
    negative = model.latent_activations(X_test, y_test, negative=True, random_state=0)
    for layer, (pos, neg) in enumerate(zip(positive, negative), start=1):
        usage = neural_usage(pos)
        print(
            f"{name:>8} layer {layer} (test): Hoyer sparsity positive {hoyer_sparsity(pos).mean():.3f}, "
            f"negative {hoyer_sparsity(neg).mean():.3f}; unit usage sparsity {usage.sparsity:.3f}, "
            f"active units {usage.active_fraction:.0%}"
        )

# %%
# On the test digits the per-sample sparsities are within about 0.01 of the
# last epoch's training values above, and (nearly) every unit is used.

plt.show()
