"""Continued training: ``warm_start`` and ``partial_fit`` on data streamed in chunks."""

import pickle
import warnings

import numpy as np
import torch
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from _cases import benign_training_split
from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer

CLASSIFIERS = [FFClassifier, PolarFFClassifier]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def stream(n_samples, n_chunks, epochs):
    """Index chunks of ``epochs`` passes over the data, as a data loader would yield them."""
    for _ in range(epochs):
        yield from np.array_split(np.arange(n_samples), n_chunks)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_on_chunks_learns_as_well_as_fit(cls, digits):
    X_train, X_test, y_train, y_test = digits
    params = dict(hidden_layer_sizes=(200,), batch_size=64, random_state=0)
    streamed = cls(**params)
    for chunk in stream(len(X_train), n_chunks=4, epochs=10):
        streamed.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = cls(max_iter=10, **params).fit(X_train, y_train)
    assert len(streamed.history_) == 40 and streamed.n_iter_ == 1
    # 10 epochs of a small network: FF reaches about 0.90, Polar-FF 0.95.
    assert streamed.score(X_test, y_test) >= 0.88
    assert streamed.score(X_test, y_test) >= full.score(X_test, y_test) - 0.02


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_continues_and_checks_classes(cls, digits):
    X_train, _, y_train, _ = digits
    clf = cls(hidden_layer_sizes=(32,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X_train, y_train)
    # A first chunk that lacks some classes is fine once they are named.
    first = np.isin(y_train, [0, 1, 2])
    clf.partial_fit(X_train[first], y_train[first], classes=np.arange(10))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    weights = clf.module_.layers[0].weight.detach().clone()
    clf.partial_fit(X_train, y_train)
    assert clf.n_iter_ == 1 and len(clf.history_) == 2
    assert not np.allclose(clf.module_.layers[0].weight.detach(), weights)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X_train, y_train, classes=np.arange(11))
    with pytest.raises(ValueError, match="labels not in classes"):
        clf.partial_fit(X_train[:5], np.array([0, 1, 2, 3, 42]))
    # Labels equal to a class only as strings are not that class.
    with pytest.raises(ValueError, match=r"labels not in classes: \['1', '10'\]"):
        clf.partial_fit(X_train[:3], np.array(["1", "10", "1"]))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X_train[:, :10], y_train)


@pytest.mark.parametrize("classes, message", [
    ([0, 1, np.nan], "classes are not class labels: .*NaN"),
    ([0, 1, None], "classes are not class labels"),
    ([0.5, 1.5], "classes are not class labels: .*continuous"),
    (5, "non-empty 1-D array-like"),
    ([[0, 1], [2, 3]], "non-empty 1-D array-like"),
    ([], "non-empty 1-D array-like"),
])
def test_partial_fit_checks_classes(classes, message, digits):
    # Were accepted (a NaN class got a predict_proba column; a 2-D array was
    # flattened) or failed with numpy's "'<' not supported".
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match=message):
        FFClassifier(hidden_layer_sizes=(8,)).partial_fit(X_train[:10], y_train[:10] % 2, classes=classes)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_is_reproducible_and_survives_pickling(cls, digits):
    """Adam's moments are part of the state: a pickled model continues identically."""
    X_train, X_test, y_train, _ = digits
    chunks = list(stream(len(X_train), n_chunks=3, epochs=1))

    def run(model, parts):
        for chunk in parts:
            model.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
        return model

    a = run(cls(hidden_layer_sizes=(32,), random_state=0), chunks)
    b = run(cls(hidden_layer_sizes=(32,), random_state=0), chunks[:2])
    b = run(pickle.loads(pickle.dumps(b)), chunks[2:])
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_after_fit_continues_from_fitted_weights(cls, digits):
    X_train, X_test, y_train, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = cls(hidden_layer_sizes=(100,), max_iter=5, random_state=0).fit(X_train, y_train)
    before = clf.score(X_test, y_test)
    clf.partial_fit(X_train, y_train)  # classes known from fit
    assert clf.n_iter_ == 1 and len(clf.history_) == 6
    assert clf.score(X_test, y_test) >= before - 0.02


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_warm_start_continues_from_fitted_weights(cls, digits):
    X_train, X_test, y_train, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = cls(hidden_layer_sizes=(100,), max_iter=2, random_state=0, warm_start=True).fit(X_train, y_train)
        first = clf.score(X_test, y_test)
        weights = clf.module_.layers[0].weight.detach().clone()
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == 2 and len(clf.history_) == 4
    assert not np.allclose(clf.module_.layers[0].weight.detach(), weights)
    assert clf.score(X_test, y_test) > first


def test_scff_partial_fit_learns_useful_features():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
    scff = SCFFTransformer(hidden_layer_sizes=(100,), learning_rate_init=0.01, random_state=0)
    for chunk in stream(len(X_train), n_chunks=4, epochs=5):
        scff.partial_fit(X_train[chunk])
    assert len(scff.history_) == 20 and scff.n_iter_ == 1

    def probe(transformer):
        clf = LogisticRegression(max_iter=3000)
        return clf.fit(transformer.transform(X_train), y_train).score(transformer.transform(X_test), y_test)

    untrained = SCFFTransformer(hidden_layer_sizes=(100,), max_iter=0, random_state=0).fit(X_train)
    # Measured: 0.987 streamed, 0.984 with fit, 0.964 untrained.
    assert probe(scff) >= probe(untrained) + 0.01
    with pytest.raises(ValueError, match="features"):
        scff.partial_fit(X_train[:, :10])


