"""Goodness of a layer's activity: a norm, aggregated, optionally inhibited."""

import numbers

import torch

from .contrastive import _FIRST_DERIVATIVES_ONLY

GOODNESS_NORMS = ("l1", "l2", "l2_squared")
AGGREGATIONS = ("sum", "mean")


def top_k_mask(h, k, by="value"):
    """Winner-takes-all mask keeping the ``k`` largest values of each row.

    Parameters
    ----------
    h : Tensor of shape (n_samples, n_units)
    k : int
        Number of winners per row; ``k >= n_units`` keeps every unit.
    by : {"value", "magnitude"}, default="value"
        Rank the units by their signed value (the Polar-FFA authors' rule)
        or by ``|h|`` (skff before session 14, kept for networks stored
        then).

    Returns
    -------
    mask : Tensor shaped and typed like ``h``
        1 for winners and 0 elsewhere. Signed values count, as in the
        Polar-FFA authors' code: a strongly negative (tanh) unit loses.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import top_k_mask
    >>> top_k_mask(torch.tensor([[0.5, -3.0, 1.0, 2.0]]), k=2)
    tensor([[0., 0., 1., 1.]])
    """
    if k >= h.shape[-1]:
        return torch.ones_like(h)
    # By signed value, as the authors' code selects. By magnitude (before
    # session 14), strongly negative tanh units won and carried the
    # goodness: on digits with tanh and top_k that cost 1.6-7.4 points of
    # test accuracy (3 seeds; identical for ReLU and sigmoid units).
    if by not in ("value", "magnitude"):
        raise ValueError(f"by must be 'value' or 'magnitude', got {by!r}.")
    ranked = h.detach() if by == "value" else h.detach().abs()
    winners = torch.topk(ranked, k, dim=-1).indices
    return torch.zeros_like(h).scatter_(-1, winners, 1.0)


def goodness(h, norm="l2_squared", aggregation="sum", top_k=None, top_k_by="value"):
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
        largest values count as zero.
    top_k_by : {"value", "magnitude"}, default="value"
        How :func:`top_k_mask` ranks the units.

    Returns
    -------
    g : Tensor of shape (n_samples,)

    See Also
    --------
    relu_group_goodness : ReLU and goodness of unit groups, fused.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import goodness
    >>> h = torch.tensor([[1.0, -2.0, 2.0, 4.0]])
    >>> goodness(h)                              # 1 + 4 + 4 + 16
    tensor([25.])
    >>> goodness(h, norm="l2")
    tensor([5.])
    >>> goodness(h, norm="l1", aggregation="mean")   # (1 + 2 + 2 + 4) / 4
    tensor([2.2500])
    >>> goodness(h, top_k=1)                     # only the largest unit counts
    tensor([16.])
    """
    if top_k is not None:
        h = h * top_k_mask(h, top_k, top_k_by)
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


class _ReluGroupSquares(torch.autograd.Function):
    """``h = relu(z)`` and the sum of ``h**2`` over each of ``n_groups`` equal column groups.

    The backward pass is one element-wise product: ``d/dz relu(z)**2 = 2 relu(z)``
    (zero where the unit is off), so neither the ReLU mask nor the square
    needs a pass of its own. ``h`` is returned without a gradient path: in
    layer-local learning the activity passed on is detached anyway.
    """

    @staticmethod
    def forward(ctx, z, n_groups):
        h = torch.relu(z)
        grouped = h.view(*h.shape[:-1], n_groups, h.shape[-1] // n_groups)
        squares = (grouped * grouped).sum(dim=-1)
        ctx.save_for_backward(h)
        ctx.n_groups = n_groups
        ctx.mark_non_differentiable(h)
        ctx.set_materialize_grads(False)
        return h, squares

    @staticmethod
    def backward(ctx, grad_h, grad_squares):
        if torch.is_grad_enabled():  # create_graph=True: see _ReluMeanSquare.backward
            raise RuntimeError(_FIRST_DERIVATIVES_ONLY.format(name="relu_group_goodness",
                                                              plain="goodness(torch.relu(z))"))
        (h,) = ctx.saved_tensors
        if grad_squares is None:
            return None, None
        grouped = h.view(*h.shape[:-1], ctx.n_groups, h.shape[-1] // ctx.n_groups)
        return (grouped * (2.0 * grad_squares).unsqueeze(-1)).view(h.shape), None


def relu_group_goodness(z, n_groups, norm="l2_squared", aggregation="sum"):
    """ReLU activity and the goodness of each of ``n_groups`` equal unit groups, fused.

    Equal to ``h = relu(z)`` and :func:`goodness` applied to each group
    (``norm`` ``"l2"`` or ``"l2_squared"``, no ``top_k``), with a cheaper
    backward pass.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_units)
        Pre-activations.
    n_groups : int
        Number of equal, consecutive column groups (2 for a Polar-FFA layer:
        positive units first, then negative units); must divide ``n_units``.
    norm : {"l2", "l2_squared"}, default="l2_squared"
    aggregation : {"sum", "mean"}, default="sum"

    Returns
    -------
    h : Tensor shaped like ``z``
        ``relu(z)``, without a gradient path.
    g : Tensor of shape (n_samples, n_groups)
        Goodness of each group; gradients flow from it to ``z``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import relu_group_goodness
    >>> h, g = relu_group_goodness(torch.tensor([[3.0, -1.0, 0.0, 4.0]]), n_groups=2)
    >>> h
    tensor([[3., 0., 0., 4.]])
    >>> g
    tensor([[ 9., 16.]])
    """
    if norm not in ("l2", "l2_squared"):
        raise ValueError(f"the fused goodness supports 'l2' and 'l2_squared', not {norm!r}.")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}.")
    if not (isinstance(n_groups, numbers.Integral) and n_groups >= 1 and z.shape[-1] % n_groups == 0):
        raise ValueError(f"n_groups must be a positive int dividing the {z.shape[-1]} units, got {n_groups!r}.")
    h, inner = _ReluGroupSquares.apply(z, n_groups)
    if aggregation == "mean":
        inner = inner / (z.shape[-1] // n_groups)
    if norm == "l2":
        return h, torch.sqrt(inner + 1e-12)
    return h, inner
