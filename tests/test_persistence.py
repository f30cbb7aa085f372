"""Saving and loading fitted models of every skff estimator.

test_ff.py checks the basic pickle/joblib round trip of the classifiers'
``predict_proba`` and the CUDA fallback of PolarFFClassifier's ``predict``;
here every estimator (the three SCFF encoders included) and every output
method go through each way of storing a model.
"""

import copy
import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from _cases import CASE_IDS, CASES, assert_same_outputs, digits, make, outputs
from skff import FFClassifier, SCFFTransformer


def _dump_pickle(model, path):
    path.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return pickle.loads(path.read_bytes())


def _dump_joblib(model, path):
    joblib.dump(model, path)
    return joblib.load(path)


def _dump_joblib_compressed(model, path):
    joblib.dump(model, path, compress=3)
    return joblib.load(path)


def _dump_torch(model, path):
    """torch.save pickles arbitrary objects too; loading them needs weights_only=False."""
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def _dump_deepcopy(model, path):
    return copy.deepcopy(model)


STORES = [_dump_pickle, _dump_joblib, _dump_joblib_compressed, _dump_torch, _dump_deepcopy]


@pytest.fixture(scope="module")
def fitted():
    """Each case fitted once on digits, with its outputs on the test digits."""
    X_train, X_test, y_train, _ = digits()
    models = {}
    for case_id in CASE_IDS:
        model = make(case_id).fit(X_train, y_train)
        models[case_id] = (model, outputs(model, X_test, case_id))
    return models


def _all_on_cpu(model):
    state = model.module_.state_dict()
    return len(state) > 0 and all(tensor.device.type == "cpu" for tensor in state.values())


