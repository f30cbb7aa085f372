"""The local competitive learning rule of activation learning (Zhou 2022).

Orientation follows the paper: a layer's weight ``W`` has shape
``(n_inputs, n_units)`` and its net input is ``y = W^T x``; for a batch of
row vectors that is ``Y = X W``. The rule (paper eq. 4, in matrix form eq. 19)

    Delta W = eta * (x - W y) y^T

is Oja's subspace rule: the feedback ``W y`` from every receiving unit makes
the units compete. Over a mini-batch the update is the mean over samples,
``eta / B * (X - Y W^T)^T Y``. Its stable points satisfy ``C W = W W^T C W``
with ``C = E[x x^T]``: ``W`` spans a principal subspace, ``||W||_F^2`` tends
to the number of units and ``||y||^2 <= ||x||^2`` (Properties 3 and 4).
"""

import math

import torch


def unit_length(x, eps=1e-12):
    """Scale every row of ``x`` to unit Euclidean length (all-zero rows stay zero).

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_features)
    eps : float, default=1e-12
        Floor of the norm.

    Returns
    -------
    scaled : Tensor shaped like ``x``

    Examples
    --------
    >>> import torch
    >>> from skff.functional import unit_length
    >>> unit_length(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]])
    """
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(eps)


def competitive_update(x, y, weight):
    """Batch-mean update direction of the local competitive rule (without ``eta``).

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_inputs)
        The layer's input.
    y : Tensor of shape (n_samples, n_units)
        Its net input ``x @ weight``.
    weight : Tensor of shape (n_inputs, n_units)

    Returns
    -------
    delta : Tensor of shape (n_inputs, n_units)
        ``mean_b (x_b - W y_b) y_b^T``; the layer learns by
        ``weight += eta * delta``.
    residual : Tensor of shape (n_samples, n_inputs)
        ``x - y W^T``, the reconstruction error of each sample (Property 1),
        returned because the update computes it anyway.

    Examples
    --------
    Repeated updates on unit-length inputs make the columns of ``W``
    orthonormal, so ``||W||_F^2`` tends to the number of units (Property 3):

    >>> import torch
    >>> from skff.functional import competitive_update, unit_length
    >>> g = torch.Generator().manual_seed(0)
    >>> x = unit_length(torch.randn(256, 5, generator=g))
    >>> w = 0.1 * torch.randn(5, 2, generator=g)
    >>> for _ in range(500):
    ...     delta, residual = competitive_update(x, x @ w, w)
    ...     w += 0.5 * delta
    >>> round(float((w ** 2).sum()), 2)
    2.0
    """
    residual = x - y @ weight.T
    return residual.T @ y / x.shape[0], residual


def std_abs(y, mean, std, eps=1e-6):
    """The magnitude-preserving ``std_abs`` transmission (paper eq. 7).

    ``|y|`` is standardised unit by unit with the given statistics of
    ``|y|``, then each row is rescaled to the length of ``y``, so that
    ``||std_abs(y)|| = ||y||``.

    Parameters
    ----------
    y : Tensor of shape (n_samples, n_units)
    mean, std : Tensor of shape (n_units,)
        Mean and standard deviation of ``|y|`` over the training data.
    eps : float, default=1e-6
        Keeps the divisions finite.

    Returns
    -------
    transmitted : Tensor of shape (n_samples, n_units)

    Examples
    --------
    >>> import torch
    >>> from skff.functional import std_abs
    >>> y = torch.tensor([[3.0, -4.0], [1.0, 0.0], [0.0, 2.0]])
    >>> out = std_abs(y, y.abs().mean(dim=0), y.abs().std(dim=0))
    >>> out.norm(dim=1)                  # the lengths of the rows of y
    tensor([5.0000, 1.0000, 2.0000])
    """
    z = (y.abs() - mean) / (std + eps)
    scale = torch.linalg.vector_norm(y, dim=-1, keepdim=True) / torch.linalg.vector_norm(
        z, dim=-1, keepdim=True
    ).clamp_min(eps)
    return z * scale


def abs_transmit(y):
    """The ``abs`` transmission: ``|y|`` (magnitude preserving).

    Parameters
    ----------
    y : Tensor

    Returns
    -------
    transmitted : Tensor shaped like ``y``

    Examples
    --------
    >>> import torch
    >>> from skff.functional import abs_transmit
    >>> abs_transmit(torch.tensor([[-1.5, 2.0]]))
    tensor([[1.5000, 2.0000]])
    """
    return y.abs()


def histogram_code(x, low, high, n_bins):
    """Histogram code of tabular rows: one active bin per feature, unit row length.

    Every feature's range ``[low, high]`` is cut into ``n_bins`` equal-width
    bins, the outer two open-ended (values beyond the range fall into them).
    A row becomes the concatenation of one one-hot vector per feature,
    scaled by ``1 / sqrt(n_features)`` so that every row has unit length:
    the code needs no unit-length scaling, hence loses nothing to it.

    Why it helps activation learning: on such codes ``E[x x^T]`` holds the
    bins' frequencies (diagonal blocks) and co-occurrences (off-diagonal
    blocks), so the principal direction a competitive unit learns weights
    each bin by how often it is visited. A sample whose values sit in rarely
    visited bins activates it less, whatever its distance from the centre.

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_features)
    low, high : Tensor of shape (n_features,)
        Range cut into bins, per feature. A feature with ``high <= low``
        (constant in the training data) gets bins of unit width from ``low``.
    n_bins : int

    Returns
    -------
    code : Tensor of shape (n_samples, n_features * n_bins)
        Feature ``j``'s bins are columns ``j * n_bins`` to ``(j + 1) * n_bins - 1``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import histogram_code
    >>> x = torch.tensor([[0.1, 5.0], [0.9, -3.0]])
    >>> histogram_code(x, low=torch.tensor([0.0, 0.0]), high=torch.tensor([1.0, 1.0]), n_bins=2)
    tensor([[0.7071, 0.0000, 0.0000, 0.7071],
            [0.0000, 0.7071, 0.7071, 0.0000]])
    """
    span = high - low
    span = torch.where(span > 0, span, torch.ones_like(span))
    # Clamp before the integer cast: far-out (even overflowing) values land
    # in the outer bins.
    index = ((x - low) / span * n_bins).floor_().clamp_(0, n_bins - 1).long()
    index += torch.arange(x.shape[1], device=x.device) * n_bins
    code = x.new_zeros(x.shape[0], x.shape[1] * n_bins)
    return code.scatter_(1, index, 1.0 / math.sqrt(x.shape[1]))
