"""``sample_weight`` and ``class_weight`` of the classifiers."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, PolarFFClassifier

CLASSIFIERS = [FFClassifier, PolarFFClassifier]


def fit_quietly(clf, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def imbalanced():
    """Breast cancer with the malignant class cut to 10% of the training set."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    rng = np.random.RandomState(0)
    malignant = np.flatnonzero(y_train == 0)
    keep = np.r_[np.flatnonzero(y_train == 1), rng.choice(malignant, size=len(malignant) // 6, replace=False)]
    scaler = StandardScaler().fit(X_train[keep])
    return scaler.transform(X_train[keep]), scaler.transform(X_test), y_train[keep], y_test


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_unit_weights_change_nothing(cls):
    X, y = load_digits(return_X_y=True)
    params = dict(hidden_layer_sizes=(32,), max_iter=3, random_state=0)
    plain = fit_quietly(cls(**params), X / 16, y)
    ones = fit_quietly(cls(**params), X / 16, y, sample_weight=np.ones(len(y)))
    scaled = fit_quietly(cls(**params), X / 16, y, sample_weight=np.full(len(y), 7.0))
    np.testing.assert_array_equal(plain.predict_proba(X / 16), ones.predict_proba(X / 16))
    # Only ratios matter.
    np.testing.assert_allclose(plain.predict_proba(X / 16), scaled.predict_proba(X / 16), atol=1e-5)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_zero_weight_samples_are_not_learned(cls):
    """Samples of weight 0 teach nothing: a class seen only with weight 0 is never predicted."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(StandardScaler().fit_transform(X), y, stratify=y,
                                                        random_state=0)
    weight = np.where(y_train == 3, 0.0, 1.0)
    clf = fit_quietly(cls(hidden_layer_sizes=(100,), max_iter=10, random_state=0), X_train, y_train,
                      sample_weight=weight)
    assert recall_score(y_test, clf.predict(X_test), labels=[3], average="macro") <= 0.2
    others = y_test != 3
    assert (clf.predict(X_test[others]) == y_test[others]).mean() >= 0.85


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_class_weight_balanced_helps_minority_class(cls, imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    params = dict(hidden_layer_sizes=(64,), max_iter=10, batch_size=32, random_state=0)
    plain = fit_quietly(cls(**params), X_train, y_train)
    balanced = fit_quietly(cls(class_weight="balanced", **params), X_train, y_train)
    # Measured: FF 0.50 -> 0.86 balanced accuracy (plain FF predicts the
    # majority class only), Polar-FF 0.85 -> 0.94; minority recall >= 0.96.
    assert recall_score(y_test, balanced.predict(X_test), pos_label=0) >= 0.9
    assert (balanced_accuracy_score(y_test, balanced.predict(X_test))
            >= balanced_accuracy_score(y_test, plain.predict(X_test)) + 0.05)
    # A dict gives the same weights as "balanced" when it holds the same numbers.
    counts = np.bincount(y_train)
    as_dict = {c: len(y_train) / (2 * counts[c]) for c in (0, 1)}
    explicit = fit_quietly(cls(class_weight=as_dict, **params), X_train, y_train)
    np.testing.assert_allclose(explicit.predict_proba(X_test), balanced.predict_proba(X_test), atol=1e-5)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_bad_weights_are_rejected(cls):
    X, y = load_digits(return_X_y=True)
    clf = cls(hidden_layer_sizes=(8,), max_iter=1)
    with pytest.raises(ValueError, match="(?i)negative"):
        clf.fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        clf.fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="shape|number of samples|should be"):
        clf.fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sum to zero"):
        cls(class_weight={c: 0.0 for c in range(10)}, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        cls(class_weight="balanced").partial_fit(X, y, classes=np.arange(10))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_sample_weight_with_early_stopping(cls):
    """The weights follow their samples into the training part of the validation split."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(StandardScaler().fit_transform(X), y, stratify=y,
                                                        random_state=0)
    weight = np.where(y_train == 3, 0.0, 1.0)
    clf = fit_quietly(cls(hidden_layer_sizes=(100,), max_iter=10, early_stopping=True, n_iter_no_change=10,
                          random_state=0), X_train, y_train, sample_weight=weight)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Misaligned weights would teach class 3 through other samples' weights.
    assert recall_score(y_test, clf.predict(X_test), labels=[3], average="macro") <= 0.2


def test_class_weight_dict_must_name_known_classes():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="not in the data"):
        PolarFFClassifier(class_weight={0: 1.0, 42: 2.0}, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="non-negative"):
        PolarFFClassifier(class_weight={0: -1.0}, max_iter=1).fit(X, y)


def test_weights_vanishing_from_the_training_split_are_an_error():
    X, y = load_digits(return_X_y=True)
    weight = np.zeros(len(y))
    weight[:2] = 1.0  # too few to survive the split in every case: force it
    clf = PolarFFClassifier(max_iter=1, early_stopping=True, validation_fraction=0.5, random_state=0)
    rng = np.random.RandomState(0)
    for _ in range(20):
        try:
            clf.set_params(random_state=int(rng.randint(1000))).fit(X, y, sample_weight=weight)
        except ValueError as exc:
            assert "training part of the early-stopping split" in str(exc)
            return
    pytest.fail("no seed put both weighted samples into the validation part")


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_class_weight_counts_in_partial_fit_on_single_class_chunks(cls):
    # A stream whose chunks each hold one class: class weights rescaled
    # within a chunk would all become 1 (they used to: the model was the
    # same with and without them).
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    chunks = [(X[y == c][:100], np.full(100, c)) for c in (0, 1)]

    def stream(class_weight):
        clf = cls(hidden_layer_sizes=(16,), class_weight=class_weight, random_state=0)
        for _ in range(3):
            for X_chunk, y_chunk in chunks:
                clf.partial_fit(X_chunk, y_chunk, classes=[0, 1])
        return clf.predict_proba(X)[:, 1].mean()

    plain, favour_one, favour_zero = stream(None), stream({0: 1.0, 1: 20.0}), stream({0: 20.0, 1: 1.0})
    assert favour_zero < plain < favour_one, (favour_zero, plain, favour_one)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_only_the_ratios_of_sample_weights_matter(cls):
    # Uniform weights far outside float32's range are uniform weights.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    ones = fit_quietly(cls(**params), X, y, sample_weight=np.ones(len(y))).decision_function(X)
    for scale in (1e-50, 1e40, 1e308):
        scaled = fit_quietly(cls(**params), X, y, sample_weight=np.full(len(y), scale)).decision_function(X)
        np.testing.assert_array_equal(scaled, ones)
    ratios = np.where(y == 0, 3.0, 1.0)
    np.testing.assert_array_equal(
        fit_quietly(cls(**params), X, y, sample_weight=1e-45 * ratios).decision_function(X),
        fit_quietly(cls(**params), X, y, sample_weight=ratios).decision_function(X),
    )


def test_partial_fit_class_weights_are_rescaled_over_the_classes():
    # Documented: mean 1 over the classes (not over the chunk's samples), so
    # a class weighs the same in every chunk whatever the chunk holds.
    X, y = load_breast_cancer(return_X_y=True)
    clf = FFClassifier(class_weight={0: 1.0, 1: 3.0})
    classes = np.array([0, 1])
    for chunk in (y[:50], np.zeros(20, int), np.ones(20, int)):
        weights = clf._sample_weights(X[:len(chunk)], chunk, None, classes, incremental=True)
        np.testing.assert_allclose(weights, np.where(chunk == 1, 1.5, 0.5), rtol=1e-6)
