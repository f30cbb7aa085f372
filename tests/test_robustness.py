"""Behaviour shared by every estimator around training: collapsed training,
failed refits, parameters changed between ``partial_fit`` calls, input too
large to score, the max_iter warning, verbose output, device strings."""

import warnings

import numpy as np
import torch
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skff
from skff import (
    ActivationLearningAnomalyDetector,
    FFClassifier,
    PolarFFClassifier,
    SCFFTransformer,
    TrainingDivergedError,
)
from skff.callbacks import Callback


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# A step of 1000 drives every ReLU unit below zero within a few epochs; the
# loss then stays constant, and before this check the fit ended "converged"
# with a model that predicted one class for everything.
def test_collapsed_classifier_is_reported(iris):
    X, y = iris
    # Every sample with its true label leaves the layer silent; with the
    # probe's wrong labels drawn differently (session 14), one of 150 still
    # fired a unit, and the fit ended with a constant model (0.33): silence
    # on every true label counts as collapse.
    clf = FFClassifier(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=1e3, device="cpu", random_state=0)
    with pytest.raises(TrainingDivergedError,
                       match=r"collapsed: after epoch \d+ no unit of layer 1.*learning_rate_init"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # The same network with a sane step keeps its units alive and learns
    # (0.86 on the training data; a constant prediction scores 0.33).
    sane = FFClassifier(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.03, device="cpu", random_state=0)
    assert sane.fit(X, y).score(X, y) > 0.8


@pytest.mark.parametrize("cls", [FFClassifier, PolarFFClassifier])
@pytest.mark.parametrize("activation, learning_rate", [("sigmoid", 1.0), ("tanh", 3.0)])
def test_saturated_layer_is_reported(cls, activation, learning_rate):
    # Units pinned at 1 (sigmoid) or +-1 (tanh) give every sample the same
    # activity; before this check the fit ended with a ConvergenceWarning and
    # a model whose class scores were equal for every sample (loss 0.6931).
    X, y = load_digits(return_X_y=True)
    clf = cls(hidden_layer_sizes=(16,), activation=activation, learning_rate_init=learning_rate, max_iter=3,
              device="cpu", random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"collapsed: after epoch \d+ layer 1 gives the same activity"):
        clf.fit(X[:200] / 16, y[:200])


@pytest.mark.parametrize("cls", [FFClassifier, PolarFFClassifier])
def test_label_lost_to_rounding_is_reported(cls):
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    # Pixels of 1e6 and more: the label code beside them changes layer 1's
    # activity by less than float32 resolves (this fit scored 0.075 on its
    # own training data before the check).
    with pytest.raises(TrainingDivergedError, match="true and wrong labels.*lost to float32 rounding"):
        cls(hidden_layer_sizes=(32,), max_iter=5, device="cpu", random_state=0).fit(X * 1e7, y)
    # One nanosecond timestamp beside the pixels makes the rest not count.
    timestamps = 1.7e18 + np.arange(200) * 1e9
    with pytest.raises(TrainingDivergedError, match="same activity.*so large that the others do not count"):
        cls(hidden_layer_sizes=(32,), max_iter=5, device="cpu", random_state=0).fit(np.c_[X, timestamps], y)
    # Pixels of 1e4 still leave the label visible: no error.
    cls(hidden_layer_sizes=(32,), max_iter=1, device="cpu", random_state=0).fit(X * 1e4, y)


@pytest.mark.parametrize("cls", [FFClassifier, PolarFFClassifier])
def test_one_huge_probed_row_is_not_a_collapse(cls):
    # That row is blind to the label, the others are not: each row is judged
    # against its own scale (a probe-wide scale stopped this fit, which
    # scores about as well as without the outlier: 0.92-0.94 vs 0.94-0.96).
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(StandardScaler().fit_transform(X), y, random_state=0)
    X_train[10, 3] = 1e8
    clf = cls(hidden_layer_sizes=(64, 64), max_iter=20, device="cpu", random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9


def test_collapsed_scff_layer_is_reported():
    # Zero goodness for every pair: the loss sticks at softplus(4) +
    # softplus(-6) = 4.02 and no gradient flows.
    X, _ = load_digits(return_X_y=True)
    scff = SCFFTransformer(hidden_layer_sizes=(8, 8), max_iter=3, learning_rate_init=1.0, device="cpu", random_state=0)
    with pytest.raises(TrainingDivergedError, match="collapsed.*layer 1"):
        scff.fit(X[:300])


ESTIMATORS = [
    lambda: FFClassifier(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0),
    lambda: PolarFFClassifier(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0),
    lambda: SCFFTransformer(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0),
    lambda: ActivationLearningAnomalyDetector(max_iter=2, device="cpu", random_state=0),
]


def _output(estimator, X):
    return estimator.transform(X) if isinstance(estimator, SCFFTransformer) else estimator.predict(X)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_failed_refit_leaves_the_fitted_model_intact(make, iris):
    X, y = iris
    estimator = make().fit(X, y)
    before = _output(estimator, X)
    state = set(vars(estimator))
    # validate_data accepts the new X (and used to record its 3 features)
    # before the layer sizes are checked.
    estimator.set_params(hidden_layer_sizes=(8, 0))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        estimator.fit(X[:, :3], y)
    estimator.set_params(hidden_layer_sizes=(8,) if not isinstance(estimator, ActivationLearningAnomalyDetector)
                         else (0.5, 1))
    assert estimator.n_features_in_ == 4
    assert set(vars(estimator)) == state
    np.testing.assert_array_equal(_output(estimator, X), before)
    with pytest.raises(ValueError, match="4 features"):
        _output(estimator, X[:, :3])


def test_failed_first_fit_leaves_no_fitted_state(iris):
    X, _ = iris
    clf = FFClassifier(hidden_layer_sizes=(8,), device="cpu")
    with pytest.raises(ValueError, match="one class"):
        clf.fit(X, np.zeros(len(X)))
    assert not hasattr(clf, "n_features_in_")


@pytest.mark.parametrize("make, bad", [
    (ESTIMATORS[0], dict(batch_size=0)),
    (ESTIMATORS[0], dict(negatives="nonsense")),
    (ESTIMATORS[1], dict(class_weight="nonsense")),
    (ESTIMATORS[2], dict(n_negatives=0)),
    (ESTIMATORS[3], dict(learning_rate_init=-1.0)),
])
def test_parameters_are_validated_on_every_partial_fit_call(make, bad, iris):
    # scikit-learn validates on the first partial_fit call only; set_params
    # between calls is supported here, so every call checks.
    X, y = iris
    estimator = make()
    args = (X, y, np.unique(y)) if hasattr(estimator, "predict_proba") else (X,)
    estimator.partial_fit(*args)
    estimator.set_params(**bad)
    with pytest.raises(InvalidParameterError, match=next(iter(bad))):
        estimator.partial_fit(*args[:2])


@pytest.mark.parametrize("cls, params", [
    (FFClassifier, dict(threshold=1e39)), (FFClassifier, dict(threshold=-1e39)), (FFClassifier, dict(alpha=1e39)),
    (PolarFFClassifier, dict(alpha=1e39)),
])
def test_probability_parameters_must_be_finite_in_float32(cls, params, iris):
    # Finite in float64, inf in float32: the loss became NaN and the error
    # blamed the learning rate.
    X, y = iris
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"{name}=.* is beyond float32's range"):
        cls(hidden_layer_sizes=(4,), max_iter=1, device="cpu", **params).fit(X, y)


@pytest.mark.parametrize("params", [dict(threshold_pos=np.nan), dict(threshold_neg=[1.0, np.inf]),
                                    dict(threshold_pos=1e39)])
def test_scff_thresholds_must_be_finite_in_float32(params):
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match=f"{next(iter(params))} must be finite in float32"):
        SCFFTransformer(hidden_layer_sizes=(8, 8), max_iter=1, device="cpu", **params).fit(X[:50])


