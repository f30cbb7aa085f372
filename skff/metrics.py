"""Diagnostics used by the Forward-Forward papers.

All functions take NumPy arrays, torch tensors (on any device, with or
without gradients, any floating dtype) or anything :func:`numpy.asarray`
accepts, compute in float64 and return floats or NumPy arrays.
"""

from collections import namedtuple

import numpy as np
import torch

from .functional import hoyer_sparsity as _hoyer_torch

__all__ = ["NeuralUsage", "convergence_area", "hoyer_sparsity", "neural_usage", "separability_index"]


def _as_float64(values):
    if isinstance(values, torch.Tensor):
        # numpy cannot read bfloat16, CUDA or gradient-tracking tensors.
        return values.detach().to("cpu", torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


def _as_2d(activations, name):
    a = _as_float64(activations)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_samples, n_units), got shape {a.shape}.")
    return a


def hoyer_sparsity(x, axis=-1):
    """Hoyer sparsity ``(sqrt(D) - |x|_1 / |x|_2) / (sqrt(D) - 1)`` along ``axis``.

    1 for a single non-zero entry, 0 when all entries have the same
    magnitude. An all-zero vector (a silent layer) counts as maximally sparse,
    1, as in the Polar-FFA authors' code; a vector with a NaN or an infinite
    entry gives NaN.

    Parameters
    ----------
    x : array-like
    axis : int, default=-1
        The axis of length ``D`` (units).

    Returns
    -------
    sparsity : float or ndarray
        One value per vector (a float for a 1-D ``x``).

    Examples
    --------
    >>> from skff.metrics import hoyer_sparsity
    >>> float(hoyer_sparsity([0.0, 0.0, 3.0, 0.0]))
    1.0
    >>> float(hoyer_sparsity([1.0, -1.0, 1.0, 1.0]))
    0.0
    """
    x = _as_float64(x)
    if x.ndim == 0:
        raise ValueError("hoyer_sparsity needs at least a 1-D array (a vector of units), got a scalar.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis!r} is out of range for an array of {x.ndim} dimension(s).")
    if x.shape[axis] == 0:
        raise ValueError(f"hoyer_sparsity needs at least one unit along axis {axis}, got shape {x.shape}.")
    values = _hoyer_torch(torch.as_tensor(x), dim=axis).numpy()
    return values[()] if values.ndim == 0 else values


NeuralUsage = namedtuple("NeuralUsage", ["sparsity", "active_fraction"])
NeuralUsage.__doc__ = """What :func:`neural_usage` returns: a named tuple of two floats.

Attributes
----------
sparsity : float
    Hoyer sparsity of the per-unit summed ``|activity|``: 0 when all units
    carry the same share, 1 when a single unit carries everything (or, with
    ``active_fraction`` 0, when the layer is silent on every sample).
active_fraction : float
    Share of units whose summed ``|activity|`` exceeds the threshold share
    of the busiest unit's.

Examples
--------
>>> from skff.metrics import NeuralUsage
>>> usage = NeuralUsage(sparsity=0.25, active_fraction=0.5)
>>> usage.active_fraction
0.5
"""
NeuralUsage.sparsity.__doc__ = "Hoyer sparsity of the per-unit summed ``|activity|``."
NeuralUsage.active_fraction.__doc__ = "Share of active units."


def neural_usage(activations, threshold=0.01):
    """How evenly a layer's units are used over a data set.

    Parameters
    ----------
    activations : array-like of shape (n_samples, n_units)
    threshold : float, default=0.01
        A unit is active if its summed ``|activity|`` exceeds this share of the
        busiest unit's.

    Returns
    -------
    usage : NeuralUsage
        ``sparsity``: Hoyer sparsity of the per-unit summed ``|activity|``
        (0 = all units used equally, 1 = a single unit does everything, or
        none does: a layer of more than one unit silent on every sample has
        sparsity 1 and ``active_fraction`` 0; a single unit has sparsity 0);
        ``active_fraction``: share of active units.

    Examples
    --------
    >>> import numpy as np
    >>> from skff.metrics import neural_usage
    >>> neural_usage(np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))   # one unit does all
    NeuralUsage(sparsity=1.0, active_fraction=0.3333333333333333)
    >>> usage = neural_usage(np.ones((4, 3)))                     # all units alike
    >>> abs(usage.sparsity) < 1e-9, usage.active_fraction
    (True, 1.0)
    """
    a = _as_2d(activations, "activations")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a share in [0, 1], got {threshold!r}.")
    per_unit = np.abs(a).sum(axis=0)
    peak = per_unit.max()
    if not np.isfinite(peak):
        # A NaN or infinite unit (or sums beyond float64): neither the shares
        # nor the sparsity mean anything.
        return NeuralUsage(float("nan"), float("nan"))
    elif peak > 0:
        active = float((per_unit > threshold * peak).mean())
    else:
        active = 0.0
    return NeuralUsage(float(hoyer_sparsity(per_unit)), active)


