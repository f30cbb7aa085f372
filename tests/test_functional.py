"""The goodness functions against values worked out by hand."""

import math

import pytest
import torch

from skff.functional import goodness


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