def test_polar_epsilon_must_survive_float32(iris):
    # 1e-50 passed validation, rounded to 0 in float32 and made the loss NaN
    # with a message blaming the learning rate.
    X, y = iris
    params = dict(hidden_layer_sizes=(4,), probability="symmetric", max_iter=1, device="cpu", random_state=0)
    for epsilon in (1e-50, 1e39):  # 0 or inf in float32
        with pytest.raises(InvalidParameterError, match="epsilon"):
            PolarFFClassifier(**params, epsilon=epsilon).fit(X, y)
    PolarFFClassifier(**params, epsilon=1e-30).fit(X, y)


@pytest.mark.parametrize("cls", [FFClassifier, PolarFFClassifier])
def test_input_too_large_to_score_is_an_error_not_nan(cls, iris):
    X, y = iris
    clf = cls(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0).fit(X, y)
    huge = X[:3] * 1e20  # finite in float32; its squares are not
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(ValueError, match=r"3 row\(s\) of X .*non-finite class scores"):
            method(huge)


@pytest.mark.parametrize("encoder, shape", [("dense", None), ("conv", (1, 2, 2)), ("birnn", (2, 2))])
def test_scff_features_too_large_to_compute_are_an_error_not_nan(encoder, shape):
    # Unstandardised rows near float32's maximum overflow the first layer.
    X = np.random.RandomState(0).normal(size=(60, 4))
    scff = SCFFTransformer(encoder=encoder, input_shape=shape, hidden_layer_sizes=(4,), max_iter=1,
                           standardize_samples=False, device="cpu", random_state=0).fit(X)
    # Finite features or an error, never NaN (the dense layer does overflow here).
    try:
        assert np.isfinite(scff.transform(X[:3] * 1e38)).all()
    except ValueError as exc:
        assert "row(s) of X" in str(exc) and "non-finite features" in str(exc)
    else:
        assert encoder != "dense", "the dense layer's output overflows at 1e38"
    assert np.isfinite(scff.transform(X[:3] * 1e30)).all()


