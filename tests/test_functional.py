"""The goodness functions against values worked out by hand, and the fused path."""

import math

import numpy as np
import pytest
import torch

from skff import ActivationLearningAnomalyDetector, FFClassifier
from skff.functional import (
    bernoulli_label_patterns,
    competitive_update,
    contrastive_pairs,
    goodness,
    histogram_bins,
    hoyer_sparsity,
    layer_loss,
    mean_square_goodness,
    onehot_label_patterns,
    relu_group_goodness,
    relu_mean_square_goodness,
    rms_normalize,
    top_k_mask,
    sample_wrong_labels,
)
from skff.nn import ActivationLearningNetwork, ForwardForwardNetwork, GoodnessObjective
from skff.nn.activation_learning import CompetitiveLayer
from skff.nn.ff import FFLayer
from skff.nn.scff import BiRNNSCFFLayer, ConvSCFFLayer


H = torch.tensor([[3.0, -4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "norm,aggregation,expected",
    [
        ("l1", "sum", [7.0, 0.0]),
        ("l1", "mean", [7.0 / 4, 0.0]),
        ("l2", "sum", [5.0, 0.0]),
        ("l2", "mean", [math.sqrt(25.0 / 4), 0.0]),
        ("l2_squared", "sum", [25.0, 0.0]),
        ("l2_squared", "mean", [25.0 / 4, 0.0]),
    ],
)
def test_goodness_by_hand(norm, aggregation, expected):
    torch.testing.assert_close(goodness(H, norm, aggregation), torch.tensor(expected))


def test_goodness_gradient_is_finite_on_dead_rows():
    h = H.clone().requires_grad_()
    goodness(h, "l2", "sum").sum().backward()
    torch.testing.assert_close(h.grad, torch.tensor([[0.6, -0.8, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))


def test_top_k_counts_only_the_largest_values():
    # k=1 keeps 3 in the first row, not -4: signed values win, as in the
    # Polar-FFA authors' code (by magnitude, strongly negative tanh units
    # carried the goodness and cost 1.6-7.4 test points on digits).
    torch.testing.assert_close(goodness(H, "l2_squared", "sum", top_k=1), torch.tensor([9.0, 0.0]))
    # the mean still divides by all units
    torch.testing.assert_close(goodness(H, "l1", "mean", top_k=1), torch.tensor([0.75, 0.0]))
    torch.testing.assert_close(top_k_mask(torch.tensor([[-0.9, 0.1, 0.2, 0.05]]), 1), torch.tensor([[0.0, 0.0, 1.0, 0.0]]))


def test_unknown_options_are_rejected():
    with pytest.raises(ValueError, match="goodness norm"):
        goodness(H, "l3")
    with pytest.raises(ValueError, match="aggregation"):
        goodness(H, "l2", "median")


@pytest.mark.parametrize("norm", ["l2", "l2_squared"])
@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize("n_groups", [1, 2])
def test_fused_relu_goodness_matches_the_plain_one(norm, aggregation, n_groups):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, 8, generator=g, dtype=torch.float64)
    weights = torch.randn(6, n_groups, generator=g, dtype=torch.float64)
    z_fused, z_plain = z.clone().requires_grad_(), z.clone().requires_grad_()
    h, fused = relu_group_goodness(z_fused, n_groups, norm, aggregation)
    plain = goodness(torch.relu(z_plain).view(6, n_groups, -1), norm, aggregation)
    torch.testing.assert_close(fused, plain)
    torch.testing.assert_close(h, torch.relu(z))
    assert not h.requires_grad  # the activity passed on carries no gradient
    (fused * weights).sum().backward()
    (plain * weights).sum().backward()
    torch.testing.assert_close(z_fused.grad, z_plain.grad)


@pytest.mark.parametrize("n_positive", [[8], [8, 0], [8, 9], [8, -1]])
def test_network_refuses_positive_groups_that_do_not_fit_its_layers(n_positive):
    objective = GoodnessObjective("l2_squared", "mean", None, "sigmoid", 1.0, 10.0, None)
    with pytest.raises(ValueError, match=r"n_positive must give, for each of the 2 layers.*\[8, 8\]"):
        ForwardForwardNetwork(5, [8, 8], onehot_label_patterns(3), "relu", objective, n_positive)


@pytest.mark.parametrize("positive", [8, 4])
def test_network_gradients_equal_with_and_without_the_fused_goodness(positive, monkeypatch):
    g = torch.Generator().manual_seed(0)
    objective = GoodnessObjective("l2", "sum", None, "polar_sigmoid" if positive == 4 else "sigmoid", 2.0, 1.0, 1e-6)
    patterns = onehot_label_patterns(3)
    network = ForwardForwardNetwork(5, [8, 8], patterns, "relu", objective, [positive, positive], generator=g)
    x = torch.randn(7, 5, generator=g)
    y_pos, y_neg = torch.randint(0, 3, (7,), generator=g), torch.randint(0, 3, (7,), generator=g)

    def gradients():
        network.zero_grad()
        losses = network.layer_losses(x, y_pos, y_neg)
        losses.sum().backward()
        return losses.detach(), [p.grad.clone() for p in network.parameters()]

    assert network._fused_groups(0) == (1 if positive == 8 else 2)
    fused_losses, fused_grads = gradients()
    monkeypatch.setattr(ForwardForwardNetwork, "_fused_groups", lambda self, index: 0)
    plain_losses, plain_grads = gradients()
    torch.testing.assert_close(fused_losses, plain_losses)
    for a, b in zip(fused_grads, plain_grads):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("shape, dim", [((5, 7), 1), ((4, 6, 3, 3), 1), ((3, 5, 2, 4), -1)])
def test_fused_relu_mean_square_matches_the_plain_one(shape, dim):
    # SCFF's goodness for dense (n, units), conv (n, channels, H, W) and
    # recurrent (n, T, directions, units) activity; exact zeros included, where
    # the ReLU's gradient is 0 in both.
    z = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z.view(-1)[::5] = 0.0
    weights = torch.randn(mean_square_goodness(z, dim).shape, generator=torch.Generator().manual_seed(1),
                          dtype=torch.float64)
    plain = z.clone().requires_grad_()
    fused = z.clone().requires_grad_()
    expected = mean_square_goodness(torch.relu(plain), dim)
    actual = relu_mean_square_goodness(fused, dim)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-15)
    (expected * weights).sum().backward()
    (actual * weights).sum().backward()
    torch.testing.assert_close(fused.grad, plain.grad, rtol=0, atol=1e-15)
    away_from_the_kink = (z + 0.1 * torch.sign(z) + 0.05).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: relu_mean_square_goodness(t, dim), (away_from_the_kink,))


@pytest.mark.parametrize("fused", [lambda z: relu_mean_square_goodness(z),
                                   lambda z: relu_group_goodness(z, 2)[1]], ids=["mean_square", "group"])
def test_fused_relu_goodness_refuses_second_derivatives(fused):
    # They save relu(z) as a value; a graph of their gradient would silently
    # miss the path through it (a gradient penalty then added nothing:
    # 2 h instead of 10 h for g + ||dg/dz||^2), so asking for one raises.
    z = torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    for outer in (lambda g: g.sum(), lambda g: torch.nn.functional.softplus(2 - g).sum()):
        with pytest.raises(RuntimeError, match="first derivatives only"):
            torch.autograd.grad(outer(fused(z)), z, create_graph=True)
        torch.autograd.grad(outer(fused(z)), z)  # first derivatives work


# scikit-learn's finiteness check sums X, which overflows at these values.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
def test_histogram_bins_of_a_range_wider_than_float32():
    # high - low overflowed to inf, inf / inf = NaN was cast to -2**63, and
    # the detector's fit failed with an index error on finite data.
    bins = histogram_bins(torch.tensor([[3e38], [0.0], [-3e38]]), torch.tensor([-3e38]), torch.tensor([3e38]), 4)
    assert bins.ravel().tolist() == [3, 2, 0]
    X = np.random.RandomState(0).uniform(-1, 1, size=(300, 3))
    X[:, 0] *= 3e38
    detector = ActivationLearningAnomalyDetector(max_iter=1, constant_feature=None, random_state=0).fit(X)
    assert np.isfinite(detector.score_samples(X)).all()


def test_rms_normalize_keeps_the_papers_direction_for_unequal_groups():
    # Polar-FFA scales each polarity group to unit length. Unequal groups
    # each at unit mean square had lengths sqrt(2) and sqrt(6) here: the
    # larger group passed on with more weight (cosine 0.966 to the paper's).
    h = torch.rand(5, 8, generator=torch.Generator().manual_seed(0)) + 0.1
    normalized = rms_normalize(h, groups=2)
    paper = torch.cat([h[:, :2] / h[:, :2].norm(dim=1, keepdim=True), h[:, 2:] / h[:, 2:].norm(dim=1, keepdim=True)], 1)
    torch.testing.assert_close(normalized[:, :2].norm(dim=1), torch.full((5,), 2.0), rtol=1e-4, atol=0)  # eps 1e-5
    torch.testing.assert_close(normalized[:, 2:].norm(dim=1), torch.full((5,), 2.0), rtol=1e-4, atol=0)
    torch.testing.assert_close(torch.nn.functional.cosine_similarity(normalized, paper), torch.ones(5))
    # Equal groups: unit mean square per group, as before.
    torch.testing.assert_close(rms_normalize(h, groups=4)[:, :4].pow(2).mean(dim=1), torch.ones(5), rtol=1e-4, atol=0)


def test_rms_normalize_has_finite_gradients_on_all_zero_rows():
    x = torch.zeros(2, 4, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(rms_normalize(x, groups=2).sum(), x)
    assert torch.isfinite(grad).all()  # sqrt's gradient at 0 made them NaN
    y = torch.randn(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: rms_normalize(t, groups=2), (y,))


def test_competitive_layer_learns_without_a_graph_and_refuses_empty_batches():
    layer = CompetitiveLayer(4, 2, generator=torch.Generator().manual_seed(0))
    layer.learn(torch.randn(5, 4, requires_grad=True), 0.1)
    # The weight stays a leaf without a graph (add_ recorded one before).
    assert layer.weight.is_leaf and not layer.weight.requires_grad
    before = layer.weight.clone()
    with pytest.raises(ValueError, match="at least one sample, got 0"):
        layer.learn(torch.zeros(0, 4), 0.1)  # its moments filled the weight with NaN
    with pytest.raises(ValueError, match="at least one sample"):
        competitive_update(torch.zeros(0, 4), torch.zeros(0, 2), layer.weight)
    assert torch.equal(layer.weight, before)


@pytest.mark.parametrize("call, message", [
    (lambda: relu_group_goodness(torch.ones(2, 6), 2, aggregation="max"), "aggregation must be one of"),
    (lambda: relu_group_goodness(torch.ones(2, 6), 4), "n_groups must be a positive int dividing the 6 units"),
    (lambda: contrastive_pairs(torch.ones(4, 3), 0), r"0 < shift < n_samples \(4\), got \[0\]"),
    (lambda: contrastive_pairs(torch.ones(4, 3), [1, 4]), r"got \[4\]"),
    (lambda: ConvSCFFLayer(1, 3, kernel_size=4, paired=True), "kernel_size must be odd"),
    (lambda: BiRNNSCFFLayer(4, 3, paired=True, readout="bogus"), "readout must be 'final' or 'mean'"),
    (lambda: CompetitiveLayer(4, 2).transmit(torch.ones(3, 2), "bogus"), "kind must be 'abs' or 'std_abs'"),
    (lambda: layer_loss(torch.zeros(4), torch.ones(4), torch.ones(4, 1)), r"shape of logits, \(4,\), got \(4, 1\)"),
    (lambda: sample_wrong_labels(torch.zeros(3, dtype=torch.long), 1), "at least 2 classes"),
    (lambda: GoodnessObjective("l2", "sum", None, "bogus", 1.0, 1.0, 1e-6), "probability must be one of"),
    (lambda: GoodnessObjective("l2", "sum", None, "sigmoid", None, 1.0, 1e-6), "needs a number for threshold"),
    (lambda: GoodnessObjective("l2", "sum", 0, "sigmoid", 1.0, 1.0, None), "top_k must be None or a positive int"),
    (lambda: FFLayer(3, 2, "gelu"), "activation must be one of"),
    (lambda: bernoulli_label_patterns(3, p=1.0), r"p must be in \(0, 1\)"),
    (lambda: ActivationLearningNetwork(3, [2], bin_range=(torch.zeros(3), torch.ones(3)), histogram_share=0),
     r"histogram_share must be in \(0, 1\)"),
])
def test_building_blocks_reject_values_that_silently_misbehaved(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_class_scores_need_valid_layer_indices():
    clf = FFClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="score_layers"):
        clf.module_.class_scores(torch.eye(4), [-1])  # scored no layer: all-zero scores


def test_hoyer_sparsity_stays_within_zero_and_one():
    assert float(hoyer_sparsity(torch.full((1000,), 0.3))) == 0.0  # was -1.6e-7 in float32


def test_fused_relu_mean_square_checks_dim():
    with pytest.raises(IndexError, match="dim -3 is out of range"):
        relu_mean_square_goodness(torch.ones(2, 3), dim=-3)  # reduced dim -1 silently
    torch.testing.assert_close(relu_mean_square_goodness(torch.ones(2, 3), dim=-1), torch.ones(2))
