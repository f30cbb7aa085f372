"""scikit-learn's own estimator checks, run on every skff estimator."""

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer

# Small, fast configurations: the checks fit hundreds of times.
ESTIMATORS = [
    FFClassifier(hidden_layer_sizes=(16, 16), max_iter=20, batch_size=32, random_state=0),
    # Tiny data sets want a larger step than the MNIST-tuned default 1e-3.
    PolarFFClassifier(
        hidden_layer_sizes=(16, 16), max_iter=20, batch_size=32, learning_rate_init=0.003, random_state=0
    ),
    SCFFTransformer(hidden_layer_sizes=(16, 8), max_iter=3, batch_size=32, random_state=0),
    # Without input_shape every row is a 1-D signal: (1, 1, n_features) / (n_features, 1).
    SCFFTransformer(encoder="conv", hidden_layer_sizes=(4, 4), max_iter=2, batch_size=32, random_state=0),
    SCFFTransformer(encoder="birnn", hidden_layer_sizes=(4,), max_iter=2, batch_size=32, random_state=0),
    ActivationLearningAnomalyDetector(max_iter=5, random_state=0),
]


def expected_failed_checks(estimator):
    if isinstance(estimator, (FFClassifier, PolarFFClassifier)):
        return {
            # Mini-batch training draws a fresh wrong label and a fresh batch
            # position for every copy of a repeated sample, so k copies are
            # not the same as one sample with weight k (scikit-learn declares
            # the same failure for its own SGD-trained MLPClassifier).
            "check_sample_weight_equivalence_on_dense_data": "stochastic mini-batch training: "
            "k copies of a sample are k draws, not one sample weighted k",
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__ + getattr(e, "encoder", ""))
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
