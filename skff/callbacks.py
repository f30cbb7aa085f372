"""Callbacks: hooks into the training loop of every skff estimator.

Pass a list of callbacks as the ``callbacks`` parameter of any estimator.
The training engine calls, on each of them:

* ``on_train_begin(estimator, network=..., history=...)`` once, before the
  first epoch of a ``fit`` or ``partial_fit`` call;
* ``on_epoch_end(estimator, network=..., history=...)`` after every epoch,
  once the epoch's entry is in ``history`` (``history[-1]`` is a dict with
  ``epoch``, ``stage``, ``loss``, ``layer_loss``, ``seconds`` and, with
  early stopping, ``validation_score``). Returning ``True`` stops training
  (no ``ConvergenceWarning`` is raised then);
* ``on_train_end(estimator, network=..., history=...)`` once at the end.

``estimator`` is the skff estimator being fitted (during a first fit its
fitted attributes are not set yet; during a ``warm_start`` fit or a
``partial_fit`` call they still describe the model before this call),
``network`` the ``torch.nn.Module`` being trained, on the training device,
and ``history`` a :class:`skorch.history.History` (for continued training,
a copy of the earlier epochs plus the new ones). Subclass :class:`Callback`
and override the hooks you need; methods take ``**kwargs`` so that hooks
may gain arguments later.

Stopping ends the whole fit: with a greedy layer-by-layer schedule
(``SCFFTransformer``, ``schedule="layerwise"``) the layers after the current
one keep their initial weights.

``fit`` leaves its parameters unchanged, as scikit-learn requires, so the
callbacks you pass are not the ones that run: a fit runs deep copies of
them, available after it as the fitted attribute ``callbacks_`` (read a
callback's state there, e.g. ``clf.callbacks_[0].saved_epochs_``).
``warm_start`` fits and ``partial_fit`` calls continue from copies of
those (a call that fails leaves ``callbacks_`` as it was) unless
``callbacks`` was set anew. Clones (model selection makes
them) start from copies of the parameter as well.

The names follow skorch's callbacks, but skorch's own callback classes
expect a ``skorch.NeuralNet`` and do not run here.
"""

import inspect
import logging
import os
import pathlib
import warnings

import torch

__all__ = ["Callback", "Checkpoint", "EpochLogger"]


class Callback:
    """Base class of skff callbacks: every hook does nothing.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skff import PolarFFClassifier
    >>> from skff.callbacks import Callback
    >>> class StopBelow(Callback):
    ...     "Stop once the training loss falls below a bound."
    ...     def __init__(self, bound):
    ...         self.bound = bound
    ...     def on_epoch_end(self, estimator, *, history, **kwargs):
    ...         return history[-1]["loss"] < self.bound
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PolarFFClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0,
    ...                         callbacks=[StopBelow(0.5)]).fit(X / 16, y)
    >>> clf.n_iter_ < 50 and clf.loss_curve_[-1] < 0.5
    True
    >>> clf.callbacks_
    [StopBelow(bound=0.5)]
    """

    def __repr__(self):
        # The constructor's arguments, as scikit-learn shows estimators (a
        # grid search's cv_results_ and an estimator's repr print callbacks).
        signature = inspect.signature(type(self).__init__).parameters.values()
        named = (p.name for p in signature if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in named if hasattr(self, n))})"

    def on_train_begin(self, estimator, **kwargs):
        """Called before the first epoch."""

    def on_epoch_end(self, estimator, **kwargs):
        """Called after every epoch; return ``True`` to stop training."""
        return False

    def on_train_end(self, estimator, **kwargs):
        """Called after the last epoch."""