@pytest.mark.parametrize("store", STORES, ids=lambda f: f.__name__[len("_dump_"):])
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_round_trip_reproduces_every_output(case_id, store, fitted, tmp_path):
    model, expected = fitted[case_id]
    _, X_test, _, _ = digits()
    loaded = store(model, tmp_path / "model")
    assert type(loaded) is type(model)
    assert_same_outputs(outputs(loaded, X_test, case_id), expected)
    assert _all_on_cpu(loaded)
    assert loaded.get_params() == model.get_params()
    assert loaded.n_features_in_ == model.n_features_in_ == 64
    assert loaded.n_iter_ == model.n_iter_ and len(loaded.history_) == len(model.history_)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_clone_is_unfitted_with_the_same_params_and_refits_the_same(case_id, fitted):
    model, expected = fitted[case_id]
    X_train, X_test, y_train, _ = digits()
    for source in (model, pickle.loads(pickle.dumps(model))):
        copy = clone(source)
        assert copy.get_params() == model.get_params()
        assert not hasattr(copy, "module_") and not hasattr(copy, "n_features_in_")
        with pytest.raises(NotFittedError):
            getattr(copy, CASES[case_id][2][0])(X_test)
    # Seeded: the clone fitted on the same data is the same model.
    assert_same_outputs(outputs(clone(model).fit(X_train, y_train), X_test, case_id), expected)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_model_with_device_cuda_loads_and_predicts_without_cuda(case_id, fitted, monkeypatch):
    """A model whose ``device`` is "cuda" (as if fitted on a GPU), stored and
    loaded where CUDA is absent: every output method warns and uses the CPU."""
    model, expected = fitted[case_id]
    X_train, X_test, y_train, _ = digits()
    stored = pickle.dumps(pickle.loads(pickle.dumps(model)).set_params(device="cuda"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(stored)
    assert loaded.device == "cuda"
    assert _all_on_cpu(loaded)
    for name, values in expected.items():
        with pytest.warns(RuntimeWarning, match="not available"):
            np.testing.assert_array_equal(getattr(loaded, name)(X_test), values, err_msg=name)
    # Fitting, unlike inference, does not fall back silently.
    with pytest.raises(ValueError, match="CUDA"):
        clone(loaded).fit(X_train, y_train)


@pytest.mark.parametrize("case_id", ["FFClassifier", "PolarFFClassifier"])
def test_warm_start_continues_from_a_loaded_model(case_id):
    X_train, X_test, y_train, _ = digits()
    straight = make(case_id, max_iter=2, warm_start=True).fit(X_train, y_train).fit(X_train, y_train)
    loaded = pickle.loads(pickle.dumps(make(case_id, max_iter=2, warm_start=True).fit(X_train, y_train)))
    loaded.fit(X_train, y_train)
    assert len(loaded.history_) == len(straight.history_) == 4 and loaded.n_iter_ == straight.n_iter_ == 2
    assert loaded.history_[:, "loss"] == straight.history_[:, "loss"]
    np.testing.assert_array_equal(loaded.predict_proba(X_test), straight.predict_proba(X_test))


def test_a_model_pickled_before_resolved_architectures_continues_training():
    # Models stored before the resolved architecture was recorded hold only
    # the values as set; partial_fit must still compare those.
    X, y = load_digits(return_X_y=True)
    clf = FFClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X / 16, y)
    state = clf.__getstate__() if hasattr(clf, "__getstate__") else dict(clf.__dict__)
    state = dict(state)
    del state["_fitted_architecture_resolved"]
    old = FFClassifier.__new__(FFClassifier)
    old.__setstate__(state)
    old.partial_fit(X / 16, y)
    assert len(old.history_) == 2 and old.n_iter_ == 1
    old.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        old.partial_fit(X / 16, y)


def test_a_transformer_pickled_before_standardize_samples_loads_and_keeps_standardising():
    # Stored before the parameter existed: loading sets it to what the model
    # did, and continuing training refuses a change of it.
    X, _ = load_digits(return_X_y=True)
    scff = SCFFTransformer(hidden_layer_sizes=(8,), max_iter=1, random_state=0, device="cpu").fit(X)
    state = dict(scff.__getstate__())
    del state["standardize_samples"]
    for record in ("_fitted_architecture", "_fitted_architecture_resolved"):
        state[record] = {k: v for k, v in state[record].items() if k != "standardize_samples"}
    del state["module_"].standardize_input
    old = SCFFTransformer.__new__(SCFFTransformer)
    old.__setstate__(state)
    assert old.get_params()["standardize_samples"] is True and "SCFFTransformer" in repr(old)
    np.testing.assert_array_equal(old.transform(X[:10]), scff.transform(X[:10]))
    old.partial_fit(X)
    old.set_params(standardize_samples=False)
    with pytest.raises(ValueError, match="standardize_samples changed"):
        old.partial_fit(X)


def test_models_stored_before_session_14_keep_their_rules():
    # Three rules changed in session 14; a network stored before holds none
    # of the new attributes and must compute what it was trained with.
    from skff import PolarFFClassifier
    from skff.functional import goodness, rms_normalize, standardize

    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    polar = PolarFFClassifier(hidden_layer_sizes=(24, 24), positive_ratio=0.25, activation="tanh", top_k=3,
                              max_iter=1, random_state=0).fit(X, y[:300])
    network = pickle.loads(pickle.dumps(polar.module_))
    del network.equal_group_lengths, network.objective.top_k_by
    h = torch.randn(5, 24, generator=torch.Generator().manual_seed(0))
    n_positive = network.n_positive[0]
    # Unequal polarity groups: each at unit mean square, not the same length.
    torch.testing.assert_close(network._pass_on(h, 0), rms_normalize(h, n_positive, equal_lengths=False))
    assert not torch.allclose(polar.module_._pass_on(h, 0), network._pass_on(h, 0))
    # top_k winners ranked by |h|, not by value.
    torch.testing.assert_close(network.objective._goodness(h), goodness(h, "l2", "sum", 3, top_k_by="magnitude"))
    assert not torch.allclose(polar.module_.objective._goodness(h), network.objective._goodness(h))

    # SCFF: the standardisation's epsilon in the input's units.
    scff = SCFFTransformer(encoder="conv", input_shape=(1, 8, 8), hidden_layer_sizes=(4,), max_iter=1,
                           random_state=0, device="cpu").fit(X * 1e-3)
    old = pickle.loads(pickle.dumps(scff.module_))
    for part in [old, *old.layers]:
        del part.relative_eps
    images = torch.as_tensor(X[:5] * 1e-3, dtype=torch.float32).view(5, 1, 8, 8)
    torch.testing.assert_close(old.layers[0].prepare(images), standardize(images, relative_eps=False))
    assert not torch.allclose(scff.module_.layers[0].prepare(images), old.layers[0].prepare(images))
