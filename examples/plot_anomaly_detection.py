"""
Anomaly detection with activation learning
==========================================

:class:`~skff.ActivationLearningAnomalyDetector` trains its layers with a
local, gradient-free rule and scores a sample by its output activation: high
for samples like the training data, low for unusual ones. This example fits
it on benign tumours of the breast cancer data only, then scores held-out
benign tumours and all malignant ones, and compares the score distributions
and ROC curves with scikit-learn's :class:`~sklearn.ensemble.IsolationForest`.
"""

# %%
# Benign tumours for training, benign and malignant ones for testing
# ------------------------------------------------------------------
# The labels are used only to split the data and to evaluate: the detectors
# never see a malignant sample during ``fit``. Features are standardised
# inside a pipeline, fitted on the training part.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import ActivationLearningAnomalyDetector

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
benign, malignant = X[y == 1], X[y == 0]
benign_train, benign_test = train_test_split(benign, test_size=0.3, random_state=0)
X_test = np.vstack([benign_test, malignant])
is_anomaly = np.r_[np.zeros(len(benign_test), dtype=bool), np.ones(len(malignant), dtype=bool)]
print(f"train: {len(benign_train)} benign; test: {len(benign_test)} benign, {len(malignant)} malignant")

# %%
# Four detectors
# --------------
# The default detector gives its first layer two views of each sample: the
# standardised values with a constant feature appended, scaled to unit
# length, and a histogram code that marks the bin each value falls in
# (``n_bins=20`` per feature). Beside it: the values alone
# (``n_bins=None``), and the paper's original setting
# (``constant_feature=None, n_bins=None``): every sample scaled to unit
# length, which throws away how far it lies from the centre of the data.
detectors = {
    "activation learning": ActivationLearningAnomalyDetector(random_state=0),
    "activation learning, n_bins=None": ActivationLearningAnomalyDetector(n_bins=None, random_state=0),
    "paper setting (no constant, no bins)": ActivationLearningAnomalyDetector(
        constant_feature=None, n_bins=None, random_state=0
    ),
    "IsolationForest": IsolationForest(random_state=0),
}
scores = {}
for name, detector in detectors.items():
    pipeline = make_pipeline(StandardScaler(), detector).fit(benign_train)
    # score_samples: higher means more typical, for all four.
    scores[name] = pipeline.score_samples(X_test)
    flagged = pipeline.predict(X_test) == -1
    print(
        f"{name:<45} AUC-ROC {roc_auc_score(is_anomaly, -scores[name]):.3f}; "
        f"flagged: {flagged[~is_anomaly].mean():.0%} of benign, {flagged[is_anomaly].mean():.0%} of malignant"
    )

# %%
# Score distributions and ROC curves
# ----------------------------------
# The AUC-ROC is the probability that a random malignant tumour scores lower
# (less typical) than a random benign one; the ROC curve ranks the test
# samples by ``-score_samples``.
fig, axes = plt.subplots(2, 3, figsize=(15, 8))
axes = axes.ravel()
for ax, (name, score) in zip(axes, scores.items()):
    bins = np.histogram_bin_edges(score, bins=30)
    ax.hist(score[~is_anomaly], bins=bins, alpha=0.6, density=True, label="benign (held out)")
    ax.hist(score[is_anomaly], bins=bins, alpha=0.6, density=True, label="malignant")
    ax.set_title(name)
    ax.set_xlabel("score_samples (higher = more typical)")
axes[0].set_ylabel("density")
axes[3].set_ylabel("density")
axes[0].legend(loc="upper left")

ax = axes[4]
for name, score in scores.items():
    false_positive, true_positive, _ = roc_curve(is_anomaly, -score)
    label = f"{name} ({roc_auc_score(is_anomaly, -score):.3f})"
    ax.plot(false_positive, true_positive, label=label)
ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
ax.set_xlabel("false positive rate (benign flagged)")
ax.set_ylabel("true positive rate (malignant flagged)")
ax.set_title("ROC curves (AUC)")
ax.legend(loc="lower right", fontsize=8)
axes[5].axis("off")
fig.tight_layout()

# %%
# On this data the activation-learning detectors with the constant feature and
# the isolation forest reach about the same AUC and rank most malignant
# tumours below nearly all benign ones. Without the constant feature (the
# paper setting) the detector does worse than chance. Where the signal lies
# shows in the distance of the standardised samples from the centre of the
# training data:
norms = np.linalg.norm(StandardScaler().fit(benign_train).transform(X_test), axis=1)
print(
    f"median distance from the centre: benign {np.median(norms[~is_anomaly]):.1f}, "
    f"malignant {np.median(norms[is_anomaly]):.1f}; "
    f"AUC-ROC of the distance alone {roc_auc_score(is_anomaly, norms):.3f}"
)

# %%
# The malignant tumours lie far outside the benign cloud: the distance alone
# ranks them as well as any detector. The unit-length scaling of the paper
# setting removes exactly that distance, and the direction that is left does
# not flag them here. The constant feature is what lets the detector see the
# distance. The histogram code adds nothing on this data (the anomalies are
# simply far out); it matters where rare values sit close to the centre, such
# as a gap between two modes of a feature, and it raises the mean AUC-ROC on
# the 28 ADBench sets from 0.718 to 0.758 (see the benchmarks page).
plt.show()
