"""The ``callbacks`` parameter and :mod:`skff.callbacks`."""

import logging
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer
from skff.callbacks import Callback, Checkpoint, EpochLogger


class Recorder(Callback):
    def __init__(self, stop_at=None):
        self.stop_at = stop_at

    def on_train_begin(self, estimator, *, network, history, **kwargs):
        self.events = [("begin", type(estimator).__name__, isinstance(network, torch.nn.Module))]

    def on_epoch_end(self, estimator, *, network, history, **kwargs):
        self.events.append(("epoch", history[-1]["epoch"], history[-1]["loss"]))
        return self.stop_at is not None and history[-1]["epoch"] >= self.stop_at

    def on_train_end(self, estimator, *, history, **kwargs):
        self.events.append(("end", len(history)))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


ESTIMATORS = [
    lambda cb: FFClassifier(hidden_layer_sizes=(16,), max_iter=4, random_state=0, callbacks=cb),
    lambda cb: PolarFFClassifier(hidden_layer_sizes=(16,), max_iter=4, random_state=0, callbacks=cb),
    lambda cb: SCFFTransformer(hidden_layer_sizes=(16, 8), max_iter=2, random_state=0, callbacks=cb),
    lambda cb: ActivationLearningAnomalyDetector(max_iter=4, random_state=0, callbacks=cb),
]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_hooks_are_called_in_order_with_the_history(make, digits):
    X, y = digits
    estimator = make([Recorder()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    recorder = estimator.callbacks_[0]  # the copy that ran
    assert recorder.events[0] == ("begin", type(estimator).__name__, True)
    epochs = [e for e in recorder.events if e[0] == "epoch"]
    assert [e[1] for e in epochs] == list(range(1, estimator.n_iter_ + 1))
    assert [e[2] for e in epochs] == [entry["loss"] for entry in estimator.history_]
    assert recorder.events[-1] == ("end", estimator.n_iter_)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_callback_can_stop_training_without_convergence_warning(make, digits):
    X, y = digits
    estimator = make([Recorder(stop_at=2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator.fit(X, y)
    assert estimator.n_iter_ == 2


def test_callbacks_survive_clone_and_partial_fit(digits):
    X, y = digits
    recorder = Recorder()
    clf = PolarFFClassifier(hidden_layer_sizes=(16,), random_state=0, callbacks=[recorder])
    copy = clone(clf)
    assert copy.callbacks[0] is not recorder and isinstance(copy.callbacks[0], Recorder)
    clf.partial_fit(X, y, classes=np.arange(10))
    first = clf.callbacks_[0]
    clf.partial_fit(X, y)
    # The second call continues from a copy of the first call's callbacks_
    # (so that a failed call leaves callbacks_ as it was); the parameter is
    # untouched.
    assert clf.callbacks_[0] is not first and first.events[1][1] == 1 and clf.callbacks_[0].events[1][1] == 2
    assert not hasattr(recorder, "events")
    # Callbacks set anew are copied anew, from the parameter.
    clf.set_params(callbacks=[Recorder(stop_at=5)]).partial_fit(X, y)
    assert clf.callbacks_[0].stop_at == 5


@pytest.mark.parametrize("make", ESTIMATORS)
def test_fit_leaves_stateful_callbacks_unchanged(make, digits):
    # scikit-learn's rule: fit must not change a parameter. A Checkpoint or a
    # recorder keeps state, and a fitted estimator's clone carried the old
    # fit's state in its callbacks.
    from sklearn.utils.estimator_checks import check_estimators_overwrite_params

    estimator = make([Recorder(), EpochLogger()])
    check_estimators_overwrite_params(type(estimator).__name__, estimator)
    X, y = digits
    estimator.fit(X, y)
    assert not hasattr(estimator.callbacks[0], "events") and estimator.callbacks_[0].events
    assert not hasattr(clone(estimator).callbacks[0], "events")
    assert repr(estimator.callbacks_[1]) == "EpochLogger(logger=None, level=20)"


def test_callbacks_that_cannot_be_copied_are_a_clear_error(digits):
    class HoldsAGenerator(Callback):
        def __init__(self):
            self.stream = (i for i in range(3))

    X, y = digits
    with pytest.raises(TypeError, match="callbacks must be deep-copyable"):
        FFClassifier(hidden_layer_sizes=(8,), max_iter=1, callbacks=[HoldsAGenerator()]).fit(X, y)


def test_checkpoint_keeps_the_best_validation_weights(digits, tmp_path):
    X, y = digits
    path = tmp_path / "best.pt"
    checkpoint = Checkpoint(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FFClassifier(hidden_layer_sizes=(32,), max_iter=6, early_stopping=True, n_iter_no_change=6,
                           random_state=0, callbacks=[checkpoint]).fit(X, y)
    scores = clf.validation_scores_
    # Saved exactly at the epochs that set a new best.
    expected = [i + 1 for i, s in enumerate(scores) if s > max(scores[:i], default=-1)]
    assert clf.callbacks_[0].saved_epochs_ == expected
    assert clf.callbacks_[0].best_ == max(scores)
    # Early stopping restored the best weights too: the checkpoint holds them.
    saved = torch.load(path)
    for key, value in clf.module_.state_dict().items():
        torch.testing.assert_close(saved[key], value)


def test_checkpoint_every_epoch_and_bad_monitor(digits, tmp_path):
    X, y = digits
    every = Checkpoint(tmp_path / "last.pt", monitor=None)
    scff = SCFFTransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0, callbacks=[every]).fit(X)
    assert scff.callbacks_[0].saved_epochs_ == [1, 2, 3]
    with pytest.raises(ValueError, match="monitor"):
        SCFFTransformer(hidden_layer_sizes=(8,), max_iter=1, callbacks=[Checkpoint(tmp_path / "x", "accuracy")]).fit(X)


@pytest.mark.parametrize("make_callback, error, message", [
    (lambda tmp: Checkpoint(tmp / "missing" / "x.pt", monitor="loss"), ValueError, "directory .*missing.* does not exist"),
    (lambda tmp: Checkpoint(tmp, monitor="loss"), ValueError, "is a directory"),
    (lambda tmp: Checkpoint(None, monitor="loss"), TypeError, "str or path-like"),
    (lambda tmp: EpochLogger(logger="skff"), TypeError, "logging.Logger"),
    (lambda tmp: EpochLogger(level="INFO"), TypeError, "int such as logging.INFO"),
    (lambda tmp: EpochLogger(level=np.int64(20)), TypeError, "int such as logging.INFO"),
])
def test_callback_settings_are_checked_before_training(make_callback, error, message, digits, tmp_path):
    # These failed after the first epoch had trained, inside torch.save or
    # logging ("Parent directory ... does not exist", "'str' object has no
    # attribute 'log'").
    X, y = digits
    started = []

    class Spy(Callback):
        def on_epoch_end(self, estimator, **kwargs):
            started.append(True)

    with pytest.raises(error, match=message):
        FFClassifier(hidden_layer_sizes=(8,), max_iter=2, callbacks=[make_callback(tmp_path), Spy()]).fit(X, y)
    assert not started


def test_epoch_logger_logs_every_epoch(digits, caplog):
    X, y = digits
    with caplog.at_level(logging.INFO, logger="skff"):
        FFClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0, callbacks=[EpochLogger()]).fit(X, y)
    lines = [r.getMessage() for r in caplog.records if r.name == "skff"]
    assert len(lines) == 3
    assert lines[0].startswith("FFClassifier epoch=1") and "loss=" in lines[0]


def test_object_without_hooks_is_rejected(digits):
    X, y = digits
    with pytest.raises(ValueError, match="lacks on_train_begin"):
        FFClassifier(max_iter=1, callbacks=[object()]).fit(X, y)


def test_checkpoint_keeps_its_best_across_partial_fit_and_compares_within_a_stage(digits, tmp_path):
    X, y = digits
    checkpoint = Checkpoint(tmp_path / "best.pt", monitor="loss")
    clf = PolarFFClassifier(hidden_layer_sizes=(16,), random_state=0, callbacks=[checkpoint])
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.arange(10))
    losses = clf.loss_curve_
    expected = [i + 1 for i, v in enumerate(losses) if v < min(losses[:i], default=np.inf)]
    assert clf.callbacks_[0].saved_epochs_ == expected
    # Greedy SCFF: each layer's first epoch is a new best of its own stage.
    greedy = Checkpoint(tmp_path / "scff.pt", monitor="loss")
    scff = SCFFTransformer(hidden_layer_sizes=(8, 8), max_iter=2, random_state=0, callbacks=[greedy]).fit(X)
    assert 3 in scff.callbacks_[0].saved_epochs_
    with pytest.warns(UserWarning, match="early_stopping"):
        FFClassifier(hidden_layer_sizes=(8,), max_iter=1, callbacks=[Checkpoint(tmp_path / "x.pt")]).fit(X, y)


def test_loaded_checkpoint_reaches_predictions_through_the_device_cache(digits, tmp_path):
    X, y = digits
    path = tmp_path / "first.pt"
    clf = FFClassifier(hidden_layer_sizes=(16,), max_iter=1, random_state=0,
                       callbacks=[Checkpoint(path, monitor=None)]).fit(X, y)
    first = clf.predict_proba(X)
    clf.set_params(warm_start=True, callbacks=None).fit(X, y)
    assert not np.allclose(clf.predict_proba(X), first)
    clf.module_.load_state_dict(torch.load(path))
    np.testing.assert_allclose(clf.predict_proba(X), first, atol=1e-6)