def test_scff_takes_one_feature_when_it_does_not_standardise_samples():
    X = np.random.RandomState(0).uniform(-2, 2, size=(300, 1))
    with pytest.raises(ValueError, match="at least 2 features.*standardize_samples=False"):
        SCFFTransformer(device="cpu").fit(X)
    features = SCFFTransformer(standardize_samples=False, hidden_layer_sizes=(16,), max_iter=3, device="cpu",
                               random_state=0).fit_transform(X)
    assert features.shape == (300, 16) and np.isfinite(features).all()


def test_early_stopping_on_small_data_with_many_classes():
    # 9 validation samples cannot hold one of each of 10 classes: a plain
    # random split, as MLPClassifier manages, rather than train_test_split's error.
    X, y = load_digits(return_X_y=True)
    X, y = X[:90] / 16, y[:90]
    clf = FFClassifier(hidden_layer_sizes=(8,), max_iter=2, early_stopping=True, device="cpu", random_state=0)
    assert len(clf.fit(X, y).validation_scores_) == 2


@pytest.mark.parametrize("make", ESTIMATORS)
def test_reaching_max_iter_warns(make, iris):
    X, y = iris
    estimator = make().set_params(max_iter=1, tol=0.0)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(1\) reached"):
        estimator.fit(X, y)


def test_verbose_shows_a_progress_bar_and_epoch_lines(iris, capsys):
    X, y = iris
    FFClassifier(hidden_layer_sizes=(8,), max_iter=2, verbose=2, device="cpu", random_state=0).fit(X, y)
    out, err = capsys.readouterr()
    assert "FFClassifier (all layers)" in err and "2/2" in err  # tqdm's bar
    assert [line.split()[:2] for line in out.splitlines()] == [["epoch", "1"], ["epoch", "2"]]
    FFClassifier(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0).fit(X, y)
    assert capsys.readouterr() == ("", "")  # verbose=0 prints nothing