def test_scff_partial_fit_trains_every_layer_on_every_batch():
    X, _ = load_digits(return_X_y=True)
    scff = SCFFTransformer(hidden_layer_sizes=(32, 16), learning_rate_init=0.01, random_state=0)
    for chunk in stream(len(X), n_chunks=3, epochs=3):
        scff.partial_fit(X[chunk] / 16.0)
    assert all(len(entry["layer_loss"]) == 2 for entry in scff.history_)
    first, last = np.array(scff.history_[0]["layer_loss"]), np.array(scff.history_[-1]["layer_loss"])
    assert (last < first).all()


def test_detector_partial_fit_matches_fit_quality():
    # Malignant tumours are the minority; train on benign only.
    X_train, X_test, is_anomaly = benign_training_split()

    # Each call presents its chunk (about 80 rows) once: with batches of 20 the
    # 30 calls make 120 local updates (with 100, only 30: too few for the
    # histogram code's weights, AUC 0.43).
    streamed = ActivationLearningAnomalyDetector(batch_size=20, random_state=0)
    for chunk in stream(len(X_train), n_chunks=3, epochs=10):
        streamed.partial_fit(X_train[chunk])
    full = ActivationLearningAnomalyDetector(batch_size=20, max_iter=10, random_state=0).fit(X_train)
    auc_streamed = roc_auc_score(is_anomaly, -streamed.score_samples(X_test))
    auc_full = roc_auc_score(is_anomaly, -full.score_samples(X_test))
    assert len(streamed.history_) == 30 and streamed.n_iter_ == 1
    assert auc_streamed >= 0.9
    assert auc_streamed >= auc_full - 0.02
    assert set(np.unique(streamed.predict(X_test))) <= {-1, 1}


@pytest.mark.parametrize("make", [
    lambda: SCFFTransformer(hidden_layer_sizes=(32, 16), max_iter=2, random_state=0, warm_start=True),
    lambda: ActivationLearningAnomalyDetector(max_iter=3, random_state=0, warm_start=True),
], ids=["scff", "detector"])
def test_unsupervised_warm_start_continues_from_fitted_weights(make):
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    estimator = make().fit(X)
    epochs = estimator.n_iter_
    weights = [p.detach().clone() for p in estimator.module_.parameters()]
    estimator.fit(X)
    assert estimator.n_iter_ == epochs and len(estimator.history_) == 2 * epochs
    moved = [not torch.equal(a, b.detach()) for a, b in zip(weights, estimator.module_.parameters())]
    assert any(moved)
    # Without warm_start a second fit starts again from the same initial weights.
    cold = make().set_params(warm_start=False)
    first = cold.fit(X).history_[0]["loss"]
    assert cold.fit(X).history_[0]["loss"] == first and cold.n_iter_ == epochs


CONTINUED = [
    (lambda **p: FFClassifier(hidden_layer_sizes=(8, 8), max_iter=2, random_state=0, **p), {"hidden_layer_sizes": (16,)}),
    (lambda **p: PolarFFClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0, **p), {"threshold": 5.0}),
    (lambda **p: SCFFTransformer(hidden_layer_sizes=(8,), max_iter=1, random_state=0, **p), {"encoder": "conv"}),
    (lambda **p: ActivationLearningAnomalyDetector(max_iter=2, random_state=0, **p), {"hidden_layer_sizes": (3,)}),
]


def _fit_args(estimator, X, y):
    return (X, y) if isinstance(estimator, (FFClassifier, PolarFFClassifier)) else (X,)


@pytest.mark.parametrize("make, change", CONTINUED)
def test_continuing_after_an_architecture_change_is_refused(make, change):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    estimator = make(warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(*_fit_args(estimator, X, y))
        expected = estimator.n_iter_
        estimator.set_params(**change)
        name = next(iter(change))
        with pytest.raises(ValueError, match=f"{name} changed since the model was fitted"):
            estimator.fit(*_fit_args(estimator, X, y))
        with pytest.raises(ValueError, match=f"{name} changed since the model was fitted"):
            estimator.partial_fit(*_fit_args(estimator, X, y))
        assert estimator.n_iter_ == expected
        # Without warm_start, fit starts afresh with the new architecture.
        estimator.set_params(warm_start=False).fit(*_fit_args(estimator, X, y))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_failed_continuation_leaves_the_fitted_model_intact(cls, digits):
    X_train, X_test, y_train, _ = digits
    clf = cls(hidden_layer_sizes=(16,), random_state=0).partial_fit(X_train, y_train, classes=np.arange(10))
    before = clf.predict_proba(X_test)
    history = len(clf.history_)
    with pytest.raises(FloatingPointError, match="diverged"):
        clf.partial_fit(X_train * 1e30, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    assert len(clf.history_) == history == clf.n_iter_


def test_set_params_between_partial_fit_calls_takes_effect(digits):
    X_train, _, y_train, _ = digits
    clf = PolarFFClassifier(hidden_layer_sizes=(16,), random_state=0).partial_fit(X_train, y_train,
                                                                                 classes=np.arange(10))
    weights = clf.module_.layers[0].weight.detach().clone()
    clf.set_params(learning_rate_init=1e-12).partial_fit(X_train, y_train)
    torch.testing.assert_close(clf.module_.layers[0].weight.detach(), weights, rtol=0, atol=1e-8)


@pytest.mark.parametrize("make, needs_y", [(FFClassifier, True), (PolarFFClassifier, True), (SCFFTransformer, False)])
def test_partial_fit_refuses_early_stopping(make, needs_y, digits):
    # As MLPClassifier; it used to be ignored silently.
    X_train, _, y_train, _ = digits
    estimator = make(hidden_layer_sizes=(8,), early_stopping=True)
    args = (X_train, y_train, np.arange(10)) if needs_y else (X_train,)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        estimator.partial_fit(*args)
    estimator.set_params(early_stopping=False).partial_fit(*args)
    assert estimator.n_iter_ == 1
