"""
Latent space of positive and negative data
==========================================

A Forward-Forward layer is trained to respond differently to *positive* data
(a sample with its true label embedded) and *negative* data (the same sample
with a wrong label). ``latent_activations`` returns each layer's activity for
either kind, so the two groups can be drawn side by side, as in the latent
space figures of the Polar-FFA paper. This example embeds the latents of a
:class:`~skff.FFClassifier` and a :class:`~skff.PolarFFClassifier` in two
dimensions with t-SNE and measures how well the groups separate with
:func:`skff.metrics.separability_index`.
"""

# %%
# Two classifiers of the same size
# --------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, PolarFFClassifier
from skff.metrics import separability_index

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = dict(hidden_layer_sizes=(200, 200), batch_size=64, max_iter=30, random_state=0)
models = {"FF": FFClassifier(**settings), "Polar-FF": PolarFFClassifier(**settings)}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>8}: test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Positive and negative latents
# -----------------------------
# On the 450 test digits: once with the true label embedded, once with a
# random wrong label (``negative=True``). Each call returns one
# ``(n_samples, n_units)`` array per layer. The separability index is the
# share of each latent vector's 5 nearest neighbours that come from its own
# group (1: fully separated, 0.5: mixed); it is computed in the full
# 200-dimensional latent space, not in the 2-D picture.
latents = {}
for name, model in models.items():
    positive = model.latent_activations(X_test, y_test)
    negative = model.latent_activations(X_test, y_test, negative=True, random_state=0)
    latents[name] = list(zip(positive, negative))
    for layer, (pos, neg) in enumerate(latents[name], start=1):
        print(
            f"{name:>8} layer {layer}: separability index {separability_index(pos, neg):.3f}, "
            f"mean activity norm positive {np.linalg.norm(pos, axis=1).mean():.1f}, "
            f"negative {np.linalg.norm(neg, axis=1).mean():.1f}"
        )

# %%
# t-SNE pictures
# --------------
# One t-SNE per model and layer, on the positive and negative latents
# together. t-SNE keeps neighbourhoods, not distances: the picture shows
# which latents lie close to which, and the index above puts a number on it.
fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
for row, (name, pairs) in enumerate(latents.items()):
    for layer, (pos, neg) in enumerate(pairs):
        embedding = TSNE(init="pca", max_iter=500, random_state=0).fit_transform(np.vstack([pos, neg]))
        ax = axes[row, layer]
        ax.scatter(*embedding[: len(pos)].T, s=6, alpha=0.6, label="positive (true label)")
        ax.scatter(*embedding[len(pos) :].T, s=6, alpha=0.6, label="negative (wrong label)")
        ax.set_title(f"{name}, layer {layer + 1}: separability {separability_index(pos, neg):.2f}")
        ax.set_xticks([])
        ax.set_yticks([])
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=2, markerscale=3)
fig.tight_layout(rect=(0, 0.04, 1, 1))

# %%
# In FF's pictures the latents gather by digit, and within each digit's
# cluster the positive and negative latents sit side by side: FF tells them
# apart mainly by the size of the activity (the positive norms above are
# larger), which t-SNE's neighbourhoods only partly reflect. In its first layer
# an FF latent still has about one neighbour in five from the other group.
# Polar-FF gathers the positive latents into tight clusters of their own and
# spreads the negative ones between them, with a higher index in both layers.
plt.show()