def test_device_auto_and_bad_device_strings(iris):
    X, y = iris
    auto = FFClassifier(hidden_layer_sizes=(8,), max_iter=1, device="auto", random_state=0).fit(X, y)
    assert auto.device_.startswith("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device='tpu' is not a valid device"):
        FFClassifier(device="tpu").fit(X, y)
    with pytest.raises(ValueError, match=r"device='cuda:99' was requested but CUDA \(or that GPU\) is not available"):
        FFClassifier(device="cuda:99").fit(X, y)


@pytest.mark.parametrize("make", [
    lambda: FFClassifier(hidden_layer_sizes=(4,), device="cpu", random_state=0),
    lambda: PolarFFClassifier(hidden_layer_sizes=(4,), device="cpu", random_state=0),
    lambda: SCFFTransformer(hidden_layer_sizes=(16, 2), device="cpu", random_state=0),
])
def test_partial_fit_on_tiny_chunks_is_not_taken_for_a_collapse(make):
    # The silent-layer probe of partial_fit would be the chunk: a small layer
    # can be silent on two samples while it responds to most of the data.
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    estimator = make()
    for start in range(0, 300, 2):
        chunk = slice(start, start + 2)
        if hasattr(estimator, "predict_proba"):
            estimator.partial_fit(X[chunk], y[:300][chunk], classes=np.arange(10))
        else:
            estimator.partial_fit(X[chunk])
    assert len(estimator.history_) == 150 and estimator.n_iter_ == 1


@pytest.mark.parametrize("make", [ESTIMATORS[0], ESTIMATORS[2]])
def test_failed_partial_fit_leaves_the_optimizer_moments_as_they_were(make, iris):
    import copy

    class Fail(Callback):
        def on_epoch_end(self, estimator, **kwargs):
            raise RuntimeError("stop here")

    X, y = iris
    args = (X, y, np.unique(y)) if isinstance(make(), FFClassifier) else (X,)
    estimator = make().partial_fit(*args).partial_fit(*args[:2])
    untouched = copy.deepcopy(estimator)
    with pytest.raises(RuntimeError, match="stop here"):
        estimator.set_params(callbacks=[Fail()]).partial_fit(*args[:2])
    estimator.set_params(callbacks=None)
    after, expected = estimator.partial_fit(*args[:2]), untouched.partial_fit(*args[:2])
    output = "decision_function" if hasattr(after, "decision_function") else "transform"
    np.testing.assert_array_equal(getattr(after, output)(X), getattr(expected, output)(X))


@pytest.mark.parametrize("make, fitted, respelled", [
    (lambda **p: FFClassifier(hidden_layer_sizes=16, **p), {}, dict(hidden_layer_sizes=(16,))),
    (lambda **p: PolarFFClassifier(hidden_layer_sizes=[16], **p), {}, dict(hidden_layer_sizes=np.array([16]))),
    # the dense encoder's defaults: (500, 500) units, thresholds (4, 1) and (6, 1)
    (lambda **p: SCFFTransformer(hidden_layer_sizes=(20, 20), **p), {},
     dict(threshold_pos=(4.0, 1.0), threshold_neg=[6.0, 1.0], pairing="streams")),
    (lambda **p: SCFFTransformer(encoder="conv", input_shape=None, hidden_layer_sizes=(4,), **p), {},
     dict(input_shape=(1, 1, 4))),
    # (0.5, 1) on 4 features + the constant: 3 units, then 1
    (lambda **p: ActivationLearningAnomalyDetector(**p), {}, dict(hidden_layer_sizes=[3, 1])),
])
def test_warm_start_accepts_another_spelling_of_the_same_network(make, fitted, respelled, iris):
    X, y = iris
    model = make(max_iter=2, random_state=0, warm_start=True)
    model.fit(X, y)
    first = len(model.history_)
    model.set_params(**respelled).fit(X, y)
    assert len(model.history_) > first  # continued, not refused or restarted
    model.partial_fit(X, y) if isinstance(model, (FFClassifier, PolarFFClassifier)) else model.partial_fit(X)


