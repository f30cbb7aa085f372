"""Sparsity of activity: Hoyer's measure (used by the papers' diagnostics)."""

import math

import torch


def hoyer_sparsity(h, dim=-1, eps=1e-12):
    """Hoyer sparsity ``(sqrt(D) - |h|_1 / |h|_2) / (sqrt(D) - 1)`` along ``dim``.

    1 for a vector with a single non-zero entry, 0 for a vector whose entries
    all have the same magnitude. All-zero vectors are reported as 0 (dense),
    since they carry no pattern at all. ``D = 1`` is defined as 0.

    Parameters
    ----------
    h : Tensor
    dim : int, default=-1
        The axis of length ``D`` (units).
    eps : float, default=1e-12
        Norms below it count as zero.

    Returns
    -------
    sparsity : Tensor
        ``h`` without dimension ``dim``.

    See Also
    --------
    skff.metrics.hoyer_sparsity : the same for NumPy arrays.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import hoyer_sparsity
    >>> hoyer_sparsity(torch.tensor([[0.0, 0.0, 3.0, 0.0], [1.0, -1.0, 1.0, 1.0]]))
    tensor([1., 0.])
    """
    d = h.shape[dim]
    if d <= 1:
        return torch.zeros(h.sum(dim=dim).shape, dtype=h.dtype, device=h.device)
    l1 = h.abs().sum(dim=dim)
    l2 = torch.linalg.vector_norm(h, dim=dim)
    ratio = torch.where(l2 > eps, l1 / l2.clamp_min(eps), torch.full_like(l1, math.sqrt(d)))
    return (math.sqrt(d) - ratio) / (math.sqrt(d) - 1)
