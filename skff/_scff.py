"""SCFFTransformer: unsupervised Self-Contrastive Forward-Forward features."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    FLOAT32_MAX,
    TorchModuleMixin,
    check_finite_outputs,
    check_layer_indices,
    check_layer_sizes,
    keeps_state_on_failure,
    map_in_chunks,
    probe_rows,
    to_tensor,
)
from ._device import make_generators, resolve_device
from ._engine import LayerLocalEngine, Stage
from .functional.contrastive import draw_shifts, random_translate
from .nn.scff import BiRNNSCFFLayer, ConvSCFFLayer, DenseSCFFLayer, SCFFNetwork

_PROBE_SIZE = 256  # training samples checked for a silent layer after every epoch
_DEFAULT_SIZES = {"dense": (500, 500), "conv": (32, 128), "birnn": (128,)}
# What the per-layer settings (and ``pairing``) left at None mean, per encoder.
_MLP_DEFAULTS = dict(  # the paper's MNIST MLP, Table F.5
    threshold_pos=(4.0, 1.0), threshold_neg=(6.0, 1.0), penalty=(1e-4, 0.0),
    learning_rate_init=(0.003, 0.002), weight_decay=1e-5, learning_rate_decay=(0.9, 0.6), pairing="streams",
)
_ENCODER_DEFAULTS = {
    "dense": _MLP_DEFAULTS,
    # The authors' MNIST CNN script: one threshold per layer for both terms,
    # every layer re-paired (their Algorithm 2). With the MLP's thresholds
    # the convolutional features end up worse than untrained ones.
    "conv": dict(
        threshold_pos=(1.0, 3.0), threshold_neg=(1.0, 3.0), penalty=0.0,
        learning_rate_init=(0.004, 0.003), weight_decay=3e-4, learning_rate_decay=0.7, pairing="repair",
    ),
    # The paper gives no MNIST recipe for the recurrent encoder.
    "birnn": _MLP_DEFAULTS,
}
# Hyper-parameters that take one value for every layer or one per layer.
_PER_LAYER = ("threshold_pos", "threshold_neg", "penalty", "learning_rate_init", "weight_decay",
              "learning_rate_decay", "max_iter", "augment_shift")


class SCFFTransformer(ClassNamePrefixFeaturesOutMixin, TorchModuleMixin, TransformerMixin, BaseEstimator):
    """Self-Contrastive Forward-Forward feature learning (Chen et al. 2024).

    Unsupervised: every sample is contrasted with itself. A layer sees pairs
    ``[a, b]`` through tied weights, ``z = W s(a) + W s(b) + bias`` (``s`` the
    per-sample standardisation); the positive pair is a sample with itself,
    the negative pair a sample with the one ``k`` places further in the
    mini-batch (``k`` random per batch). Each layer is trained on its own,
    after the layers below it are frozen (greedy), to make the goodness
    ``G = mean(relu(z)**2)`` of positives exceed ``threshold_pos`` and that
    of negatives stay below ``threshold_neg``::

        loss = softplus(threshold_pos - G+) + softplus(G- - threshold_neg) + penalty * ||G+||

    with AdamW. Layers pass on (and :meth:`transform` returns) the "triangle"
    activity ``relu(z - mean(z))``; the features of each layer in
    ``layers_out`` are standardised per sample and concatenated. Fit a linear
    model on them.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or None, default=None
        Units (dense), channels (conv) or hidden size per direction (birnn)
        of each layer, at least 2 each. ``None``: (500, 500) dense, (32, 128) conv, (128,)
        birnn. The paper used 2000-2000 on MNIST.
    encoder : {"dense", "conv", "birnn"}, default="dense"
        ``"conv"``: 5x5 then 3x3 convolutions (smaller on small images),
        each followed by a 4x4 stride-2 max-pooling of the triangle
        activity (along each axis longer than one pixel); the features of a
        layer are that map averaged over 2x2 quadrants. ``"birnn"``:
        bidirectional recurrent layers, the goodness taken per time step and
        direction; features are the final states of both
        directions (or their mean over time, see ``sequence_features``).
    input_shape : tuple of int or None, default=None
        Shape of one sample, which ``X`` holds flattened in C order:
        ``(channels, height, width)`` for ``"conv"``, ``(time_steps,
        features)`` for ``"birnn"``. ``None`` reads each row as a 1-D signal:
        ``(1, 1, n_features)`` and ``(n_features, 1)``. ``"dense"`` uses it
        only for ``augment_shift`` (images ``(channels, height, width)``).
    pairing : {"streams", "repair"} or None, default=None
        How layers after the first get their pairs. ``"streams"`` (the
        paper's Algorithm 1): the positive and negative outputs of the layer
        below. ``"repair"`` (Algorithm 2): positive outputs of the layer
        below, paired again as in the first layer. ``None``: ``"repair"``
        for ``"conv"`` (as the authors' MNIST CNN), ``"streams"`` otherwise.
    layers_out : array-like of int or None, default=None
        Layers whose features :meth:`transform` concatenates (``None``: all).
    sequence_features : {"final", "mean"}, default="final"
        ``"birnn"`` only: a layer's features are the final state of each
        direction (the step the paper reads out), or the mean of its states over the
        time steps. On MNIST rows the final state (after blank rows) keeps
        little of a random recurrent layer's view of the image and the mean
        gives much better features; learning the recurrence
        (``train_input_weights=False``) brings the final states up by 11-15
        points (``benchmarks/README.md``).
    standardize_samples : bool, default=True
        Whether the first layer standardises each sample over its own
        features (zero mean, unit variance per row; per image for
        ``"conv"``, per sequence for ``"birnn"``), the paper's input
        normalisation. Right for images and signals, whose shape rather
        than level carries the information; on tabular data it discards a
        row's overall level, and with few features nearly everything (two
        features keep only the sign of their difference). Set ``False`` for
        tabular data standardised per column (``StandardScaler``):
        5-fold CV, defaults, ``LogisticRegression`` on the features: iris
        0.747 -> 0.960, breast cancer 0.926 -> 0.974, ``make_circles``
        0.466 -> 0.992, digits 0.974 either way (``docs/scff.md``). Later
        layers always standardise their input.
    train_input_weights : bool, default=True
        ``"birnn"`` only: whether a recurrent layer's input weights
        ``weight_ih`` and bias learn with its recurrent weights ``weight_hh``
        (the paper trains both). ``False`` keeps them at their random
        initial values, a fixed random expansion of each time step, and
        SCFF learns only the recurrence. On MNIST rows (28 steps of 28
        pixels, 128 units, 10k images, seed 0) that is what makes learning
        pay: 89.5% against 81.5% for random weights with the mean readout
        and 78.9% against 64.4% with the final states (11-15 points over
        three seeds), where training both gains 1.6 and loses 4.6 points
        (seed 0); learned input weights on a few features per step seem to
        lose the variety of random ones. The learned recurrence needs enough
        updates (on MNIST rows 100 batches leave it below random weights,
        500 well above), and on 8x8 digits, whose 8 steps a random
        recurrence does not forget, it does worse than random weights
        (``benchmarks/README.md``): measure it on your data.
    augment_shift : int or array-like of int, default=0
        Image inputs only (``input_shape=(channels, height, width)``, any
        encoder but ``"birnn"``): while a layer trains, each member of a
        first-layer pair is translated by its own random offset of up to
        this many pixels per axis, so a positive pair is two shifted views
        of one image. A sequence gives one value per layer (its last value
        repeats): the authors' MNIST MLP trains layer 1 on plain images and
        layer 2 on views shifted by up to 2 pixels, ``augment_shift=(0, 2)``.
        ``transform`` never augments.
    threshold_pos : float, array-like of float or None, default=None
        ``threshold_pos`` of each layer: a scalar applies to every layer; from
        a sequence layer ``i`` takes value ``i``, its last value repeats
        for deeper layers, and values past the last layer go unused (so one
        setting serves networks of any depth, as the defaults do). ``None`` (for this and the next five per-layer
        parameters) takes the encoder's defaults: for ``"dense"`` and
        ``"birnn"`` the paper's MNIST MLP settings, ``threshold_pos=(4, 1)``,
        ``threshold_neg=(6, 1)``, ``penalty=(1e-4, 0)``,
        ``learning_rate_init=(0.003, 0.002)``, ``weight_decay=1e-5``,
        ``learning_rate_decay=(0.9, 0.6)``; for ``"conv"`` the authors'
        MNIST CNN settings, ``threshold_pos=threshold_neg=(1, 3)``,
        ``penalty=0``, ``learning_rate_init=(0.004, 0.003)``,
        ``weight_decay=3e-4``, ``learning_rate_decay=0.7``.
    threshold_neg : float, array-like of float or None, default=None
    penalty : float, array-like of float or None, default=None
        Weight ``lambda`` of the goodness-norm penalty.
    learning_rate_init : float, array-like of float or None, default=None
        AdamW learning rate per layer.
    weight_decay : float, array-like of float or None, default=None
        AdamW weight decay per layer.
    learning_rate_decay : float, array-like of float or None, default=None
        Learning rate factor applied after every epoch (exponential
        schedule; 1 keeps it constant).
    batch_size : int, default=100
        Samples per mini-batch (each gives one positive and ``n_negatives``
        negatives).
    n_negatives : int, default=1
        Negative pairs per positive pair: sample ``i`` of a batch is paired
        with the samples ``k_1, ..., k_p`` places further, for ``p`` distinct
        random shifts drawn per batch (at most ``batch_size - 1``), the
        ``p`` of the authors' code. In a dense or convolutional paired
        layer an extra negative is a sum of rows of the shared product
        ``W s(x)``, no further matrix product (the element-wise work still
        grows with the rows); a recurrent layer runs its recurrence once
        more, and a layer that reads the streams of the layer below gets
        one more stream per negative. The loss averages the negative term
        over all of them. On MNIST it did not improve the features
        (``docs/scff.md``).
    max_iter : int or array-like of int, default=20
        Epochs per layer. ``0`` keeps a layer's random initial weights (the
        untrained baseline to compare learned features with).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data; stop a layer when its
        SCFF loss there has not improved by ``tol`` for ``n_iter_no_change``
        epochs and keep its best weights. Without it, a layer stops when its
        training loss stops improving by ``tol``. :meth:`partial_fit` refuses
        it (``ValueError``), as ``MLPClassifier`` does.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    tol : float, default=1e-4
    random_state : int, RandomState instance or None, default=None
        Initial weights, shuffling, pairing shifts and the validation split.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU. A model fitted on a
        GPU pickles and transforms on a CPU-only machine.
    verbose : int, default=0
        1 shows a progress bar per layer; 2 also one line per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights on the next :meth:`fit`
        (``history_`` accumulates; ``n_iter_`` counts this fit's epochs).
    callbacks : list of skff.callbacks.Callback or None, default=None
        Hooks called at the start, after every epoch (can stop training) and
        at the end of training (see :mod:`skff.callbacks`).

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.
    module_ : skff.nn.SCFFNetwork
        The trained encoder (on the CPU).
    input_shape_ : tuple of int
    n_layers_ : int
    callbacks_ : list of skff.callbacks.Callback
        The callbacks that ran: deep copies of ``callbacks`` (which ``fit``
        leaves unchanged); read their state here.
    n_iter_ : int
        Epochs run by the last call to :meth:`fit` (summed over layers) or
        :meth:`partial_fit` (1), as in ``MLPClassifier``; ``len(history_)``
        counts them all.
    history_ : skorch.history.History
        One entry per epoch: ``epoch``, ``stage`` (the layer trained, or
        ``"all layers"`` for :meth:`partial_fit`), ``loss`` (summed over the
        layers trained), ``layer_loss``, ``validation_score`` (minus the
        validation loss, with early stopping), ``seconds``.
    device_ : str

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : another unsupervised feature learner.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skff import SCFFTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> scff = SCFFTransformer(hidden_layer_sizes=(200,), max_iter=3, random_state=0)
    >>> scff.fit_transform(X).shape
    (1797, 200)
    >>> clf = make_pipeline(scff, LogisticRegression(max_iter=1000)).fit(X[:1500], y[:1500])
    >>> clf.score(X[1500:], y[1500:]) > 0.9
    True
    """

    _ARCHITECTURE_PARAMS = ("hidden_layer_sizes", "encoder", "input_shape", "pairing", "sequence_features",
                            "standardize_samples", "threshold_pos", "threshold_neg", "penalty")
    _PARAMS_ADDED = {"standardize_samples": True}

    _parameter_constraints = {
        "hidden_layer_sizes": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"dense", "conv", "birnn"})],
        "input_shape": [None, "array-like"],
        "pairing": [None, StrOptions({"streams", "repair"})],
        "layers_out": [None, "array-like"],
        "sequence_features": [StrOptions({"final", "mean"})],
        "standardize_samples": ["boolean"],
        "train_input_weights": ["boolean"],
        "augment_shift": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "threshold_pos": [None, Real, "array-like"],
        "threshold_neg": [None, Real, "array-like"],
        "penalty": [None, Interval(Real, 0, None, closed="left"), "array-like"],
        "learning_rate_init": [None, Interval(Real, 0, None, closed="neither"), "array-like"],
        "weight_decay": [None, Interval(Real, 0, None, closed="left"), "array-like"],
        "learning_rate_decay": [None, Interval(Real, 0, 1, closed="right"), "array-like"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [None, list],
    }

    def __init__(
        self,
        hidden_layer_sizes=None,
        *,
        encoder="dense",
        input_shape=None,
        pairing=None,
        layers_out=None,
        sequence_features="final",
        standardize_samples=True,
        train_input_weights=True,
        augment_shift=0,
        threshold_pos=None,
        threshold_neg=None,
        penalty=None,
        learning_rate_init=None,
        weight_decay=None,
        learning_rate_decay=None,
        batch_size=100,
        n_negatives=1,
        max_iter=20,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.encoder = encoder
        self.input_shape = input_shape
        self.pairing = pairing
        self.layers_out = layers_out
        self.sequence_features = sequence_features
        self.standardize_samples = standardize_samples
        self.train_input_weights = train_input_weights
        self.augment_shift = augment_shift
        self.threshold_pos = threshold_pos
        self.threshold_neg = threshold_neg
        self.penalty = penalty
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_negatives = n_negatives
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # -- configuration -------------------------------------------------------------
    def _layer_sizes(self):
        value = _DEFAULT_SIZES[self.encoder] if self.hidden_layer_sizes is None else self.hidden_layer_sizes
        return check_layer_sizes(value, minimum=2, why=" (the triangle activation relu(z - mean(z)) of a single "
                                                       "unit or channel is always 0)")

    def _architecture_value(self, name):
        if name == "hidden_layer_sizes":
            return self._layer_sizes()
        if name == "pairing":
            return self._pairing()
        if name == "input_shape":
            return self._resolve_input_shape(self.n_features_in_)
        if name in _PER_LAYER:
            return self._per_layer(name, len(self._layer_sizes()))
        return getattr(self, name)

    def _per_layer(self, name, n_layers):
        """One value per layer: a scalar for all, or layer ``i`` takes the ``i``-th
        value of a sequence (its last value repeats for deeper layers)."""
        value = getattr(self, name)
        if value is None:
            value = _ENCODER_DEFAULTS[self.encoder][name]
        values = np.atleast_1d(np.asarray(value, dtype=float))
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{name} must be a number or a non-empty sequence, got {value!r}.")
        if not (np.abs(values) <= FLOAT32_MAX).all():
            raise ValueError(f"{name} must be finite in float32 (|value| <= 3.4e38), got {value!r}.")
        # _parameter_constraints checks a scalar; each value of a sequence is
        # held to the same range here.
        interval = next((c for c in self._parameter_constraints[name] if isinstance(c, Interval)), None)
        if interval is not None and not all(_within(interval, v) for v in values):
            raise ValueError(f"{name} must be {interval} for every layer (one value for all layers or one per "
                             f"layer), got {value!r}.")
        return [float(values[min(i, values.size - 1)]) for i in range(n_layers)]

    def _augments(self):
        return bool(np.any(np.asarray(self.augment_shift, dtype=float) > 0))

    def _pairing(self):
        return _ENCODER_DEFAULTS[self.encoder]["pairing"] if self.pairing is None else self.pairing

    def _resolve_input_shape(self, n_features):
        if self.input_shape is None:
            if self._augments():
                raise ValueError("augment_shift needs input_shape=(channels, height, width) of the images.")
            return {"dense": (n_features,), "conv": (1, 1, n_features), "birnn": (n_features, 1)}[self.encoder]
        entries = np.atleast_1d(np.asarray(self.input_shape, dtype=float))
        if entries.ndim != 1 or not np.all(entries == np.round(entries)):
            raise ValueError(f"input_shape must hold whole numbers, got {self.input_shape!r}.")
        shape = tuple(int(s) for s in entries)
        expected = 2 if self.encoder == "birnn" else 3
        names = "(time_steps, features)" if self.encoder == "birnn" else "(channels, height, width)"
        if self._augments() and self.encoder == "birnn":
            raise ValueError("augment_shift translates images; it is not available for encoder='birnn'.")
        if len(shape) != expected or min(shape) < 1:
            raise ValueError(f"input_shape for encoder={self.encoder!r} must be {names}, got {self.input_shape!r}.")
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"input_shape={shape} holds {int(np.prod(shape))} values per sample but X has "
                f"{n_features} features."
            )
        return shape

    def _layers_out(self, n_layers):
        return check_layer_indices(self.layers_out, n_layers, "layers_out")

    def _build_network(self, input_shape, generator):
        sizes = self._layer_sizes()
        layers = []
        shape = input_shape
        for index, size in enumerate(sizes):
            paired = index == 0 or self._pairing() == "repair"
            if self.encoder == "dense":
                layer = DenseSCFFLayer(int(np.prod(shape)), size, paired, generator)
            elif self.encoder == "conv":
                # 5x5 first, then 3x3 (the paper's pattern), never wider than
                # the map: a 1-pixel-high signal gets 1xk kernels.
                kernel = 5 if index == 0 else 3
                layer = ConvSCFFLayer(shape[0], size, _fit_kernel(kernel, shape[1:]), paired, generator)
            else:
                layer = BiRNNSCFFLayer(shape[-1], size, paired, generator, readout=self.sequence_features)
            layers.append(layer)
            shape = layer.output_shape(shape)
        n = len(sizes)
        return SCFFNetwork(
            layers,
            self._per_layer("threshold_pos", n),
            self._per_layer("threshold_neg", n),
            self._per_layer("penalty", n),
            input_shape,
            standardize_input=self.standardize_samples,
        )

    # -- fit / transform -----------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the encoder from ``X`` alone, layer by layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over ``X``, continuing from the current weights.

        For data streamed in chunks (larger than memory): call it once per
        chunk, as often as needed. Greedy layer-by-layer training needs
        passes over all the data, so here every layer learns on every batch
        (each from the layers below as they are at that moment, detached),
        with its own learning rate, weight decay and thresholds; there is no
        learning-rate decay and no early stopping. The AdamW moments carry
        over from one call to the next.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least 2 samples (negative pairs need a partner).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._revalidate_params()
        return self._fit(X, incremental=True)

    @keeps_state_on_failure
    def _fit(self, X, incremental=False):
        warm = hasattr(self, "module_") and (incremental or self.warm_start)
        X = validate_data(self, X, dtype=np.float32, reset=not warm)
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to form negative pairs, got n_samples={X.shape[0]}."
            )
        if X.shape[1] < 2 and self.standardize_samples:
            # Standardising a single value per sample leaves 0: every sample
            # would look the same and the features would be constant.
            raise ValueError(
                f"{type(self).__name__} needs at least 2 features to standardise each sample, got 1 feature(s); "
                "standardize_samples=False takes the samples as they are."
            )
        input_shape = self.input_shape_ if warm else self._resolve_input_shape(X.shape[1])
        sizes = self._layer_sizes()
        n_layers = len(sizes)
        self._layers_out(n_layers)  # a bad layers_out fails before training, not after
        settings = {name: self._per_layer(name, n_layers) for name in _PER_LAYER}
        if not self.train_input_weights and self.encoder != "birnn":
            raise ValueError(
                "train_input_weights=False applies to encoder='birnn' only (it would leave a "
                f"{self.encoder!r} encoder nothing to learn)."
            )
        if not self.train_input_weights and input_shape[0] < 2:
            raise ValueError(
                "train_input_weights=False learns only the recurrent weights, which need sequences of at "
                f"least 2 time steps; input_shape={input_shape} has 1."
            )

        device = resolve_device(self.device)
        rng = self._training_random_state(incremental, warm)
        cpu_gen, device_gen = make_generators(rng, device)
        X_val = None
        early_stopping = self._early_stopping(incremental)
        if early_stopping:
            X, X_val = train_test_split(X, test_size=self.validation_fraction,
                                        random_state=rng.randint(np.iinfo(np.int32).max))
            if X.shape[0] < 2 or X_val.shape[0] < 2:
                raise ValueError("early_stopping needs at least 2 training and 2 validation samples.")

        network = self._warm_module(device) if warm else self._build_network(input_shape, cpu_gen).to(device)
        if self.encoder == "birnn":
            # Frozen tensors get no gradient, so AdamW neither steps nor
            # decays them; they stay in the optimiser, whose state therefore
            # carries over partial_fit calls whichever way this is set.
            for layer in network.layers:
                layer.weight_ih.requires_grad_(self.train_input_weights)
                layer.bias.requires_grad_(self.train_input_weights)
        X_t = to_tensor(X, device)
        n_samples = X_t.shape[0]

        def augmenter(max_shift):
            if not max_shift:
                return None
            return lambda images: random_translate(images, max_shift, device_gen)

        augments = [augmenter(int(v)) for v in settings["augment_shift"]]

        def step(indices, stage):
            if indices.numel() == 1:
                # A lone last sample has nobody to form a negative with.
                other = torch.randint(1, n_samples, (1,), generator=cpu_gen).to(device)
                indices = torch.cat([indices, (indices + other) % n_samples])
            # Distinct shifts, so that no negative pair is drawn twice.
            shift = draw_shifts(indices.numel(), self.n_negatives, cpu_gen)
            x = X_t[indices]
            return torch.stack([network.layer_loss(x, i, shift, augments[i]) for i in stage.trainable])

        validation_score = None
        if early_stopping:
            X_val_t = to_tensor(X_val, device)

            def validation_score(stage):
                # Fixed pairing (the next sample) so that epochs are comparable.
                total, count = 0.0, 0
                size = max(self.batch_size, 2)
                with torch.no_grad():
                    for start in range(0, X_val_t.shape[0], size):
                        block = X_val_t[start : start + size]
                        if block.shape[0] < 2:
                            continue
                        loss = network.layer_loss(block, stage.trainable[0], 1)
                        total += float(loss) * block.shape[0]
                        count += block.shape[0]
                return -total / count

        probe = X_t[probe_rows(X_t.shape[0], _PROBE_SIZE, X_t.device)]

        def collapsed_layers(stage):
            # A layer whose positive pairs all have zero goodness gets no
            # gradient (its loss is stuck at softplus(threshold_pos) + ...).
            with torch.no_grad():
                goodness = network.positive_goodness(probe, stage.n_layers)
            return [(i, f"no unit of layer {i + 1} responds to any probed training sample (its goodness is 0 "
                        "everywhere), and no gradient can revive it")
                    for i, g in enumerate(goodness) if not bool(g.any())]

        stages = [
            Stage(
                trainable=list(range(n_layers)),
                n_layers=n_layers,
                max_iter=1,
                learning_rate=settings["learning_rate_init"],
                weight_decay=settings["weight_decay"],
            )
        ] if incremental else [
            Stage(
                trainable=[i],
                n_layers=i + 1,
                name=f"layer {i + 1}",
                max_iter=int(settings["max_iter"][i]),
                learning_rate=settings["learning_rate_init"][i],
                weight_decay=settings["weight_decay"][i],
                learning_rate_decay=settings["learning_rate_decay"][i],
            )
            for i in range(n_layers)
        ]
        engine = LayerLocalEngine(
            max_iter=int(settings["max_iter"][0]),
            batch_size=self.batch_size,
            learning_rate_init=settings["learning_rate_init"][0],
            early_stopping=early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            estimator_name=type(self).__name__,
            optimizer="adamw",
        )
        history = self._history_to_extend(warm)
        epochs_before = len(history)
        network.train()
        result = engine.run(
            network.layers, n_samples, step, stages, generator=cpu_gen, device=device,
            history=history, validation_score=validation_score,
            collapsed_layers=collapsed_layers,
            callbacks=self._training_callbacks(warm),
            estimator=self, network=network, incremental=incremental,
            optimizer_states=self._carried_optimizer_states(incremental, warm),
        )
        self._keep_optimizer_states(incremental, result)
        self._store_module(network, device)
        self.input_shape_ = input_shape
        self.n_layers_ = n_layers
        self.history_ = history
        self.n_iter_ = len(history) - epochs_before
        with torch.inference_mode():
            zeros = torch.zeros(1, X.shape[1], device=device)
            self._layer_n_features = [int(network.features(zeros, [i]).shape[1]) for i in range(n_layers)]
        return self

    @property
    def _n_features_out(self):
        # Read at call time, like transform: layers_out may be set after fit.
        return sum(self._layer_n_features[i] for i in self._layers_out(self.n_layers_))

    def transform(self, X):
        """Standardised SCFF features of each layer in ``layers_out``, concatenated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            float32 for float32 ``X``, else float64 (computed in float32).
        """
        check_is_fitted(self)
        # Computed in float32; returned in X's float dtype (float64 for other
        # inputs), as scikit-learn's transformers do.
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        device, network = self._network_on_device()
        layers_out = self._layers_out(self.n_layers_)
        # 4x the classifiers' chunk: their rows fan out over the classes, these
        # do not. Each chunk's features go to the CPU as they are made (on a
        # GPU, all rows' features at once can outweigh X).
        features = map_in_chunks(lambda block: network.features(block, layers_out), to_tensor(X, "cpu"), scale=4,
                                 out_device="cpu", device=device).numpy()
        check_finite_outputs(self, X, features, "features")
        return features.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _within(interval, value):
    """Whether a float ``value`` lies in ``interval``; an integer interval also needs a whole number."""
    if interval.type is Integral:
        return value == round(value) and interval.is_satisfied_by(int(value))
    return interval.is_satisfied_by(float(value))


def _fit_kernel(kernel, spatial):
    """Odd kernel sizes no larger than the (height, width) of the map."""
    return tuple(min(kernel, s if s % 2 else max(s - 1, 1)) for s in spatial)
