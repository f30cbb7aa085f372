"""The layer-local training engine shared by every skff estimator.

The engine knows nothing about goodness, labels or local rules: it runs
epochs of mini-batches over data that already lives on the device, calls
``step(batch_indices, stage)`` for the per-layer losses of the layers being
trained, and then (for autograd-trained layers) does one backward pass on the
sum of those losses and one optimiser step per layer. Because the estimators
detach activity between layers, that single backward pass gives every layer
exactly the gradient of its own loss.

It also owns what every estimator needs around that loop: schedules
(all layers at once, or greedy layer by layer), early stopping on a
validation score or convergence of the training loss (as scikit-learn's
``MLPClassifier``), keeping the best weights, the NaN/inf guard, the epoch
history (a :class:`skorch.history.History`) and the progress bar (tqdm).
"""

import contextlib
import threading
import time
import warnings
from dataclasses import dataclass

import torch
from skorch.history import History
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm


class TrainingDivergedError(FloatingPointError):
    """Training produced a NaN or infinite loss, or a layer blind to its input.

    Raised by ``fit`` at the end of the epoch in which a layer's mean loss
    became NaN or infinite, or in which a layer's activity stopped depending
    on the training data: zero everywhere (a step too large drove a ReLU
    layer below zero), the same for every sample (sigmoid or tanh units
    driven into saturation), or, in the classifiers, the same for a
    sample's true and wrong labels (features so large that the label
    embedded beside them is lost to float32 rounding). No gradient brings
    such a layer back, and the model would output a constant. The message
    names the estimator, the layer, the epoch and the reason, and suggests
    a lower ``learning_rate_init`` or scaled features. :class:`~skff.ActivationLearningAnomalyDetector` also raises
    it when its trained network gives non-finite scores. A subclass of
    :class:`FloatingPointError`.

    Examples
    --------
    Features around ``1e25`` are finite in float32, but their squares are
    not:

    >>> import numpy as np
    >>> from skff import FFClassifier, TrainingDivergedError
    >>> X = np.random.RandomState(0).uniform(1e25, 1e26, size=(60, 4))
    >>> try:
    ...     FFClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, np.arange(60) % 2)
    ... except TrainingDivergedError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    FFClassifier: training diverged: the loss of layer 1 became nan at epoch 1. ...
    """


@dataclass
class Stage:
    """A phase of training: which layers learn, how many layers run.

    ``trainable`` layers get optimiser steps; layers before them are run
    frozen; ``n_layers`` is how many layers the forward pass goes through.
    The optimisation settings left ``None`` take the engine's values, so a
    greedy schedule can give every layer its own (as SCFF does).
    """

    trainable: list
    n_layers: int
    name: str = "all layers"
    max_iter: int = None
    learning_rate: float = None  # or one per trainable layer
    weight_decay: float = None  # or one per trainable layer
    learning_rate_decay: float = None


def simultaneous_stages(n_layers):
    """Every layer updated on every batch."""
    return [Stage(trainable=list(range(n_layers)), n_layers=n_layers)]


def layerwise_stages(n_layers):
    """Greedy: train layer 1 fully, freeze it, then layer 2, ..."""
    return [Stage(trainable=[i], n_layers=i + 1, name=f"layer {i + 1}") for i in range(n_layers)]


