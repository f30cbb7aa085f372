"""Probability functions of Forward-Forward and Polar-FFA, as log-odds.

Every probability function used by the papers can be written as
``P(positive) = sigmoid(s)`` for a log-odds ``s``:

* FFA sigmoid ``sigmoid(alpha * (g - theta))``: ``s = alpha * (g - theta)``;
* polar sigmoid ``sigmoid(alpha * (g_pos - g_neg - theta))``;
* symmetric ``(g_pos + eps) / (g_pos + g_neg + 2 eps)``:
  ``s = log(g_pos + eps) - log(g_neg + eps)``.

Working with ``s`` gives one numerically stable loss (binary cross-entropy on
logits, no clamping needed) and one additive per-layer score for prediction.
"""

import torch
import torch.nn.functional as F


def ffa_sigmoid_logit(g, g_neg=None, *, threshold=2.0, alpha=1.0, epsilon=None):
    """Log-odds of Hinton's ``sigmoid(alpha * (G - theta))`` (``g_neg`` unused)."""
    return alpha * (g - threshold)


def polar_sigmoid_logit(g_pos, g_neg, *, threshold=2.0, alpha=1.0, epsilon=None):
    """Log-odds of Polar-FFA's ``sigmoid(alpha * (G_pos - G_neg - theta))``."""
    return alpha * (g_pos - g_neg - threshold)


def symmetric_logit(g_pos, g_neg, *, threshold=None, alpha=None, epsilon=1e-6):
    """Log-odds of Polar-FFA's symmetric ``(G_pos + eps) / (G_pos + G_neg + 2 eps)``."""
    return torch.log(g_pos + epsilon) - torch.log(g_neg + epsilon)


LOGIT_FUNCTIONS = {
    "sigmoid": ffa_sigmoid_logit,
    "polar_sigmoid": polar_sigmoid_logit,
    "symmetric": symmetric_logit,
}


def layer_loss(logits, is_positive, sample_weight=None):
    """Binary cross-entropy of ``P = sigmoid(logits)`` against ``is_positive``.

    Parameters
    ----------
    logits : Tensor of shape (n_samples,)
    is_positive : Tensor of shape (n_samples,) with 1 for positive and 0 for
        negative samples.
    sample_weight : Tensor of shape (n_samples,) or None
        Multiplies each sample's loss. Estimators rescale weights to mean 1
        over the training set, so that a batch's loss stays on the scale of
        the unweighted one while light batches weigh less.

    Returns
    -------
    loss : scalar Tensor, the mean over samples of the (weighted) losses.
    """
    per_sample = F.binary_cross_entropy_with_logits(logits, is_positive, reduction="none")
    if sample_weight is None:
        return per_sample.mean()
    return (per_sample * sample_weight).mean()