def test_a_changed_network_is_still_refused(iris):
    X, y = iris
    model = FFClassifier(hidden_layer_sizes=16, max_iter=2, random_state=0, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        model.set_params(hidden_layer_sizes=(17,)).fit(X, y)
    scff = SCFFTransformer(hidden_layer_sizes=(8,), max_iter=1, random_state=0, warm_start=True).fit(X)
    with pytest.raises(ValueError, match="threshold_pos changed"):
        scff.set_params(threshold_pos=3.0).fit(X)


def test_a_new_encoder_is_named_even_when_the_shape_does_not_suit_it():
    # input_shape (1, 8, 8) cannot be resolved for a recurrent encoder; the
    # refusal names the parameter that was set, not the shape's complaint.
    X, _ = load_digits(return_X_y=True)
    model = SCFFTransformer(encoder="conv", input_shape=(1, 8, 8), hidden_layer_sizes=(4,), max_iter=1,
                            random_state=0, warm_start=True).fit(X[:100])
    model.set_params(encoder="birnn")
    with pytest.raises(ValueError, match="SCFFTransformer: encoder changed since the model was fitted"):
        model.fit(X[:100])
    with pytest.raises(ValueError, match="SCFFTransformer: encoder changed since the model was fitted"):
        model.partial_fit(X[:100])


def test_scff_input_shape_needs_whole_numbers():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match=r"input_shape must hold whole numbers, got \(1.5, 8, 8\)"):
        SCFFTransformer(encoder="conv", input_shape=(1.5, 8, 8), max_iter=1).fit(X[:20])


@pytest.mark.parametrize("scale", [1e19, 1e30, 1e-30])
def test_detector_scores_do_not_depend_on_the_scale_of_the_data(scale):
    # Rows are scaled to unit length (with a constant relative to the median
    # norm): the squares in a float32 norm of rows near 1e19 used to
    # overflow and the fit ended in NaN ("lower learning_rate_init").
    X = np.random.RandomState(0).normal(size=(300, 5))
    params = dict(max_iter=3, random_state=0)
    reference = ActivationLearningAnomalyDetector(**params).fit(X).score_samples(X)
    scaled = ActivationLearningAnomalyDetector(**params).fit(X * scale).score_samples(X * scale)
    np.testing.assert_allclose(scaled, reference, atol=1e-5)


# scikit-learn's finiteness check sums X, which overflows at these values.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
def test_detector_constant_beyond_float32_is_a_clear_error():
    # The constant is constant_feature times the median row norm, computed in
    # float64; beyond float32's range it used to fail deep in torch
    # ("value cannot be converted to type float without overflow").
    X = np.random.RandomState(0).normal(size=(50, 5))
    with pytest.raises(ValueError, match="appended constant.*beyond float32's range.*constant_feature"):
        ActivationLearningAnomalyDetector(max_iter=1, constant_feature=1e39).fit(X)
    with pytest.raises(ValueError, match="appended constant.*beyond float32's range"):
        ActivationLearningAnomalyDetector(max_iter=1).fit(X * 6e37)
    ActivationLearningAnomalyDetector(max_iter=1, constant_feature=None).fit(X * 6e37)