def _make_optimizer(parameters, lr, weight_decay=0.0, decoupled=False):
    # One Adam (or AdamW: decoupled weight decay) per layer. The fused kernel
    # (one pass over each tensor) is about twice as fast as foreach on the
    # CPU; older torch builds or devices without it fall back to foreach.
    parameters = list(parameters)
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    try:
        return kind(parameters, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return kind(parameters, lr=lr, weight_decay=weight_decay, foreach=True)


def _per_trainable(value, trainable):
    values = list(value) if isinstance(value, (list, tuple)) else [value] * len(trainable)
    if len(values) != len(trainable):
        raise ValueError(f"{len(values)} per-layer settings for {len(trainable)} trainable layers.")
    return values


@dataclass
class EngineResult:
    """What the history does not hold: the outcome of the run.

    Per-epoch losses, validation scores and epoch counts live in the
    ``History`` the engine appends to.
    """

    converged: bool = True
    best_validation_score: float = None
    stopped_by_callback: bool = False
    optimizer_states: list = None


_CUDNN_LOCK = threading.Lock()
_cudnn_users = 0
_cudnn_saved = None


@contextlib.contextmanager
def _deterministic_cudnn(device):
    """cuDNN restricted to deterministic algorithms while training on a GPU.

    Some cuDNN convolution backward algorithms accumulate with atomics, so
    two fits with the same seed would differ. The flags are process-wide and
    fits may overlap in threads (joblib's threading backend, Dask workers
    with several threads): the first fit to enter saves them, the last to
    leave restores them.
    """
    global _cudnn_users, _cudnn_saved
    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    with _CUDNN_LOCK:
        if _cudnn_users == 0:
            _cudnn_saved = cudnn.deterministic, cudnn.benchmark
            cudnn.deterministic, cudnn.benchmark = True, False
        _cudnn_users += 1
    try:
        yield
    finally:
        with _CUDNN_LOCK:
            _cudnn_users -= 1
            if _cudnn_users == 0:
                cudnn.deterministic, cudnn.benchmark = _cudnn_saved


class LayerLocalEngine:
    """Runs layer-local training of ``layers`` on in-memory device data.

    Parameters
    ----------
    max_iter : int
        Maximum epochs per stage.
    batch_size : int
    learning_rate_init : float
    early_stopping : bool
        Stop when the validation score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs and restore the best weights; without it,
        stop when the training loss has not improved by ``tol``.
    n_iter_no_change : int
    tol : float
    verbose : int
        0 silent, 1 a progress bar per stage, 2 also one line per epoch.
    estimator_name : str
        Used in messages.
    autograd : bool
        ``True``: the engine back-propagates the summed layer losses and steps
        one optimiser per layer. ``False``: ``step`` applies its own local
        updates and returns losses for monitoring only.
    optimizer : {"adam", "adamw"}
        ``"adamw"`` applies ``weight_decay`` decoupled from the gradient.
    weight_decay : float
    learning_rate_decay : float
        Factor applied to the learning rate after every epoch (exponential
        schedule; 1 keeps it constant).
    """

    def __init__(
        self,
        *,
        max_iter,
        batch_size,
        learning_rate_init,
        early_stopping,
        n_iter_no_change,
        tol,
        verbose,
        estimator_name,
        autograd=True,
        optimizer="adam",
        weight_decay=0.0,
        learning_rate_decay=1.0,
    ):
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.estimator_name = estimator_name
        self.autograd = autograd
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.learning_rate_decay = learning_rate_decay

    def _setting(self, stage, name, engine_name=None):
        value = getattr(stage, name)
        return getattr(self, engine_name or name) if value is None else value

    def run(self, layers, n_samples, step, stages, *, generator, device, history=None,
            validation_score=None, epoch_metrics=None, collapsed_layers=None, callbacks=None, estimator=None,
            network=None, incremental=False, optimizer_states=None):
        """Train and return an :class:`EngineResult`; ``history`` is appended to.

        Parameters
        ----------
        layers : sequence of torch.nn.Module
            The layers, each with its own optimiser (when ``autograd``).
        n_samples : int
            Number of training samples; batches are index tensors into them.
        step : callable ``(indices, stage) -> Tensor``
            Losses of ``stage.trainable`` layers on one batch.
        stages : list of Stage
        generator : torch.Generator
            Drives the shuffling (a CPU generator: same seed, same order).
        device : torch.device
        history : skorch.history.History or None
        validation_score : callable ``(stage) -> float`` or None
            Higher is better; required for early stopping.
        epoch_metrics : callable ``(stage) -> dict`` or None
            Extra per-epoch entries recorded in the history.
        collapsed_layers : callable ``(stage) -> list of (int, str)`` or None
            The layers (among those run in ``stage``) whose activity no longer
            depends on the data, each as its index and the reason in words
            (e.g. ``"no unit of layer 1 responds to any probed training
            sample (its activity is 0 everywhere)"``), measured on a probe of
            the training data; checked after every epoch (not in an
            incremental pass), any raises :class:`TrainingDivergedError`.
        callbacks : list of skff.callbacks.Callback or None
            Told of the start, every epoch and the end; an ``on_epoch_end``
            returning ``True`` stops training.
        estimator, network : objects handed to the callbacks.
        incremental : bool
            One pass of ``partial_fit``: exactly ``max_iter`` epochs, no
            early stopping, no convergence warning, no learning-rate decay.
        optimizer_states : list of dict or None
            Optimiser states of an earlier incremental run (one per trainable
            layer of the single stage), so Adam's moments carry over between
            ``partial_fit`` calls; the result holds the updated ones.
        """
        history = History() if history is None else history
        result = EngineResult()
        callbacks = list(callbacks or [])
        for callback in callbacks:
            callback.on_train_begin(estimator, network=network, history=history)
        with _deterministic_cudnn(device):
            for stage in stages:
                self._run_stage(layers, n_samples, step, stage, generator, device, history,
                                validation_score, epoch_metrics, collapsed_layers, result, callbacks, estimator,
                                network, incremental, optimizer_states)
                if result.stopped_by_callback:
                    break
        for callback in callbacks:
            callback.on_train_end(estimator, network=network, history=history)
        return result

    def _run_stage(self, layers, n_samples, step, stage, generator, device, history,
                   validation_score, epoch_metrics, collapsed_layers, result, callbacks, estimator, network,
                   incremental, optimizer_states):
        max_iter = self._setting(stage, "max_iter")
        learning_rate = self._setting(stage, "learning_rate", "learning_rate_init")
        decay = 1.0 if incremental else self._setting(stage, "learning_rate_decay")
        # A stage may give each of its trainable layers its own rate and decay.
        rates = _per_trainable(learning_rate, stage.trainable)
        decays = _per_trainable(self._setting(stage, "weight_decay"), stage.trainable)
        optimizers = (
            [
                _make_optimizer(layers[i].parameters(), rate, weight_decay, decoupled=self.optimizer == "adamw")
                for i, rate, weight_decay in zip(stage.trainable, rates, decays)
            ]
            if self.autograd
            else []
        )
        if optimizer_states:
            for optimizer, state, rate, weight_decay in zip(optimizers, optimizer_states, rates, decays):
                optimizer.load_state_dict(state)
                # The moments carry over; the settings are the current ones
                # (set_params between partial_fit calls takes effect).
                for group in optimizer.param_groups:
                    group["lr"], group["weight_decay"] = rate, weight_decay
        schedulers = [torch.optim.lr_scheduler.ExponentialLR(o, decay) for o in optimizers if decay != 1.0]
        use_validation = self.early_stopping and validation_score is not None and not incremental
        best = -float("inf") if use_validation else float("inf")
        best_state = None
        no_improvement = 0
        converged = False
        bar = tqdm(
            total=max_iter,
            desc=f"{self.estimator_name} ({stage.name})",
            disable=not self.verbose,
            leave=True,
        )
        try:
            for epoch in range(1, max_iter + 1):
                started = time.perf_counter()
                epoch_loss = self._run_epoch(n_samples, step, stage, optimizers, generator, device)
                self._check_finite(epoch_loss, stage, epoch, learning_rate)
                # Not in an incremental pass: its chunk can be too small a
                # probe (a layer silent on it may be alive on the data).
                if collapsed_layers is not None and not incremental:
                    self._check_active(collapsed_layers(stage), epoch, learning_rate)
                for scheduler in schedulers:
                    scheduler.step()
                losses = [float(v) for v in epoch_loss]
                total = float(sum(losses))
                entry = {"epoch": len(history) + 1, "stage": stage.name, "loss": total, "layer_loss": losses}
                if use_validation:
                    entry["validation_score"] = float(validation_score(stage))
                if epoch_metrics is not None:
                    entry.update(epoch_metrics(stage))
                entry["seconds"] = time.perf_counter() - started

                # An epoch counts as progress only if it beats the best so far
                # by more than tol, and training stops after n_iter_no_change
                # epochs without progress. MLPClassifier's rule differs at the
                # edges: a tie with tol=0 counts as progress there, and it
                # stops after more than n_iter_no_change epochs (one later).
                if use_validation:
                    improved = entry["validation_score"] > best + self.tol
                    if entry["validation_score"] > best:
                        best = entry["validation_score"]
                        best_state = _snapshot(layers, stage)
                else:
                    improved = total < best - self.tol
                    best = min(best, total)
                no_improvement = 0 if improved else no_improvement + 1

                history.new_epoch()
                for key, value in entry.items():
                    history.record(key, value)
                self._report(bar, entry)
                # Every callback hears of every epoch, even when one asks to stop.
                stop = [bool(c.on_epoch_end(estimator, network=network, history=history)) for c in callbacks]
                if any(stop):
                    result.stopped_by_callback = converged = True
                    break
                if no_improvement >= self.n_iter_no_change and not incremental:
                    converged = True
                    break
        finally:
            bar.close()
        result.optimizer_states = [o.state_dict() for o in optimizers]

        if use_validation and best_state is not None:
            _restore(layers, best_state)
            result.best_validation_score = best
        if not converged and max_iter > 0 and not incremental:
            result.converged = False
            warnings.warn(
                f"{self.estimator_name}: maximum iterations ({max_iter}) reached for "
                f"{stage.name} and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _run_epoch(self, n_samples, step, stage, optimizers, generator, device):
        order = torch.randperm(n_samples, generator=generator).to(device)
        total = torch.zeros(len(stage.trainable), dtype=torch.float64, device=device)
        n_batches = 0
        for start in range(0, n_samples, self.batch_size):
            indices = order[start : start + self.batch_size]
            if self.autograd:
                losses = step(indices, stage)
                for optimizer in optimizers:
                    optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()
                for optimizer in optimizers:
                    optimizer.step()
            else:
                with torch.no_grad():
                    losses = step(indices, stage)
            total += losses.detach()
            n_batches += 1
        return total / n_batches

    def _check_finite(self, epoch_loss, stage, epoch, learning_rate):
        finite = torch.isfinite(epoch_loss)
        if bool(finite.all()):
            return
        position = int((~finite).nonzero()[0, 0])
        layer = stage.trainable[position] + 1
        raise TrainingDivergedError(
            f"{self.estimator_name}: training diverged: the loss of layer {layer} became "
            f"{float(epoch_loss[position])} at epoch {epoch}. Lower learning_rate_init "
            f"(now {learning_rate}) or scale the input features "
            "(e.g. with sklearn.preprocessing.StandardScaler)."
        )

    def _check_active(self, collapsed, epoch, learning_rate):
        if not collapsed:
            return
        _, reason = collapsed[0]
        raise TrainingDivergedError(
            f"{self.estimator_name}: training collapsed: after epoch {epoch} {reason}; the model would output a "
            f"constant. Lower learning_rate_init (now {learning_rate}) or scale the input features (e.g. with "
            "sklearn.preprocessing.StandardScaler)."
        )

    def _report(self, bar, entry):
        if not self.verbose:
            return
        postfix = {f"loss{i + 1}": f"{v:.4f}" for i, v in enumerate(entry["layer_loss"])}
        if "validation_score" in entry:
            postfix["valid"] = f"{entry['validation_score']:.4f}"
        bar.set_postfix(postfix, refresh=False)
        bar.update(1)
        if self.verbose >= 2:
            bar.write(
                f"epoch {entry['epoch']:4d}  "
                + "  ".join(f"{k}={v}" for k, v in postfix.items())
                + f"  {entry['seconds']:.2f}s"
            )


def _snapshot(layers, stage):
    return {i: {k: v.detach().clone() for k, v in layers[i].state_dict().items()} for i in stage.trainable}


def _restore(layers, state):
    for i, layer_state in state.items():
        layers[i].load_state_dict(layer_state)
