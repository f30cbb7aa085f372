"""Normalisations applied to activity before it reaches the next layer."""

import torch


def unit_length(h, groups=None, eps=1e-5):
    """Divide each row of ``h`` (or each group of columns) by its L2 norm.

    Forward-Forward normalises the activity passed on so that the next layer
    cannot read the previous layer's goodness off its length. Polar-FFA
    normalises the positive and the negative units separately.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_units)
    groups : None or int
        ``None`` normalises whole rows; an int ``n_pos`` normalises columns
        ``[:n_pos]`` and ``[n_pos:]`` separately.
    eps : float
        Added to the norm so that all-zero rows stay zero.
    """
    if groups is None or groups <= 0 or groups >= h.shape[-1]:
        return h / (torch.linalg.vector_norm(h, dim=-1, keepdim=True) + eps)
    pos, neg = h[:, :groups], h[:, groups:]
    return torch.cat(
        [
            pos / (torch.linalg.vector_norm(pos, dim=-1, keepdim=True) + eps),
            neg / (torch.linalg.vector_norm(neg, dim=-1, keepdim=True) + eps),
        ],
        dim=-1,
    )
