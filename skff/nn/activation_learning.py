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

from ..functional import abs_transmit, competitive_update, std_abs, unit_length

TRANSMISSIONS = ("std_abs", "abs")


class CompetitiveLayer(nn.Module):
    """One layer ``y = x @ weight`` with ``weight`` of shape ``(n_inputs, n_units)``.

    For the ``std_abs`` transmission it keeps running statistics of ``|y|``
    (per unit, an exponential moving average over training batches, as batch
    normalisation does), updated only while the layer learns.

    Parameters
    ----------
    n_inputs, n_units : int
    generator : torch.Generator or None
        Source of the initial weights, ``N(0, 1 / n_inputs)``: every unit starts
        with a weight vector of about unit length.
    momentum : float
        Weight of the newest batch in the running statistics.
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
        return x @ self.weight

    def learn(self, x, learning_rate):
        """One local update on batch ``x``; returns ``(y, reconstruction error)``.

        ``y`` is the net input before the update (what is passed on), the
        error is the batch mean of ``||x - W y||^2``.
        """
        y = x @ self.weight
        delta, residual = competitive_update(x, y, self.weight)
        self.weight.add_(delta, alpha=learning_rate)
        return y, residual.pow(2).sum(dim=1).mean()

    def update_statistics(self, y):
        """Fold the batch mean and standard deviation of ``|y|`` into the running ones."""
        a = y.abs()
        mean = a.mean(dim=0)
        std = a.std(dim=0, correction=0) if a.shape[0] > 1 else torch.zeros_like(mean)
        if int(self.n_stat_updates) == 0:
            self.abs_mean.copy_(mean)
            self.abs_std.copy_(std)
        else:
            self.abs_mean.lerp_(mean, self.momentum)
            self.abs_std.lerp_(std, self.momentum)
        self.n_stat_updates += 1

    def transmit(self, y, kind):
        if kind == "abs":
            return abs_transmit(y)
        return std_abs(y, self.abs_mean, self.abs_std)


class ActivationLearningNetwork(nn.Module):
    """A stack of competitive layers scored by the output activation.

    Parameters
    ----------
    n_features : int
    layer_sizes : sequence of int
        Units per layer; the last layer is the linear output.
    transmission : {"std_abs", "abs"}
        Magnitude-preserving nonlinearity between layers.
    constant : float or None
        Value of a constant feature appended to every sample before the
        unit-length scaling (``None``: none appended).
    generator : torch.Generator or None
    """

    def __init__(self, n_features, layer_sizes, transmission="std_abs", constant=None, generator=None):
        super().__init__()
        if transmission not in TRANSMISSIONS:
            raise ValueError(f"transmission must be one of {TRANSMISSIONS}, got {transmission!r}.")
        self.transmission = transmission
        self.constant = None if constant is None else float(constant)
        sizes = [n_features + (self.constant is not None)] + list(layer_sizes)
        self.layers = nn.ModuleList(CompetitiveLayer(a, b, generator) for a, b in zip(sizes[:-1], sizes[1:]))

    def prepare(self, x):
        """Append the constant feature (if any) and scale rows to unit length."""
        if self.constant is not None:
            x = torch.cat([x, x.new_full((x.shape[0], 1), self.constant)], dim=1)
        return unit_length(x)

    def activities(self, x):
        """Net input ``y`` of every layer for raw samples ``x`` (list of tensors)."""
        out = [self.layers[0](self.prepare(x))]
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
        activity on, with frozen statistics. Returns the reconstruction error
        of every trainable layer, shape ``(len(trainable),)``.
        """
        n_layers = len(self.layers) if n_layers is None else n_layers
        trainable = set(trainable)
        h = self.prepare(x)
        losses = []
        for index in range(n_layers):
            layer = self.layers[index]
            if index in trainable:
                y, loss = layer.learn(h, learning_rate)
                losses.append(loss)
            else:
                y = layer(h)
            if index < n_layers - 1:
                if index in trainable and self.transmission == "std_abs":
                    layer.update_statistics(y)
                h = layer.transmit(y, self.transmission)
        return torch.stack(losses)
