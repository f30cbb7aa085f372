"""Dense Forward-Forward stacks (Hinton's FF and Polar-FFA share this module).

A layer is ``h = act(W x)`` without bias. The first layer sees the features
and a label embedding; its weight is kept split as ``[W_x | W_label]`` so that

* in training a positive and its negative (same ``x``, other label) share the
  product ``W_x x``: the label only adds a row of the ``(n_classes, n_units)``
  table ``E W_label^T``, and autograd sums the two gradients before the single
  weight-gradient matmul of ``W_x``;
* at prediction ``W_x x`` is computed once and every class only adds its row of
  the table; later layers see all ``n_samples * n_classes`` rows in one matmul.

Polarity: the first ``n_positive`` units of a layer form the positive group,
the rest the negative group. Hinton's FF is the configuration where every unit
is positive (the negative goodness is then zero).
"""

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ..functional import LOGIT_FUNCTIONS, goodness, layer_loss, relu_group_goodness, rms_normalize

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


class GoodnessObjective:
    """Goodness of each polarity turned into the log-odds of "positive".

    A Forward-Forward layer judges its own input by the goodness ``G`` of its
    activity ``h``. This object holds the choices of
    :class:`~skff.FFClassifier` and :class:`~skff.PolarFFClassifier` that
    turn ``h`` into a log-odds ``s`` with ``P(positive) = sigmoid(s)``: the
    first ``n_positive`` units form the positive group (goodness ``G+``),
    the others the negative group (``G-``, zero when every unit is
    positive), and

    * ``"sigmoid"`` (FF): ``s = alpha * (G+ - threshold)``;
    * ``"polar_sigmoid"``: ``s = alpha * (G+ - G- - threshold)``;
    * ``"symmetric"``: ``s = log(G+ + epsilon) - log(G- + epsilon)``.

    Each layer's loss is the binary cross-entropy of ``sigmoid(s)``
    (:func:`skff.functional.layer_loss`), and a classifier's score of a class
    is ``s`` summed over layers. It is a plain Python object, not a
    :class:`torch.nn.Module`: it has no weights.

    Parameters
    ----------
    norm : {"l1", "l2", "l2_squared"}
        Norm of the goodness (see :func:`skff.functional.goodness`).
    aggregation : {"sum", "mean"}
        ``"mean"`` divides the inner sum of the norm by the number of units.
    top_k : int or None
        Only the ``top_k`` largest values of a group count in its
        goodness (``None``: all units).
    probability : {"sigmoid", "polar_sigmoid", "symmetric"}
        Key of :data:`skff.functional.LOGIT_FUNCTIONS`.
    threshold, alpha : float or None
        ``theta`` and the slope of the two sigmoids (unused by
        ``"symmetric"``).
    epsilon : float or None
        Regulariser of ``"symmetric"`` (unused by the sigmoids).

    See Also
    --------
    ForwardForwardNetwork : The network that scores its layers with it.

    Notes
    -----
    :meth:`logits` takes a layer's activity and the size of its positive
    group; :meth:`logits_from_goodness` takes goodnesses already computed
    (the fused ReLU-goodness path of training).

    Examples
    --------
    Hinton's objective, on the mean of squares of all units:

    >>> import torch
    >>> from skff.nn import GoodnessObjective
    >>> ff = GoodnessObjective(norm="l2_squared", aggregation="mean", top_k=None,
    ...                        probability="sigmoid", threshold=1.0, alpha=10.0,
    ...                        epsilon=None)
    >>> h = torch.tensor([[1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    >>> ff.logits(h, n_positive=4)       # G = 2.5 and 0.5: 10 * (G - 1)
    tensor([15., -5.])

    Polar-FFA's symmetric objective on two groups of two units:

    >>> polar = GoodnessObjective(norm="l2", aggregation="sum", top_k=None,
    ...                           probability="symmetric", threshold=None,
    ...                           alpha=None, epsilon=1e-6)
    >>> polar.logits(torch.tensor([[3.0, 4.0, 0.0, 1.0]]), n_positive=2)   # log(5 / 1)
    tensor([1.6094])
    >>> polar.logits_from_goodness(torch.tensor([[5.0, 1.0]]))
    tensor([1.6094])
    """

    # Objectives stored before session 14 ranked top_k winners by |h|; an
    # unpickled one reads this class attribute and keeps doing so.
    top_k_by = "magnitude"

    def __init__(self, norm, aggregation, top_k, probability, threshold, alpha, epsilon):
        # Checked here, not at the first use (a KeyError or a TypeError there).
        if probability not in LOGIT_FUNCTIONS:
            raise ValueError(f"probability must be one of {sorted(LOGIT_FUNCTIONS)}, got {probability!r}.")
        values = {"epsilon": epsilon} if probability == "symmetric" else {"threshold": threshold, "alpha": alpha}
        missing = [name for name, value in values.items() if not isinstance(value, numbers.Real)]
        if missing:
            raise ValueError(f"probability={probability!r} needs a number for {', '.join(missing)}.")
        if top_k is not None and not (isinstance(top_k, numbers.Integral) and top_k >= 1):
            raise ValueError(f"top_k must be None or a positive int, got {top_k!r}.")
        self.norm = norm
        self.aggregation = aggregation
        self.top_k = top_k
        self.probability = probability
        self.threshold = threshold
        self.alpha = alpha
        self.epsilon = epsilon
        self.top_k_by = "value"

    def _goodness(self, h):
        return goodness(h, self.norm, self.aggregation, self.top_k, self.top_k_by)

    def logits(self, h, n_positive):
        """Log-odds that each row of ``h`` is a positive sample."""
        n_units = h.shape[-1]
        if n_positive >= n_units:
            g_pos = self._goodness(h)
            g_neg = torch.zeros_like(g_pos)
        elif 2 * n_positive == n_units:
            # Equal groups: both goodnesses from one view, one pass forward
            # and backward (no split/cat of the activity).
            g = self._goodness(h.view(*h.shape[:-1], 2, n_positive))
            g_pos, g_neg = g.unbind(-1)
        else:
            # split, not two slices: its backward is one cat instead of two
            # zero-filled full-size gradients that are then added.
            pos, neg = h.split([n_positive, h.shape[-1] - n_positive], dim=-1)
            g_pos = self._goodness(pos)
            g_neg = self._goodness(neg)
        return self._logits(g_pos, g_neg)

    def logits_from_goodness(self, g):
        """Log-odds from goodnesses of shape ``(n, 1)`` (all positive) or ``(n, 2)``."""
        if g.shape[-1] == 1:
            return self._logits(g[..., 0], torch.zeros_like(g[..., 0]))
        return self._logits(g[..., 0], g[..., 1])

    def _logits(self, g_pos, g_neg):
        return LOGIT_FUNCTIONS[self.probability](
            g_pos, g_neg, threshold=self.threshold, alpha=self.alpha, epsilon=self.epsilon
        )


