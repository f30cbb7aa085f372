"""Dense activation-learning stacks (Zhou 2022): local competitive layers.

Every layer computes ``y = W^T x`` and learns by the local competitive rule of
:func:`skff.functional.competitive_update`, applied as an explicit in-place
update (no autograd). Between layers a magnitude-preserving transmission
(``abs`` or ``std_abs``) is applied; the last layer is linear and its output
activation ``||y_L||^2`` is the network's typicality score.
"""

import math

import torch
from torch import nn

from ..functional import (
    HistogramRows,
    abs_transmit,
    competitive_update_from_moments,
    histogram_bins,
    std_abs,
    unit_length,
)

TRANSMISSIONS = ("std_abs", "abs")


class CompetitiveLayer(nn.Module):
    """One layer ``y = x @ weight`` with ``weight`` of shape ``(n_inputs, n_units)``.

    The layer of activation learning (Zhou 2022): its net input is
    ``y = W^T x`` (``x @ weight`` for a batch of rows), and it learns without
    gradients by the local competitive rule (Oja's subspace rule), applied
    in place by :meth:`learn`:

    ``Delta W = eta * mean over the batch of (x - W y) y^T``.

    The feedback ``W y`` makes the units compete; at convergence the columns
    of ``W`` are orthonormal and span the principal subspace of the input,
    and ``||x - W y||^2``, the reconstruction error, is what is left of
    ``x`` outside it (see :func:`skff.functional.competitive_update`).

    For the ``std_abs`` transmission it keeps running statistics of ``|y|``
    (per unit, an exponential moving average over training batches, as batch
    normalisation does), updated during training whenever the layer's
    activity is passed on to a next layer, frozen or not
    (:meth:`update_statistics`, called by
    :meth:`ActivationLearningNetwork.local_step`). :meth:`transmit` applies
    the transmission on the way to the next layer.

    Parameters
    ----------
    n_inputs : int
        Input width.
    n_units : int
        Number of units.
    generator : torch.Generator or None, default=None
        Source of the initial weights, ``N(0, 1 / n_inputs)``: every unit starts
        with a weight vector of about unit length.
    momentum : float, default=0.1
        Weight of the newest batch in the running statistics.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_inputs, n_units)
        Updated in place by :meth:`learn`; ``requires_grad`` is False.
    abs_mean, abs_std : Tensor of shape (n_units,)
        Running mean and standard deviation of ``|y|`` (buffers).
    n_stat_updates : Tensor
        Number of batches folded into the statistics (a buffer; the first
        batch replaces the initial zeros and ones).
    momentum : float

    See Also
    --------
    ActivationLearningNetwork : A stack of these layers.

    Examples
    --------
    On unit-length inputs the reconstruction error falls and the columns of
    ``W`` become orthonormal:

    >>> import torch
    >>> from skff.functional import unit_length
    >>> from skff.nn import CompetitiveLayer
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = CompetitiveLayer(5, 2, generator=g)
    >>> x = unit_length(torch.randn(256, 5, generator=g))
    >>> errors = [float(layer.learn(x, learning_rate=0.5)[1]) for _ in range(200)]
    >>> errors[-1] < errors[0]
    True
    >>> bool(torch.allclose(layer.weight.T @ layer.weight, torch.eye(2), atol=1e-3))
    True

    The ``std_abs`` transmission keeps the length of each sample's ``y``:

    >>> y = layer(x)
    >>> layer.update_statistics(y)
    >>> int(layer.n_stat_updates), layer.abs_mean.shape
    (1, torch.Size([2]))
    >>> bool(torch.allclose(layer.transmit(y, "std_abs").norm(dim=1), y.norm(dim=1)))
    True
    """

    def __init__(self, n_inputs, n_units, generator=None, momentum=0.1):
        super().__init__()
        weight = torch.randn(n_inputs, n_units, generator=generator) / math.sqrt(n_inputs)
        # A plain tensor updated in place by the local rule, never by autograd.
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.momentum = momentum
        self.register_buffer("abs_mean", torch.zeros(n_units))
        self.register_buffer("abs_std", torch.ones(n_units))
        self.register_buffer("n_stat_updates", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        """Net input ``y = x @ weight`` of a batch: shape ``(n, n_units)``.

        ``x`` is a tensor or the :class:`~skff.functional.HistogramRows` of
        a histogram-coded input.
        """
        return x.matmul(self.weight)

    @torch.no_grad()  # a local rule: no graph, even for an input that requires grad
    def learn(self, x, learning_rate):
        """One local update on batch ``x``; returns ``(y, reconstruction error)``.

        ``y`` is the net input before the update (what is passed on), the
        error is the batch mean of ``||x - W y||^2`` (to float32 rounding of
        about ``1e-7`` times the mean ``||x||^2``). The update is computed
        from the batch moments ``X^T Y`` and ``Y^T Y``
        (:func:`~skff.functional.competitive_update_from_moments`), so a
        histogram-coded ``x`` is never expanded. An empty batch is an error
        (its moments would fill the weights with NaN).
        """
        if x.shape[0] == 0:
            raise ValueError("CompetitiveLayer.learn needs a batch of at least one sample, got 0.")
        y = x.matmul(self.weight)
        if isinstance(x, HistogramRows):
            xty, x_squared_sum = x.transposed_matmul(y), x.squared_norm_sum()
        else:
            xty, x_squared_sum = x.T @ y, x.pow(2).sum()
        delta, error = competitive_update_from_moments(xty, y.T @ y, self.weight, y.shape[0], x_squared_sum)
        self.weight.add_(delta, alpha=learning_rate)
        return y, error

    @torch.no_grad()
    def update_statistics(self, y):
        """Fold the batch mean and standard deviation of ``|y|`` into the running ones."""
        if y.shape[0] == 0:
            raise ValueError("CompetitiveLayer.update_statistics needs at least one sample, got 0.")
        a = y.abs()
        mean = a.mean(dim=0)
        std = a.std(dim=0, correction=0) if a.shape[0] > 1 else torch.zeros_like(mean)
        # Chosen on the device: reading the counter on the host would stall
        # a GPU once per layer and batch.
        first = self.n_stat_updates == 0
        self.abs_mean.copy_(torch.where(first, mean, self.abs_mean.lerp(mean, self.momentum)))
        self.abs_std.copy_(torch.where(first, std, self.abs_std.lerp(std, self.momentum)))
        self.n_stat_updates += 1

    def transmit(self, y, kind):
        """What the next layer receives: ``|y|`` (``kind="abs"``) or ``std_abs(y)``.

        ``"std_abs"`` standardises ``|y|`` with the running statistics and
        rescales each row to the length of ``y``
        (:func:`skff.functional.std_abs`).
        """
        if kind == "abs":
            return abs_transmit(y)
        if kind != "std_abs":
            raise ValueError(f"kind must be 'abs' or 'std_abs', got {kind!r}.")
        return std_abs(y, self.abs_mean, self.abs_std)


class ActivationLearningNetwork(nn.Module):
    """A stack of competitive layers scored by the output activation.

    The network of :class:`~skff.ActivationLearningAnomalyDetector` (its
    ``module_``). A sample ``x`` gets the constant feature appended (if any)
    and is scaled to unit length, ``x_1 = [x, c] / ||[x, c]||``; with a
    histogram code, ``x_1 = [sqrt(1 - s) [x, c] / ||[x, c]||, sqrt(s) h(x)]``,
    with ``h`` the unit-length code of :func:`skff.functional.histogram_code`
    and ``s`` its share of the (unit) input length (:meth:`prepare`); then

    ``y_l = W_l^T x_l``,  ``x_(l+1) = t(y_l)``

    with ``t`` the magnitude-preserving transmission (``|y|`` or
    ``std_abs``). The last layer is linear, and the score of a sample is
    its output activation ``||y_L||^2`` (:meth:`output_activation`): near 1
    for samples that the learned subspaces explain, small for the others.

    :meth:`local_step` is one training step: a forward pass in which the
    chosen layers learn by the local rule (no autograd) and the others only
    pass activity on. :meth:`activities` returns every layer's net input.

    Parameters
    ----------
    n_features : int
        Number of input features (without the constant).
    layer_sizes : sequence of int
        Units per layer; the last layer is the linear output.
    transmission : {"std_abs", "abs"}, default="std_abs"
        Magnitude-preserving nonlinearity between layers.
    constant : float or None, default=None
        Value of a constant feature appended to every sample before the
        unit-length scaling (``None``: none appended). The detector uses
        ``constant_feature`` times the median norm of the training samples.
    generator : torch.Generator or None, default=None
        Source of the initial weights (see :class:`CompetitiveLayer`).
    bin_range : tuple of two Tensors of shape (n_features,) or None, default=None
        ``(low, high)`` per feature for the histogram code (``None``: no code).
    n_bins : int, default=20
        Bins per feature of the histogram code.
    histogram_share : float in (0, 1), default=0.5
        Share of the input's squared length given to the histogram code.

    Attributes
    ----------
    layers : torch.nn.ModuleList of CompetitiveLayer
    transmission : str
    constant : float or None
    n_bins : int or None
        ``None`` without a histogram code.
    histogram_share : float
    bin_low, bin_high : Tensor of shape (n_features,) (buffers; empty without a code)

    See Also
    --------
    CompetitiveLayer : One layer and its learning rule.
    skff.ActivationLearningAnomalyDetector : The estimator that trains this network.

    Examples
    --------
    Two layers on 4 features plus a constant, trained by hand:

    >>> import torch
    >>> from skff.nn import ActivationLearningNetwork
    >>> g = torch.Generator().manual_seed(0)
    >>> net = ActivationLearningNetwork(4, [3, 2], transmission="std_abs", constant=1.0,
    ...                                 generator=g)
    >>> [layer.weight.shape for layer in net.layers]     # the constant adds an input
    [torch.Size([5, 3]), torch.Size([3, 2])]
    >>> x = torch.randn(64, 4, generator=g)
    >>> for _ in range(100):
    ...     errors = net.local_step(x, learning_rate=0.1, trainable=[0, 1])
    >>> errors.shape                                      # one error per trainable layer
    torch.Size([2])
    >>> net.output_activation(x).shape
    torch.Size([64])

    The network of a fitted detector gives its ``score_samples``:

    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skff import ActivationLearningAnomalyDetector
    >>> X, _ = load_iris(return_X_y=True)
    >>> detector = ActivationLearningAnomalyDetector(max_iter=1, random_state=0).fit(X)
    >>> net = detector.module_
    >>> type(net).__name__, net.n_bins        # 4 features + constant + 4 x 20 bins
    ('ActivationLearningNetwork', 20)
    >>> [layer.weight.shape for layer in net.layers]
    [torch.Size([85, 3]), torch.Size([3, 1])]
    >>> scores = net.output_activation(torch.as_tensor(X[:5], dtype=torch.float32))
    >>> bool(np.allclose(scores.numpy(), detector.score_samples(X[:5])))
    True
    """

    def __init__(self, n_features, layer_sizes, transmission="std_abs", constant=None, generator=None,
                 bin_range=None, n_bins=20, histogram_share=0.5):
        super().__init__()
        if transmission not in TRANSMISSIONS:
            raise ValueError(f"transmission must be one of {TRANSMISSIONS}, got {transmission!r}.")
        self.transmission = transmission
        self.constant = None if constant is None else float(constant)
        self.n_bins = None if bin_range is None else int(n_bins)
        if not 0 < histogram_share < 1:
            raise ValueError(f"histogram_share must be in (0, 1), got {histogram_share!r}.")
        self.histogram_share = float(histogram_share)
        low, high = bin_range if bin_range is not None else (torch.zeros(0), torch.zeros(0))
        self.register_buffer("bin_low", torch.as_tensor(low, dtype=torch.float32).clone())
        self.register_buffer("bin_high", torch.as_tensor(high, dtype=torch.float32).clone())
        n_inputs = n_features + (self.constant is not None) + (n_features * self.n_bins if self.n_bins else 0)
        sizes = [n_inputs] + list(layer_sizes)
        self.layers = nn.ModuleList(CompetitiveLayer(a, b, generator) for a, b in zip(sizes[:-1], sizes[1:]))

    def prepare(self, x):
        """The unit-length input of the first layer for raw samples ``x``, as one tensor.

        The constant feature (if any) is appended and the row scaled to unit
        length; with a histogram code, that part and the code are weighted
        by ``sqrt(1 - histogram_share)`` and ``sqrt(histogram_share)`` and
        concatenated (both have unit length, so the result has too).
        """
        rows = self.encode(x)
        return rows.to_dense() if isinstance(rows, HistogramRows) else rows

    def encode(self, x):
        """:meth:`prepare` without expanding the histogram code.

        Returns the tensor of :meth:`prepare` when there is no code, else
        its :class:`~skff.functional.HistogramRows` (one active column per
        feature is all the code holds; the layers multiply it as it is).
        """
        raw = x
        if self.constant is not None:
            x = torch.cat([x, x.new_full((x.shape[0], 1), self.constant)], dim=1)
        x = unit_length(x)
        if self.n_bins is None:
            return x
        share = self.histogram_share
        bins = histogram_bins(raw, self.bin_low, self.bin_high, self.n_bins)
        return HistogramRows(x * math.sqrt(1.0 - share), bins, math.sqrt(share / raw.shape[1]),
                             raw.shape[1] * self.n_bins)

    def activities(self, x):
        """Net input ``y`` of every layer for raw samples ``x`` (list of tensors)."""
        out = [self.layers[0](self.encode(x))]
        for below, layer in zip(self.layers[:-1], self.layers[1:]):
            out.append(layer(below.transmit(out[-1], self.transmission)))
        return out

    def output_activation(self, x):
        """``||y_L||^2`` for raw samples ``x``: the typicality score."""
        return self.activities(x)[-1].pow(2).sum(dim=1)

    @torch.no_grad()
    def local_step(self, x, learning_rate, trainable, n_layers=None):
        """One forward pass over the first ``n_layers`` layers; the ``trainable`` ones learn.

        Frozen layers (earlier ones in the layer-wise schedule) only pass
        activity on. With ``"std_abs"`` every layer whose activity is passed
        on updates its statistics of ``|y|`` first, frozen or not: in the
        layer-wise schedule a layer is the last one run while it trains, so
        its statistics are gathered while the next layer trains, on its fixed
        output (the paper's "computed explicitly" case). Returns the
        reconstruction error of every trainable layer, shape
        ``(len(trainable),)``.
        """
        n_layers = len(self.layers) if n_layers is None else n_layers
        trainable = set(trainable)
        h = self.encode(x)
        losses = []
        for index in range(n_layers):
            layer = self.layers[index]
            if index in trainable:
                y, loss = layer.learn(h, learning_rate)
                losses.append(loss)
            else:
                y = layer(h)
            if index < n_layers - 1:
                if self.transmission == "std_abs":
                    layer.update_statistics(y)
                h = layer.transmit(y, self.transmission)
        return torch.stack(losses)
