"""Self-Contrastive Forward-Forward encoders: dense, convolutional, bidirectional RNN.

Every layer type offers the same small interface, so one network class and
one training step serve all three encoders:

* ``prepare(x)``: the per-sample standardisation of the layer's input;
* ``project(x)``: the linear part, without bias (for a pair layer it is the
  shared product ``u = W s(x)``, see :mod:`skff.functional.contrastive`);
* ``respond(u)``: pre-activation ``z`` (bias; for the RNN the recurrence);
* ``goodness(z)``: mean square of ``relu(z)`` per sample and position;
* ``transmit(z)``: what the next layer receives (triangle, pooling);
* ``features(z)``: a flat ``(n_samples, d)`` block for ``transform``.

A *paired* layer takes ``[a, b]`` pairs with tied weights (the first layer,
and every layer when positives are re-paired); an unpaired layer takes the
positive and negative streams of the layer below.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..functional.contrastive import (
    contrastive_loss,
    contrastive_pairs,
    relu_mean_square_goodness,
    standardize,
    triangle,
)


def _uniform(shape, fan_in, generator):
    # PyTorch's default bound for Linear/Conv weights and biases, drawn from
    # our own generator so that random_state alone fixes the model.
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound, generator=generator))


class _SampleStandardizer(nn.Module):
    """What every SCFF layer and network shares: per-sample standardisation.

    Its epsilon is relative to each sample's scale since session 14; layers
    and networks stored before keep the epsilon in their input's units (their
    later layers learned from it): the class attribute is what an unpickled
    old object reads, ``__init__`` sets it on new ones.
    """

    relative_eps = False

    def __init__(self):
        super().__init__()
        self.relative_eps = True

    def _standardize(self, x, start_dim=1):
        return standardize(x, start_dim=start_dim, relative_eps=self.relative_eps)


class DenseSCFFLayer(_SampleStandardizer):
    """Fully connected SCFF layer on flat inputs ``(n, in_features)``.

    With ``s`` the per-sample standardisation (zero mean, unit variance over
    a sample's features), the layer reads a pair ``[a, b]`` through two
    tied weight blocks,

    ``z = W s(a) + W s(b) + bias``,

    so the positive pair ``[x, x]`` gives ``2 W s(x) + bias``. Its goodness
    is the mean square of ``relu(z)`` over the units, and what it passes on
    (and its features) is the triangle activity ``relu(z - mean(z))``.

    Like every SCFF layer it is used through :class:`SCFFNetwork`, which
    calls its small interface: :meth:`prepare` (standardise the input),
    :meth:`project` (``u = W s(x)``, once per sample), :meth:`respond`
    (add the bias to the sum of a pair's projections), :meth:`goodness`,
    :meth:`transmit` (to the next layer), :meth:`features` (for
    ``transform``) and :meth:`output_shape`.

    Parameters
    ----------
    in_features : int
        Number of input values per sample (a sample is flattened).
    units : int
        Number of units.
    paired : bool
        Whether the layer reads pairs ``[a, b]`` (the first layer, and every
        layer with ``pairing="repair"``) or the positive and negative
        streams of the layer below (``pairing="streams"``). Only the scale
        of the initial weights depends on it.
    generator : torch.Generator or None, default=None
        Source of the initial weight and bias, uniform in
        ``+-1 / sqrt(fan_in)`` with ``fan_in = in_features``, doubled for a
        paired layer (the input of a pair is twice as wide).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (units, in_features)
    bias : torch.nn.Parameter of shape (units,)
    paired : bool

    See Also
    --------
    ConvSCFFLayer, BiRNNSCFFLayer : The other SCFF encoders.

    Examples
    --------
    >>> import torch
    >>> from skff.nn import DenseSCFFLayer
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = DenseSCFFLayer(6, 4, paired=True, generator=g)
    >>> layer.weight.shape, layer.bias.shape
    (torch.Size([4, 6]), torch.Size([4]))
    >>> bool(layer.weight.abs().max() <= 1 / 12 ** 0.5)    # fan-in of a pair: 2 * 6
    True
    >>> s = layer.prepare(torch.randn(3, 6, generator=g))
    >>> z = layer.respond(2 * layer.project(s))            # the positive pairs [x, x]
    >>> layer.goodness(z).shape, layer.transmit(z).shape, layer.output_shape((6,))
    (torch.Size([3]), torch.Size([3, 4]), (4,))
    """

    def __init__(self, in_features, units, paired, generator=None):
        super().__init__()
        self.paired = paired
        fan_in = in_features * (2 if paired else 1)
        self.weight = _uniform((units, in_features), fan_in, generator)
        self.bias = _uniform((units,), fan_in, generator)

    def prepare(self, x):
        """Flatten each sample and standardise it: shape ``(n, in_features)``."""
        return self._standardize(self.shape_input(x))

    def shape_input(self, x):
        """:meth:`prepare` without the standardisation: each sample flattened."""
        return x.flatten(1)

    def project(self, x):
        """``u = W x`` for prepared input ``x``, without bias: ``(n, units)``."""
        return x @ self.weight.T

    def respond(self, u):
        """Pre-activation ``z = u + bias`` (``u`` the sum of a pair's projections)."""
        return u + self.bias

    def goodness(self, z):
        """Mean square of ``relu(z)`` over the units: shape ``(n,)``."""
        return relu_mean_square_goodness(z, dim=1)

    def transmit(self, z):
        """Activity for the next layer: the triangle ``relu(z - mean(z))``."""
        return triangle(z, dim=1)

    def features(self, z):
        """Features for ``transform``: the triangle activity, ``(n, units)``."""
        return triangle(z, dim=1)

    def output_shape(self, input_shape):
        """Shape of one sample of :meth:`transmit`'s output: ``(units,)``."""
        return (self.weight.shape[0],)


class ConvSCFFLayer(_SampleStandardizer):
    """Convolutional SCFF layer on images ``(n, channels, H, W)``.

    The dense layer's pair rule with a convolution ``*`` (bias-free,
    ``same`` padding) in place of the product, each image standardised as
    a whole: ``z = W * s(a) + W * s(b) + bias``. The goodness is the mean
    square of ``relu(z)`` over the channels, one value per position. What is
    passed on is the triangle activity ``relu(z - mean over channels of
    z)`` max-pooled with a 4x4 window, stride 2, padding 1 (the paper's
    pattern; it halves the image), along each axis longer than one pixel: a
    1-pixel-high signal is pooled along its length (window 1x4), a single
    pixel not at all.
    The features for ``transform`` average the passed-on map over a 2x2
    grid of quadrants (``4 * channels`` values). The methods are those of
    :class:`DenseSCFFLayer`.

    Parameters
    ----------
    in_channels : int
        Channels of the input images.
    channels : int
        Output channels (the layer's units at every position).
    kernel_size : int or tuple of int
        Height and width of the kernel (odd sizes keep the image's size).
    paired : bool
        Whether the layer reads pairs or the streams of the layer below (see
        :class:`DenseSCFFLayer`); it doubles the fan-in of the initial
        weights.
    generator : torch.Generator or None, default=None
        Source of the initial weight and bias, uniform in
        ``+-1 / sqrt(fan_in)``, ``fan_in = in_channels * kernel area`` (times
        2 for a paired layer).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (channels, in_channels, kh, kw)
    bias : torch.nn.Parameter of shape (channels,)
    padding : tuple of int
    paired : bool

    Examples
    --------
    >>> import torch
    >>> from skff.nn import ConvSCFFLayer
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = ConvSCFFLayer(1, 4, kernel_size=3, paired=True, generator=g)
    >>> s = layer.prepare(torch.randn(2, 1, 8, 8, generator=g))
    >>> z = layer.respond(2 * layer.project(s))            # the positive pairs
    >>> z.shape, layer.goodness(z).shape                   # one goodness per pixel
    (torch.Size([2, 4, 8, 8]), torch.Size([2, 8, 8]))
    >>> layer.transmit(z).shape, layer.output_shape((1, 8, 8))
    (torch.Size([2, 4, 4, 4]), (4, 4, 4))
    >>> layer.features(z).shape                            # 2x2 quadrants of 4 channels
    torch.Size([2, 16])
    """

    # Layers stored before session 14 did not pool maps one pixel high or
    # wide at all: unpickled, they keep doing so (their next layer learned
    # from the unpooled map); new layers set it in __init__.
    pools_thin_maps = False

    def __init__(self, in_channels, channels, kernel_size, paired, generator=None):
        super().__init__()
        self.paired = paired
        self.pools_thin_maps = True
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kh % 2 == 0 or kw % 2 == 0:
            # Padding k // 2 keeps the map's size for odd kernels only (output_shape assumes it).
            raise ValueError(f"kernel_size must be odd, got {kernel_size!r}.")
        self.padding = (kh // 2, kw // 2)
        fan_in = in_channels * kh * kw * (2 if paired else 1)
        self.weight = _uniform((channels, in_channels, kh, kw), fan_in, generator)
        self.bias = _uniform((channels,), fan_in, generator)

    def prepare(self, x):
        """Standardise each image over all its channels and pixels."""
        return self._standardize(x)

    def shape_input(self, x):
        """:meth:`prepare` without the standardisation: the images as they are."""
        return x

    def project(self, x):
        """Bias-free convolution of prepared images: ``(n, channels, H, W)``."""
        return F.conv2d(x, self.weight, padding=self.padding)

    def respond(self, u):
        """Pre-activation: ``u`` plus each channel's bias."""
        return u + self.bias.view(1, -1, 1, 1)

    def goodness(self, z):
        """Mean square of ``relu(z)`` over the channels: shape ``(n, H, W)``."""
        return relu_mean_square_goodness(z, dim=1)

    def transmit(self, z):
        """Triangle activity over the channels, max-pooled 4x4, stride 2 (halves ``H`` and ``W``).

        An axis one pixel long is not pooled (window 1 along it).
        """
        a = triangle(z, dim=1)
        pooled = self._pooled_axes(a.shape[-2:])
        if not any(pooled):
            return a
        return F.max_pool2d(
            a,
            kernel_size=tuple(4 if p else 1 for p in pooled),
            stride=tuple(2 if p else 1 for p in pooled),
            padding=tuple(1 if p else 0 for p in pooled),
        )

    def features(self, z):
        """:meth:`transmit`'s map averaged over 2x2 quadrants: ``(n, 4 * channels)``."""
        a = self.transmit(z)
        grid = (min(2, a.shape[-2]), min(2, a.shape[-1]))
        return F.adaptive_avg_pool2d(a, grid).flatten(1)

    def output_shape(self, input_shape):
        """Shape ``(channels, H', W')`` of one image of :meth:`transmit`'s output."""
        _, h, w = input_shape
        pooled = self._pooled_axes((h, w))
        return (self.weight.shape[0], *((s - 2) // 2 + 1 if p else s for s, p in zip((h, w), pooled)))

    def _pooled_axes(self, spatial):
        """Which of (height, width) the max-pooling halves."""
        if not self.pools_thin_maps:
            return [min(spatial) >= 2] * 2
        return [size >= 2 for size in spatial]


class BiRNNSCFFLayer(_SampleStandardizer):
    """Bidirectional recurrent SCFF layer on sequences ``(n, T, features)``.

    Each direction runs ``z_t = W_ih x_t + W_hh s(relu(z_(t-1))) + b`` on
    the input ``x`` standardised as a whole sequence (zero mean and unit
    variance over all its steps and features, the per-sample
    standardisation of every SCFF layer: a faint step stays faint) and
    ``s`` the standardisation of one state. The previous state
    enters as an input, not through a gradient: learning stays local in time
    (no backpropagation through time). For a pair ``[a, b]`` the input term
    is ``W_ih a_t + W_ih b_t``, as in :class:`DenseSCFFLayer`. The
    goodness, the mean square of ``relu(z_t)``, is taken per time step and
    direction. (The paper and the authors' FSDD code take one goodness per
    step over both directions' units; on the digits test's protocol, 3-fold
    CV over seeds 0-2, that gained 0.35 points over random weights against
    0.66 per direction, session 14.) The next layer receives the triangle activity of both
    directions at every step; the features are the triangle activity of the
    final state of each direction (step ``T`` forwards, step ``1`` backwards).
    The methods are those of :class:`DenseSCFFLayer`; :meth:`respond` runs
    the recurrence.

    Parameters
    ----------
    in_features : int
        Features per time step.
    hidden_size : int
        Units per direction.
    paired : bool
        Whether the layer reads pairs or the streams of the layer below (see
        :class:`DenseSCFFLayer`); it doubles the fan-in of ``weight_ih`` and
        ``bias``.
    generator : torch.Generator or None, default=None
        Source of the initial weights, uniform in ``+-1 / sqrt(fan_in)``:
        ``fan_in = in_features`` (doubled when paired) for ``weight_ih`` and
        ``bias``, ``hidden_size`` for ``weight_hh``.
    readout : {"final", "mean"}, default="final"
        What :meth:`features` returns: the triangle activity of the final
        state of each direction (the step the paper reads out; its script
        takes the standardised ReLU state), or its mean over the time
        steps.

    Attributes
    ----------
    weight_ih : torch.nn.Parameter of shape (2 * hidden_size, in_features)
        Input weights, forward direction in the first ``hidden_size`` rows.
    weight_hh : torch.nn.Parameter of shape (2, hidden_size, hidden_size)
        Recurrent weights of each direction.
    bias : torch.nn.Parameter of shape (2 * hidden_size,)
    hidden_size : int
    paired : bool

    Examples
    --------
    >>> import torch
    >>> from skff.nn import BiRNNSCFFLayer
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = BiRNNSCFFLayer(3, 4, paired=True, generator=g)
    >>> s = layer.prepare(torch.randn(2, 5, 3, generator=g))   # 5 steps of 3 features
    >>> z = layer.respond(2 * layer.project(s))                # the positive pairs
    >>> z.shape, layer.goodness(z).shape                       # per step and direction
    (torch.Size([2, 5, 8]), torch.Size([2, 5, 2]))
    >>> layer.transmit(z).shape, layer.output_shape((5, 3))
    (torch.Size([2, 5, 8]), (5, 8))
    >>> layer.features(z).shape                                # final state of each direction
    torch.Size([2, 8])
    """

    def __init__(self, in_features, hidden_size, paired, generator=None, readout="final"):
        super().__init__()
        self.paired = paired
        self.hidden_size = hidden_size
        if readout not in ("final", "mean"):
            raise ValueError(f"readout must be 'final' or 'mean', got {readout!r}.")
        self.readout = readout
        # Both directions stacked: rows [:hidden] forward, [hidden:] backward.
        # The input weight is scaled by its own fan-in (as a dense layer's):
        # with the hidden size instead, a few input features are drowned by
        # the recurrent term at initialisation.
        fan_in = in_features * (2 if paired else 1)
        self.weight_ih = _uniform((2 * hidden_size, in_features), fan_in, generator)
        self.weight_hh = _uniform((2, hidden_size, hidden_size), hidden_size, generator)
        self.bias = _uniform((2 * hidden_size,), fan_in, generator)

    def prepare(self, x):
        """Standardise each sequence as a whole: shape ``(n, T, features)``.

        Not each step on its own: that would blow a nearly blank step (an
        empty image row, a quiet audio frame) up to the scale of a full one
        and erase blank ones; on digit rows it costs 1-1.5 points of probe
        accuracy, trained or not (``benchmarks/README.md``, session 6).
        """
        return self._standardize(x, start_dim=1)

    def shape_input(self, x):
        """:meth:`prepare` without the standardisation: the sequences as they are."""
        return x

    def project(self, x):
        """``W_ih x_t`` at every step, both directions: ``(n, T, 2 * hidden_size)``."""
        return x @ self.weight_ih.T

    def respond(self, u):
        """Run both recurrences on the input terms ``u``: ``z`` of shape ``(n, T, 2 * hidden_size)``."""
        n, steps, _ = u.shape
        h = self.hidden_size
        z = (u + self.bias).view(n, steps, 2, h)
        outputs = [[None] * steps, [None] * steps]
        for direction, order in ((0, range(steps)), (1, range(steps - 1, -1, -1))):
            state = None
            for t in order:
                z_t = z[:, t, direction]
                if state is not None:
                    z_t = z_t + state @ self.weight_hh[direction].T
                outputs[direction][t] = z_t
                state = self._standardize(torch.relu(z_t.detach()))
        return torch.stack([torch.stack(outputs[0], 1), torch.stack(outputs[1], 1)], dim=2).view(n, steps, 2 * h)

    def _directions(self, z):
        return z.view(*z.shape[:-1], 2, self.hidden_size)

    def goodness(self, z):
        """Mean square of ``relu(z)`` per step and direction: shape ``(n, T, 2)``."""
        return relu_mean_square_goodness(self._directions(z), dim=-1)

    def transmit(self, z):
        """Triangle activity of each direction at every step: ``(n, T, 2 * hidden_size)``."""
        return triangle(self._directions(z), dim=-1).flatten(-2)

    def features(self, z):
        """Triangle activity of each direction's final state: ``(n, 2 * hidden_size)``."""
        a = triangle(self._directions(z), dim=-1)
        if self.readout == "mean":
            return a.mean(dim=1).flatten(1)
        return torch.cat([a[:, -1, 0], a[:, 0, 1]], dim=1)

    def output_shape(self, input_shape):
        """Shape ``(T, 2 * hidden_size)`` of one sequence of :meth:`transmit`'s output."""
        return (input_shape[0], 2 * self.hidden_size)


class SCFFNetwork(_SampleStandardizer):
    """A stack of SCFF layers with their per-layer loss settings.

    The network of :class:`~skff.SCFFTransformer` (its ``module_``). The
    first layer reads pairs: the positive pair of sample ``i`` is ``[x_i,
    x_i]``, its negative pair ``[x_i, x_((i + k) mod n)]`` for a shift ``k``
    of the batch (one negative pair per shift when several are given).
    Layer ``l`` learns to push the goodness ``G+`` of positives above
    ``threshold_pos[l]`` and the goodness ``G-`` of negatives below
    ``threshold_neg[l]``:

    ``loss = softplus(threshold_pos - G+) + softplus(G- - threshold_neg) + penalty * ||G+||``

    averaged over samples and positions (:func:`skff.functional.contrastive_loss`).
    A later layer either reads the positive and negative outputs of the
    layer below (an unpaired layer) or forms pairs again (a paired one).

    The network is used through its methods: :meth:`layer_loss` computes the
    loss of one layer on a batch, the layers below it running frozen (the
    greedy, layer-by-layer training); :meth:`features` returns the
    standardised features of the chosen layers for the positive pairs
    ``[x, x]`` (the transformer's ``transform``).

    Parameters
    ----------
    layers : list of DenseSCFFLayer, ConvSCFFLayer or BiRNNSCFFLayer
        The layers, each sized for the :meth:`~DenseSCFFLayer.output_shape`
        of the one below. The first must be paired.
    threshold_pos, threshold_neg, penalty : sequence of float
        One value per layer: ``Theta+``, ``Theta-`` and the weight
        ``lambda`` of the goodness-norm penalty.
    input_shape : tuple of int
        Shape of one sample as the first layer expects it; inputs are
        reshaped to ``(n, *input_shape)``, so flat rows are accepted.
    standardize_input : bool, default=True
        Whether the first layer standardises each sample (its ``prepare``)
        or takes it as it is (its ``shape_input``). Later layers always
        standardise.

    Attributes
    ----------
    layers : torch.nn.ModuleList
    threshold_pos, threshold_neg, penalty : list of float
    input_shape : tuple of int
    standardize_input : bool

    See Also
    --------
    DenseSCFFLayer, ConvSCFFLayer, BiRNNSCFFLayer : The layers.
    skff.SCFFTransformer : The estimator that trains this network.

    Examples
    --------
    A dense two-layer network (the second layer reads the streams of the
    first); a few steps of training of the first layer by hand:

    >>> import torch
    >>> from skff.nn import DenseSCFFLayer, SCFFNetwork
    >>> g = torch.Generator().manual_seed(0)
    >>> layers = [DenseSCFFLayer(16, 12, paired=True, generator=g),
    ...           DenseSCFFLayer(12, 8, paired=False, generator=g)]
    >>> net = SCFFNetwork(layers, threshold_pos=[4.0, 1.0], threshold_neg=[6.0, 1.0],
    ...                   penalty=[1e-4, 0.0], input_shape=(16,))
    >>> x = torch.randn(10, 16, generator=g)
    >>> before = float(net.layer_loss(x, 0, shift=3).detach())
    >>> optimizer = torch.optim.AdamW(net.layers[0].parameters(), lr=0.01)
    >>> for _ in range(20):
    ...     optimizer.zero_grad()
    ...     net.layer_loss(x, 0, shift=3).backward()
    ...     optimizer.step()
    >>> float(net.layer_loss(x, 0, shift=3).detach()) < before
    True
    >>> net.features(x, layers_out=[0, 1]).shape           # 12 + 8 features
    torch.Size([10, 20])

    The network of a fitted transformer computes its ``transform``:

    >>> from sklearn.datasets import load_digits
    >>> from skff import SCFFTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> scff = SCFFTransformer(hidden_layer_sizes=(32, 16), max_iter=1,
    ...                        random_state=0).fit(X[:200])
    >>> type(scff.module_).__name__, [type(layer).__name__ for layer in scff.module_.layers]
    ('SCFFNetwork', ['DenseSCFFLayer', 'DenseSCFFLayer'])
    >>> features = scff.module_.features(torch.as_tensor(X[:5], dtype=torch.float32), [0, 1])
    >>> features.shape
    torch.Size([5, 48])
    >>> bool(torch.allclose(features, torch.as_tensor(scff.transform(X[:5]), dtype=torch.float32), atol=1e-5))
    True
    """

    # Networks pickled before the option existed standardised their input.
    standardize_input = True

    def __init__(self, layers, threshold_pos, threshold_neg, penalty, input_shape, standardize_input=True):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.standardize_input = bool(standardize_input)
        self.threshold_pos = list(threshold_pos)
        self.threshold_neg = list(threshold_neg)
        self.penalty = list(penalty)
        self.input_shape = tuple(input_shape)

    def _respond(self, layer, stream, shift):
        """Pre-activation of ``layer`` for ``stream``.

        For a paired layer ``stream`` is the pair's two members ``(a, b)``
        (the same tensor twice unless augmented); ``shift`` None gives the
        positives only, otherwise positives then negatives (``n`` rows, then
        ``n`` per shift). For an unpaired layer ``stream`` is one tensor,
        positives then negatives.
        """
        if not layer.paired:
            return layer.respond(layer.project(stream))
        first, second = stream
        u = layer.project(first)
        partner = None if second is first else layer.project(second)
        if shift is None:
            return layer.respond(2.0 * u if partner is None else u + partner)
        positive, negative = contrastive_pairs(u, shift, partner)
        return layer.respond(torch.cat([positive, negative]))

    def _input(self, x, augment=None):
        x = x.view(x.shape[0], *self.input_shape)
        first = self.layers[0]
        prepare = first.prepare if self.standardize_input else first.shape_input
        if augment is None:
            view = prepare(x)
            return (view, view)
        return (prepare(augment(x)), prepare(augment(x)))

    def _next_stream(self, index, z):
        # With pairing="streams" every later layer is unpaired and takes both
        # streams (positives, then the negatives); with "repair" every layer
        # is paired and the frozen ones computed positives only.
        layer, following = self.layers[index], self.layers[index + 1]
        view = following.prepare(layer.transmit(z))
        return (view, view) if following.paired else view

    def layer_loss(self, x, index, shift, augment=None):
        """Loss of layer ``index`` on batch ``x``; earlier layers run frozen.

        ``shift`` pairs sample ``i`` with sample ``(i + shift) mod n`` for the
        negatives of every paired layer; a sequence of shifts gives one
        negative per shift. ``augment`` (a function of a batch
        shaped ``(n, *input_shape)``), when given, is applied separately to
        the two members of every first-layer pair.
        """
        stream = self._input(x, augment)
        for i in range(index + 1):
            layer = self.layers[i]
            trainable = i == index
            # A frozen layer needs the negative stream only when the next
            # layer consumes streams rather than forming its own pairs.
            needs_negatives = trainable or not self.layers[i + 1].paired
            with torch.set_grad_enabled(trainable and torch.is_grad_enabled()):
                z = self._respond(layer, stream, shift if needs_negatives else None)
            if trainable:
                g = layer.goodness(z)
                n = x.shape[0]  # the positives come first, then the negatives
                return contrastive_loss(
                    g[:n], g[n:], self.threshold_pos[i], self.threshold_neg[i], self.penalty[i]
                )
            stream = self._next_stream(i, z)
        raise IndexError(index)

    def _positive_responses(self, x, n_layers):
        """``(index, pre-activation)`` of the positive pairs ``[x, x]`` in each of the first ``n_layers`` layers."""
        stream = self._input(x)
        for i in range(n_layers):
            z = self._respond(self.layers[i], stream, None)
            yield i, z
            if i + 1 < n_layers:
                stream = self._next_stream(i, z)

    def positive_goodness(self, x, n_layers):
        """Goodness of the positive pairs ``[x, x]`` in each of the first ``n_layers`` layers."""
        return [self.layers[i].goodness(z) for i, z in self._positive_responses(x, n_layers)]

    def features(self, x, layers_out):
        """Standardised features of the positive pair ``[x, x]``, per chosen layer."""
        return torch.cat([
            self._standardize(self.layers[i].features(z))
            for i, z in self._positive_responses(x, max(layers_out) + 1) if i in layers_out
        ], dim=1)