def separability_index(positive, negative, n_neighbors=5):
    """k-NN purity of positive against negative latents.

    For each latent vector, the share of its ``n_neighbors`` nearest neighbours
    (itself excluded, Euclidean) that belong to its own group; averaged within
    each group, then over the two groups. 1 means the groups are perfectly
    separated, about 0.5 means they are mixed. A group of ``m`` vectors can
    fill at most ``m - 1`` of a member's neighbour slots, so 1 is reachable
    only if both groups have more than ``n_neighbors`` members.

    Parameters
    ----------
    positive : array-like of shape (n_positive, n_units)
    negative : array-like of shape (n_negative, n_units)
    n_neighbors : int, default=5

    Returns
    -------
    index : float

    Examples
    --------
    >>> import numpy as np
    >>> from skff.metrics import separability_index
    >>> rng = np.random.RandomState(0)
    >>> positive = rng.normal(size=(50, 4))
    >>> separability_index(positive, rng.normal(size=(50, 4)) + 5)   # far apart
    1.0
    >>> round(separability_index(positive, rng.normal(size=(50, 4))), 1)   # mixed
    0.5
    """
    if isinstance(n_neighbors, (bool, np.bool_)) or not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive int, got {n_neighbors!r}.")
    pos = _as_2d(positive, "positive")
    neg = _as_2d(negative, "negative")
    if pos.shape[1] != neg.shape[1]:
        raise ValueError(f"positive has {pos.shape[1]} units but negative has {neg.shape[1]}.")
    data = np.vstack([pos, neg])
    if not np.isfinite(data).all():
        raise ValueError("positive and negative must be finite: got NaN or infinite latent values.")
    group = np.r_[np.zeros(len(pos), dtype=int), np.ones(len(neg), dtype=int)]
    if n_neighbors >= len(data):
        raise ValueError(f"n_neighbors={n_neighbors} needs more than {len(data)} latent vectors.")
    same = _neighbour_purity(data, group, n_neighbors)
    return float((same[group == 0].mean() + same[group == 1].mean()) / 2)


def _neighbour_purity(data, group, k):
    """Share of each point's k nearest neighbours (itself excluded) in its group.

    Neighbours tied at the k-th distance share the remaining slots equally
    (the expected share over random tie-breaks), so the result does not
    depend on the order of the rows: duplicated latents, such as the
    all-zero activity of silent ReLU units, are common.
    """
    # Distances do not change when the data are centred and scaled; centred,
    # an offset shared by all latents (saturated units) does not swamp their
    # differences in the expansion below, and scaled, squares cannot overflow.
    data = data - data.mean(axis=0)
    peak = np.abs(data).max()
    data = data / peak if peak > 0 else data
    sq_norms = np.einsum("ij,ij->i", data, data)
    n = len(data)
    purity = np.empty(n)
    rows = max(1, 2**22 // n)  # about 32 MB of distances at a time
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        pair_norms = sq_norms[start:stop, None] + sq_norms
        sq = pair_norms - 2.0 * data[start:stop] @ data.T
        sq[np.arange(stop - start), np.arange(start, stop)] = np.inf  # itself
        kth = np.partition(sq, k - 1, axis=1)[:, k - 1 : k]
        # |a|^2 + |b|^2 - 2 a.b carries a rounding error of a few float64
        # epsilons times |a|^2 + |b|^2: within that of the k-th distance, a
        # pair counts as tied (exact duplicates are, whatever the rounding).
        slack = 64 * np.finfo(np.float64).eps * pair_norms
        closer = sq < kth - slack
        tied = ~closer & (sq <= kth + slack)
        own = group == group[start:stop, None]
        n_closer = closer.sum(axis=1)
        same = (closer & own).sum(axis=1) + (k - n_closer) * (tied & own).sum(axis=1) / tied.sum(axis=1)
        purity[start:stop] = same / k
    return purity


def convergence_area(accuracies, tol=0.005):
    """Convergence area of an accuracy curve (Polar-FFA's convergence speed).

    ``sum_{i <= i*} (max_acc - acc_i) / n_epochs`` where ``i*`` is the first
    epoch whose accuracy is within ``tol`` of the maximum. Lower is faster.
    This is the paper's definition, the area above the curve up to the
    maximum; the authors' code leaves out the first epoch's gap, so the
    paper's tabled values run lower than this function's on the same curve.

    Parameters
    ----------
    accuracies : array-like of shape (n_epochs,)
        Accuracy after each epoch (fractions, not percentages).
    tol : float, default=0.005

    Returns
    -------
    area : float

    Examples
    --------
    >>> from skff.metrics import convergence_area
    >>> convergence_area([0.5, 0.8, 0.9, 0.9])   # (0.4 + 0.1 + 0) / 4
    0.125
    >>> convergence_area([0.9, 0.9, 0.9, 0.9])   # at its best from the start
    0.0
    """
    if not 0 <= tol < np.inf:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}.")
    acc = _as_float64(accuracies)
    if acc.ndim != 1 or acc.size == 0:
        raise ValueError(f"accuracies must be a non-empty 1-D array, got shape {acc.shape}.")
    if not np.isfinite(acc).all():
        raise ValueError(f"accuracies must be finite, got {acc.tolist()}.")
    best = acc.max()
    first = int(np.argmax(acc >= best - tol))
    return float((best - acc[: first + 1]).sum() / acc.size)
