"""
Training curves from ``history_``
=================================

Every Forward-Forward layer minimises its own loss, so there is no single
training loss to watch: ``history_`` records the loss of each layer after
every epoch, and with ``early_stopping=True`` the accuracy on a held-out
validation split. This example trains a :class:`~skff.PolarFFClassifier` and
an :class:`~skff.FFClassifier` of the same size on the digits data and plots
both curves per layer and per epoch.
"""

# %%
# Data and models
# ---------------
# The 8x8 digits are standardised; a quarter is kept aside as a test set.
# ``early_stopping=True`` holds out 20% of the training part and scores it
# after every epoch. ``n_iter_no_change`` equals ``max_iter`` so that both
# models run all 40 epochs and the curves have the same length (early
# stopping still restores the weights of the best validation epoch).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, PolarFFClassifier
from skff.metrics import convergence_area

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = dict(
    hidden_layer_sizes=(200, 200),
    batch_size=64,
    max_iter=40,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=40,
    random_state=0,
)
models = {
    "Polar-FF": PolarFFClassifier(**settings),
    "FF": FFClassifier(**settings),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(
        f"{name:>8}: {model.n_iter_} epochs, best validation accuracy "
        f"{model.best_validation_score_:.3f}, test accuracy {model.score(X_test, y_test):.3f}"
    )

# %%
# What ``history_`` holds
# -----------------------
# ``history_`` is a :class:`skorch.history.History`: one dict per epoch,
# sliceable by epoch and key. ``layer_loss`` has one entry per layer.
polar = models["Polar-FF"]
first_epoch = polar.history_[0]
print(
    f"epoch {first_epoch['epoch']} ({first_epoch['stage']}): loss {first_epoch['loss']:.4f}, "
    f"layer_loss {np.round(first_epoch['layer_loss'], 4)}, validation_score {first_epoch['validation_score']:.4f}"
)
for name, model in models.items():
    layer_loss = np.array(model.history_[:, "layer_loss"])
    print(f"{name:>8}: layer losses, epoch 1 {np.round(layer_loss[0], 3)}, epoch {len(layer_loss)} "
          f"{np.round(layer_loss[-1], 3)}")

# %%
# Per-layer loss and validation accuracy
# --------------------------------------
# Each layer's loss is a binary cross-entropy (positive data: the sample with
# its true label; negative data: the sample with a wrong label), so the two
# models' losses are on the same scale (the two left panels share their
# axis). The log scale shows the later epochs.
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
axes[1].sharey(axes[0])
for ax, (name, model) in zip(axes[:2], models.items()):
    epochs = np.array(model.history_[:, "epoch"])
    layer_loss = np.array(model.history_[:, "layer_loss"])
    for layer in range(layer_loss.shape[1]):
        ax.plot(epochs, layer_loss[:, layer], marker=".", label=f"layer {layer + 1}")
    ax.set_yscale("log")
    ax.set_title(f"{name}: training loss per layer")
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.legend()

ax = axes[2]
for name, model in models.items():
    epochs = np.array(model.history_[:, "epoch"])
    ax.plot(epochs, model.validation_scores_, marker=".", label=name)
ax.set_title("validation accuracy")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Convergence speed
# -----------------
# The Polar-FFA paper summarises an accuracy curve by its *convergence area*:
# the gaps to the best accuracy summed over the epochs until the curve first
# comes within ``tol`` of it, divided by the number of epochs. Lower means
# faster. With 20% of 1347 training
# samples (270) held out, one validation sample is worth 0.4 points, so the
# curves are noisy and small differences mean little. In this run Polar-FF
# first reaches 90% validation accuracy at epoch 6 and FF at epoch 10; after
# 40 epochs the two test accuracies are within a point of each other.
for name, model in models.items():
    scores = np.array(model.validation_scores_)
    print(
        f"{name:>8}: convergence area {convergence_area(scores):.4f}, "
        f"first epoch at >= 90% validation accuracy: {np.argmax(scores >= 0.9) + 1}"
    )

plt.show()
