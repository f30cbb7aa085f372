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
    """Log-odds of Hinton's ``sigmoid(alpha * (G - theta))`` (``g_neg`` unused).

    Parameters
    ----------
    g : Tensor of shape (n_samples,)
        Goodness of the layer (all units positive).
    g_neg : ignored
        Accepted so that every function of :data:`LOGIT_FUNCTIONS` has the
        same signature.
    threshold : float, default=2.0
        ``theta``.
    alpha : float, default=1.0
        Slope.
    epsilon : ignored

    Returns
    -------
    logits : Tensor of shape (n_samples,)
        ``alpha * (g - threshold)``; ``torch.sigmoid(logits)`` is
        ``P(positive)``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import ffa_sigmoid_logit
    >>> ffa_sigmoid_logit(torch.tensor([1.0, 3.0]), threshold=2.0, alpha=1.0)
    tensor([-1.,  1.])
    """
    return alpha * (g - threshold)


def polar_sigmoid_logit(g_pos, g_neg, *, threshold=2.0, alpha=1.0, epsilon=None):
    """Log-odds of Polar-FFA's ``sigmoid(alpha * (G_pos - G_neg - theta))``.

    Parameters
    ----------
    g_pos, g_neg : Tensor of shape (n_samples,)
        Goodness of the positive and of the negative unit group.
    threshold : float, default=2.0
        ``theta``.
    alpha : float, default=1.0
        Slope.
    epsilon : ignored

    Returns
    -------
    logits : Tensor of shape (n_samples,)
        ``alpha * (g_pos - g_neg - threshold)``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import polar_sigmoid_logit
    >>> polar_sigmoid_logit(torch.tensor([5.0, 1.0]), torch.tensor([1.0, 5.0]))
    tensor([ 2., -6.])
    """
    return alpha * (g_pos - g_neg - threshold)


def symmetric_logit(g_pos, g_neg, *, threshold=None, alpha=None, epsilon=1e-6):
    """Log-odds of Polar-FFA's symmetric ``(G_pos + eps) / (G_pos + G_neg + 2 eps)``.

    The probability ``P`` has odds ``P / (1 - P) = (G_pos + eps) / (G_neg +
    eps)``, so its log-odds is ``log(G_pos + eps) - log(G_neg + eps)``. It
    depends only on the ratio of the two goodnesses (scale invariant), which
    is why ``threshold`` and ``alpha`` play no part.

    Parameters
    ----------
    g_pos, g_neg : Tensor of shape (n_samples,)
        Non-negative goodness of the positive and of the negative unit group.
    threshold, alpha : ignored
    epsilon : float, default=1e-6
        Keeps the logarithms finite for silent groups.

    Returns
    -------
    logits : Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skff.functional import symmetric_logit
    >>> s = symmetric_logit(torch.tensor([3.0]), torch.tensor([1.0]))
    >>> torch.sigmoid(s)                  # 3 / (3 + 1)
    tensor([0.7500])
    """
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
    loss : scalar Tensor
        The mean over samples of the (weighted) losses.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import layer_loss
    >>> layer_loss(torch.zeros(4), torch.tensor([1.0, 1.0, 0.0, 0.0]))   # log(2)
    tensor(0.6931)
    >>> layer_loss(torch.tensor([4.0, -4.0]), torch.tensor([1.0, 0.0]))  # both right
    tensor(0.0181)
    """
    per_sample = F.binary_cross_entropy_with_logits(logits, is_positive, reduction="none")
    if sample_weight is None:
        return per_sample.mean()
    if sample_weight.shape != per_sample.shape:
        # An (n, 1) column would broadcast against (n,) into an (n, n) loss.
        raise ValueError(f"sample_weight must have the shape of logits, {tuple(per_sample.shape)}, "
                         f"got {tuple(sample_weight.shape)}.")
    return (per_sample * sample_weight).mean()
