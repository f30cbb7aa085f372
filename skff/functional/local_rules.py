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

import torch


def unit_length(x, eps=1e-12):
    """Scale every row of ``x`` to unit Euclidean length (all-zero rows stay zero)."""
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
    eps : float
        Keeps the divisions finite.
    """
    z = (y.abs() - mean) / (std + eps)
    scale = torch.linalg.vector_norm(y, dim=-1, keepdim=True) / torch.linalg.vector_norm(
        z, dim=-1, keepdim=True
    ).clamp_min(eps)
    return z * scale


def abs_transmit(y):
    """The ``abs`` transmission: ``|y|`` (magnitude preserving)."""
    return y.abs()
