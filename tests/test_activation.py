"""ActivationLearningAnomalyDetector: the local rule, its properties, the outlier-detector contract."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import ActivationLearningAnomalyDetector, TrainingDivergedError
from skff.functional import (
    HistogramRows,
    abs_transmit,
    competitive_update,
    competitive_update_from_moments,
    histogram_code,
    std_abs,
    unit_length,
)
from skff.nn import ActivationLearningNetwork, CompetitiveLayer


def small(**params):
    return ActivationLearningAnomalyDetector(**{"max_iter": 10, "random_state": 0, **params})


@pytest.fixture(scope="module")
def planted():
    """Inliers near a 3-d subspace of R^8, outliers spread in all directions."""
    rng = np.random.RandomState(0)
    basis = rng.normal(size=(3, 8))
    inliers = rng.normal(size=(600, 3)) @ basis + 0.1 * rng.normal(size=(600, 8))
    outliers = 3 * rng.normal(size=(30, 8))
    X = np.vstack([inliers, outliers])
    is_outlier = np.r_[np.zeros(600, bool), np.ones(30, bool)]
    return X, is_outlier


# -- the rule itself -------------------------------------------------------------------------


def test_competitive_update_hand_computed():
    # One sample x = (1, 2, 3), W the first two unit vectors: y = W^T x = (1, 2),
    # the reconstruction W y = (1, 2, 0) misses (0, 0, 3), so
    # Delta W = (x - W y) y^T = [[0, 0], [0, 0], [3, 6]].
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    x = torch.tensor([[1.0, 2.0, 3.0]])
    delta, residual = competitive_update(x, x @ weight, weight)
    torch.testing.assert_close(delta, torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 6.0]]))
    torch.testing.assert_close(residual, torch.tensor([[0.0, 0.0, 3.0]]))


def test_competitive_update_is_the_batch_mean_of_the_elementwise_rule():
    # Paper eq. (4): Delta w_ij = eta * y_j * (x_i - sum_k y_k w_ik), averaged over the batch.
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=torch.float64)
    weight = torch.tensor([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]], dtype=torch.float64)
    y = x @ weight
    expected = torch.zeros_like(weight)
    for b in range(x.shape[0]):
        for i in range(3):
            for j in range(2):
                feedback = sum(y[b, k] * weight[i, k] for k in range(2))
                expected[i, j] += y[b, j] * (x[b, i] - feedback) / x.shape[0]
    delta, _ = competitive_update(x, y, weight)
    torch.testing.assert_close(delta, expected)


def test_network_step_applies_the_rule_to_every_layer():
    # A two-layer network, one local step on a hand-made batch: each layer
    # moves by eta times the rule on its own input (the scaled samples for
    # layer 1, the std_abs transmission of y_1 for layer 2).
    network = ActivationLearningNetwork(3, [3, 2], transmission="std_abs", constant=None,
                                        generator=torch.Generator().manual_seed(0))
    x = torch.tensor([[3.0, 0.0, 4.0], [1.0, 1.0, 0.0], [0.0, -2.0, 1.0], [2.0, 1.0, 2.0]])
    w1, w2 = (layer.weight.clone() for layer in network.layers)
    eta = 0.3
    losses = network.local_step(x, eta, trainable=[0, 1])

    x1 = x / x.norm(dim=1, keepdim=True)
    y1 = x1 @ w1
    d1, r1 = competitive_update(x1, y1, w1)
    mean, std = y1.abs().mean(0), y1.abs().std(0, correction=0)
    x2 = std_abs(y1, mean, std)
    d2, r2 = competitive_update(x2, x2 @ w2, w2)
    torch.testing.assert_close(network.layers[0].weight, w1 + eta * d1)
    torch.testing.assert_close(network.layers[1].weight, w2 + eta * d2)
    torch.testing.assert_close(losses, torch.stack([r1.pow(2).sum(1).mean(), r2.pow(2).sum(1).mean()]))
    torch.testing.assert_close(network.layers[0].abs_mean, mean)


def test_update_from_moments_is_the_rule():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 7, generator=g, dtype=torch.float64)
    weight = torch.randn(7, 3, generator=g, dtype=torch.float64) / 3
    y = x @ weight
    delta, error = competitive_update_from_moments(x.T @ y, y.T @ y, weight, 50, x.pow(2).sum())
    reference, residual = competitive_update(x, y, weight)
    torch.testing.assert_close(delta, reference)
    torch.testing.assert_close(error, residual.pow(2).sum(dim=1).mean())


@pytest.mark.parametrize("n_rows, n_features, n_units", [
    (40, 6, 5),        # a small scatter: index_add in one piece
    (1000, 10, 100),   # index_add in chunks of 5 features
    (600, 90, 50),     # beyond _INDEX_ADD_LIMIT on CPU: the CSR product
    (1, 4, 2),
])
def test_histogram_rows_products_equal_the_dense_ones(n_rows, n_features, n_units):
    g = torch.Generator().manual_seed(0)
    n_bins = 7
    bins = torch.randint(0, n_bins, (n_rows, n_features), generator=g) + torch.arange(n_features) * n_bins
    rows = HistogramRows(torch.randn(n_rows, 3, generator=g), bins, 0.37, n_features * n_bins)
    dense = rows.to_dense()
    assert dense.shape == rows.shape == (n_rows, 3 + n_features * n_bins)
    assert torch.equal((dense[:, 3:] != 0).sum(dim=1), torch.full((n_rows,), n_features))
    weight = torch.randn(dense.shape[1], n_units, generator=g)
    y = torch.randn(n_rows, n_units, generator=g)
    torch.testing.assert_close(rows.matmul(weight), dense @ weight)
    torch.testing.assert_close(rows.transposed_matmul(y), dense.T @ y, rtol=1e-5, atol=1e-4)
    # Every method, whatever the size (the GPU takes "dense"):
    for method in ("index_add", "csr", "dense"):
        torch.testing.assert_close(rows.transposed_matmul(y, method=method), dense.T @ y, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(rows.squared_norm_sum(), dense.pow(2).sum())


def test_reconstruction_error_is_never_negative():
    # Rank-2 data in 6 features, 2 units: the error tends to 0, where the
    # moment form's float32 rounding (about 1e-7) could make it negative.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 2)) @ rng.normal(size=(2, 6))
    detector = ActivationLearningAnomalyDetector((2,), constant_feature=None, n_bins=None, tol=0.0, max_iter=30,
                                                 random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    losses = np.array(detector.loss_curve_)
    assert (losses >= 0).all() and losses[-1] < 1e-5


def test_coded_input_is_the_prepared_input():
    # The first layer learns from the histogram code without expanding it;
    # the step must be the rule applied to the dense input of prepare().
    X, _ = load_breast_cancer(return_X_y=True)
    x = torch.as_tensor(StandardScaler().fit_transform(X)[:300], dtype=torch.float32)
    low, high = x.quantile(0.05, dim=0), x.quantile(0.95, dim=0)
    network = ActivationLearningNetwork(30, [16, 1], constant=2.0, bin_range=(low, high), n_bins=20,
                                        generator=torch.Generator().manual_seed(0))
    dense = network.prepare(x)
    assert dense.shape == (300, 31 + 30 * 20)
    torch.testing.assert_close(dense.norm(dim=1), torch.ones(300))
    torch.testing.assert_close(network.encode(x).to_dense(), dense)
    weight = network.layers[0].weight.clone()
    losses = network.local_step(x, 0.5, trainable=[0])
    delta, residual = competitive_update(dense, dense @ weight, weight)
    torch.testing.assert_close(network.layers[0].weight, weight + 0.5 * delta)
    torch.testing.assert_close(losses[0], residual.pow(2).sum(dim=1).mean())


def test_frozen_layers_do_not_learn():
    network = ActivationLearningNetwork(4, [3, 2], generator=torch.Generator().manual_seed(0))
    before = [layer.weight.clone() for layer in network.layers]
    network.local_step(torch.randn(16, 4, generator=torch.Generator().manual_seed(1)), 0.1, trainable=[1])
    torch.testing.assert_close(network.layers[0].weight, before[0], rtol=0, atol=0)
    assert not torch.equal(network.layers[1].weight, before[1])
    # The frozen layer passes its activity on, so its std_abs statistics are
    # gathered (the layer-wise schedule's only chance); the last layer's are not.
    assert int(network.layers[0].n_stat_updates) == 1
    assert int(network.layers[1].n_stat_updates) == 0


def test_transmissions_preserve_the_magnitude():
    y = torch.randn(50, 7, generator=torch.Generator().manual_seed(0))
    mean, std = y.abs().mean(0), y.abs().std(0)
    for out in (abs_transmit(y), std_abs(y, mean, std)):
        torch.testing.assert_close(out.norm(dim=1), y.norm(dim=1))
    # std_abs is a per-sample rescaling of the standardised |y|.
    z = (y.abs() - mean) / (std + 1e-6)
    ratio = std_abs(y, mean, std) / z
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))


def test_unit_length():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    torch.testing.assert_close(unit_length(x), torch.tensor([[0.6, 0.8], [0.0, 0.0]]))


def test_properties_3_and_4_from_a_small_initialisation():
    """||W||_F^2 -> number of units; ||y||^2 <= ||x||^2 = 1 on the training inputs."""
    g = torch.Generator().manual_seed(0)
    X = unit_length(torch.randn(5000, 8, generator=g) @ torch.randn(8, 8, generator=g))
    layer = CompetitiveLayer(8, 3, generator=torch.Generator().manual_seed(1))
    layer.weight.mul_(0.01)  # ||W||^2 starts near 0.0003
    assert float(layer.weight.pow(2).sum()) < 0.01
    for _ in range(3000):
        layer.learn(X[torch.randint(0, 5000, (100,), generator=g)], 0.5)
    assert abs(float(layer.weight.pow(2).sum()) - 3) < 0.02
    assert float(layer(X).pow(2).sum(dim=1).max()) <= 1.0 + 1e-3


def test_estimator_properties_on_gaussian_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 10)) @ rng.normal(size=(10, 10))
    detector = ActivationLearningAnomalyDetector(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X)
    weight_norms = [entry["weight_norm"][0] for entry in detector.history_]
    assert abs(weight_norms[-1] - 4) < 0.05
    scores = detector.score_samples(X)
    assert scores.max() <= 1.0 + 1e-3
    assert scores.min() >= 0.0


# -- detection -------------------------------------------------------------------------------


def test_planted_outliers_score_lower(planted):
    X, is_outlier = planted
    detector = make_pipeline(StandardScaler(), ActivationLearningAnomalyDetector(random_state=0)).fit(X)
    scores = detector.score_samples(X)
    # Measured: AUC 0.972, 0.940, 0.975 for random_state 0, 1, 2.
    assert roc_auc_score(is_outlier, -scores) > 0.95
    assert np.median(scores[is_outlier]) < np.percentile(scores[~is_outlier], 2)
    # The "auto" offset flags most planted outliers and few inliers (measured 0.70 and 0.017).
    predicted = detector.predict(X)
    assert (predicted[is_outlier] == -1).mean() >= 0.6
    assert (predicted[~is_outlier] == -1).mean() <= 0.05
    # One linear subspace layer (no second layer) separates them completely.
    subspace = make_pipeline(StandardScaler(), ActivationLearningAnomalyDetector((0.5,), random_state=0)).fit(X)
    assert roc_auc_score(is_outlier, -subspace.score_samples(X)) > 0.99


def test_breast_cancer_with_malignant_as_rare_outliers():
    """Benign tumours plus 40 malignant ones (10%), unlabelled; AUC on a held-out split."""
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(0)
    malignant = rng.choice(np.flatnonzero(y == 0), 40, replace=False)
    keep = np.r_[np.flatnonzero(y == 1), malignant]
    X, outlier = X[keep], (y[keep] == 0).astype(int)
    X_train, X_test, _, y_test = train_test_split(X, outlier, test_size=0.3, stratify=outlier, random_state=0)

    def auc(detector):
        return roc_auc_score(y_test, -make_pipeline(StandardScaler(), detector).fit(X_train).score_samples(X_test))

    # Measured: 0.943 (random_state 1, 2: 0.947, 0.909); IsolationForest 0.933 (0.925, 0.907).
    auc_al = auc(ActivationLearningAnomalyDetector(random_state=0))
    auc_forest = auc(IsolationForest(random_state=0))
    assert auc_al > 0.92
    assert auc_al > auc_forest - 0.02
    # Without the histogram code: 0.911 (0.877, 0.908).
    assert auc(ActivationLearningAnomalyDetector(n_bins=None, random_state=0)) > 0.88
    # Without code and constant (the paper's unit-length scaling) the sample norm
    # is lost, and with it the signal here (measured 0.469).
    assert auc(ActivationLearningAnomalyDetector(constant_feature=None, n_bins=None, random_state=0)) < 0.6


# -- the histogram code ----------------------------------------------------------------------


def test_histogram_code_marks_one_bin_per_feature():
    x = torch.tensor([[0.0, 0.49, 10.0], [1.0, -5.0, 3.0], [0.999, 0.5, 3.0]])
    low, high = torch.tensor([0.0, 0.0, 3.0]), torch.tensor([1.0, 1.0, 3.0])  # feature 3 constant
    code = histogram_code(x, low, high, n_bins=4)
    assert code.shape == (3, 12)
    bins = code.view(3, 3, 4).argmax(dim=2)
    # 0.49 -> bin 1 of [0, 1]; 1.0 and 0.999 -> the last bin; -5 and 10 (outside
    # the range) -> the outer bins; the constant feature: bins of unit width from 3.
    assert bins.tolist() == [[0, 1, 3], [3, 0, 0], [3, 2, 0]]
    assert torch.allclose(code.norm(dim=1), torch.ones(3))
    assert int((code > 0).sum()) == 9
    # Values far beyond float range of the bin arithmetic still land in the outer bins.
    huge = histogram_code(torch.tensor([[3e38, -3e38, 0.5]]), low, high, n_bins=4)
    assert huge.view(3, 4).argmax(dim=1).tolist() == [3, 0, 0]
    # An integer input gets a float code (an integer one truncated 1/sqrt(3) to 0).
    integer = histogram_code(torch.tensor([[0, 1, 3]]), low, high, n_bins=4)
    assert integer.dtype == torch.get_default_dtype()
    torch.testing.assert_close(integer, histogram_code(torch.tensor([[0.0, 1.0, 3.0]]), low, high, n_bins=4))


def test_network_input_with_histogram_code_has_unit_length():
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(50, 4, generator=g)
    net = ActivationLearningNetwork(4, [2, 1], transmission="abs", constant=2.0, generator=g,
                                    bin_range=(x.min(dim=0).values, x.max(dim=0).values), n_bins=5,
                                    histogram_share=0.3)
    prepared = net.prepare(x)
    assert prepared.shape == (50, 4 + 1 + 4 * 5)
    assert torch.allclose(prepared.norm(dim=1), torch.ones(50))
    # The code holds 30% of the squared length, the scaled values the rest.
    assert torch.allclose(prepared[:, 5:].pow(2).sum(dim=1), torch.full((50,), 0.3))


def test_histogram_code_finds_outliers_between_the_modes():
    """Every feature bimodal (+-2), outliers in the gap: near the centre, rare in every feature.

    Scaled feature values alone rank the outliers as the *most* typical samples (they
    are closest to the centre); the histogram code sees that their bins are rarely
    visited.
    """
    rng = np.random.RandomState(0)
    inliers = rng.choice([-2.0, 2.0], size=(600, 4)) + 0.3 * rng.normal(size=(600, 4))
    X = np.vstack([inliers, 0.3 * rng.normal(size=(20, 4))])
    is_outlier = np.r_[np.zeros(600, bool), np.ones(20, bool)]

    def auc(**params):
        detector = make_pipeline(StandardScaler(), ActivationLearningAnomalyDetector(random_state=0, **params))
        return roc_auc_score(is_outlier, -detector.fit(X).score_samples(X))

    # Measured: 0.000 without the code, 1.000 with 20 or 10 bins (IsolationForest: 0.989).
    assert auc(n_bins=None) < 0.1
    assert auc() > 0.99
    assert auc(n_bins=10) > 0.99


def test_bins_span_the_central_training_percentiles(planted):
    X, _ = planted
    detector = small(n_bins=8).fit(X)
    net = detector.module_
    np.testing.assert_allclose(net.bin_low.numpy(), np.percentile(X, 0.5, axis=0), rtol=1e-5)
    np.testing.assert_allclose(net.bin_high.numpy(), np.percentile(X, 99.5, axis=0), rtol=1e-5)
    # Layer sizes count features, not code columns: (0.5, 1) of 8 features + constant.
    assert [tuple(layer.weight.shape) for layer in net.layers] == [(8 + 1 + 8 * 8, 5), (5, 1)]
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(restored.score_samples(X), detector.score_samples(X))


# -- the scikit-learn contract ----------------------------------------------------------------


def test_contamination_sets_the_offset(planted):
    X, _ = planted
    detector = small(contamination=0.1).fit(X)
    scores = detector.score_samples(X)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 10))
    assert (detector.predict(X) == -1).mean() == pytest.approx(0.1, abs=0.01)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    np.testing.assert_array_equal(small(contamination=0.1).fit_predict(X), detector.predict(X))


def test_auto_offset(planted):
    X, _ = planted
    detector = small().fit(X)
    scores = detector.score_samples(X)
    log_scores = np.log(scores)
    spread = 1.4826 * np.median(np.abs(log_scores - np.median(log_scores)))
    assert detector.offset_ == pytest.approx(np.exp(np.median(log_scores) - 3 * spread), rel=1e-6)


def test_same_seed_same_scores_other_seed_other_scores(planted):
    X, _ = planted
    a = small().fit(X).score_samples(X)
    b = small().fit(X).score_samples(X)
    c = small(random_state=1).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_scores_do_not_depend_on_the_batch(planted):
    X, _ = planted
    detector = small().fit(X)
    whole = detector.score_samples(X)
    one_by_one = np.concatenate([detector.score_samples(X[i : i + 1]) for i in range(0, 40)])
    np.testing.assert_array_equal(whole[:40], one_by_one)
    assert whole.dtype == np.float64


def test_float32_and_float64_input_agree(planted):
    X, _ = planted
    a = small().fit(X).score_samples(X)
    b = small().fit(X.astype(np.float32)).score_samples(X.astype(np.float32))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pickle_round_trip(planted):
    X, _ = planted
    detector = small().fit(X)
    clone = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(clone.score_samples(X), detector.score_samples(X))
    np.testing.assert_array_equal(clone.predict(X), detector.predict(X))
    assert clone.history_[-1, "loss"] == detector.history_[-1, "loss"]


def test_layerwise_schedule_and_history(planted):
    X, _ = planted
    detector = small(hidden_layer_sizes=(2.0, 0.5), schedule="layerwise", max_iter=4, n_iter_no_change=10,
                     n_bins=None).fit(X)
    assert detector.n_layers_ == 2
    assert [layer.weight.shape for layer in detector.module_.layers] == [(9, 18), (18, 9)]
    assert detector.history_[:, "stage"] == ["layer 1"] * 4 + ["layer 2"] * 4
    assert detector.n_iter_ == 8
    assert len(detector.loss_curve_) == 8
    assert all(len(entry["layer_loss"]) == 1 for entry in detector.history_)


def test_layerwise_std_abs_gathers_each_layers_statistics(planted):
    # Trained layer by layer, a layer is the last one run while it learns;
    # its |y| statistics come from the stages above it, on its fixed output
    # (they used to stay at mean 0, std 1, turning std_abs into abs).
    X, _ = planted
    detector = small(hidden_layer_sizes=(4, 3, 3), activation="std_abs", schedule="layerwise", max_iter=3,
                     n_bins=None).fit(X)
    layers = detector.module_.layers
    assert [int(layer.n_stat_updates) > 0 for layer in layers] == [True, True, False]
    with torch.no_grad():
        activities = detector.module_.activities(torch.as_tensor(X, dtype=torch.float32))
    for layer, y in zip(layers[:2], activities[:2]):
        # Running statistics over batches of the layer's fixed output: close
        # to the explicit ones over the whole training set.
        torch.testing.assert_close(layer.abs_mean, y.abs().mean(dim=0), rtol=0.1, atol=0)
        torch.testing.assert_close(layer.abs_std, y.abs().std(dim=0, correction=0), rtol=0.15, atol=0)
    simultaneous = small(hidden_layer_sizes=(4, 3, 3), activation="std_abs", max_iter=3, n_bins=None).fit(X)
    assert [int(layer.n_stat_updates) > 0 for layer in simultaneous.module_.layers] == [True, True, False]


def test_std_abs_needs_a_last_layer_as_wide_as_its_input(planted):
    # std_abs centres the activity passed on: a narrower last layer learns
    # the main direction of deviation from the typical pattern and scores
    # the planted outliers *higher* (AUC-ROC of -score well below 0.5).
    X, is_outlier = planted
    X = StandardScaler().fit_transform(X)
    with pytest.raises(ValueError, match=r"activation='std_abs' needs a last layer as wide as its input, got "
                                         r"layer sizes \[5, 1\]"):
        small(activation="std_abs").fit(X)
    with pytest.raises(ValueError, match=r"layer sizes \[9, 5, 2\]"):
        small(activation="std_abs", hidden_layer_sizes=(1.0, 5, 2)).fit(X)
    # A last layer as wide as its input keeps the input's strength: outliers
    # score low, as with "abs".
    wide = small(activation="std_abs", hidden_layer_sizes=(0.5, 1.0)).fit(X)
    assert roc_auc_score(is_outlier, -wide.score_samples(X)) > 0.9
    # One layer: no transmission, nothing to refuse.
    small(activation="std_abs", hidden_layer_sizes=(1,)).fit(X)


def test_constant_follows_the_scale_of_mostly_zero_data():
    # Over half the rows all-zero: the median norm is 0 and the constant
    # fell back to an absolute 5.0, so the scores depended on the units of
    # the data (AUC-ROC 1.0 at scale 1, 0.30 at 1e-4, with every score equal).
    rng = np.random.RandomState(0)
    X = np.vstack([np.zeros((300, 5)), rng.normal(size=(180, 5)), 6 * rng.normal(size=(20, 5))])
    is_outlier = np.r_[np.zeros(480, bool), np.ones(20, bool)]
    scores = {scale: small(n_bins=None).fit(X * scale).score_samples(X * scale) for scale in (1.0, 1e-4, 1e4)}
    assert roc_auc_score(is_outlier, -scores[1.0]) > 0.95
    for scale in (1e-4, 1e4):
        np.testing.assert_allclose(scores[scale], scores[1.0], rtol=1e-4, atol=1e-6)


def test_auto_offset_when_most_training_scores_tie():
    # 71% of the rows are identical: the MAD of the log scores is 0, and the
    # offset sat at the common score, flagging 26-30% of the training set.
    rng = np.random.RandomState(0)
    X = (rng.rand(2000, 3) < 0.1).astype(float)
    detector = small().fit(X)
    scores = detector.score_samples(X)
    log_scores = np.log(scores)
    deviations = np.abs(log_scores - np.median(log_scores))
    assert np.median(deviations) == 0
    assert detector.offset_ == pytest.approx(np.exp(np.median(log_scores) - 3 * 1.2533 * deviations.mean()), rel=1e-6)
    assert (detector.predict(X) == -1).mean() < 0.15
    # All rows alike: rounding is not an outlier, a different row is.
    same = small().fit(np.tile([[1.0, 2.0, 3.0]], (50, 1)))
    np.testing.assert_array_equal(same.predict([[1.0, 2.0, 3.0], [1.0, 2.0, 4.0]]), [1, -1])


def test_history_activation_is_measured_on_a_random_subset(planted):
    # A fixed random subset of 512 training samples (its own generator), not
    # the first 512 rows, which on sorted data are one kind of sample.
    X, _ = planted
    detector = small().fit(X)
    probe = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))[:512]
    with torch.no_grad():
        output = detector.module_.activities(torch.as_tensor(X[probe.numpy()], dtype=torch.float32))[-1]
    assert detector.history_[-1, "activation"] == pytest.approx(float(output.pow(2).sum(dim=1).mean()), rel=1e-6)


def test_relative_layer_sizes_and_no_constant(planted):
    X, _ = planted
    detector = small(hidden_layer_sizes=(1.5, 3, 0.5), constant_feature=None, n_bins=None).fit(X)
    assert [tuple(layer.weight.shape) for layer in detector.module_.layers] == [(8, 12), (12, 3), (3, 2)]
    assert detector.module_.constant is None


def test_training_stops_when_the_loss_stops_improving(planted):
    X, _ = planted
    detector = small(max_iter=500, tol=1e-3, n_iter_no_change=3).fit(X)
    assert detector.n_iter_ < 500


def test_divergence_is_detected(planted):
    X, _ = planted
    with pytest.raises(TrainingDivergedError, match="learning_rate_init"):
        small(learning_rate_init=1e6).fit(X)
    # A failed fit leaves no model behind.
    detector = small(learning_rate_init=1e6)
    with pytest.raises(TrainingDivergedError):
        detector.fit(X)
    assert not hasattr(detector, "module_")


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinity"),
        (np.array([1.0, 2.0, 3.0]), "Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert|dtype"),
        (np.empty((0, 3)), "0 sample"),
    ],
)
def test_bad_input_at_fit(X, message):
    with pytest.raises(ValueError, match=message):
        small().fit(X)


def test_bad_input_at_predict(planted):
    X, _ = planted
    detector = small().fit(X)
    with pytest.raises(ValueError, match="8 features"):
        detector.predict(X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        detector.score_samples(np.where(np.eye(len(X), 8, dtype=bool), np.nan, X))
    with pytest.raises(ValueError, match="Expected 2D array"):
        detector.decision_function(X[0])


def test_partial_fit_sets_the_offset_from_the_chunk_just_seen(planted):
    X, _ = planted
    detector = small(contamination=0.1)
    for chunk in np.array_split(X, 3):
        detector.partial_fit(chunk)
        expected = np.percentile(detector.score_samples(chunk), 10.0)
        assert detector.offset_ == pytest.approx(expected, rel=1e-5)
        assert np.mean(detector.predict(chunk) == -1) == pytest.approx(0.1, abs=1.5 / len(chunk))


def test_single_sample_partial_fit_keeps_the_rule_stable(planted):
    # The step is eta / batch_size per sample: a one-sample chunk moves the
    # weights a thousandth of a full batch's step, so the default eta of 1.0
    # cannot overshoot (it did, with the whole step per chunk: ||W||^2 past
    # its fixed point, scores above 1).
    X, _ = planted
    detector = small(n_bins=None)
    for row in X[:400]:
        detector.partial_fit(row[None])
    first = detector.module_.layers[0].weight
    assert float(first.pow(2).sum()) <= first.shape[1] + 0.1  # Property 3: ||W||_F^2 -> n_units
    assert detector.score_samples(X).max() <= 1.0 + 1e-6  # Property 4: ||y||^2 <= ||x||^2 = 1


def test_bad_parameters():
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        small(hidden_layer_sizes=(4, 0)).fit(X)
    with pytest.raises(ValueError, match="finite positive floats"):
        small(hidden_layer_sizes=(np.inf,)).fit(X)
    with pytest.raises(ValueError, match="contamination"):
        small(contamination=0.7).fit(X)
    with pytest.raises(ValueError, match="activation"):
        small(activation="relu").fit(X)
    with pytest.raises(ValueError, match="n_bins"):
        small(n_bins=1).fit(X)
    with pytest.raises(ValueError, match="histogram_share"):
        small(n_bins=10, histogram_share=1.0).fit(X)
    if not torch.cuda.is_available():  # an unavailable GPU is an error at fit
        with pytest.raises(ValueError, match="CUDA|cuda"):
            small(device="cuda").fit(X)
