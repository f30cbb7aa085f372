"""Activation learning (Zhou 2022) as an unsupervised outlier detector."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import FLOAT32_MAX, TorchModuleMixin, keeps_state_on_failure, map_in_chunks, probe_rows, to_tensor
from ._device import make_generators, resolve_device
from ._engine import LayerLocalEngine, TrainingDivergedError, layerwise_stages, simultaneous_stages
from .nn import ActivationLearningNetwork

# An epoch presents at least this many samples: small training sets are
# repeated (each sample equally often, in a fresh random order), so that the
# number of local updates per epoch does not collapse on tiny data sets.
_MIN_EPOCH_SAMPLES = 4096
# Training samples whose output activation is recorded in the history.
_PROBE_SIZE = 512
# Percentiles of the training values that bound each feature's histogram
# bins. The training data of an outlier detector holds outliers: a min-max
# range would be stretched by a few extreme values and leave the typical
# samples crowded into one or two bins.
_BIN_RANGE_PERCENTILES = (0.5, 99.5)
# Smallest spread of the log scores that contamination="auto" uses: scores
# carry float32 rounding, and a sample within it of the training median is
# not an outlier however alike the training samples are.
_MIN_LOG_SPREAD = 1e-5


class ActivationLearningAnomalyDetector(TorchModuleMixin, OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection by activation learning (Zhou 2022).

    A stack of layers ``y_l = W_l^T x_l`` learns without backpropagation, each
    layer by the local competitive rule (Oja's subspace rule)

        Delta W_l = learning_rate_init * mean over the batch of (x_l - W_l y_l) y_l^T

    applied as an explicit update. The input is scaled to unit length;
    between layers a magnitude-preserving nonlinearity is applied; the last
    layer is linear. A trained layer spans the principal subspace of its
    input, so its output activation ``||y||^2 <= ||x||^2`` measures how well
    the input is explained by what was learned: the output activation
    ``||y_L||^2`` is high for typical samples and low for outliers.

    Unit-length scaling discards each sample's norm, which on tabular data
    often *is* the anomaly signal. ``constant_feature`` keeps it: a constant
    is appended to every sample before the scaling, so a sample far from the
    origin gets a small constant component after it. Standardise the
    features first (``make_pipeline(StandardScaler(), ...)``).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int and float, default=(0.5, 1)
        Units per layer; the last layer is the linear output. An int is a
        number of units; a float is a multiple of the layer's input width
        (rounded up; for the first layer, the number of features plus the
        appended constant, whatever the length of the histogram code), so
        ``(0.5, 1)`` on 9 features plus the constant means ``(5, 1)``. The
        type of each entry decides, so mix them in a list or tuple: a NumPy
        float array makes every entry a float (``np.array([0.5, 1])`` means
        ``(0.5, 1.0)``, one times the width for the last layer). A
        single layer at least as wide as its input reconstructs everything
        and gives no signal. The default: a subspace layer (what it cannot
        reconstruct lowers the activation), then one unit that responds to
        the typical pattern of the first layer's output.
    activation : {"abs", "std_abs"}, default="abs"
        Transmission between layers, both magnitude preserving: ``"abs"`` is
        ``|y|``; ``"std_abs"`` standardises ``|y|`` unit by unit with running
        statistics gathered during training (every batch that passes a
        layer's activity on updates them; with ``schedule="layerwise"`` a
        trained layer's statistics settle while the layers above it train,
        on its then fixed output), then rescales each sample to the length
        of ``y``. Unused with a single layer. ``"std_abs"`` needs a last
        layer as wide as its input, e.g. ``hidden_layer_sizes=(0.5, 1.0)``
        (mean AUC-ROC 0.72 on 11 small ADBench sets, seeds 0-1, against
        0.76 for the default): the standardised activity is centred, so a
        narrower last layer learns how samples deviate from the typical
        pattern and scores atypical samples higher (0.47); ``fit`` refuses
        it.
    constant_feature : float or None, default=5.0
        Value of the constant feature appended before the unit-length
        scaling, in units of the median norm of the training samples (of
        the non-zero ones when more than half are all-zero, so that the
        model does not depend on the units of the data). ``None`` scales the
        raw samples to unit length (the paper's setting).
    n_bins : int >= 2 or None, default=20
        ``None``: the network sees the (scaled) feature values only. An int
        also gives it a histogram code of each sample
        (:func:`skff.functional.histogram_code`): every feature's range
        (its 0.5th to 99.5th percentile in the training data) is cut into
        ``n_bins`` equal bins and the sample marks the bin each of its
        values falls in. The competitive units then learn how often each
        bin is visited, together with the other features' bins, so values
        in rarely visited bins lower the output activation even when they
        are close to the centre (skewed, multi-modal or discrete features).
        On the 28 classical ADBench sets the code raises the mean AUC-ROC
        from 0.718 to 0.759 (``benchmarks/README.md``). The first layer's
        input grows to ``n_features * (n_bins + 1) + 1`` columns. Not in
        the paper, which corresponds to ``n_bins=None``.
    histogram_share : float in (0, 1), default=0.5
        Share of the unit-length input given to the histogram code (the
        feature values get the rest). Unused when ``n_bins=None``.
    schedule : {"simultaneous", "layerwise"}, default="simultaneous"
        ``"simultaneous"`` updates every layer on every batch (one forward
        pass). ``"layerwise"`` trains layer 1 until it converges (or
        ``max_iter`` epochs), freezes it, then layer 2, and so on.
    learning_rate_init : float, default=1.0
        ``eta`` of the local rule (constant over training). The update of a
        batch of ``b`` samples is ``eta / batch_size`` times their summed
        updates: a full batch takes the mean, a shorter one (the end of an
        epoch, a small ``partial_fit`` chunk) proportionally less. As the
        update is a batch mean, the stable range of ``eta`` does not grow
        with ``batch_size``: the rule settles when ``eta * lambda_max < 1``,
        ``lambda_max <= 1`` being the largest eigenvalue of the second-moment
        matrix of the (unit-length) inputs, close to 1 when the appended
        constant dominates the samples. At the default the weights settle
        through a damped oscillation (it decays slowly for a large
        ``constant_feature``; 0.5 settles at once, at the same mean AUC-ROC
        on the 28 ADBench sets, 0.763 against 0.766 for seed 0); values
        above 1 can oscillate for good or diverge
        (:class:`~skff.TrainingDivergedError`).
    batch_size : int, default=1000
        Samples per local update. Fitting is bound by the number of updates
        (each costs a fixed overhead on small layers): on the 28 ADBench
        sets ``batch_size=1000, learning_rate_init=1.0`` fits 2.1x as fast
        as the paper's batch of 100 with ``eta=0.1`` (the defaults before
        session 10) at the same mean AUC-ROC (0.758 against 0.759 over three
        seeds) and AUC-PR (0.409 against 0.411).
    max_iter : int, default=50
        Maximum number of epochs (per layer with ``schedule="layerwise"``).
        An epoch presents at least 4096 samples: smaller training sets are
        repeated within an epoch, every sample equally often.
    n_iter_no_change : int, default=5
        Training stops when the summed reconstruction error of the layers
        has not improved by ``tol`` for this many epochs.
    tol : float, default=1e-4
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected share of outliers in the training data; sets ``offset_``
        as in :class:`~sklearn.ensemble.IsolationForest`: a float makes
        ``offset_`` that percentile of the training scores. ``"auto"``: a
        sample is an outlier when the logarithm of its score lies more than
        three robust standard deviations below the training median,
        ``offset_ = exp(median(log s) - 3 * 1.4826 * MAD(log s))`` over the
        training scores ``s`` (MAD: median absolute deviation). The log,
        because the layers' activation filters multiply (paper eq. 9). When
        more than half the training scores tie (the MAD is 0), the mean
        absolute deviation times 1.2533 replaces ``1.4826 * MAD``, and the
        spread is never below ``1e-5``, so that float32 rounding is never
        flagged. On the ADBench sets tried this flags 0-8% of the inliers.
    random_state : int, RandomState instance or None, default=None
        Initial weights and the order of the batches. The same value gives
        the same model on the same device. The global torch random state is
        never used.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``. Computation is float32; scores are returned
        as float64. A model fitted on a GPU pickles and scores on a CPU-only
        machine.
    verbose : int, default=0
        1 shows a progress bar with the per-layer reconstruction error;
        2 also prints one line per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights on the next :meth:`fit`
        (``history_`` accumulates; ``n_iter_`` counts this fit's epochs).
    callbacks : list of skff.callbacks.Callback or None, default=None
        Hooks called at the start, after every epoch (can stop training) and
        at the end of training (see :mod:`skff.callbacks`).

    Attributes
    ----------
    offset_ : float
        ``decision_function = score_samples - offset_``.
    module_ : skff.nn.ActivationLearningNetwork
        The trained network (on the CPU).
    n_layers_ : int
    callbacks_ : list of skff.callbacks.Callback
        The callbacks that ran: deep copies of ``callbacks`` (which ``fit``
        leaves unchanged); read their state here.
    n_iter_ : int
        Epochs run by the last call to :meth:`fit` or :meth:`partial_fit`
        (1), as in ``MLPClassifier``; ``len(history_)`` counts them all.
    history_ : skorch.history.History
        One entry per epoch: ``loss`` (summed reconstruction error),
        ``layer_loss`` (per layer, the batch mean of ``||x_l - W_l y_l||^2``,
        from the batch moments: float32 rounding of about ``1e-7``),
        ``activation`` (mean squared activity ``||y||^2`` of a fixed random
        subset of 512 training samples in the last layer trained so far:
        the output layer, except in the first stages of
        ``schedule="layerwise"``),
        ``weight_norm`` (``||W_l||_F^2`` per layer) and ``seconds``.
    loss_curve_ : list of float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.
    sklearn.neighbors.LocalOutlierFactor : Density-based outlier detection.

    References
    ----------
    H. Zhou, "Activation Learning by Local Competitions", arXiv:2209.13400.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skff import ActivationLearningAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 8))
    >>> X_new = np.vstack([X[:3], 8 * rng.normal(size=(2, 8))])
    >>> detector = make_pipeline(StandardScaler(), ActivationLearningAnomalyDetector(random_state=0))
    >>> detector.fit(X).predict(X_new)
    array([ 1,  1,  1, -1, -1])
    """

    _ARCHITECTURE_PARAMS = ("hidden_layer_sizes", "activation", "constant_feature", "n_bins", "histogram_share")

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Real, 0, None, closed="neither")],
        "activation": [StrOptions({"std_abs", "abs"})],
        "constant_feature": [None, Interval(Real, 0, None, closed="neither")],
        "n_bins": [None, Interval(Integral, 2, None, closed="left")],
        "histogram_share": [Interval(Real, 0, 1, closed="neither")],
        "schedule": [StrOptions({"simultaneous", "layerwise"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [None, list],
    }

    def __init__(
        self,
        hidden_layer_sizes=(0.5, 1),
        *,
        activation="abs",
        constant_feature=5.0,
        n_bins=20,
        histogram_share=0.5,
        schedule="simultaneous",
        learning_rate_init=1.0,
        batch_size=1000,
        max_iter=50,
        n_iter_no_change=5,
        tol=1e-4,
        contamination="auto",
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.constant_feature = constant_feature
        self.n_bins = n_bins
        self.histogram_share = histogram_share
        self.schedule = schedule
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    def _architecture_value(self, name):
        if name == "hidden_layer_sizes":
            return self._layer_sizes(self.n_features_in_ + (self.constant_feature is not None))
        return getattr(self, name)

    def _layer_sizes(self, n_inputs):
        entries = np.atleast_1d(np.asarray(self.hidden_layer_sizes, dtype=object))
        sizes = []
        width = n_inputs
        for entry in entries if entries.ndim == 1 else [None]:
            if isinstance(entry, Integral) and not isinstance(entry, bool) and entry >= 1:
                width = int(entry)
            elif isinstance(entry, Real) and not isinstance(entry, bool) and 0 < entry < math.inf:
                width = max(1, math.ceil(float(entry) * width))
            else:
                raise ValueError(
                    "hidden_layer_sizes must be a non-empty sequence of positive ints (units) "
                    f"and finite positive floats (multiples of the layer's input width), got "
                    f"{self.hidden_layer_sizes!r}."
                )
            sizes.append(width)
        if not sizes:
            raise ValueError(f"hidden_layer_sizes must not be empty, got {self.hidden_layer_sizes!r}.")
        return sizes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the network from unlabelled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
        """
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch of the local rule over ``X``, continuing from the current weights.

        For data streamed in chunks (larger than memory): call it once per
        chunk. The first call fixes the appended constant (from that chunk's
        median sample norm), the histogram bins (from that chunk's
        percentiles) and the layer sizes. Every layer learns on every
        batch (``schedule`` is not used). ``offset_`` (the threshold of
        :meth:`predict`) is set from the scores of the chunk just seen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
            Not used, present for API consistency.

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
        device = resolve_device(self.device)
        rng = self._training_random_state(incremental, warm)
        cpu_gen, _ = make_generators(rng, device)

        if warm:
            network = self._warm_module(device)
            sizes = [layer.weight.shape[0] for layer in network.layers]
        else:
            constant = None
            if self.constant_feature is not None:
                median_norm = _median_nonzero_norm(X)
                constant = float(self.constant_feature) * median_norm
                if not constant <= FLOAT32_MAX:
                    raise ValueError(
                        f"{type(self).__name__}: the appended constant, constant_feature ({self.constant_feature}) "
                        f"times the median row norm of X ({median_norm:.3g}), is {constant:.3g}, beyond float32's "
                        "range. Scale the features (e.g. with sklearn.preprocessing.StandardScaler) or lower "
                        "constant_feature."
                    )
            bin_range = None
            if self.n_bins is not None:
                bin_range = tuple(
                    torch.from_numpy(np.percentile(X, q, axis=0).astype(np.float32)) for q in _BIN_RANGE_PERCENTILES
                )
            sizes = self._layer_sizes(X.shape[1] + (constant is not None))
            if self.activation == "std_abs" and len(sizes) > 1 and sizes[-1] < sizes[-2]:
                # std_abs centres what the last hidden layer passes on, so a
                # narrower last layer learns the main direction in which
                # samples *deviate* from the typical pattern: atypical samples
                # then score higher (mean AUC-ROC 0.47 on 11 ADBench sets,
                # 0.09 on WDBC; 0.72 with a last layer as wide as its input).
                raise ValueError(
                    f"{type(self).__name__}: activation='std_abs' needs a last layer as wide as its input, got "
                    f"layer sizes {sizes} (the last layer's input has {sizes[-2]} units): a narrower last layer "
                    "scores atypical samples higher. Use e.g. hidden_layer_sizes=(0.5, 1.0) or activation='abs'."
                )
            network = ActivationLearningNetwork(
                X.shape[1], sizes, transmission=self.activation, constant=constant, generator=cpu_gen,
                bin_range=bin_range, n_bins=self.n_bins, histogram_share=self.histogram_share,
            ).to(device)

        X_t = to_tensor(X, device)
        n = X_t.shape[0]
        # A small training set is presented several times per epoch so that
        # an epoch means enough updates; a partial_fit chunk once, so that a
        # small chunk does not outweigh a large one.
        repeats = 1 if incremental else max(1, math.ceil(_MIN_EPOCH_SAMPLES / n))
        learning_rate = float(self.learning_rate_init)

        def step(indices, stage):
            if repeats > 1:
                indices = indices % n
            # eta / batch_size per sample: a batch (or a partial_fit chunk)
            # shorter than batch_size moves the weights proportionally less,
            # so small chunks cannot overshoot with the full step.
            rate = learning_rate * indices.numel() / self.batch_size
            return network.local_step(X_t[indices], rate, stage.trainable, stage.n_layers)

        probe = X_t[probe_rows(n, _PROBE_SIZE, device)]

        def epoch_metrics(stage):
            with torch.no_grad():
                activation = network.activities(probe)[stage.n_layers - 1].pow(2).sum(dim=1).mean()
            return {
                "activation": float(activation),
                "weight_norm": [float(layer.weight.pow(2).sum()) for layer in network.layers],
            }

        engine = LayerLocalEngine(
            max_iter=1 if incremental else self.max_iter,
            batch_size=self.batch_size,
            learning_rate_init=learning_rate,
            early_stopping=False,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            estimator_name=type(self).__name__,
            autograd=False,
        )
        layerwise = self.schedule == "layerwise" and not incremental
        stages = (layerwise_stages if layerwise else simultaneous_stages)(len(sizes))
        history = self._history_to_extend(warm)
        epochs_before = len(history)
        engine.run(
            network.layers, n * repeats, step, stages, generator=cpu_gen, device=device, history=history,
            epoch_metrics=epoch_metrics, callbacks=self._training_callbacks(warm), estimator=self,
            network=network, incremental=incremental,
        )
        scores = _output_activation(network, X_t)
        if not np.isfinite(scores).all():
            raise TrainingDivergedError(
                f"{type(self).__name__}: the trained network gives non-finite scores; lower "
                f"learning_rate_init (now {self.learning_rate_init}) or scale the input features."
            )
        self._store_module(network, device)
        self.n_layers_ = len(sizes)
        self.history_ = history
        self.n_iter_ = len(history) - epochs_before
        self.loss_curve_ = [entry["loss"] for entry in history]
        if self.contamination == "auto":
            self.offset_ = _auto_offset(scores)
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return self

    def score_samples(self, X):
        """Output activation ``||y_L||^2``: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            In ``[0, 1]`` up to rounding once the weights have settled
            (Property 4: ``||y||^2 <= ||x||^2 = 1``). While they still
            oscillate around their fixed point (after few updates, or with
            a large ``constant_feature`` at ``learning_rate_init=1``, where
            the oscillation decays slowly and can outlast the stopping rule)
            a score can exceed 1 slightly (1.02 with ``constant_feature=20``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        device, network = self._network_on_device()
        return _output_activation(network, to_tensor(X, "cpu"), device)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """``+1`` for inliers, ``-1`` for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        decision = self.decision_function(X)
        labels = np.ones(decision.shape[0], dtype=int)
        labels[decision < 0] = -1
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _row_norms(X, chunk=65536):
    """Euclidean norms of the rows of float32 ``X``, in float64 (squares of
    large float32 entries overflow float32), a chunk of rows at a time so
    that no float64 copy of ``X`` is made."""
    return np.concatenate([np.linalg.norm(X[i:i + chunk].astype(np.float64), axis=1)
                           for i in range(0, X.shape[0], chunk)])


def _median_nonzero_norm(X):
    """Median Euclidean norm of the rows of ``X``, over the non-zero rows if
    more than half are zero (1.0 if all are): the constant then keeps the
    scale of the data, and the model does not depend on its units."""
    norms = _row_norms(X)
    median = float(np.median(norms))
    if median > 0:
        return median
    nonzero = norms[norms > 0]
    return float(np.median(nonzero)) if nonzero.size else 1.0


def _auto_offset(scores):
    """Score whose log lies three robust standard deviations below the
    median log score of the training samples.

    In log space because the output activation is a product of the layers'
    activation filters (paper eq. 9). Not a rule on ``1 - score``: with the
    histogram code even typical samples leave much of their input
    unexplained, and a multiple of that overshoots the score range.
    """
    log_scores = np.log(np.maximum(scores, np.finfo(np.float64).tiny))
    median = np.median(log_scores)
    deviations = np.abs(log_scores - median)
    spread = 1.4826 * np.median(deviations)
    if spread == 0:
        # More than half the training scores tie (repeated rows, few
        # distinct values): the MAD is 0 and would flag any sample a hair
        # below the common score. The mean absolute deviation (scaled to a
        # standard deviation for normal data) still sees the other scores.
        spread = 1.2533 * float(np.mean(deviations))
    # Scores carry float32 rounding: never flag within 1e-5 (log) of the median.
    spread = max(spread, _MIN_LOG_SPREAD)
    return float(np.exp(median - 3.0 * spread))


def _output_activation(network, X_t, device=None):
    scores = map_in_chunks(network.output_activation, X_t, device=device)
    return scores.cpu().numpy().astype(np.float64)