@pytest.mark.parametrize("make", [FFClassifier, PolarFFClassifier, SCFFTransformer, ActivationLearningAnomalyDetector])
def test_network_too_large_for_memory_is_a_memory_error(make, iris):
    # 1e14 units: more bytes than a 64-bit address space maps, so the
    # allocation fails on any machine. It surfaced as torch's RuntimeError
    # ("[enforce fail at alloc_cpu.cpp] ... can't allocate memory").
    X, y = iris
    estimator = make(hidden_layer_sizes=(10**14,), device="cpu")
    with pytest.raises(MemoryError, match=rf"{make.__name__}: out of memory while fitting on device 'cpu'.*batch_size"):
        estimator.fit(X, y)
    assert not hasattr(estimator, "n_features_in_")
    # Still torch's error type: a loop that retries on it keeps working.
    with pytest.raises(torch.cuda.OutOfMemoryError):
        estimator.fit(X, y)


@pytest.mark.parametrize("message", [
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 10 bytes",
    "DefaultCPUAllocator: not enough memory: you tried to allocate 10 bytes",  # Windows, mimalloc builds
    "CUDA out of memory. Tried to allocate 2.00 GiB",
    "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    "cuDNN error: CUDNN_STATUS_ALLOC_FAILED",
])
def test_torch_allocation_failures_become_memory_errors(message, iris, monkeypatch):
    import skff._ff

    def fail(*args, **kwargs):
        raise RuntimeError(message)

    X, y = iris
    monkeypatch.setattr(skff._ff, "to_tensor", fail)
    with pytest.raises(MemoryError, match="FFClassifier: out of memory"):
        FFClassifier(hidden_layer_sizes=(4,), device="cpu").fit(X, y)
    # Other runtime errors pass through unchanged.
    monkeypatch.setattr(skff._ff, "to_tensor", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("shape mismatch")))
    with pytest.raises(RuntimeError, match="^shape mismatch$"):
        FFClassifier(hidden_layer_sizes=(4,), device="cpu").fit(X, y)


def test_out_of_memory_error_frees_the_failed_fits_tensors(iris, monkeypatch):
    # A retry with a smaller batch_size, inside the except block, must not
    # find the failed fit's data and network still held by a traceback.
    import weakref

    import skff._ff

    allocated = []

    def allocate_then_fail(X, device):
        data = torch.as_tensor(X, dtype=torch.float32)
        allocated.append(weakref.ref(data))
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    X, y = iris
    monkeypatch.setattr(skff._ff, "to_tensor", allocate_then_fail)
    try:
        FFClassifier(hidden_layer_sizes=(4,), device="cpu").fit(X, y)
    except skff.FitOutOfMemoryError as exc:
        assert allocated[0]() is None
        assert "CUDA out of memory" in str(exc) and "CUDA out of memory" in str(exc.__cause__)
    else:
        pytest.fail("no FitOutOfMemoryError")


def test_failed_continuation_leaves_the_callbacks_that_ran_unchanged(iris):
    # keeps_state_on_failure restores the estimator's attributes, not the
    # objects they hold: a continuation trains on fresh copies of callbacks_.
    class Recorder(Callback):
        def __init__(self):
            self.fail = False

        def on_train_begin(self, estimator, **kwargs):
            self.events = getattr(self, "events", []) + ["begin"]

        def on_epoch_end(self, estimator, *, history, **kwargs):
            if self.fail:
                raise RuntimeError("callback failure")
            self.events.append(history[-1]["epoch"])

    X, y = iris
    clf = FFClassifier(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, callbacks=[Recorder()], device="cpu",
                       random_state=0).fit(X, y)
    assert clf.callbacks_[0].events == ["begin", 1, 2, 3]
    clf.callbacks_[0].fail = True
    with pytest.raises(RuntimeError, match="callback failure"):
        clf.fit(X, y)
    assert clf.callbacks_[0].events == ["begin", 1, 2, 3]
    clf.callbacks_[0].fail = False
    clf.fit(X, y)
    assert clf.callbacks_[0].events == ["begin", 1, 2, 3, "begin", 4, 5, 6]
