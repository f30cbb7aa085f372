"""Forward-Forward classifiers: Hinton's FF and Polar-FFA on one base.

``PolarFFClassifier`` is the general machinery (positive and negative unit
groups, several probability functions); ``FFClassifier`` is its non-polar
configuration: every unit is positive and the probability is Hinton's
``sigmoid(alpha * (G - threshold))``.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._base import (
    FLOAT32_MAX,
    TorchModuleMixin,
    check_finite_outputs,
    check_layer_indices,
    check_layer_sizes,
    keeps_state_on_failure,
    probe_rows,
    map_in_chunks,
    to_tensor,
)
from ._device import make_generators, resolve_device
from ._engine import LayerLocalEngine, layerwise_stages, simultaneous_stages
from .functional import (
    bernoulli_label_patterns,
    hoyer_sparsity,
    onehot_label_patterns,
    sample_wrong_labels,
)
from .nn import ForwardForwardNetwork, GoodnessObjective

# Training samples whose activity is probed each epoch for the sparsity history:
# enough for a mean Hoyer sparsity to about 0.005. On small data sets the probe
# is not free: with an epoch of 11 batches (digits) a probe of 512 costs about
# 11% of the fit, one of 256 about 6% (fastest of 9 fits; medians are noisier).
_PROBE_SIZE = 256


class _BaseForwardForward(TorchModuleMixin, ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the Forward-Forward classifiers."""

    _ARCHITECTURE_PARAMS = ("hidden_layer_sizes", "activation", "goodness", "goodness_aggregation", "top_k",
                            "threshold", "alpha", "label_embedding")

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "sigmoid", "tanh"})],
        "goodness": [StrOptions({"l1", "l2", "l2_squared"})],
        "goodness_aggregation": [StrOptions({"sum", "mean"})],
        "top_k": [None, Interval(Integral, 1, None, closed="left")],
        # Also finite in float32 (checked in fit: an Interval bound at
        # float32's maximum defeats scikit-learn's invalid-value generator).
        "threshold": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "label_embedding": [StrOptions({"onehot", "bernoulli"})],
        "negatives": [StrOptions({"random", "hard"})],
        "predict_layers": [None, "array-like"],
        "predict_score": [StrOptions({"log_odds", "probability"})],
        "schedule": [StrOptions({"simultaneous", "layerwise"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "callbacks": [None, list],
    }

    # -- configuration hooks (what makes FF and Polar-FF differ) -------------
    def _probability(self):
        raise NotImplementedError

    def _positive_units(self, n_units):
        raise NotImplementedError

    def _epsilon(self):
        return 1e-6

    # -- helpers ---------------------------------------------------------------
    def _layer_sizes(self):
        return check_layer_sizes(self.hidden_layer_sizes)

    def _architecture_value(self, name):
        return self._layer_sizes() if name == "hidden_layer_sizes" else getattr(self, name)

    def _score_layers(self, n_layers):
        return check_layer_indices(self.predict_layers, n_layers, "predict_layers")

    def _build_network(self, n_features, n_classes, generator):
        sizes = self._layer_sizes()
        if self.label_embedding == "onehot":
            patterns = onehot_label_patterns(n_classes)
        else:
            patterns = bernoulli_label_patterns(n_classes, generator=generator)
        objective = GoodnessObjective(
            norm=self.goodness,
            aggregation=self.goodness_aggregation,
            top_k=self.top_k,
            probability=self._probability(),
            threshold=float(self.threshold),
            alpha=float(self.alpha),
            epsilon=self._epsilon(),
        )
        return ForwardForwardNetwork(
            n_features,
            sizes,
            patterns,
            self.activation,
            objective,
            [self._positive_units(s) for s in sizes],
            generator=generator,
        )

    # -- fit -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network layer-locally on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type; at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights multiplying each sample's loss (its positive
            and its negative term) in every layer. They are relative: only
            their ratios matter (they are rescaled to mean 1).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current weights.

        For data streamed in chunks (larger than memory): call it once per
        chunk, as often as needed. Every layer is updated on every batch
        (``schedule`` is not used), there is no early stopping, and the Adam
        moments carry over from one call to the next. The first call builds
        the network and must name every class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All classes that will ever appear; required on the first call,
            optional (and must match) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit` (rescaled to mean 1 within each call).

        Returns
        -------
        self : object
        """
        self._revalidate_params()
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    @keeps_state_on_failure
    def _fit(self, X, y, sample_weight, incremental=False, classes=None):
        fitted = hasattr(self, "module_")
        warm = fitted and (incremental or self.warm_start)
        X, y = validate_data(self, X, y, dtype=np.float32, reset=not warm)
        check_classification_targets(y)
        classes, y_encoded = self._encode_labels(y, incremental, not fitted, classes, warm)
        weights = self._sample_weights(X, y_encoded, sample_weight, classes, incremental)
        sizes = self._layer_sizes()
        score_layers = self._score_layers(len(sizes))
        if self.top_k is not None:
            groups = [g for s in sizes for g in {self._positive_units(s), s - self._positive_units(s)} if g]
            if self.top_k > min(groups):
                raise ValueError(
                    f"top_k={self.top_k} exceeds the smallest group of units it applies to ({min(groups)}); "
                    "inhibition would silently do nothing there."
                )
        for name in ("threshold", "alpha"):
            # Computed in float32, where larger values are inf (the loss then
            # became NaN, reported as a learning-rate problem).
            if abs(getattr(self, name)) > FLOAT32_MAX:
                raise ValueError(f"{name}={getattr(self, name)!r} is beyond float32's range (|{name}| <= 3.4e38), "
                                 "in which the model computes.")

        device = resolve_device(self.device)
        rng = self._training_random_state(incremental, warm)
        cpu_gen, device_gen = make_generators(rng, device)

        X_val = y_val = weights_val = None
        early_stopping = self._early_stopping(incremental)
        if early_stopping:
            n_classes_seen = np.unique(y_encoded).size
            # Stratified when it can be: every class needs two samples and
            # each part room for one sample per class; otherwise (small data,
            # many classes) a plain random split rather than an error.
            n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
            stratifiable = np.bincount(y_encoded).min() >= 2 and min(n_val, X.shape[0] - n_val) >= n_classes_seen
            stratify = y_encoded if stratifiable else None
            split = train_test_split(
                X,
                y_encoded,
                *([] if weights is None else [weights]),
                test_size=self.validation_fraction,
                random_state=rng.randint(np.iinfo(np.int32).max),
                stratify=stratify,
            )
            X, X_val, y_encoded, y_val = split[:4]
            if weights is not None:
                weights, weights_val = split[4], split[5]
                if not weights.sum() > 0:
                    raise ValueError(
                        "sample weights (times class weights) sum to zero on the training part of the "
                        "early-stopping split; no sample would be learned. Change validation_fraction or "
                        "random_state, or turn early_stopping off."
                    )
                weights = weights / weights.mean()

        network = self._warm_module(device) if warm else self._build_network(X.shape[1], classes.size, cpu_gen)
        network = network.to(device)
        X_t = to_tensor(X, device)
        y_t = torch.as_tensor(y_encoded, dtype=torch.long, device=device)
        w_t = None if weights is None else to_tensor(weights, device)
        n_classes = classes.size

        probability = self.predict_score == "probability"

        def stage_layers(stage):
            # The layers the model scores with, among those trained so far
            # (the last one trained when none of predict_layers is yet).
            return [i for i in score_layers if i < stage.n_layers] or [stage.n_layers - 1]

        def step(indices, stage):
            xb, yb = X_t[indices], y_t[indices]
            if self.negatives == "hard":
                y_neg = self._hardest_wrong_labels(network, xb, yb, stage_layers(stage), probability)
            else:
                y_neg = sample_wrong_labels(yb, n_classes, generator=device_gen)
            return network.layer_losses(xb, yb, y_neg, n_layers=stage.n_layers, first_trainable=stage.trainable[0],
                                        sample_weight=None if w_t is None else w_t[indices])

        validation_score = None
        if early_stopping:
            X_val_t = to_tensor(X_val, device)
            y_val_t = torch.as_tensor(y_val, dtype=torch.long, device=device)

            w_val_t = None if weights is None or not weights_val.sum() > 0 else to_tensor(weights_val, device)

            def validation_score(stage):
                # Accuracy on the held-out part, weighted as the training loss is.
                scores = _class_scores(network, X_val_t, stage_layers(stage), probability)
                correct = (scores.argmax(dim=1) == y_val_t).float()
                if w_val_t is None:
                    return float(correct.mean())
                return float((correct * w_val_t).sum() / w_val_t.sum())

        # The probe's wrong labels come from the same generator as its rows.
        probe_gen = torch.Generator(device=device).manual_seed(0)
        probe = probe_rows(X_t.shape[0], _PROBE_SIZE, device, probe_gen)
        probe_neg = sample_wrong_labels(y_t[probe], n_classes, generator=probe_gen)

        def probe_pairs(stage):
            with torch.inference_mode():
                return network.activity_pairs(X_t[probe], y_t[probe], probe_neg, stage.n_layers)

        # The engine checks for collapsed layers and then records the epoch's
        # metrics, with no step in between: both read one forward pass of the
        # probe (the check is skipped in incremental passes, hence the fallback).
        checked_pairs = []

        def collapsed_layers(stage):
            checked_pairs[:] = [probe_pairs(stage)]
            return _collapsed_layers(checked_pairs[0])

        def epoch_metrics(stage):
            pairs = checked_pairs.pop() if checked_pairs else probe_pairs(stage)
            sparsity = [hoyer_sparsity(h).view(2, -1).mean(dim=1).tolist() for h in pairs]
            # Layers a layerwise schedule has not reached yet are NaN, so
            # every epoch has one value per layer.
            sparsity += [[float("nan")] * 2] * (len(network.layers) - len(sparsity))
            return {
                "sparsity_positive": [pos for pos, _ in sparsity],
                "sparsity_negative": [neg for _, neg in sparsity],
            }

        engine = LayerLocalEngine(
            max_iter=1 if incremental else self.max_iter,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate_init,
            early_stopping=early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            estimator_name=type(self).__name__,
        )
        layerwise = self.schedule == "layerwise" and not incremental
        stages = (layerwise_stages if layerwise else simultaneous_stages)(len(sizes))
        history = self._history_to_extend(warm)
        epochs_before = len(history)
        network.train()
        result = engine.run(
            network.layers,
            X_t.shape[0],
            step,
            stages,
            generator=cpu_gen,
            device=device,
            history=history,
            validation_score=validation_score,
            epoch_metrics=epoch_metrics,
            collapsed_layers=collapsed_layers,
            callbacks=self._training_callbacks(warm),
            estimator=self,
            network=network,
            incremental=incremental,
            optimizer_states=self._carried_optimizer_states(incremental, warm),
        )
        self.classes_ = classes
        self._store_module(network, device)
        self.n_layers_ = len(sizes)
        # As MLPClassifier: with warm_start the curves accumulate over fits,
        # n_iter_ counts the epochs of this call.
        self.history_ = history
        self.n_iter_ = len(history) - epochs_before
        self.loss_curve_ = [entry["loss"] for entry in history]
        self.validation_scores_ = (
            [entry["validation_score"] for entry in history if "validation_score" in entry]
            if early_stopping
            else None
        )
        self.best_validation_score_ = result.best_validation_score if early_stopping else None
        self._keep_optimizer_states(incremental, result)
        return self

    def _encode_labels(self, y, incremental, first_call, classes, warm):
        """``(classes, y_encoded)``, checking the classes against earlier fits."""
        if incremental:
            if first_call:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit.")
                classes = _check_classes(classes)
            else:
                if classes is not None and not np.array_equal(_check_classes(classes), self.classes_):
                    raise ValueError(
                        f"classes={np.asarray(classes).tolist()} differs from the classes of the first "
                        f"partial_fit call, {self.classes_.tolist()}."
                    )
                classes = self.classes_
            y_encoded = _label_indices(y, classes, "not in classes")
        else:
            classes, y_encoded = np.unique(y, return_inverse=True)
            if warm and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"warm_start=True but y has classes {classes.tolist()} while the model was fitted on "
                    f"{self.classes_.tolist()}."
                )
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]!r}."
            )
        return classes, y_encoded

    def _sample_weights(self, X, y_encoded, sample_weight, classes, incremental):
        """Per-sample loss weights (sample_weight times class_weight); None if uniform.

        ``fit``: the product, rescaled to mean 1. ``partial_fit``: sample
        weights rescaled to mean 1 within the chunk, times class weights
        rescaled to mean 1 over the classes, so that a class weight keeps its
        ratio to the others from chunk to chunk (a chunk may hold one class).
        """
        if sample_weight is None and self.class_weight is None:
            return None
        # float64 until rescaled: only ratios matter, so 1e-50 or 1e40 for
        # every sample must not underflow to zero or overflow float32.
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not weights.max() > 0:
            raise ValueError("sample weights sum to zero: no sample would be learned.")
        weights = weights / weights.max()
        weights /= weights.mean()
        if self.class_weight is not None:
            if self.class_weight == "balanced" and incremental:
                raise ValueError(
                    "class_weight='balanced' is not available in partial_fit, which sees one chunk at a "
                    "time; pass class_weight=dict(zip(classes, sklearn.utils.class_weight."
                    "compute_class_weight('balanced', classes=classes, y=y_sample))) computed on a "
                    "representative sample of the labels."
                )
            if self.class_weight == "balanced":
                per_class = compute_class_weight("balanced", classes=np.arange(classes.size), y=y_encoded)
            else:
                unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
                if unknown:
                    raise ValueError(f"class_weight names classes that are not in the data: {unknown}.")
                per_class = np.array([self.class_weight.get(c, 1.0) for c in classes.tolist()], dtype=float)
                if not np.isfinite(per_class).all() or (per_class < 0).any():
                    raise ValueError(f"class_weight values must be finite and non-negative, got {self.class_weight}.")
            if not per_class.max() > 0:
                raise ValueError(f"sample weights (times class weights) sum to zero: class_weight {self.class_weight} "
                                 "gives every class weight 0.")
            per_class = per_class / per_class.max()
            weights = weights * (per_class / per_class.mean() if incremental else per_class)[y_encoded]
            if not weights.sum() > 0:
                raise ValueError("sample weights (times class weights) sum to zero: no sample would be learned.")
            if not incremental:
                weights /= weights.mean()
        return weights.astype(np.float32)

    @staticmethod
    def _hardest_wrong_labels(network, x, y, layers, probability):
        """The wrong label each sample currently scores highest (hard negatives)."""
        with torch.no_grad():
            scores = network.class_scores(x, layers, probability)
            scores[torch.arange(y.shape[0], device=y.device), y] = -torch.inf
            return scores.argmax(dim=1)

    # -- inference -------------------------------------------------------------
    def _class_scores(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        device, network = self._network_on_device()
        layers = self._score_layers(self.n_layers_)
        probability = self.predict_score == "probability"
        scores = _class_scores(network, to_tensor(X, "cpu"), layers, probability, device)
        scores = scores.cpu().numpy().astype(np.float64)
        # Finite in float32 yet too large for the goodness (a sum of squares):
        # the scores would be NaN and predict a constant.
        check_finite_outputs(self, X, scores, "class scores")
        return scores

    def decision_function(self, X):
        """Per-class score: summed log-odds (or probabilities) "positive" over ``predict_layers``.

        What is summed follows ``predict_score``. For plain FF the summed
        log-odds are an increasing function of the accumulated goodness, so
        their argmax is Hinton's prediction rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for
            binary problems (score of ``classes_[1]`` minus that of ``classes_[0]``).
        """
        scores = self._class_scores(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict_proba(self, X):
        """Class probabilities from the per-class scores; rows sum to one.

        With ``predict_score="log_odds"`` the softmax of the summed
        log-odds: for the sigmoid probability functions ``alpha`` acts as an
        inverse temperature on the goodness (``threshold`` cancels out).
        With ``"probability"`` the summed per-layer probabilities divided by
        their total over the classes (uniform where every class scores 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self._class_scores(X)
        if self.predict_score == "probability":
            total = scores.sum(axis=1, keepdims=True)
            return np.divide(scores, total, out=np.full_like(scores, 1.0 / scores.shape[1]), where=total > 0)
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``-inf`` for a class whose probability is 0.
        """
        with np.errstate(divide="ignore"):  # -inf for a class whose summed probability is 0
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Class with the highest accumulated score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        scores = self._class_scores(X)
        return self.classes_[scores.argmax(axis=1)]

    def latent_activations(self, X, y, *, negative=False, random_state=None):
        """Activity of every layer with a label embedded (the papers' latents).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels, as in ``classes_``.
        negative : bool, default=False
            ``False`` embeds ``y`` (positive data); ``True`` embeds a uniformly
            random wrong label per sample (negative data, as in training).
        random_state : int, RandomState instance or None
            Draws the wrong labels when ``negative=True``.

        Returns
        -------
        latents : list of ndarray, one ``(n_samples, n_units)`` array per layer
            (un-normalised activity, before any top-k inhibition).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}.")
        labels = torch.as_tensor(_label_indices(y, self.classes_, "not seen in fit"), dtype=torch.long)
        if negative:
            seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
            labels = sample_wrong_labels(labels, len(self.classes_), torch.Generator().manual_seed(int(seed)))
        device, network = self._network_on_device()
        latents = map_in_chunks(network.activities, to_tensor(X, "cpu"), labels=labels, out_device="cpu",
                                device=device)
        return [h.numpy() for h in latents]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = False
        return tags


def _check_classes(classes):
    """``partial_fit``'s ``classes``, checked as class labels, sorted and unique."""
    array = None if isinstance(classes, str) else np.asarray(classes)
    if array is None or array.ndim != 1 or array.size == 0:
        raise ValueError(f"classes must be a non-empty 1-D array-like of class labels, got {classes!r}.")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError(f"classes are not class labels: classes contain NaN, got {array.tolist()}.")
    try:
        check_classification_targets(array)
    except ValueError as exc:
        raise ValueError(f"classes are not class labels: {exc}") from None
    return np.unique(array)


def _label_indices(y, classes, meaning):
    """The index in ``classes`` (sorted, unique) of every label of ``y``.

    A label matches only a class equal to it: ``"10"`` is not ``10`` (a
    lookup through ``np.setdiff1d`` and ``np.searchsorted`` compared them as
    strings, and found string labels in an integer model at wrong places).
    """
    y = np.asarray(y)
    numeric = y.dtype.kind in "biuf" and classes.dtype.kind in "biuf"
    if numeric or y.dtype.kind == classes.dtype.kind == "U":
        indices = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        found = classes[indices] == y
    else:
        lookup = {label: index for index, label in enumerate(classes.tolist())}
        try:
            indices = np.array([lookup.get(label, -1) for label in y.tolist()], dtype=np.int64)
        except TypeError:  # unhashable labels match no class
            indices = np.full(len(y), -1, dtype=np.int64)
        found = indices >= 0
    if not found.all():
        unknown = list(dict.fromkeys(y[~found].tolist()))
        raise ValueError(f"y contains labels {meaning}: {unknown}.")
    return indices


# Differences below this fraction of a layer's largest activity are a few
# float32 rounding steps: the goodness sums downstream lose them.
_COLLAPSE_RTOL = 1e-6


def _collapsed_layers(activity_pairs):
    """The layers whose probe activity no longer depends on the data, with why.

    ``activity_pairs`` holds each layer's activity for the probe samples with
    their true labels (first half of the rows) and with wrong labels (second
    half). A layer the same for every row (to float32 rounding) outputs a
    constant; a first layer the same for true and wrong labels makes every
    later layer, and so the class scores, blind to the label.
    """
    collapsed = []
    for index, h in enumerate(activity_pairs):
        scale = float(h.abs().max())
        if scale == 0:
            collapsed.append((index, f"no unit of layer {index + 1} responds to any probed training sample "
                                     "(its activity is 0 everywhere), and no gradient can revive it"))
        elif float(h.chunk(2)[0].abs().max()) == 0:
            # Silent for every sample with its true label: the positive data
            # gets no goodness and no gradient, whatever a few wrong labels do.
            collapsed.append((index, f"no unit of layer {index + 1} responds to any probed training sample with "
                                     "its true label (only to some wrong labels), and no gradient can revive it"))
        elif float((h - h[:1]).abs().max()) <= _COLLAPSE_RTOL * scale:
            collapsed.append((index, f"layer {index + 1} gives the same activity, to float32 rounding, for every "
                                     "probed training sample and label (its units are saturated, or some features "
                                     "are so large that the others do not count)"))
    if not collapsed and activity_pairs:
        # Each probed sample against its own scale: one row with a huge
        # entry must not make the label effect of every other row look like
        # rounding.
        positive, negative = activity_pairs[0].chunk(2)
        row_scale = torch.maximum(positive.abs().amax(dim=1), negative.abs().amax(dim=1))
        if bool(((positive - negative).abs().amax(dim=1) <= _COLLAPSE_RTOL * row_scale).all()):
            collapsed.append((0, "layer 1 gives the same activity for every probed sample's true and wrong labels: "
                                 "the features are so large that the label embedded beside them is lost to "
                                 "float32 rounding"))
    return collapsed


def _class_scores(network, X_t, score_layers, probability=False, device=None):
    return map_in_chunks(lambda block: network.class_scores(block, score_layers, probability), X_t, device=device,
                         fan_out=network.n_classes)


_COMMON_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of int, default={hidden}
        Units per layer.
    activation : {{"relu", "sigmoid", "tanh"}}, default="relu"
    goodness : {{"l1", "l2", "l2_squared"}}, default="{goodness}"
        Norm of the activity: ``sum |h|``, ``sqrt(sum h^2)`` or ``sum h^2``.
    goodness_aggregation : {{"sum", "mean"}}, default="{aggregation}"
        ``"mean"`` divides by the number of units (the RMS for ``"l2"``).
    top_k : int or None, default=None
        Winner-takes-all inhibition inside the goodness only{top_k_scope}:
        units outside the ``top_k`` largest values do not count. The next
        layer still sees the uninhibited activity.
    threshold : float, default={threshold}
        ``theta`` of the sigmoid probability ``sigmoid(alpha * ({sigmoid_arg} - theta))``;
        finite in float32.
    alpha : float, default={alpha}
        Slope ``alpha`` of the sigmoid probability; positive, finite in float32.
    label_embedding : {{"onehot", "bernoulli"}}, default="{embedding}"
        How the label enters the first layer. ``"onehot"``: the one-hot code,
        appended to the features (Hinton overlays it on the first pixels,
        which are blank on MNIST; appending is the same there and keeps every
        tabular feature). ``"bernoulli"``: a fixed random binary pattern of
        length 100 (Bernoulli(0.1) bits) per class, appended (Polar-FFA).
    negatives : {{"random", "hard"}}, default="random"
        Negative data: the sample with a uniformly random wrong label, or with
        the wrong label the current model scores highest, as ``predict``
        would score it (``predict_layers`` among the layers trained so far,
        ``predict_score``; one extra all-class inference pass per batch).
    predict_layers : array-like of int or None, default=None
        Indices of the layers whose scores are summed at prediction (``None``:
        all layers; ``[1, 2]`` skips the first, as Hinton does).
    predict_score : {{"log_odds", "probability"}}, default="log_odds"
        What is summed over ``predict_layers`` for each class: each layer's
        log-odds ``s`` that the input is positive, or its probability
        ``sigmoid(s)`` (Polar-FFA's rule). With one threshold and slope for
        every layer, FF's summed log-odds rank the classes as Hinton's
        accumulated goodness does; with more than one scored layer the two
        sums can rank classes differently. :meth:`predict_proba` is the
        softmax of the summed log-odds, or the summed probabilities divided
        by their total over the classes.
    schedule : {{"simultaneous", "layerwise"}}, default="simultaneous"
        ``"simultaneous"`` updates every layer on every batch (one forward
        pass, activity detached between layers). ``"layerwise"`` trains layer
        1 for up to ``max_iter`` epochs, freezes it, then layer 2, and so on.
    learning_rate_init : float, default={lr}
        Learning rate of the per-layer Adam optimisers.
    batch_size : int, default={batch_size}
        Positive samples per mini-batch (each brings one negative).
    max_iter : int, default={max_iter}
        Maximum number of epochs (per layer with ``schedule="layerwise"``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified
        when every class has at least two samples and both parts can hold
        one sample of every class),
        stop when its accuracy has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the best weights. Without it,
        training stops when the training loss stops improving by ``tol``.
        :meth:`partial_fit` refuses it (``ValueError``), as ``MLPClassifier``
        does.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Epochs without an improvement of more than ``tol`` after which
        training (or a layerwise stage) stops. ``MLPClassifier`` stops one
        epoch later and counts a tie as improvement when ``tol=0``.
    tol : float, default=1e-4
    random_state : int, RandomState instance or None, default=None
        Initial weights, label patterns, shuffling, negatives and the
        validation split. The same value gives the same model on the same
        device. The global torch random state is never used.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``. Computation is float32. A model fitted on a
        GPU pickles and predicts on a CPU-only machine.
    verbose : int, default=0
        1 shows a progress bar with the per-layer loss (and validation score);
        2 also prints one line per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights on the next :meth:`fit`.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: ``{{label: weight}}`` (missing
        labels weigh 1), or ``"balanced"`` (inversely proportional to the class
        frequencies in ``y``, as in scikit-learn). Multiplies ``sample_weight``.
        For imbalanced data. In ``partial_fit`` (dicts only) the class
        weights are rescaled to mean 1 over the classes, the sample weights
        to mean 1 within each chunk: a chunk of one class still weighs as
        its class weight says.
    callbacks : list of skff.callbacks.Callback or None, default=None
        Hooks called at the start, after every epoch (can stop training) and
        at the end of training: checkpointing, custom logging (see
        :mod:`skff.callbacks`)."""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.
    module_ : skff.nn.ForwardForwardNetwork
        The trained network (on the CPU).
    n_layers_ : int
    callbacks_ : list of skff.callbacks.Callback
        The callbacks that ran: deep copies of ``callbacks`` (which ``fit``
        leaves unchanged); read their state here.
    n_iter_ : int
        Epochs run by the last call to :meth:`fit` or :meth:`partial_fit`
        (1), as in ``MLPClassifier``; ``len(history_)`` counts them all.
    history_ : skorch.history.History
        One entry per epoch: ``loss`` (sum over layers), ``layer_loss``,
        ``validation_score`` (with early stopping), ``sparsity_positive`` and
        ``sparsity_negative`` (mean Hoyer sparsity of each layer's activity on
        a fixed random subset of (up to) 256 training samples with their true
        and with wrong labels; NaN for layers a ``"layerwise"`` schedule has
        not reached) and ``seconds``. ``history_[:, "layer_loss"]`` slices it.
    loss_curve_ : list of float
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
        Best validation accuracy of the final network (``None`` without
        ``early_stopping``). With ``schedule="layerwise"`` that is the last
        stage's best, which can be below ``max(validation_scores_)``: an
        earlier stage scored a shallower network.
    device_ : str
        The device the model was trained on."""


class PolarFFClassifier(_BaseForwardForward):
    __doc__ = (
        """Polar Forward-Forward classifier (Polar-FFA, Terres-Escudero et al. 2024).

    Each layer's units are split into a positive group (the first
    ``positive_ratio`` share) and a negative group. Positive data should
    excite the positive group and negative data the negative group; the
    layer's probability of "positive" compares the two goodnesses. Between
    layers each group is divided by its own root mean square (unequal groups
    then brought to the same length). Every layer learns from
    its own loss (binary cross-entropy on positive and negative data); no
    gradient crosses layers. Prediction embeds every class and picks the one
    whose summed per-layer score is highest.

    Parameters
    ----------"""
        + _COMMON_PARAMETERS_DOC.format(
            hidden="(1000, 1000)", goodness="l2", aggregation="sum", top_k_scope=", per polarity group",
            threshold="2.0", alpha="1.0", sigmoid_arg="G_pos - G_neg", embedding="bernoulli",
            lr="0.001", batch_size="128", max_iter="50",
        )
        + """
    positive_ratio : float in (0, 1), default=0.5
        Share of positive units in each layer.
    probability : {"polar_sigmoid", "symmetric"}, default="polar_sigmoid"
        ``"polar_sigmoid"``: ``sigmoid(alpha * (G_pos - G_neg - threshold))``.
        ``"symmetric"``: ``(G_pos + epsilon) / (G_pos + G_neg + 2 epsilon)``.
    epsilon : float, default=1e-6
        ``epsilon`` of the symmetric probability; within float32's normal
        range (about 1.2e-38 to 3.4e38), outside which it would round to 0
        or to infinity.
"""
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    FFClassifier : Hinton's Forward-Forward, the non-polar configuration.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skff import PolarFFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = make_pipeline(MinMaxScaler(), PolarFFClassifier(
    ...     hidden_layer_sizes=(100,), max_iter=10, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """
    )

    _ARCHITECTURE_PARAMS = _BaseForwardForward._ARCHITECTURE_PARAMS + ("positive_ratio", "probability", "epsilon")

    _parameter_constraints = {
        **_BaseForwardForward._parameter_constraints,
        "positive_ratio": [Interval(Real, 0, 1, closed="neither")],
        "probability": [StrOptions({"polar_sigmoid", "symmetric"})],
        # Used in float32, where a smaller value rounds to 0 (log(0) - log(0))
        # and a larger one to inf.
        "epsilon": [Interval(Real, float(np.finfo(np.float32).tiny), FLOAT32_MAX, closed="both")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(1000, 1000),
        *,
        activation="relu",
        goodness="l2",
        goodness_aggregation="sum",
        top_k=None,
        threshold=2.0,
        alpha=1.0,
        label_embedding="bernoulli",
        negatives="random",
        predict_layers=None,
        predict_score="log_odds",
        schedule="simultaneous",
        learning_rate_init=0.001,
        batch_size=128,
        max_iter=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
        class_weight=None,
        callbacks=None,
        positive_ratio=0.5,
        probability="polar_sigmoid",
        epsilon=1e-6,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.goodness = goodness
        self.goodness_aggregation = goodness_aggregation
        self.top_k = top_k
        self.threshold = threshold
        self.alpha = alpha
        self.label_embedding = label_embedding
        self.negatives = negatives
        self.predict_layers = predict_layers
        self.predict_score = predict_score
        self.schedule = schedule
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.positive_ratio = positive_ratio
        self.probability = probability
        self.epsilon = epsilon

    def _probability(self):
        return self.probability

    def _epsilon(self):
        return float(self.epsilon)

    def _positive_units(self, n_units):
        if n_units < 2:
            raise ValueError(
                f"{type(self).__name__} layers need at least 2 units (one per polarity), "
                f"got hidden_layer_sizes={self.hidden_layer_sizes!r}."
            )
        return min(max(int(round(self.positive_ratio * n_units)), 1), n_units - 1)


class FFClassifier(_BaseForwardForward):
    __doc__ = (
        """Forward-Forward classifier (Hinton 2022).

    The label is embedded into the input. Every layer learns, from its own
    loss only, to give high goodness ``G`` to positive data (a sample with its
    true label) and low goodness to negative data (the same sample with a
    wrong label): ``P(positive) = sigmoid(alpha * (G - threshold))``,
    binary cross-entropy. Activity is divided by its root mean square before it is
    passed on, so the next layer cannot read the goodness off its length.
    Prediction embeds every class and picks the one with the highest
    accumulated score over ``predict_layers``: the summed log-odds, which
    rank the classes as the summed goodness does (or, with
    ``predict_score="probability"``, the summed probabilities).

    This is the non-polar configuration of :class:`PolarFFClassifier`'s
    machinery: every unit is positive.

    Parameters
    ----------"""
        + _COMMON_PARAMETERS_DOC.format(
            hidden="(1000, 1000)", goodness="l2_squared", aggregation="mean", top_k_scope="",
            threshold="1.0", alpha="10.0", sigmoid_arg="G", embedding="onehot",
            lr="0.003", batch_size="128", max_iter="50",
        )
        + "\n"
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    PolarFFClassifier : Polar-FFA, with positive and negative unit groups.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skff import FFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), FFClassifier(
    ...     hidden_layer_sizes=(200,), max_iter=20, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(1000, 1000),
        *,
        activation="relu",
        goodness="l2_squared",
        goodness_aggregation="mean",
        top_k=None,
        threshold=1.0,
        alpha=10.0,
        label_embedding="onehot",
        negatives="random",
        predict_layers=None,
        predict_score="log_odds",
        schedule="simultaneous",
        learning_rate_init=0.003,
        batch_size=128,
        max_iter=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
        class_weight=None,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.goodness = goodness
        self.goodness_aggregation = goodness_aggregation
        self.top_k = top_k
        self.threshold = threshold
        self.alpha = alpha
        self.label_embedding = label_embedding
        self.negatives = negatives
        self.predict_layers = predict_layers
        self.predict_score = predict_score
        self.schedule = schedule
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.callbacks = callbacks

    def _probability(self):
        return "sigmoid"

    def _positive_units(self, n_units):
        return n_units
