"""Normalisations applied to activity before it reaches the next layer."""

import math

import torch


def _rms(h):
    mean_square = (h * h).mean(dim=-1, keepdim=True)
    # sqrt's gradient at 0 is inf (NaN gradients for an all-zero row, a dead
    # ReLU layer's); the same values with a zero gradient there.
    positive = mean_square > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, mean_square, torch.ones_like(mean_square))), 0.0)


def rms_normalize(h, groups=None, eps=1e-5, equal_lengths=True):
    """Divide each row of ``h`` (or each group of columns) by its root mean square.

    Forward-Forward normalises the activity passed on so that the next layer
    cannot read the previous layer's goodness off its length; Polar-FFA
    normalises the positive and the negative units separately. Only the
    direction matters for that; the scale chosen here (unit mean square, i.e.
    length ``sqrt(n_units)``, as in Hinton's code) keeps the next layer's
    pre-activations of order one at initialisation. With unit length instead
    (the Polar-FFA paper's wording) they are ``sqrt(n_units)`` times smaller,
    and layers after the first barely move against an absolute threshold.
    With groups, both get the same length, ``sqrt(n_units / 2)`` (unit mean
    square when they are equal), so that the direction is the paper's
    (each group of unit length) whatever the split: unequal groups each
    scaled to unit mean square would pass the larger one on with more
    weight.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_units)
    groups : None or int, default=None
        ``None`` normalises whole rows; an int ``n_pos`` normalises columns
        ``[:n_pos]`` and ``[n_pos:]`` separately.
    eps : float, default=1e-5
        Added to the RMS so that all-zero rows stay zero.
    equal_lengths : bool, default=True
        Unequal groups both get length ``sqrt(n_units / 2)``. ``False``: each
        group gets unit mean square, as before session 14 (kept for networks
        stored then).

    Returns
    -------
    normalized : Tensor shaped like ``h``

    Examples
    --------
    >>> import torch
    >>> from skff.functional import rms_normalize
    >>> h = torch.tensor([[3.0, 4.0, 0.0, 0.0]])
    >>> rms_normalize(h)                 # RMS of the row: 2.5
    tensor([[1.2000, 1.6000, 0.0000, 0.0000]])
    >>> rms_normalize(h, groups=2)       # each half on its own; the silent half stays 0
    tensor([[0.8485, 1.1314, 0.0000, 0.0000]])
    """
    if groups is None or groups <= 0 or groups >= h.shape[-1]:
        return h / (_rms(h) + eps)
    if 2 * groups == h.shape[-1]:
        # Equal groups: one pass over a view instead of two slices and a cat.
        paired = h.view(*h.shape[:-1], 2, groups)
        return (paired / (_rms(paired) + eps)).view(h.shape)
    pos, neg = h[:, :groups], h[:, groups:]
    if not equal_lengths:
        return torch.cat([pos / (_rms(pos) + eps), neg / (_rms(neg) + eps)], dim=-1)
    half = h.shape[-1] / 2
    return torch.cat(
        [pos * (math.sqrt(half / groups) / (_rms(pos) + eps)),
         neg * (math.sqrt(half / neg.shape[-1]) / (_rms(neg) + eps))],
        dim=-1,
    )
