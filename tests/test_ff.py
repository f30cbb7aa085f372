"""Behaviour and accuracy of FFClassifier and PolarFFClassifier."""

import itertools
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, PolarFFClassifier, TrainingDivergedError
from skff.metrics import hoyer_sparsity, separability_index

CLASSIFIERS = [FFClassifier, PolarFFClassifier]


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def small(cls, **params):
    defaults = dict(hidden_layer_sizes=(64, 64), max_iter=15, batch_size=64, random_state=0)
    return cls(**{**defaults, **params})


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_digits_accuracy(cls, digits_split):
    """Stratified 75/25 split of load_digits, seed 0: at least 0.95 test accuracy."""
    X_train, X_test, y_train, y_test = digits_split
    clf = cls(hidden_layer_sizes=(500, 500), batch_size=64, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_breast_cancer_binary_with_string_labels(cls):
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.array(["malignant", "benign"])[y]
    X_train, X_test, y_train, y_test = train_test_split(X, labels, stratify=labels, random_state=0)
    clf = make_pipeline(StandardScaler(), small(cls, max_iter=30))
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.93
    assert set(clf.predict(X_test)) <= {"malignant", "benign"}
    decision = clf.decision_function(X_test)
    assert decision.shape == (len(X_test),)
    # Binary decision: positive favours classes_[1].
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[(decision > 0).astype(int)])


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_non_contiguous_integer_labels_and_proba(cls, digits_split):
    X_train, X_test, y_train, _ = digits_split
    mapping = np.array([-7, 3, 10, 11, 42, 100, 101, 250, 999, 1000])
    clf = small(cls).fit(X_train, mapping[y_train])
    np.testing.assert_array_equal(clf.classes_, mapping)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X_test), mapping[proba.argmax(axis=1)])
    assert clf.decision_function(X_test).shape == (len(X_test), 10)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_same_seed_same_model_other_seed_other_model(cls, digits_split):
    X_train, X_test, y_train, _ = digits_split
    a = small(cls, max_iter=3).fit(X_train, y_train).decision_function(X_test)
    b = small(cls, max_iter=3).fit(X_train, y_train).decision_function(X_test)
    c = small(cls, max_iter=3, random_state=1).fit(X_train, y_train).decision_function(X_test)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_pickle_and_joblib_round_trip(cls, digits_split, tmp_path):
    X_train, X_test, y_train, _ = digits_split
    clf = small(cls, max_iter=3).fit(X_train, y_train)
    expected = clf.predict_proba(X_test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X_test), expected)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X_test), expected)
    # The stored state is device-neutral: every tensor lives on the CPU.
    state = pickle.loads(pickle.dumps(clf)).module_.state_dict()
    assert all(t.device.type == "cpu" for t in state.values())
    assert not hasattr(clone(clf), "module_")


