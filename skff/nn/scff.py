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
    mean_square_goodness,
    standardize,
    triangle,
)


def _uniform(shape, fan_in, generator):
    # PyTorch's default bound for Linear/Conv weights and biases, drawn from
    # our own generator so that random_state alone fixes the model.
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound, generator=generator))


class DenseSCFFLayer(nn.Module):
    """Fully connected SCFF layer on flat inputs ``(n, in_features)``."""

    def __init__(self, in_features, units, paired, generator=None):
        super().__init__()
        self.paired = paired
        fan_in = in_features * (2 if paired else 1)
        self.weight = _uniform((units, in_features), fan_in, generator)
        self.bias = _uniform((units,), fan_in, generator)

    def prepare(self, x):
        return standardize(x.flatten(1))

    def project(self, x):
        return x @ self.weight.T

    def respond(self, u):
        return u + self.bias

    def goodness(self, z):
        return mean_square_goodness(torch.relu(z), dim=1)

    def transmit(self, z):
        return triangle(z, dim=1)

    def features(self, z):
        return triangle(z, dim=1)

    def output_shape(self, input_shape):
        return (self.weight.shape[0],)


class ConvSCFFLayer(nn.Module):
    """Convolutional SCFF layer on images ``(n, channels, H, W)``.

    ``same`` padding; the goodness is taken per position over the channels.
    What is passed on is the triangle activity max-pooled with a 4x4 window,
    stride 2, padding 1 (the paper's pattern; it halves the image), skipped
    once the map is a single pixel. The features for ``transform`` average
    the passed-on map over a 2x2 grid of quadrants.
    """

    def __init__(self, in_channels, channels, kernel_size, paired, generator=None):
        super().__init__()
        self.paired = paired
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.padding = (kh // 2, kw // 2)
        fan_in = in_channels * kh * kw * (2 if paired else 1)
        self.weight = _uniform((channels, in_channels, kh, kw), fan_in, generator)
        self.bias = _uniform((channels,), fan_in, generator)

    def prepare(self, x):
        return standardize(x)

    def project(self, x):
        return F.conv2d(x, self.weight, padding=self.padding)

    def respond(self, u):
        return u + self.bias.view(1, -1, 1, 1)

    def goodness(self, z):
        return mean_square_goodness(torch.relu(z), dim=1)

    def transmit(self, z):
        a = triangle(z, dim=1)
        if min(a.shape[-2:]) < 2:
            return a
        return F.max_pool2d(a, kernel_size=4, stride=2, padding=1)

    def features(self, z):
        a = self.transmit(z)
        grid = (min(2, a.shape[-2]), min(2, a.shape[-1]))
        return F.adaptive_avg_pool2d(a, grid).flatten(1)

    def output_shape(self, input_shape):
        _, h, w = input_shape
        if min(h, w) < 2:
            return (self.weight.shape[0], h, w)
        return (self.weight.shape[0], (h - 2) // 2 + 1, (w - 2) // 2 + 1)


class BiRNNSCFFLayer(nn.Module):
    """Bidirectional recurrent SCFF layer on sequences ``(n, T, features)``.

    Each direction runs ``z_t = W_ih s(x_t) + W_hh s(relu(z_(t-1))) + b``
    with ``s`` the standardisation of each time step. The previous state
    enters as an input, not through a gradient: learning stays local in time
    (no backpropagation through time). The goodness is taken per time step
    and direction. The next layer receives the triangle activity of both
    directions at every step; the features are the triangle activity of the
    final state of each direction (step ``T`` forwards, step ``1`` backwards).
    """

    def __init__(self, in_features, hidden_size, paired, generator=None):
        super().__init__()
        self.paired = paired
        self.hidden_size = hidden_size
        # Both directions stacked: rows [:hidden] forward, [hidden:] backward.
        # The input weight is scaled by its own fan-in (as a dense layer's):
        # with the hidden size instead, a few input features are drowned by
        # the recurrent term at initialisation.
        fan_in = in_features * (2 if paired else 1)
        self.weight_ih = _uniform((2 * hidden_size, in_features), fan_in, generator)
        self.weight_hh = _uniform((2, hidden_size, hidden_size), hidden_size, generator)
        self.bias = _uniform((2 * hidden_size,), fan_in, generator)

    def prepare(self, x):
        return standardize(x, start_dim=-1)

    def project(self, x):
        return x @ self.weight_ih.T

    def respond(self, u):
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
                state = standardize(torch.relu(z_t.detach()))
        return torch.stack([torch.stack(outputs[0], 1), torch.stack(outputs[1], 1)], dim=2).view(n, steps, 2 * h)

    def _directions(self, z):
        return z.view(*z.shape[:-1], 2, self.hidden_size)

    def goodness(self, z):
        return mean_square_goodness(torch.relu(self._directions(z)), dim=-1)

    def transmit(self, z):
        return triangle(self._directions(z), dim=-1).flatten(-2)

    def features(self, z):
        a = triangle(self._directions(z), dim=-1)
        return torch.cat([a[:, -1, 0], a[:, 0, 1]], dim=1)

    def output_shape(self, input_shape):
        return (input_shape[0], 2 * self.hidden_size)


class SCFFNetwork(nn.Module):
    """A stack of SCFF layers with their per-layer loss settings.

    Parameters
    ----------
    layers : list of SCFF layers (see the module docstring)
    threshold_pos, threshold_neg, penalty : list of float, one per layer
    input_shape : tuple
        Shape of one sample as the first layer expects it.
    """

    def __init__(self, layers, threshold_pos, threshold_neg, penalty, input_shape):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.threshold_pos = list(threshold_pos)
        self.threshold_neg = list(threshold_neg)
        self.penalty = list(penalty)
        self.input_shape = tuple(input_shape)

    def _respond(self, layer, stream, shift):
        """Pre-activation of ``layer`` for ``stream``.

        For a paired layer ``stream`` is the pair's two members ``(a, b)``
        (the same tensor twice unless augmented); ``shift`` None gives the
        positives only, otherwise positives then negatives (``2n`` rows). For
        an unpaired layer ``stream`` is one tensor, positives then negatives.
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
        if augment is None:
            view = first.prepare(x)
            return (view, view)
        return (first.prepare(augment(x)), first.prepare(augment(x)))

    def _next_stream(self, index, z):
        # With pairing="streams" every later layer is unpaired and takes both
        # streams (2n rows); with "repair" every layer is paired and the
        # frozen ones computed positives only.
        layer, following = self.layers[index], self.layers[index + 1]
        view = following.prepare(layer.transmit(z))
        return (view, view) if following.paired else view

    def layer_loss(self, x, index, shift, augment=None):
        """Loss of layer ``index`` on batch ``x``; earlier layers run frozen.

        ``shift`` pairs sample ``i`` with sample ``(i + shift) mod n`` for the
        negatives of every paired layer. ``augment`` (a function of a batch
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
                n = g.shape[0] // 2
                return contrastive_loss(
                    g[:n], g[n:], self.threshold_pos[i], self.threshold_neg[i], self.penalty[i]
                )
            stream = self._next_stream(i, z)
        raise IndexError(index)

    def features(self, x, layers_out):
        """Standardised features of the positive pair ``[x, x]``, per chosen layer."""
        stream = self._input(x)
        blocks = []
        for i in range(max(layers_out) + 1):
            layer = self.layers[i]
            z = self._respond(layer, stream, None)
            if i in layers_out:
                blocks.append(standardize(layer.features(z)))
            if i + 1 < len(self.layers):
                stream = self._next_stream(i, z)
        return torch.cat(blocks, dim=1)