def _uniform_(tensor, fan_in, generator):
    # PyTorch's nn.Linear default range, drawn from our own generator.
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        tensor.uniform_(-bound, bound, generator=generator)
    return tensor


class FFLayer(nn.Module):
    """A bias-free dense layer ``act(x W^T)``."""

    def __init__(self, in_features, out_features, activation, generator=None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        self.activation = activation
        self.weight = nn.Parameter(_uniform_(torch.empty(out_features, in_features), in_features, generator))

    def preactivation(self, x):
        return x @ self.weight.T

    def forward(self, x):
        return ACTIVATIONS[self.activation](self.preactivation(x))


def _table_rows(table, labels):
    """``table[labels]`` with a gradient that is fast and deterministic.

    On the CPU, index_select's backward (a sequential index_add) is several
    times faster than the accumulating index_put behind plain indexing. On a
    GPU index_add accumulates with atomics in no fixed order, so the same
    seed would not give the same model; a one-hot product's backward is a
    matrix product instead, and its cost is small next to ``W_x x``.
    """
    if table.device.type == "cpu":
        return table.index_select(0, labels)
    return F.one_hot(labels, table.shape[0]).to(table.dtype) @ table


class LabelledFFLayer(nn.Module):
    """First layer: features plus an appended label embedding, weight kept split."""

    def __init__(self, n_features, out_features, label_patterns, activation, generator=None):
        super().__init__()
        self.activation = activation
        fan_in = n_features + label_patterns.shape[1]
        self.weight = nn.Parameter(_uniform_(torch.empty(out_features, n_features), fan_in, generator))
        self.label_weight = nn.Parameter(
            _uniform_(torch.empty(out_features, label_patterns.shape[1]), fan_in, generator)
        )
        self.register_buffer("label_patterns", label_patterns.clone())

    def label_table(self):
        """Pre-activation contribution of every class, shape ``(n_classes, n_units)``."""
        return self.label_patterns @ self.label_weight.T

    def forward(self, x, labels):
        """Activity for ``x`` with ``labels`` embedded."""
        return ACTIVATIONS[self.activation](x @ self.weight.T + self.label_table().index_select(0, labels))

    def preactivation_pairs(self, x, labels_pos, labels_neg):
        """Pre-activation of ``[x with labels_pos; x with labels_neg]`` sharing ``W_x x``."""
        shared = x @ self.weight.T
        label_terms = _table_rows(self.label_table(), torch.cat([labels_pos, labels_neg]))
        return (shared.unsqueeze(0) + label_terms.view(2, *shared.shape)).reshape(-1, shared.shape[-1])

    def forward_all_classes(self, x):
        """Activity with every class embedded: rows ``i * n_classes + c``."""
        z = (x @ self.weight.T).unsqueeze(1) + self.label_table().unsqueeze(0)
        return ACTIVATIONS[self.activation](z.reshape(-1, z.shape[-1]))


class ForwardForwardNetwork(nn.Module):
    """A stack of layer-local Forward-Forward layers.

    The network of :class:`~skff.FFClassifier` and
    :class:`~skff.PolarFFClassifier` (their ``module_``). Layers are dense
    and bias-free. The first sees the features ``x`` and the code ``e(c)``
    of a class ``c`` (a row of ``label_patterns``); its weight is kept split
    as ``[W_x | W_label]``, so that

    ``h_1 = act(W_x x + W_label e(c))``,  ``h_l = act(W_l rms(h_(l-1)))``

    where ``rms`` divides the positive and the negative unit groups each by
    its root mean square, unequal groups brought to the same length
    (:func:`skff.functional.rms_normalize`). The
    activity passed on is detached: no gradient crosses a layer boundary,
    so the sum of the layer losses gives every layer the gradient of its
    own loss. Each layer's log-odds of "positive" comes from ``objective``.

    The network is used through its methods, not called: during training
    :meth:`layer_losses` gives the loss of each layer on positive samples
    (true labels) and negative ones (wrong labels); for prediction
    :meth:`class_scores` embeds every class and sums the per-layer log-odds
    (the classifier's ``decision_function``); :meth:`activities` returns
    the activity of every layer for given labels.

    Parameters
    ----------
    n_features : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Units per layer.
    label_patterns : Tensor of shape (n_classes, embedding_length)
        Code of each class appended to the features (one-hot or Bernoulli,
        see :func:`skff.functional.onehot_label_patterns`); stored as a
        buffer.
    activation : {"relu", "sigmoid", "tanh"}
        Activation of every layer.
    objective : GoodnessObjective
        Turns a layer's activity into its log-odds.
    n_positive : sequence of int
        Size of the positive group of each layer, from 1 to the layer's
        size (the layer's size for plain FF, about half of it for
        Polar-FFA).
    generator : torch.Generator or None, default=None
        Source of the initial weights, uniform in ``+-1 / sqrt(fan_in)``
        (PyTorch's default range for a linear layer).

    Attributes
    ----------
    layers : torch.nn.ModuleList
        The layers. The first has ``weight`` (``W_x``, shape ``(units,
        n_features)``), ``label_weight`` (``W_label``, shape ``(units,
        embedding_length)``) and the ``label_patterns`` buffer; each later
        one a ``weight`` of shape ``(units, units of the layer below)``.
    objective : GoodnessObjective
    n_positive : list of int

    See Also
    --------
    GoodnessObjective : Goodness and log-odds of a layer.
    skff.PolarFFClassifier : The estimator that trains this network.

    Examples
    --------
    A two-layer network for 4 features and 3 classes; one training step by
    hand, with each sample's next class as its wrong label:

    >>> import torch
    >>> from skff.functional import onehot_label_patterns
    >>> from skff.nn import ForwardForwardNetwork, GoodnessObjective
    >>> g = torch.Generator().manual_seed(0)
    >>> objective = GoodnessObjective(norm="l2_squared", aggregation="mean", top_k=None,
    ...                               probability="sigmoid", threshold=1.0, alpha=10.0,
    ...                               epsilon=None)
    >>> net = ForwardForwardNetwork(4, [8, 6], onehot_label_patterns(3), "relu",
    ...                             objective, n_positive=[8, 6], generator=g)
    >>> x = torch.randn(5, 4, generator=g)
    >>> y = torch.tensor([0, 1, 2, 0, 1])
    >>> losses = net.layer_losses(x, y, (y + 1) % 3)
    >>> losses.shape                     # one loss per layer
    torch.Size([2])
    >>> optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> losses.sum().backward()
    >>> optimizer.step()
    >>> net.class_scores(x, score_layers=[0, 1]).shape
    torch.Size([5, 3])
    >>> [h.shape for h in net.activities(x, y)]
    [torch.Size([5, 8]), torch.Size([5, 6])]

    The network of a fitted classifier predicts what the classifier does:

    >>> from sklearn.datasets import load_digits
    >>> from skff import PolarFFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:200] / 16, y[:200]
    >>> clf = PolarFFClassifier(hidden_layer_sizes=(32, 16), max_iter=1,
    ...                         random_state=0).fit(X, y)
    >>> net = clf.module_
    >>> type(net).__name__, net.n_positive
    ('ForwardForwardNetwork', [16, 8])
    >>> net.layers[0].weight.shape, net.layers[0].label_weight.shape
    (torch.Size([32, 64]), torch.Size([32, 100]))
    >>> scores = net.class_scores(torch.as_tensor(X, dtype=torch.float32), [0, 1])
    >>> bool((clf.classes_[scores.argmax(dim=1).numpy()] == clf.predict(X)).all())
    True
    """

    # Networks stored before session 14 normalised unequal polarity groups
    # each to unit mean square; an unpickled one reads this class attribute.
    equal_group_lengths = False

    def __init__(self, n_features, hidden_layer_sizes, label_patterns, activation, objective, n_positive, generator=None):
        super().__init__()
        self.equal_group_lengths = True
        sizes = list(hidden_layer_sizes)
        n_positive = list(n_positive)
        if len(n_positive) != len(sizes) or not all(1 <= p <= units for p, units in zip(n_positive, sizes)):
            # An empty positive group has no goodness (NaN loss), and a short
            # list would fail only when the unlisted layer is first scored.
            raise ValueError(
                f"n_positive must give, for each of the {len(sizes)} layers, a positive group of 1 to the "
                f"layer's units ({sizes}), got {n_positive}."
            )
        layers = [LabelledFFLayer(n_features, sizes[0], label_patterns, activation, generator)]
        layers += [FFLayer(a, b, activation, generator) for a, b in zip(sizes[:-1], sizes[1:])]
        self.layers = nn.ModuleList(layers)
        self.objective = objective
        self.n_positive = n_positive

    @property
    def n_classes(self):
        """Number of classes (rows of the first layer's ``label_patterns``)."""
        return self.layers[0].label_patterns.shape[0]

    def _pass_on(self, h, layer_index):
        # Detached: no gradient crosses a layer boundary (layer-local learning).
        return rms_normalize(h.detach(), self.n_positive[layer_index], equal_lengths=self.equal_group_lengths)

    def layer_losses(self, x, labels_pos, labels_neg, n_layers=None, first_trainable=0, sample_weight=None):
        """Loss of each trainable layer on positives ``(x, labels_pos)`` and negatives ``(x, labels_neg)``.

        Layers ``[first_trainable, n_layers)`` build a graph; earlier layers run
        without one (frozen, as in the greedy layer-wise schedule). Returns a
        tensor of shape ``(n_layers - first_trainable,)``.
        """
        n_layers = len(self.layers) if n_layers is None else n_layers
        n = x.shape[0]
        is_positive = torch.cat([x.new_ones(n), x.new_zeros(n)])
        weight = None if sample_weight is None else torch.cat([sample_weight, sample_weight])
        losses = []
        h = None
        for index in range(n_layers):
            trainable = index >= first_trainable
            with torch.set_grad_enabled(trainable and torch.is_grad_enabled()):
                if index == 0:
                    z = self.layers[0].preactivation_pairs(x, labels_pos, labels_neg)
                else:
                    z = self.layers[index].preactivation(self._pass_on(h, index - 1))
                n_groups = self._fused_groups(index) if trainable else None
                if n_groups:
                    h, g = relu_group_goodness(z, n_groups, self.objective.norm, self.objective.aggregation)
                    logits = self.objective.logits_from_goodness(g)
                else:
                    h = ACTIVATIONS[self.layers[index].activation](z)
                    if trainable:
                        logits = self.objective.logits(h, self.n_positive[index])
                if trainable:
                    losses.append(layer_loss(logits, is_positive, weight))
        return torch.stack(losses)

    def _fused_groups(self, index):
        """Number of equal polarity groups when the fused ReLU-goodness applies, else 0."""
        objective, units = self.objective, self.layers[index].weight.shape[0]
        if (self.layers[index].activation != "relu" or objective.top_k is not None
                or objective.norm not in ("l2", "l2_squared")):
            return 0
        n_positive = self.n_positive[index]
        if n_positive >= units:
            return 1
        return 2 if 2 * n_positive == units else 0

    def class_scores(self, x, score_layers, probability=False):
        """Summed per-layer log-odds of every class, shape ``(n_samples, n_classes)``.

        ``probability=True`` sums the per-layer probabilities ``sigmoid(s)``
        instead (Polar-FFA's prediction rule).
        """
        n_classes = self.n_classes
        if not score_layers or not all(0 <= i < len(self.layers) for i in score_layers):
            raise ValueError(f"score_layers must be non-empty indices in [0, {len(self.layers)}), got {score_layers!r}.")
        last = max(score_layers)
        h = self.layers[0].forward_all_classes(x)
        scores = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for index in range(last + 1):
            if index > 0:
                h = self.layers[index](self._pass_on(h, index - 1))
            if index in score_layers:
                logits = self.objective.logits(h, self.n_positive[index])
                scores += torch.sigmoid(logits) if probability else logits
        return scores.view(-1, n_classes)

    def activities(self, x, labels):
        """Activity of every layer for ``x`` with ``labels`` embedded (list of tensors)."""
        return self._activities_from(self.layers[0](x, labels), len(self.layers))

    def activity_pairs(self, x, labels_pos, labels_neg, n_layers=None):
        """Activities of ``[x with labels_pos; x with labels_neg]`` (``2 n`` rows) in the first ``n_layers``.

        Equal to :meth:`activities` of both label sets stacked, with ``W_x x``
        computed once, as in training.
        """
        first = self.layers[0]
        h = ACTIVATIONS[first.activation](first.preactivation_pairs(x, labels_pos, labels_neg))
        return self._activities_from(h, len(self.layers) if n_layers is None else n_layers)

    def _activities_from(self, first_activity, n_layers):
        out = [first_activity]
        for index in range(1, n_layers):
            out.append(self.layers[index](self._pass_on(out[-1], index - 1)))
        return out
