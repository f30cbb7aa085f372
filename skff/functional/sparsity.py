"""Sparsity of activity: Hoyer's measure (used by the papers' diagnostics)."""

import math

import torch


def hoyer_sparsity(h, dim=-1, eps=0.0):
    """Hoyer sparsity ``(sqrt(D) - |h|_1 / |h|_2) / (sqrt(D) - 1)`` along ``dim``.

    1 for a vector with a single non-zero entry, 0 for a vector whose entries
    all have the same magnitude, whatever their scale. An all-zero vector (a
    silent layer) is maximally sparse, 1: the limit of a vector shrinking to
    zero with any single entry last, and the convention of the Polar-FFA
    authors' code, so that means over samples compare with the paper's
    tables. A vector with a NaN gives NaN. ``D = 1`` is defined as 0.
    Half-precision input is computed in float32 (the 1-norm of more than
    65504 unit entries overflows float16).

    Parameters
    ----------
    h : Tensor
    dim : int, default=-1
        The axis of length ``D`` (units).
    eps : float, default=0.0
        Vectors whose largest magnitude is at most ``eps`` count as all-zero
        (sparsity 1).

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
    if h.dtype in (torch.float16, torch.bfloat16):
        h = h.float()
    d = h.shape[dim]
    if d <= 1:
        return (h * 0).sum(dim=dim)  # 0, or NaN for a NaN or infinite entry as for longer vectors
    # Divided by its largest magnitude first: the ratio is scale-free, and
    # neither tiny vectors (underflow) nor huge ones (overflow) distort it.
    peak = h.abs().amax(dim=dim, keepdim=True)
    zero = peak <= eps  # NaN peaks stay non-zero, so NaN propagates
    unit = h / torch.where(zero, torch.ones_like(peak), peak)
    l1 = unit.abs().sum(dim=dim)
    l2 = torch.linalg.vector_norm(unit, dim=dim)
    zero = zero.squeeze(dim)
    # Safe denominators on both branches: torch.where's unused branch must
    # not be 0/0, or the gradient of an all-zero row would be NaN.
    ratio = l1 / torch.where(zero, torch.ones_like(l2), l2)
    # Rounding can leave an equal-entries vector at -1.6e-7 (float32): clamp to [0, 1].
    sparsity = ((math.sqrt(d) - ratio) / (math.sqrt(d) - 1)).clamp(0.0, 1.0)
    return torch.where(zero, torch.ones_like(sparsity), sparsity)
