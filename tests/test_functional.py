"""The goodness functions against values worked out by hand, and the fused path."""

import math

import pytest
import torch

from skff.functional import (
    goodness,
    mean_square_goodness,
    onehot_label_patterns,
    relu_group_goodness,
    relu_mean_square_goodness,
)
from skff.nn import ForwardForwardNetwork, GoodnessObjective


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


def test_top_k_counts_only_the_largest_magnitudes():
    # k=1 keeps -4 in the first row
    torch.testing.assert_close(goodness(H, "l2_squared", "sum", top_k=1), torch.tensor([16.0, 0.0]))
    # the mean still divides by all units
    torch.testing.assert_close(goodness(H, "l1", "mean", top_k=1), torch.tensor([1.0, 0.0]))


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


def test_fused_relu_mean_square_refuses_second_derivatives():
    # It saves relu(z) as a value; a second backward pass would silently
    # miss the path through it, so it raises instead.
    z = torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.nn.functional.softplus(2 - relu_mean_square_goodness(z)).sum(), z,
                                  create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()
