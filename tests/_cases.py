"""Small, fast configurations of every skff estimator, shared by the ecosystem tests.

Each case is a fixed configuration (seeded, on the CPU) that fits standardised
``load_digits`` in well under a second, and the methods whose outputs a
fitted model should reproduce exactly. The SCFF encoders read the 64 pixels
as an 8x8 image (conv) or as 8 time steps of 8 features (birnn).
"""

from functools import lru_cache

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer

_CLASSIFIER = dict(hidden_layer_sizes=(32,), batch_size=32, learning_rate_init=0.01, max_iter=5)
_CLASSIFIER_OUTPUTS = ("predict", "predict_proba", "predict_log_proba", "decision_function")

CASES = {
    "FFClassifier": (FFClassifier, _CLASSIFIER, _CLASSIFIER_OUTPUTS),
    "PolarFFClassifier": (PolarFFClassifier, _CLASSIFIER, _CLASSIFIER_OUTPUTS),
    "SCFF-dense": (SCFFTransformer, dict(hidden_layer_sizes=(16, 8), max_iter=2), ("transform",)),
    "SCFF-conv": (
        SCFFTransformer,
        dict(encoder="conv", input_shape=(1, 8, 8), hidden_layer_sizes=(8, 8), max_iter=2),
        ("transform",),
    ),
    "SCFF-birnn": (
        SCFFTransformer,
        dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(16,), max_iter=2),
        ("transform",),
    ),
    "detector": (
        ActivationLearningAnomalyDetector,
        dict(max_iter=10),
        ("score_samples", "decision_function", "predict"),
    ),
}
CASE_IDS = list(CASES)


def make(case_id, **overrides):
    """The unfitted estimator of a case; ``overrides`` replace its parameters."""
    cls, params, _ = CASES[case_id]
    return cls(**{**params, "random_state": 0, "device": "cpu", **overrides})


def outputs(estimator, X, case_id):
    """Every output method of the case, applied to ``X``."""
    return {name: getattr(estimator, name)(X) for name in CASES[case_id][2]}


def assert_same_outputs(actual, expected):
    assert actual.keys() == expected.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


@lru_cache(maxsize=None)
def digits():
    """Standardised ``load_digits``: 500 stratified training and 200 test samples."""
    X, y = load_digits(return_X_y=True)
    return _standardised_split(X, y, train_size=500, test_size=200)


@lru_cache(maxsize=None)
def breast_cancer():
    """Standardised ``load_breast_cancer``: a stratified 75/25 split."""
    return _standardised_split(*load_breast_cancer(return_X_y=True))


@lru_cache(maxsize=None)
def benign_training_split():
    """Breast cancer as an outlier task: ``(X_train, X_test, is_anomaly)``.

    Features scaled to [0, 1]; training on 70% of the benign tumours; the test
    set holds the other benign ones and every malignant one (the anomalies).
    """
    X, y = load_breast_cancer(return_X_y=True)
    X = MinMaxScaler().fit_transform(X)
    normal, anomalous = X[y == 1], X[y == 0]
    X_train, X_normal_test = train_test_split(normal, test_size=0.3, random_state=0)
    X_test = np.vstack([X_normal_test, anomalous])
    is_anomaly = np.r_[np.zeros(len(X_normal_test)), np.ones(len(anomalous))]
    for array in (X_train, X_test, is_anomaly):  # shared between tests: nobody may change them
        array.setflags(write=False)
    return X_train, X_test, is_anomaly


def _standardised_split(X, y, **sizes):
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0, **sizes)
    scaler = StandardScaler().fit(X_train)
    arrays = scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
    for array in arrays:  # shared between tests: nobody may change them
        array.setflags(write=False)
    return arrays
