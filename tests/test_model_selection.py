"""skff estimators inside scikit-learn's model selection and meta-estimators.

Searches and cross-validation run in joblib's loky worker processes
(``n_jobs=2``) must give exactly the results of the sequential run: the
estimators are seeded, on the CPU, and draw nothing from global state. The
workers get as many torch threads as this process (conftest.py pins 1):
float32 reductions may sum in another order with another thread count
(PolarFFClassifier's probabilities then differ in the 8th digit).
"""

import os

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from _cases import breast_cancer, digits, make
from skff import PolarFFClassifier
from skff._engine import _deterministic_cudnn

CV = StratifiedKFold(3, shuffle=True, random_state=0)
# Held-out accuracy every classifier setting below reaches; measured between
# 0.89 (a fold of Polar on digits) and 0.97 (fold scores, calibrated models).
ACCURACY_FLOOR = 0.88


def _workers_like_this_process():
    """loky workers with this process's torch thread count (by default they
    get cpu_count // n_jobs, 8 on a 16-core machine)."""
    return joblib.parallel_config(backend="loky", inner_max_num_threads=torch.get_num_threads())


def _inlier_auc(estimator, X, y):
    """A custom scorer: ROC AUC of the decision function, inliers (+1) high."""
    return roc_auc_score(y, estimator.decision_function(X))


@pytest.fixture(scope="module")
def rare_malignant():
    """Breast cancer: all benign tumours (+1) and 40 malignant ones (-1) as the anomalies."""
    X, y = load_breast_cancer(return_X_y=True)
    malignant = np.random.RandomState(0).choice(np.flatnonzero(y == 0), 40, replace=False)
    keep = np.r_[np.flatnonzero(y == 1), malignant]
    return X[keep], np.where(y[keep] == 1, 1, -1)


def _search(name, rare_malignant):
    """A search over one skff estimator (unfitted) and the data it runs on."""
    X_train, _, y_train, _ = digits()
    if name == "grid-FFClassifier":
        search = GridSearchCV(make("FFClassifier"), {"learning_rate_init": [0.001, 0.01]}, cv=CV)
    elif name == "randomized-PolarFFClassifier":
        distributions = {"learning_rate_init": [0.0003, 0.001, 0.003, 0.01], "hidden_layer_sizes": [(16,), (32,)]}
        search = RandomizedSearchCV(make("PolarFFClassifier"), distributions, n_iter=3, cv=CV, random_state=0)
    elif name == "grid-SCFF-pipeline":
        pipe = Pipeline([("scff", make("SCFF-dense", hidden_layer_sizes=(32,))),
                         ("probe", LogisticRegression(C=0.1, max_iter=300))])
        search = GridSearchCV(pipe, {"scff__max_iter": [0, 3]}, cv=CV)
    else:
        X_train, y_train = rare_malignant
        pipe = make_pipeline(StandardScaler(), make("detector"))
        grid = {"activationlearninganomalydetector__constant_feature": [None, 5.0]}
        search = GridSearchCV(pipe, grid, scoring=_inlier_auc, cv=CV)
    return search, X_train, y_train


SEARCHES = ["grid-FFClassifier", "randomized-PolarFFClassifier", "grid-SCFF-pipeline", "grid-detector-custom-scorer"]


@pytest.fixture(scope="module")
def fitted_searches(rare_malignant):
    """Each search fitted sequentially and with two loky workers, on demand."""
    cache = {}

    def get(name):
        if name not in cache:
            search, X, y = _search(name, rare_malignant)
            sequential = clone(search).set_params(n_jobs=1).fit(X, y)
            with _workers_like_this_process():
                parallel = clone(search).set_params(n_jobs=2).fit(X, y)
            cache[name] = sequential, parallel, X
        return cache[name]

    return get


