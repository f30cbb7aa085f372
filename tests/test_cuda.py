"""CUDA paths of every estimator: run where a GPU is present, skipped elsewhere.

CI has no GPU; these tests run when a developer has one (``pytest
tests/test_cuda.py``). They check that a GPU fit gives a usable model of the
same quality as the CPU fit, that the same seed gives the same model on the
GPU, and that a GPU-fitted model pickles to device-neutral state that predicts
on a machine without CUDA.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _cases import benign_training_split
from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def digits_standardized(digits):
    X_train, X_test, y_train, y_test = digits
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _cpu_roundtrip(estimator, monkeypatch):
    """Pickle, then load as on a machine where CUDA is absent."""
    payload = pickle.dumps(estimator)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(payload)
    state = restored.module_.state_dict()
    assert all(t.device.type == "cpu" for t in state.values())
    return restored


@pytest.mark.parametrize("cls", [FFClassifier, PolarFFClassifier])
def test_classifier_on_gpu_matches_cpu_quality_and_loads_on_cpu(cls, digits_standardized, monkeypatch):
    # The CPU test's setting (tests/test_ff.py::test_digits_accuracy).
    X_train, X_test, y_train, y_test = digits_standardized
    params = dict(hidden_layer_sizes=(500, 500), batch_size=64, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpu = cls(device="cuda", **params).fit(X_train, y_train)
        cpu = cls(device="cpu", **params).fit(X_train, y_train)
        again = cls(device="cuda", **params).fit(X_train, y_train)
    gpu_accuracy, cpu_accuracy = gpu.score(X_test, y_test), cpu.score(X_test, y_test)
    assert gpu_accuracy >= 0.95
    # Different kernels sum in different orders, so the models differ, but
    # not in quality.
    assert abs(gpu_accuracy - cpu_accuracy) <= 0.02

    np.testing.assert_array_equal(again.predict_proba(X_test), gpu.predict_proba(X_test))

    gpu_proba = gpu.predict_proba(X_test)
    restored = _cpu_roundtrip(gpu, monkeypatch)
    with pytest.warns(RuntimeWarning, match="not available"):
        cpu_proba = restored.predict_proba(X_test)
    np.testing.assert_allclose(cpu_proba, gpu_proba, atol=1e-4)


@pytest.mark.parametrize("encoder", ["dense", "conv", "birnn"])
def test_scff_on_gpu_gives_useful_features_and_loads_on_cpu(encoder, digits, monkeypatch):
    X_train, X_test, y_train, y_test = digits
    hidden = {"dense": (200,), "conv": (16,), "birnn": (32,)}[encoder]
    params = dict(encoder=encoder, hidden_layer_sizes=hidden, max_iter=3, random_state=0)
    if encoder != "dense":
        params["input_shape"] = (1, 8, 8) if encoder == "conv" else (8, 8)
    scff = SCFFTransformer(device="cuda", **params).fit(X_train)
    again = SCFFTransformer(device="cuda", **params).fit(X_train)
    features = scff.transform(X_test)
    np.testing.assert_array_equal(again.transform(X_test), features)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    accuracy = probe.fit(scff.transform(X_train), y_train).score(features, y_test)
    assert accuracy >= 0.9

    # cuDNN convolutions run in TF32 by default on Ampere and later GPUs
    # (torch.backends.cudnn.allow_tf32): compared with float32 ones.
    with torch.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
        float32_features = scff.transform(X_test)
    restored = _cpu_roundtrip(scff, monkeypatch)
    restored.set_params(device="cpu")
    np.testing.assert_allclose(restored.transform(X_test), float32_features, atol=1e-3, rtol=1e-3)


def test_detector_on_gpu_scores_like_cpu_and_loads_on_cpu(monkeypatch):
    # Malignant tumours are the minority; train on benign only.
    X_train, X_test, is_anomaly = benign_training_split()
    params = dict(max_iter=20, random_state=0)
    gpu = ActivationLearningAnomalyDetector(device="cuda", **params).fit(X_train)
    cpu = ActivationLearningAnomalyDetector(device="cpu", **params).fit(X_train)
    auc_gpu = roc_auc_score(is_anomaly, -gpu.score_samples(X_test))
    auc_cpu = roc_auc_score(is_anomaly, -cpu.score_samples(X_test))
    assert auc_gpu >= 0.85
    assert abs(auc_gpu - auc_cpu) <= 0.02

    scores = gpu.score_samples(X_test)
    restored = _cpu_roundtrip(gpu, monkeypatch)
    restored.set_params(device="cpu")
    np.testing.assert_allclose(restored.score_samples(X_test), scores, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("cls", [PolarFFClassifier, SCFFTransformer, ActivationLearningAnomalyDetector])
def test_partial_fit_on_gpu_continues_after_pickling(cls, digits, monkeypatch):
    """Optimiser state is kept on the CPU between calls and goes back to the GPU."""
    X_train, _, y_train, _ = digits
    chunks = np.array_split(np.arange(len(X_train)), 3)
    fit_args = (lambda c: (X_train[c], y_train[c])) if cls is PolarFFClassifier else (lambda c: (X_train[c],))
    extra = {"classes": np.arange(10)} if cls is PolarFFClassifier else {}
    params = {"random_state": 0, "device": "cuda"}
    if cls is not ActivationLearningAnomalyDetector:
        params["hidden_layer_sizes"] = (32,)

    straight = cls(**params)
    for chunk in chunks:
        straight.partial_fit(*fit_args(chunk), **extra)
    resumed = cls(**params)
    for chunk in chunks[:2]:
        resumed.partial_fit(*fit_args(chunk), **extra)
    payload = pickle.dumps(resumed)
    with monkeypatch.context() as patch:
        # Loaded as on a machine without CUDA: no optimiser state may need it.
        patch.setattr(torch.cuda, "is_available", lambda: False)
        resumed = pickle.loads(payload)
    resumed.partial_fit(*fit_args(chunks[2]))
    for a, b in zip(straight.module_.state_dict().values(), resumed.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
