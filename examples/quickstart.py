"""skff quickstart: every estimator beside scikit-learn baselines.

Fits each skff estimator on data bundled with scikit-learn (``load_digits``,
``load_breast_cancer``; stratified 75/25 split, seed 0) and prints its test
accuracy next to ``LogisticRegression`` and ``MLPClassifier`` in the same
pipeline. ``SCFFTransformer`` learns features without labels; a
``LogisticRegression`` is fitted on them, beside the same pipeline with the
encoder left untrained. ``ActivationLearningAnomalyDetector`` is fitted
without labels on benign tumours plus 10% malignant ones and its AUC-ROC on a
held-out part is printed next to ``IsolationForest``'s. Runs in about a
minute on 2 CPU cores::

    python examples/quickstart.py
"""

import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import ActivationLearningAnomalyDetector, FFClassifier, PolarFFClassifier, SCFFTransformer


def models():
    return {
        "LogisticRegression": LogisticRegression(max_iter=2000),
        "MLPClassifier (backprop)": MLPClassifier(hidden_layer_sizes=(500, 500), random_state=0),
        "FFClassifier": FFClassifier(hidden_layer_sizes=(500, 500), batch_size=64, max_iter=50, random_state=0),
        "PolarFFClassifier": PolarFFClassifier(
            hidden_layer_sizes=(500, 500), batch_size=64, max_iter=50, random_state=0
        ),
        # SCFF standardises each row over its features, which loses a row's
        # overall level: fine for images (digits), costly on breast_cancer,
        # where that level is much of the signal; standardize_samples=False
        # keeps it (docs/scff.md, "Tabular data").
        "SCFF + LogisticRegression": make_pipeline(
            SCFFTransformer(hidden_layer_sizes=(100,), learning_rate_init=0.01, random_state=0),
            LogisticRegression(max_iter=2000),
        ),
        "  same, SCFF untrained": make_pipeline(
            SCFFTransformer(hidden_layer_sizes=(100,), max_iter=0, random_state=0),
            LogisticRegression(max_iter=2000),
        ),
    }


def main():
    # Small matrices: extra threads cost more than they give on a shared machine.
    torch.set_num_threads(min(2, torch.get_num_threads()))
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    datasets = {"digits": load_digits(return_X_y=True), "breast_cancer": load_breast_cancer(return_X_y=True)}
    print(f"{'dataset':<14} {'model':<26} {'test acc':>8} {'fit s':>7}")
    for data_name, (X, y) in datasets.items():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        for model_name, model in models().items():
            pipeline = make_pipeline(StandardScaler(), model)
            started = time.perf_counter()
            pipeline.fit(X_train, y_train)
            seconds = time.perf_counter() - started
            print(f"{data_name:<14} {model_name:<26} {pipeline.score(X_test, y_test):8.4f} {seconds:7.1f}")

    # Anomaly detection: benign tumours with 40 malignant ones (10%) mixed in,
    # labels unused in fit; AUC-ROC of the outlier score on a held-out 30%.
    X, y = load_breast_cancer(return_X_y=True)
    malignant = np.random.RandomState(0).choice(np.flatnonzero(y == 0), 40, replace=False)
    keep = np.r_[np.flatnonzero(y == 1), malignant]
    X, outlier = X[keep], (y[keep] == 0).astype(int)
    X_train, X_test, _, y_test = train_test_split(X, outlier, test_size=0.3, stratify=outlier, random_state=0)
    print(f"\n{'dataset':<14} {'outlier detector':<26} {'AUC-ROC':>8} {'fit s':>7}")
    detectors = {
        "IsolationForest": IsolationForest(random_state=0),
        "ActivationLearning": ActivationLearningAnomalyDetector(random_state=0),
    }
    for name, detector in detectors.items():
        pipeline = make_pipeline(StandardScaler(), detector)
        started = time.perf_counter()
        pipeline.fit(X_train)
        seconds = time.perf_counter() - started
        auc = roc_auc_score(y_test, -pipeline.score_samples(X_test))
        print(f"{'breast_cancer':<14} {name:<26} {auc:8.4f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