def test_model_fitted_on_gpu_setting_predicts_on_cpu_only_machine(digits_split, monkeypatch):
    """A model whose device is 'cuda' loads and predicts where CUDA is absent."""
    X_train, X_test, y_train, _ = digits_split
    clf = small(PolarFFClassifier, max_iter=2).fit(X_train, y_train)
    expected = clf.predict(X_test)
    restored = pickle.loads(pickle.dumps(clf))
    restored.set_params(device="cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="not available"):
        np.testing.assert_array_equal(restored.predict(X_test), expected)
    with pytest.raises(ValueError, match="CUDA"):
        small(PolarFFClassifier, device="cuda").fit(X_train, y_train)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_early_stopping_keeps_best_validation_weights(cls, digits_split):
    X_train, _, y_train, _ = digits_split
    clf = small(cls, max_iter=40, early_stopping=True, n_iter_no_change=3).fit(X_train, y_train)
    scores = clf.validation_scores_
    assert clf.n_iter_ == len(scores) < 40
    assert clf.best_validation_score_ == max(scores)
    # Restored weights reproduce the best validation score on the same split.
    from sklearn.model_selection import train_test_split as split

    rng = np.random.RandomState(0)
    # The engine drew the split seed after the generator seeds; recompute it.
    rng.randint(np.iinfo(np.int32).max, size=2)
    _, X_val, _, y_val = split(
        X_train, np.unique(y_train, return_inverse=True)[1], test_size=0.1,
        random_state=rng.randint(np.iinfo(np.int32).max), stratify=y_train,
    )
    assert np.mean(clf.predict(X_val) == clf.classes_[y_val]) == pytest.approx(max(scores))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_history_records_layers_sparsity_and_time(cls, digits_split):
    X_train, _, y_train, _ = digits_split
    clf = small(cls, max_iter=4, hidden_layer_sizes=(32, 32, 32)).fit(X_train, y_train)
    assert clf.n_iter_ == len(clf.history_) == 4
    layer_loss = np.array(clf.history_[:, "layer_loss"])
    assert layer_loss.shape == (4, 3)
    # Layer-local learning: every layer's loss falls from the first epoch.
    assert (layer_loss[-1] < layer_loss[0]).all()
    for key in ("sparsity_positive", "sparsity_negative"):
        values = np.array(clf.history_[:, key])
        assert values.shape == (4, 3) and ((values >= 0) & (values <= 1)).all()
    assert all(s > 0 for s in clf.history_[:, "seconds"])
    np.testing.assert_allclose(clf.loss_curve_, layer_loss.sum(axis=1))
    # The last entry is the sparsity of the fitted model on the probed
    # samples: a fixed random subset of 256 (its own generator, seed 0).
    network = clf.module_
    probe = torch.randperm(len(X_train), generator=torch.Generator().manual_seed(0))[:256].numpy()
    X_t = torch.as_tensor(X_train[probe], dtype=torch.float32)
    y_t = torch.as_tensor(np.searchsorted(clf.classes_, y_train[probe]))
    with torch.no_grad():
        positive = [float(hoyer_sparsity(h).mean()) for h in network.activities(X_t, y_t)]
    np.testing.assert_allclose(clf.history_[-1, "sparsity_positive"], positive, rtol=1e-4)


def test_history_sparsity_probes_all_classes_of_sorted_data(digits_split):
    # Digits sorted by class: the first 256 rows hold only 0s and 1s, whose
    # layer-2 sparsity is 0.016 off the data set's here (up to 0.035 in
    # other settings). The random probe measures the data set's to about
    # 0.005.
    X_train, _, y_train, _ = digits_split
    order = np.argsort(y_train, kind="stable")
    X_sorted, y_sorted = X_train[order], y_train[order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FFClassifier(max_iter=10, random_state=0).fit(X_sorted, y_sorted)
    every_row = [float(hoyer_sparsity(h).mean()) for h in clf.latent_activations(X_sorted, y_sorted)]
    first_rows = [float(hoyer_sparsity(h).mean())
                  for h in clf.latent_activations(X_sorted[:256], y_sorted[:256])]
    recorded = clf.history_[-1, "sparsity_positive"]
    assert max(abs(a - b) for a, b in zip(first_rows, every_row)) > 0.015  # the old probe's error
    np.testing.assert_allclose(recorded, every_row, atol=0.01)


def test_layerwise_history_has_one_sparsity_per_layer_every_epoch(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = small(FFClassifier, max_iter=2, hidden_layer_sizes=(16, 16), schedule="layerwise").fit(X_train, y_train)
    for key in ("sparsity_positive", "sparsity_negative"):
        values = np.array(clf.history_[:, key])  # ragged lists would not form an array
        assert values.shape == (4, 2)
        assert np.isnan(values[:2, 1]).all() and np.isfinite(values[:, 0]).all() and np.isfinite(values[2:]).all()


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_activity_pairs_equal_separate_activities(cls, digits_split):
    X_train, _, y_train, _ = digits_split
    network = small(cls, max_iter=2, hidden_layer_sizes=(32, 16)).fit(X_train, y_train).module_
    x = torch.as_tensor(X_train[:50], dtype=torch.float32)
    y_pos = torch.as_tensor(y_train[:50])
    y_neg = (y_pos + 3) % 10
    pairs = network.activity_pairs(x, y_pos, y_neg)
    for stacked, pos, neg in zip(pairs, network.activities(x, y_pos), network.activities(x, y_neg)):
        torch.testing.assert_close(stacked, torch.cat([pos, neg]), rtol=1e-5, atol=1e-5)
    assert len(network.activity_pairs(x, y_pos, y_neg, n_layers=1)) == 1


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_layerwise_schedule_trains_layers_greedily(cls, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = small(cls, hidden_layer_sizes=(200, 200), schedule="layerwise", max_iter=10).fit(X_train, y_train)
    stages = clf.history_[:, "stage"]
    assert stages == ["layer 1"] * 10 + ["layer 2"] * 10
    assert clf.n_iter_ == 20
    # First layer frozen during stage 2: a single-layer loss per epoch.
    assert all(len(v) == 1 for v in clf.history_[:, "layer_loss"])
    assert clf.score(X_test, y_test) > 0.85


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_hard_negatives_and_predict_layers(cls, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = small(cls, negatives="hard").fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.85
    full = clf.decision_function(X_test)
    first = clf.set_params(predict_layers=[0]).decision_function(X_test)
    second = clf.set_params(predict_layers=[-1]).decision_function(X_test)
    np.testing.assert_allclose(first + second, full, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="out of range"):
        clf.set_params(predict_layers=[2]).predict(X_test)


def test_hard_negatives_are_the_wrong_labels_predict_would_rank_highest(digits_split, monkeypatch):
    # The hardest wrong label is scored as predict scores: predict_layers
    # among the layers trained so far, and predict_score (it summed the
    # log-odds of every trained layer whatever those said).
    from skff.nn import ForwardForwardNetwork

    X_train, _, y_train, _ = digits_split
    calls = []
    original = ForwardForwardNetwork.class_scores

    def recording(self, x, layers, probability=False):
        calls.append((list(layers), probability))
        return original(self, x, layers, probability)

    monkeypatch.setattr(ForwardForwardNetwork, "class_scores", recording)
    small(PolarFFClassifier, negatives="hard", predict_layers=[1], predict_score="probability", max_iter=1,
          schedule="layerwise").fit(X_train, y_train)
    # Layer 1 alone trains first: predict_layers=[1] is not there yet, so the
    # last trained layer scores; then layer 2 as asked.
    assert calls[0] == ([0], True) and calls[-1] == ([1], True)
    assert {tuple(layers) for layers, _ in calls} == {(0,), (1,)}


@pytest.mark.parametrize("cls, params, log_odds", [
    # FF: s = alpha * (mean of squares - threshold)
    (FFClassifier, dict(alpha=3.0, threshold=0.5),
     lambda h: 3.0 * ((h ** 2).mean(axis=1) - 0.5)),
    # Polar, polar_sigmoid: s = alpha * (G+ - G- - threshold), G the L2 norm of each half
    (PolarFFClassifier, dict(alpha=0.7, threshold=1.5),
     lambda h: 0.7 * (np.linalg.norm(h[:, :8], axis=1) - np.linalg.norm(h[:, 8:], axis=1) - 1.5)),
    # Polar, symmetric: s = log(G+ + epsilon) - log(G- + epsilon)
    (PolarFFClassifier, dict(probability="symmetric", epsilon=0.3),
     lambda h: np.log(np.linalg.norm(h[:, :8], axis=1) + 0.3) - np.log(np.linalg.norm(h[:, 8:], axis=1) + 0.3)),
])
def test_scores_are_the_papers_formulas_of_the_layer_activity(cls, params, log_odds, digits_split):
    # decision_function and predict_proba recomputed by hand from each
    # layer's activity with class c embedded (latent_activations): pins
    # alpha, threshold, epsilon, the goodness and the softmax.
    X_train, X_test, y_train, _ = digits_split
    clf = small(cls, hidden_layer_sizes=(16, 16), max_iter=3, **params).fit(X_train, y_train)
    X = X_test[:40]
    by_hand = np.stack([
        sum(log_odds(h.astype(np.float64)) for h in clf.latent_activations(X, np.full(len(X), c)))
        for c in clf.classes_
    ], axis=1)
    np.testing.assert_allclose(clf.decision_function(X), by_hand, rtol=1e-4, atol=1e-4)
    softmax = np.exp(by_hand - by_hand.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), softmax / softmax.sum(axis=1, keepdims=True), atol=1e-5)


@pytest.mark.parametrize("cls, embedding, label_columns", [
    (FFClassifier, "bernoulli", 100), (PolarFFClassifier, "onehot", 10),
])
def test_the_other_label_embedding_learns(cls, embedding, label_columns, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = small(cls, label_embedding=embedding).fit(X_train, y_train)
    first = clf.module_.layers[0]
    assert first.label_patterns.shape == (10, label_columns)  # one code per class
    assert first.label_weight.shape == (64, label_columns) and first.weight.shape == (64, 64)  # W_label | W_x
    if embedding == "bernoulli":
        codes = first.label_patterns.numpy()
        assert set(np.unique(codes)) <= {0.0, 1.0} and len({c.tobytes() for c in codes}) == 10
    assert clf.score(X_test, y_test) > 0.85


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_predict_score_probability_sums_per_layer_probabilities(cls, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = small(cls).fit(X_train, y_train)
    per_layer = [clf.set_params(predict_layers=[i]).decision_function(X_test) for i in (0, 1)]
    clf.set_params(predict_layers=None, predict_score="probability")
    summed = sum(1 / (1 + np.exp(-s)) for s in per_layer)  # Polar-FFA's rule: sum over layers of P
    np.testing.assert_allclose(clf.decision_function(X_test), summed, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[summed.argmax(axis=1)])
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba, summed / summed.sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)), proba, rtol=1e-6)
    # Both rules are good classifiers here; with a single scored layer they
    # rank the classes identically (sigmoid is increasing).
    assert clf.score(X_test, y_test) > 0.85
    by_log_odds = clf.set_params(predict_layers=[1], predict_score="log_odds").predict(X_test)
    np.testing.assert_array_equal(clf.set_params(predict_score="probability").predict(X_test), by_log_odds)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_warm_start_continues_training(cls, digits_split):
    X_train, _, y_train, _ = digits_split
    clf = small(cls, max_iter=2, warm_start=True).fit(X_train, y_train)
    weights = clf.module_.layers[0].weight.detach().clone()
    clf.fit(X_train, y_train)
    # As MLPClassifier: the history is cumulative over warm-started fits,
    # n_iter_ counts the last fit's epochs.
    assert len(clf.history_) == 4 and clf.n_iter_ == 2
    assert clf.history_[:, "epoch"] == [1, 2, 3, 4]
    assert not torch.equal(weights, clf.module_.layers[0].weight)
    assert clf.history_[-1, "loss"] < clf.history_[0, "loss"]


POLAR_GRID = list(
    itertools.product(
        ["relu", "sigmoid", "tanh"],
        ["l1", "l2", "l2_squared"],
        ["sum", "mean"],
        [None, 5],
        ["polar_sigmoid", "symmetric"],
    )
)


def test_top_k_with_tanh_keeps_the_most_positive_units(digits_split):
    # Winners chosen by magnitude let strongly negative tanh units carry the
    # goodness: 0.873 test accuracy here (seed 0; 0.876 over seeds 0-2)
    # against 0.956 (0.950) with the authors' signed selection.
    X_train, X_test, y_train, y_test = digits_split
    clf = PolarFFClassifier(hidden_layer_sizes=(64, 64), activation="tanh", top_k=8, probability="symmetric",
                            max_iter=20, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.92


@pytest.mark.parametrize("activation,goodness,aggregation,top_k,probability", POLAR_GRID)
def test_polar_paper_grid_trains(activation, goodness, aggregation, top_k, probability, digits_split):
    """Every configuration of the paper's grid builds and learns: each layer's
    loss falls and 10 epochs lift the accuracy well above the same network
    before training (random weights score at most 0.15 here, trained ones
    0.35-0.95, most above 0.57)."""
    X_train, X_test, y_train, y_test = digits_split
    # Sigmoid units averaged ("mean") have goodness <= 1 per group, so the
    # default threshold 2 of polar_sigmoid can never be reached; use the
    # paper's sigmoid-activation threshold there.
    threshold = 0.2 if (activation, aggregation) == ("sigmoid", "mean") else 2.0
    clf = PolarFFClassifier(
        hidden_layer_sizes=(32, 32), activation=activation, goodness=goodness,
        goodness_aggregation=aggregation, top_k=top_k, probability=probability,
        threshold=threshold, learning_rate_init=0.003, max_iter=10, batch_size=64, random_state=0,
    )
    clf.fit(X_train, y_train)
    layer_loss = np.array(clf.history_[:, "layer_loss"])
    assert np.isfinite(layer_loss).all()
    assert (layer_loss[-1] < layer_loss[0]).all()
    # The same initial weights, practically untrained (one epoch at a step of 1e-12).
    untrained = clone(clf).set_params(learning_rate_init=1e-12, max_iter=1).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > untrained.score(X_test, y_test) + 0.15


def test_positive_ratio_splits_units():
    X, y = load_digits(return_X_y=True)
    clf = PolarFFClassifier(hidden_layer_sizes=(40, 10), positive_ratio=0.25, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / 16, y)
    assert clf.module_.n_positive == [10, 2]
    assert FFClassifier(hidden_layer_sizes=(40, 10), max_iter=1).fit(X / 16, y).module_.n_positive == [40, 10]


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_latents_separate_positive_from_negative(cls, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = small(cls, max_iter=40).fit(X_train, y_train)
    pos = clf.latent_activations(X_test, y_test)
    neg = clf.latent_activations(X_test, y_test, negative=True, random_state=0)
    assert [p.shape for p in pos] == [(len(X_test), 64)] * 2
    assert [n.shape for n in neg] == [(len(X_test), 64)] * 2
    # Trained layers tell positive from negative activity (0.5 = mixed).
    assert separability_index(pos[-1], neg[-1]) > 0.7
    assert hoyer_sparsity(pos[0]).shape == (len(X_test),)
    # A row's latents do not depend on the rows that share the call (the
    # last chunk is padded to the common size, as in predict).
    one = clf.latent_activations(X_test[7:8], y_test[7:8])
    assert all(np.array_equal(whole[7:8], alone) for whole, alone in zip(pos, one))


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_bad_input_errors(cls, digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = small(cls, max_iter=1)
    with pytest.raises(NotFittedError):
        clf.predict(X_test)
    X_nan = X_train.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y_train)
    X_inf = X_train.copy()
    X_inf[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(X_inf, y_train)
    with pytest.raises(ValueError, match="2D array"):
        clf.fit(X_train[:, 0], y_train)
    with pytest.raises(ValueError, match="could not convert string to float|dtype"):
        clf.fit(np.array([["a", "b"], ["c", "d"]], dtype=object), [0, 1])
    with pytest.raises(ValueError, match="one class"):
        clf.fit(X_train, np.zeros(len(X_train)))
    with pytest.raises(ValueError, match="0 sample"):
        clf.fit(np.empty((0, 4)), [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    with pytest.raises(ValueError, match="64 features"):
        clf.predict(X_test[:, :10])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        cls(hidden_layer_sizes=(10, 0)).fit(X_train, y_train)
    with pytest.raises(ValueError, match="top_k"):
        small(cls, top_k=100).fit(X_train, y_train)
    with pytest.raises(ValueError, match="shape"):
        clf.latent_activations(X_test, np.zeros(3))
    # "10" is not the class 10 (it used to give the activity of label 2).
    many = small(cls, max_iter=1).fit(X_train[:120], np.arange(120) % 12)
    with pytest.raises(ValueError, match=r"labels not seen in fit: \['10'\]"):
        many.latent_activations(X_train[:1], ["10"])
    with pytest.raises(ValueError, match=r"labels not seen in fit: \[12\]"):
        many.latent_activations(X_train[:2], [3, 12])


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_divergence_is_reported_with_layer_and_epoch(cls):
    rng = np.random.RandomState(0)
    # Finite in float32, but squared activity overflows: the loss becomes NaN/inf.
    X = rng.uniform(1e25, 1e26, size=(60, 4))
    y = np.arange(60) % 2
    clf = small(cls, max_iter=2)
    with pytest.raises(TrainingDivergedError, match=r"layer 1 .*epoch 1.*learning_rate_init"):
        clf.fit(X, y)
    # A diverged fit leaves no model behind.
    with pytest.raises(NotFittedError):
        clf.predict(X)
