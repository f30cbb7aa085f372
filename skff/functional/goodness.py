"""Goodness of a layer's activity: a norm, aggregated, optionally inhibited."""

import torch

GOODNESS_NORMS = ("l1", "l2", "l2_squared")
AGGREGATIONS = ("sum", "mean")


def top_k_mask(h, k):
    """Winner-takes-all mask keeping the ``k`` largest ``|h|`` of each row.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_units)
    k : int
        Number of winners per row; ``k >= n_units`` keeps every unit.

    Returns
    -------
    mask : Tensor of the dtype of ``h``, 1 for winners and 0 elsewhere.
    """
    if k >= h.shape[-1]:
        return torch.ones_like(h)
    # Selection by magnitude: tanh units are as "active" when strongly negative.
    winners = torch.topk(h.detach().abs(), k, dim=-1).indices
    return torch.zeros_like(h).scatter_(-1, winners, 1.0)


def goodness(h, norm="l2_squared", aggregation="sum", top_k=None):
    """Goodness ``G(h)`` of each row of ``h``.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_units)
    norm : {"l1", "l2", "l2_squared"}
        ``sum |h|``, ``sqrt(sum h^2)`` or ``sum h^2``.
    aggregation : {"sum", "mean"}
        ``"mean"`` divides the inner sum by ``n_units`` (for ``"l2"`` this is
        the root mean square).
    top_k : int or None
        Lateral inhibition inside the goodness only: units outside the ``top_k``
        largest magnitudes count as zero.

    Returns
    -------
    g : Tensor of shape (n_samples,)
    """
    if top_k is not None:
        h = h * top_k_mask(h, top_k)
    n_units = h.shape[-1]
    if norm == "l1":
        inner = h.abs().sum(dim=-1)
    elif norm in ("l2", "l2_squared"):
        inner = (h * h).sum(dim=-1)
    else:
        raise ValueError(f"Unknown goodness norm {norm!r}; expected one of {GOODNESS_NORMS}.")
    if aggregation == "mean":
        inner = inner / n_units
    elif aggregation != "sum":
        raise ValueError(f"Unknown aggregation {aggregation!r}; expected one of {AGGREGATIONS}.")
    if norm == "l2":
        # The small floor keeps the gradient of sqrt finite for dead (all-zero) rows.
        return torch.sqrt(inner + 1e-12)
    return inner