@pytest.mark.parametrize("name", SEARCHES)
def test_parallel_search_equals_sequential_search(name, fitted_searches):
    sequential, parallel, X = fitted_searches(name)
    assert parallel.best_params_ == sequential.best_params_
    n_candidates = len(sequential.cv_results_["params"])
    for key in ["mean_test_score", "rank_test_score"] + [f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_array_equal(parallel.cv_results_[key], sequential.cv_results_[key], err_msg=key)
        assert len(parallel.cv_results_[key]) == n_candidates
    assert parallel.cv_results_["params"] == sequential.cv_results_["params"]
    # The refitted best models agree too.
    np.testing.assert_array_equal(parallel.predict(X[:50]), sequential.predict(X[:50]))


def test_searches_choose_the_sensible_candidate(fitted_searches, rare_malignant):
    """What two of the searches above find, on 3 folds of the training data."""
    # Trained SCFF features beat the random initial ones under a linear probe.
    scff = fitted_searches("grid-SCFF-pipeline")[0]
    assert scff.best_params_ == {"scff__max_iter": 3}
    # Measured: 0.862 trained, 0.790 untrained.
    assert scff.best_score_ > 0.84
    assert scff.cv_results_["mean_test_score"][1] > scff.cv_results_["mean_test_score"][0] + 0.04
    # The appended constant feature carries the norm the anomalies differ in:
    # measured AUC 0.930 with it, 0.340 without.
    detector = fitted_searches("grid-detector-custom-scorer")[0]
    assert detector.best_params_ == {"activationlearninganomalydetector__constant_feature": 5.0}
    assert detector.best_score_ > 0.9
    assert detector.cv_results_["mean_test_score"][0] < 0.6
    # The built-in "roc_auc" scorer reads the detector's decision function the same way.
    builtin = clone(detector).set_params(scoring="roc_auc").fit(*rare_malignant)
    np.testing.assert_allclose(builtin.cv_results_["mean_test_score"], detector.cv_results_["mean_test_score"])


# FFClassifier needs more epochs than Polar-FFA on digits; each runs where a
# 5-epoch fit is already a useful model.
CLASSIFIER_DATA = [("FFClassifier", breast_cancer), ("PolarFFClassifier", digits)]


@pytest.mark.parametrize("case_id, data", CLASSIFIER_DATA, ids=["FFClassifier-breast_cancer", "Polar-digits"])
def test_cross_validate_and_cross_val_predict_in_parallel(case_id, data):
    X, _, y, _ = data()
    n_classes = len(np.unique(y))
    estimator = make(case_id)
    scoring = ["accuracy", "neg_log_loss"]
    sequential = cross_validate(estimator, X, y, cv=CV, scoring=scoring, n_jobs=1)
    with _workers_like_this_process():
        parallel = cross_validate(estimator, X, y, cv=CV, scoring=scoring, n_jobs=2, return_estimator=True)
        proba = cross_val_predict(estimator, X, y, cv=CV, method="predict_proba", n_jobs=2)
    for key in ("test_accuracy", "test_neg_log_loss"):
        np.testing.assert_array_equal(parallel[key], sequential[key], err_msg=key)
    assert (parallel["test_accuracy"] > ACCURACY_FLOOR).all(), parallel["test_accuracy"]
    assert all(len(fitted.classes_) == n_classes for fitted in parallel["estimator"])

    np.testing.assert_array_equal(proba, cross_val_predict(estimator, X, y, cv=CV, method="predict_proba"))
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    # The out-of-fold predictions are those the fold scores were computed from.
    assert np.mean(proba.argmax(axis=1) == y) == pytest.approx(parallel["test_accuracy"].mean(), abs=0.005)


# -- meta-estimators and pipelines --------------------------------------------------


@pytest.fixture(scope="module")
def mixed_frame():
    """Breast cancer as a DataFrame whose "worst area" became a categorical string column."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame["size"] = pd.qcut(frame.pop("worst area"), 3, labels=["small", "medium", "large"]).astype(str)
    labels = np.array(["malignant", "benign"])[data.target]
    return train_test_split(frame, labels, stratify=labels, random_state=0)


@pytest.mark.parametrize("case_id", ["FFClassifier", "PolarFFClassifier"])
def test_column_transformer_pipeline_on_a_mixed_dataframe(case_id, mixed_frame):
    X_train, X_test, y_train, y_test = mixed_frame
    assert X_train["size"].dtype != np.float64 and X_train.shape[1] == 30
    columns = ColumnTransformer([
        ("numeric", StandardScaler(), make_column_selector(dtype_include="number")),
        ("category", OneHotEncoder(handle_unknown="ignore"), ["size"]),
    ])
    model = make_pipeline(columns, make(case_id)).fit(X_train, y_train)
    classifier = model[-1]
    assert classifier.n_features_in_ == 29 + 3
    assert set(classifier.classes_) == {"benign", "malignant"}
    # Measured 0.965 for both.
    assert model.score(X_test, y_test) >= 0.93
    # Prediction from a frame with the columns in another order goes through
    # the ColumnTransformer, which selects them by name.
    shuffled = X_test[X_test.columns[::-1]]
    np.testing.assert_array_equal(model.predict_proba(shuffled), model.predict_proba(X_test))


@pytest.mark.parametrize(
    "case_id, data",
    [("FFClassifier", breast_cancer), ("PolarFFClassifier", breast_cancer), ("PolarFFClassifier", digits)],
    ids=["FFClassifier-breast_cancer", "Polar-breast_cancer", "Polar-digits"],
)
def test_calibrated_classifier(case_id, data):
    X_train, X_test, y_train, y_test = data()
    calibrated = CalibratedClassifierCV(make(case_id), cv=3, method="sigmoid").fit(X_train, y_train)
    assert len(calibrated.calibrated_classifiers_) == 3
    np.testing.assert_array_equal(calibrated.classes_, np.unique(y_train))
    proba = calibrated.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(calibrated.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(calibrated.predict(X_test), calibrated.classes_[proba.argmax(axis=1)])
    assert calibrated.score(X_test, y_test) >= ACCURACY_FLOOR


def test_soft_voting_with_logistic_regression():
    X_train, X_test, y_train, y_test = digits()
    voting = VotingClassifier(
        [("polar", make("PolarFFClassifier")), ("logistic", LogisticRegression(max_iter=500))], voting="soft"
    ).fit(X_train, y_train)
    polar, logistic = voting.estimators_
    # Soft voting averages the two models' probabilities.
    expected = (polar.predict_proba(X_test) + logistic.predict_proba(X_test)) / 2
    np.testing.assert_allclose(voting.predict_proba(X_test), expected, rtol=1e-12)
    np.testing.assert_array_equal(voting.predict(X_test), expected.argmax(axis=1))
    assert voting.score(X_test, y_test) >= max(polar.score(X_test, y_test), logistic.score(X_test, y_test)) - 0.02
    assert voting.score(X_test, y_test) >= 0.93


# -- threads inside joblib workers --------------------------------------------------


class ThreadRecordingClassifier(PolarFFClassifier):
    """Records how many threads torch would use while fitting."""

    def fit(self, X, y):
        self.fit_torch_threads_ = torch.get_num_threads()
        self.fit_pid_ = os.getpid()
        return super().fit(X, y)


def test_torch_threads_in_loky_workers_are_limited(monkeypatch):
    """joblib's loky backend starts its workers with OMP_NUM_THREADS,
    MKL_NUM_THREADS (and other libraries' variables) set to cpu_count //
    n_jobs, at least 1, keeping those the parent process sets; torch reads
    them. Two workers on two cores: one torch thread each (measured: 8 each on
    16 cores)."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    X, _, y, _ = digits()
    estimator = ThreadRecordingClassifier(**make("PolarFFClassifier", max_iter=1).get_params())
    results = cross_validate(estimator, X, y, cv=CV, n_jobs=2, return_estimator=True)
    fitted = results["estimator"]
    assert {model.fit_pid_ for model in fitted}.isdisjoint({os.getpid()})  # really in worker processes
    assert [model.fit_torch_threads_ for model in fitted] == [max(1, joblib.cpu_count() // 2)] * 3


@pytest.mark.parametrize("name", ["grid-FFClassifier", "grid-SCFF-pipeline"])
def test_threading_backend_equals_sequential_search(name, fitted_searches, rare_malignant):
    """Fits running side by side in threads of one process share no state."""
    sequential, _, X = fitted_searches(name)
    search, X, y = _search(name, rare_malignant)
    with joblib.parallel_config(backend="threading"):
        threaded = search.set_params(n_jobs=2).fit(X, y)
    assert threaded.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(threaded.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])


def test_cudnn_flags_survive_gpu_fits_overlapping_in_threads(monkeypatch):
    """Every GPU fit trains inside _deterministic_cudnn; two fits in two threads
    enter and leave it in this order. Needs no GPU: the flags are plain settings."""
    cudnn = torch.backends.cudnn
    monkeypatch.setattr(cudnn, "deterministic", False)
    monkeypatch.setattr(cudnn, "benchmark", True)
    first, second = _deterministic_cudnn(torch.device("cuda")), _deterministic_cudnn(torch.device("cuda"))
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first fit ends while the second still trains
    still_deterministic = (cudnn.deterministic, cudnn.benchmark)
    second.__exit__(None, None, None)
    after_both = (cudnn.deterministic, cudnn.benchmark)
    assert still_deterministic == (True, False), "the second fit lost deterministic cuDNN mid-training"
    assert after_both == (False, True), "the user's cuDNN flags were not restored"