class Checkpoint(Callback):
    """Save the network's weights during training.

    After every epoch (``monitor=None``) or whenever the monitored history
    value improves, the network's ``state_dict`` (moved to the CPU) is written
    to ``path`` with :func:`torch.save`. Load it into a fitted estimator of the
    same configuration with
    ``estimator.module_.load_state_dict(torch.load(path))``; predictions then
    use the loaded weights, on any device.

    Values are compared within a training stage: a greedy schedule starts
    the comparison afresh with each layer (whose losses are not comparable
    with the previous layer's). Across ``partial_fit`` calls and
    ``warm_start`` fits the best value so far is kept, so a later, worse
    epoch does not overwrite the file. A clone (as made by model selection)
    writes to the same ``path``.

    Parameters
    ----------
    path : str or path-like
        File to write (overwritten at each save).
    monitor : {"validation_score", "loss"} or None, default="validation_score"
        History key to watch: higher is better for ``"validation_score"``,
        lower for ``"loss"``. ``None`` saves after every epoch. An epoch
        without the key (no early stopping, so no validation score) saves
        nothing.

    Attributes
    ----------
    best_ : float or None
        Best monitored value seen in the current training stage.
    saved_epochs_ : list of int
        Epochs after which the file was written.

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> from sklearn.datasets import load_digits
    >>> from skff import FFClassifier
    >>> from skff.callbacks import Checkpoint
    >>> X, y = load_digits(return_X_y=True)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "best.pt"
    >>> checkpoint = Checkpoint(path, monitor="loss")
    >>> clf = FFClassifier(hidden_layer_sizes=(32,), max_iter=3, random_state=0,
    ...                    callbacks=[checkpoint]).fit(X / 16, y)
    >>> clf.callbacks_[0].saved_epochs_ == [1, 2, 3]  # the copy that ran
    True
    >>> _ = clf.module_.load_state_dict(torch.load(path))
    """

    def __init__(self, path, monitor="validation_score"):
        self.path = path
        self.monitor = monitor

    def on_train_begin(self, estimator, *, history=None, **kwargs):
        if self.monitor not in (None, "validation_score", "loss"):
            raise ValueError(f"monitor must be 'validation_score', 'loss' or None, got {self.monitor!r}.")
        # Checked before the first epoch trains, not when the first save fails.
        if not isinstance(self.path, (str, os.PathLike)):
            raise TypeError(f"Checkpoint path must be a str or path-like, got {self.path!r}.")
        path = pathlib.Path(self.path)
        if path.is_dir():
            raise ValueError(f"Checkpoint path {str(path)!r} is a directory; name a file in it.")
        if not path.parent.is_dir():
            raise ValueError(f"Checkpoint path {str(path)!r}: the directory {str(path.parent)!r} does not exist.")
        if self.monitor == "validation_score" and not getattr(estimator, "early_stopping", False):
            warnings.warn(
                "Checkpoint(monitor='validation_score') saves nothing without early_stopping=True "
                "(there is no validation score); use monitor='loss' or None.",
                UserWarning,
                stacklevel=2,
            )
        continuing = history is not None and len(history) > 0 and hasattr(self, "best_")
        if not continuing:
            self.best_ = None
            self.saved_epochs_ = []
            self._stage = None

    def on_epoch_end(self, estimator, *, network, history, **kwargs):
        entry = history[-1]
        if entry.get("stage") != self._stage:
            self._stage, self.best_ = entry.get("stage"), None
        if self.monitor is not None:
            if self.monitor not in entry:
                return False
            value = entry[self.monitor]
            better = self.best_ is None or (
                value > self.best_ if self.monitor == "validation_score" else value < self.best_
            )
            if not better:
                return False
            self.best_ = value
        state = {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}
        torch.save(state, pathlib.Path(self.path))
        self.saved_epochs_.append(entry["epoch"])
        return False


class EpochLogger(Callback):
    """Log every epoch's history entry with :mod:`logging`.

    Parameters
    ----------
    logger : logging.Logger or None, default=None
        ``None`` uses the ``"skff"`` logger.
    level : int, default=logging.INFO

    Examples
    --------
    >>> import logging
    >>> from sklearn.datasets import load_iris
    >>> from skff import FFClassifier
    >>> from skff.callbacks import EpochLogger
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = FFClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0,
    ...                    callbacks=[EpochLogger()]).fit(X, y)
    """

    def __init__(self, logger=None, level=logging.INFO):
        self.logger = logger
        self.level = level

    def on_train_begin(self, estimator, **kwargs):
        if self.logger is not None and not callable(getattr(self.logger, "log", None)):
            raise TypeError(f"EpochLogger logger must be a logging.Logger or None, got {self.logger!r}.")
        # logging accepts Python ints only (a NumPy integer fails at the first record).
        if type(self.level) is not int:
            raise TypeError(f"EpochLogger level must be an int such as logging.INFO, got {self.level!r}.")

    def on_epoch_end(self, estimator, *, history, **kwargs):
        logger = self.logger or logging.getLogger("skff")
        entry = history[-1]
        fields = "  ".join(
            f"{key}={_format(value)}" for key, value in entry.items() if key not in ("batches",)
        )
        logger.log(self.level, "%s %s", type(estimator).__name__, fields)
        return False


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)
