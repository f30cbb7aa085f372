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
import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F


def unit_length(x, eps=1e-12):
    """Scale every row of ``x`` to unit Euclidean length (all-zero rows stay zero).

    Each row is divided by its largest magnitude first, so that the squares
    in its norm neither overflow (entries beyond ``1e19`` in float32) nor
    vanish: the result does not depend on the scale of a row.

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_features)
    eps : float, default=1e-12
        Floor of the norm of the rescaled rows (at least 1 unless a row is
        zero): it keeps all-zero rows at zero.

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
    x = x / x.abs().amax(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)
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
    if x.shape[0] == 0:
        raise ValueError("competitive_update needs a batch of at least one sample, got 0.")
    residual = x - y @ weight.T
    return residual.T @ y / x.shape[0], residual


def competitive_update_from_moments(xty, yty, weight, n_samples, x_squared_sum):
    """The batch update of :func:`competitive_update` from the batch moments.

    The same update, ``mean_b (x_b - W y_b) y_b^T = (X^T Y - W Y^T Y) / B``,
    and the same batch mean of ``||x_b - W y_b||^2``, worked out from
    ``X^T Y`` and ``Y^T Y`` without the ``(B, n_inputs)`` residual. As
    ``y = W^T x``, ``||x - W y||^2 = ||x||^2 - 2 ||y||^2 + y^T W^T W y``; summed
    over the batch, ``sum ||x||^2 - 2 tr(Y^T Y) + <W, W Y^T Y>``. On wide
    inputs whose rows are mostly zeros (the histogram code, see
    :class:`HistogramRows`) ``X^T Y`` is a scatter of ``Y``'s rows and the
    residual would be the only dense ``(B, n_inputs)`` array left.

    Parameters
    ----------
    xty : Tensor of shape (n_inputs, n_units)
        ``X^T Y`` of the batch.
    yty : Tensor of shape (n_units, n_units)
        ``Y^T Y`` of the batch.
    weight : Tensor of shape (n_inputs, n_units)
        The ``W`` with which ``Y = X W`` was computed.
    n_samples : int
        Batch size ``B``.
    x_squared_sum : Tensor or float
        ``sum_b ||x_b||^2``.

    Returns
    -------
    delta : Tensor of shape (n_inputs, n_units)
        ``(X^T Y - W Y^T Y) / B``.
    error : Tensor (scalar)
        Batch mean of ``||x_b - W y_b||^2``, to within the rounding of its
        three terms: about ``1e-7`` times the mean ``||x_b||^2`` in float32
        (clamped at 0).

    Examples
    --------
    >>> import torch
    >>> from skff.functional import competitive_update, competitive_update_from_moments
    >>> g = torch.Generator().manual_seed(0)
    >>> x, w = torch.randn(8, 5, generator=g), torch.randn(5, 2, generator=g)
    >>> y = x @ w
    >>> delta, error = competitive_update_from_moments(x.T @ y, y.T @ y, w, 8, x.pow(2).sum())
    >>> reference, residual = competitive_update(x, y, w)
    >>> torch.allclose(delta, reference, atol=1e-5)
    True
    >>> torch.allclose(error, residual.pow(2).sum(dim=1).mean(), atol=1e-4)
    True
    """
    if n_samples < 1:
        raise ValueError(f"competitive_update_from_moments needs n_samples >= 1, got {n_samples}.")
    feedback = weight @ yty
    delta = (xty - feedback) / n_samples
    # A difference of terms of order ||x||^2: rounding leaves noise of about
    # 1e-7 ||x||^2 (float32), which could make a tiny error negative.
    error = (x_squared_sum - 2.0 * yty.diagonal().sum() + (weight * feedback).sum()) / n_samples
    return delta, error.clamp_min(0.0)


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
        Of ``x``'s dtype (the default float dtype for an integer ``x``).
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
    # The code holds 1 / sqrt(n_features): an integer input's code is float
    # (an integer code would truncate it to 0).
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    code = x.new_zeros(x.shape[0], x.shape[1] * n_bins, dtype=dtype)
    return code.scatter_(1, histogram_bins(x, low, high, n_bins), 1.0 / math.sqrt(x.shape[1]))


def histogram_bins(x, low, high, n_bins):
    """Columns of the active bins of :func:`histogram_code`: shape ``(n_samples, n_features)``.

    Entry ``(i, j)`` is ``j * n_bins`` plus the bin of ``x[i, j]``; the code
    is ``1 / sqrt(n_features)`` in those columns and 0 elsewhere. ``x``,
    ``low`` and ``high`` must be finite (any finite float32 values).

    Examples
    --------
    >>> import torch
    >>> from skff.functional import histogram_bins
    >>> x = torch.tensor([[0.1, 5.0], [0.9, -3.0]])
    >>> histogram_bins(x, low=torch.tensor([0.0, 0.0]), high=torch.tensor([1.0, 1.0]), n_bins=2)
    tensor([[0, 3],
            [1, 2]])
    """
    # Halved first (exact): differences of finite values then cannot overflow
    # (a range wider than float32's maximum made inf / inf = NaN, cast to a
    # huge negative index), and every other value gives the same bits.
    span = high / 2 - low / 2
    span = torch.where(span > 0, span, torch.ones_like(span))
    # Clamp before the integer cast: far-out values land in the outer bins.
    index = ((x / 2 - low / 2) / span * n_bins).floor_().clamp_(0, n_bins - 1).long()
    return index + torch.arange(x.shape[1], device=x.device) * n_bins


# Largest scatter (rows x units) done with index_add in one piece: beyond a
# few MB the scatter falls out of cache and a sparse CSR product is faster
# on CPU (benchmarks/bench_al_sparse.py).
_INDEX_ADD_CHUNK = 1 << 19
_INDEX_ADD_LIMIT = 1 << 21


class HistogramRows(NamedTuple):
    """Rows ``[dense, value * one_hot(bins)]`` stored without the code's zeros.

    The input of the first layer of activation learning with a histogram
    code: ``n_features * n_bins`` code columns of which one per feature is
    non-zero, so ``rows @ W`` is a sum of ``n_features`` rows of ``W`` per
    sample (an embedding bag) and ``rows^T @ Y`` a scatter of the rows of
    ``Y``. Whole detector fits run 1.6x (10 features) to 5x (400 features)
    faster than with the expanded dense code
    (``benchmarks/bench_al_sparse.py``).

    Attributes
    ----------
    dense : Tensor of shape (n_samples, n_dense)
        The dense leading columns.
    bins : Tensor of shape (n_samples, n_features), int64
        Column, within the code, of each feature's active bin
        (:func:`histogram_bins`).
    value : float
        Value of every active bin.
    code_width : int
        Columns of the code (``n_features * n_bins``).

    Examples
    --------
    >>> import torch
    >>> from skff.functional import HistogramRows
    >>> rows = HistogramRows(torch.tensor([[1.0], [2.0]]), torch.tensor([[0, 3], [1, 2]]), 0.5, 4)
    >>> rows.to_dense()
    tensor([[1.0000, 0.5000, 0.0000, 0.0000, 0.5000],
            [2.0000, 0.0000, 0.5000, 0.5000, 0.0000]])
    >>> w = torch.arange(10.0).view(5, 2)
    >>> torch.equal(rows.matmul(w), rows.to_dense() @ w)
    True
    >>> y = torch.tensor([[1.0, -1.0], [2.0, 0.0]])
    >>> torch.equal(rows.transposed_matmul(y), rows.to_dense().T @ y)
    True
    """

    dense: torch.Tensor
    bins: torch.Tensor
    value: float
    code_width: int

    @property
    def shape(self):
        return (self.dense.shape[0], self.dense.shape[1] + self.code_width)

    def to_dense(self):
        """The rows as one dense tensor."""
        return torch.cat([self.dense, self._code()], dim=1)

    def matmul(self, weight):
        """``rows @ weight`` for ``weight`` of shape ``(n_columns, k)``."""
        split = self.dense.shape[1]
        code_part = F.embedding_bag(self.bins, weight[split:], mode="sum")
        # Not one addmm: a 1-row addmm takes another kernel and rounds
        # differently, and a sample's score must not depend on its batch.
        return self.dense @ weight[:split] + self.value * code_part

    def transposed_matmul(self, y, method=None):
        """``rows^T @ y`` for ``y`` of shape ``(n_samples, k)``: ``(n_columns, k)``.

        ``method`` (for tests; ``None`` chooses) computes the code's part:
        ``"index_add"`` scatters ``y``'s rows (CPU, small scatters),
        ``"csr"`` multiplies by the code's transpose as a CSR matrix (CPU,
        large scatters), ``"dense"`` expands the code (other devices: GPU
        ``index_add`` accumulates with atomics in no fixed order, and the
        same seed must give the same model; a dense product is cheap there).
        """
        n, n_features = self.bins.shape
        k = y.shape[1]
        if method is None:
            if y.device.type != "cpu":
                method = "dense"
            else:
                method = "index_add" if n * n_features * k <= _INDEX_ADD_LIMIT else "csr"
        if method == "dense":
            code_part = self._code().T @ y
        elif method == "index_add":
            code_part = y.new_zeros(self.code_width, k)
            step = max(1, _INDEX_ADD_CHUNK // max(1, n * k))
            for start in range(0, n_features, step):
                bins = self.bins[:, start:start + step]
                # Feature-major order: each feature's bins receive y's rows in turn.
                code_part.index_add_(0, bins.T.reshape(-1), y.repeat(bins.shape[1], 1))
            code_part.mul_(self.value)
        elif method == "csr":
            # rows^T as a CSR matrix: the code's columns become rows, each
            # listing the samples whose bin it is.
            flat = self.bins.reshape(-1)
            order = torch.argsort(flat, stable=True)
            counts = torch.bincount(flat, minlength=self.code_width)
            crow = torch.zeros(self.code_width + 1, dtype=torch.long, device=y.device)
            torch.cumsum(counts, 0, out=crow[1:])
            samples = torch.div(order, n_features, rounding_mode="floor")
            ones = y.new_ones(flat.numel())
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
                transposed = torch.sparse_csr_tensor(crow, samples, ones, size=(self.code_width, n),
                                                     check_invariants=False)
            code_part = (transposed @ y).mul_(self.value)
        else:
            raise ValueError(f"method must be None, 'dense', 'index_add' or 'csr', got {method!r}.")
        return torch.cat([self.dense.T @ y, code_part])

    def _code(self):
        return self.dense.new_zeros(self.dense.shape[0], self.code_width).scatter_(1, self.bins, self.value)

    def squared_norm_sum(self):
        """``sum_b ||row_b||^2``."""
        return self.dense.pow(2).sum() + self.bins.numel() * self.value**2
