"""skff.metrics against values worked out by hand."""

import math

import numpy as np
import pytest

from skff.metrics import convergence_area, hoyer_sparsity, neural_usage, separability_index


def test_hoyer_extremes_and_hand_value():
    assert hoyer_sparsity([0.0, 0.0, 3.0, 0.0]) == pytest.approx(1.0)
    assert hoyer_sparsity([2.0, -2.0, 2.0, 2.0]) == pytest.approx(0.0, abs=1e-12)
    # x = (3, 4, 0, 0): |x|_1 = 7, |x|_2 = 5, D = 4 -> (2 - 7/5) / (2 - 1) = 0.6
    assert hoyer_sparsity([3.0, 4.0, 0.0, 0.0]) == pytest.approx(0.6)


def test_hoyer_rows_and_axis():
    x = np.array([[3.0, 4.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(hoyer_sparsity(x), [0.6, 0.0], atol=1e-12)
    np.testing.assert_allclose(hoyer_sparsity(x.T, axis=0), [0.6, 0.0], atol=1e-12)
    # An all-zero vector (a silent layer) is maximally sparse, as in the
    # Polar-FFA authors' code: the limit of a vanishing one-entry vector, so
    # the measure no longer jumps from 1 to 0 at zero (it was 0).
    assert hoyer_sparsity([0.0, 0.0, 0.0]) == 1.0
    assert hoyer_sparsity([1e-300, 0.0, 0.0]) == 1.0
    usage = neural_usage(np.zeros((3, 4)))
    assert usage.sparsity == 1.0 and usage.active_fraction == 0.0


def test_hoyer_gradient_is_finite_on_all_zero_rows():
    import torch

    from skff.functional import hoyer_sparsity as hoyer_torch

    h = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]], requires_grad=True)
    hoyer_torch(h).sum().backward()
    assert torch.isfinite(h.grad).all() and (h.grad[0] == 0).all()
    # eps: vectors no larger than it count as all-zero (sparsity 1).
    assert float(hoyer_torch(torch.tensor([1e-13, 1e-13, 1e-13]), eps=1e-12)) == 1.0
    assert float(hoyer_torch(torch.tensor([1e-13, 1e-13, 1e-13]))) == pytest.approx(0.0, abs=1e-6)


def test_hoyer_is_scale_free_and_propagates_nan():
    # The measure has no scale: tiny vectors are not "all zero", huge ones
    # do not overflow the 2-norm into a value outside [0, 1].
    assert hoyer_sparsity([1e-13, 0.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert hoyer_sparsity([3e-200, 4e-200, 0.0, 0.0]) == pytest.approx(0.6)
    assert hoyer_sparsity([1e300, 1e300]) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(hoyer_sparsity([np.nan, 1.0]))
    # One unit: 0 as defined, but NaN stays NaN (was 0.0), as does infinity.
    assert hoyer_sparsity([5.0]) == 0.0
    assert math.isnan(hoyer_sparsity([np.nan])) and math.isnan(hoyer_sparsity([np.inf]))
    assert math.isnan(hoyer_sparsity([np.inf, 1.0]))
    assert all(math.isnan(v) for v in neural_usage([[np.nan, 1.0]]))


def test_neural_usage_hand_values():
    # Per-unit sums of |a|: (2, 2, 0, 0) -> Hoyer (2 - 4/sqrt(8)) / (2 - 1)
    a = np.array([[1.0, -1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    usage = neural_usage(a)
    assert usage.sparsity == pytest.approx(2 - 4 / math.sqrt(8))
    assert usage.active_fraction == pytest.approx(0.5)
    # A unit at 0.5% of the busiest one does not count as used.
    usage = neural_usage([[1.0, 0.005, 0.02]])
    assert usage.active_fraction == pytest.approx(2 / 3)


def test_separability_index_hand_values():
    # Two far-apart groups: every neighbour is from the same group.
    pos = np.array([[0.0], [0.1], [0.2], [0.3]])
    neg = pos + 100
    assert separability_index(pos, neg, n_neighbors=3) == 1.0
    # Interleaved on a line: 0,1 pos / 2,3 neg / ... with 1 neighbour each
    pos = np.array([[0.0], [10.0]])
    neg = np.array([[1.0], [11.0]])
    # each point's nearest neighbour is of the other group
    assert separability_index(pos, neg, n_neighbors=1) == 0.0


def test_separability_index_rejects_mismatched_units():
    with pytest.raises(ValueError, match="units"):
        separability_index(np.ones((3, 2)), np.ones((3, 4)))


def test_separability_index_needs_more_vectors_than_neighbours():
    with pytest.raises(ValueError, match="n_neighbors=5 needs more than 4 latent vectors"):
        separability_index(np.ones((2, 2)), np.zeros((2, 2)), n_neighbors=5)
    # Duplicate points: each point's own row is dropped, not its twin's.
    pos, neg = np.zeros((3, 1)), np.ones((3, 1))
    assert separability_index(pos, neg, n_neighbors=2) == 1.0


def test_separability_index_shares_tied_neighbour_slots():
    # Ten zero rows in each group (silent units) plus ten distinct positive
    # rows: a zero row's 5 nearest neighbours are drawn from 19 tied zero
    # rows, 9 or 10 of them its own group's. Ties broken by row order gave
    # 0.5 one way round and 0.75 the other; shared equally, both orders give
    # the expected purity.
    rng = np.random.RandomState(0)
    positive = np.vstack([np.zeros((10, 3)), rng.rand(10, 3) + 1])
    negative = np.zeros((20, 3))
    forward = separability_index(positive, negative)
    assert forward == pytest.approx(separability_index(negative, positive), abs=1e-12)
    # Positive group: 10 zero rows with 9/19 own neighbours, 10 far rows
    # whose 5 neighbours are all far positive rows; negative group: 20 zero
    # rows with 19/29 own (the zero rows tie: 19 negative, 10 positive).
    expected = ((10 * 9 / 29 + 10 * 1.0) / 20 + 19 / 29) / 2
    assert forward == pytest.approx(expected)
    # Shuffling the rows changes nothing.
    order = rng.permutation(20)
    assert separability_index(positive[order], negative) == pytest.approx(forward, abs=1e-12)


def test_separability_index_matches_nearest_neighbours_without_ties():
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.RandomState(1)
    positive, negative = rng.normal(size=(300, 8)), rng.normal(size=(200, 8)) + 0.4
    data = np.vstack([positive, negative])
    group = np.r_[np.zeros(300), np.ones(200)]
    neighbours = NearestNeighbors(n_neighbors=6).fit(data).kneighbors(data, return_distance=False)[:, 1:]
    same = (group[neighbours] == group[:, None]).mean(axis=1)
    expected = (same[group == 0].mean() + same[group == 1].mean()) / 2
    assert separability_index(positive, negative) == pytest.approx(expected, abs=1e-12)
    # Scale-free: huge and tiny latents rank their neighbours alike.
    assert separability_index(positive * 1e300, negative * 1e300) == pytest.approx(expected, abs=1e-12)
    assert separability_index(positive * 1e-300, negative * 1e-300) == pytest.approx(expected, abs=1e-12)
    # Latents sharing a large offset (saturated units), or beside one huge
    # row: the tie tolerance once grew with the largest norm and counted
    # every neighbour as tied (0.499 for both, against 0.966 and 0.9655).
    assert separability_index(1000 + 1e-3 * positive, 1000 + 1e-3 * negative) == pytest.approx(expected, abs=1e-12)
    with_outlier = positive.copy()
    with_outlier[0] = 1e6
    data[0] = 1e6
    neighbours = NearestNeighbors(n_neighbors=6).fit(data).kneighbors(data, return_distance=False)[:, 1:]
    same = (group[neighbours] == group[:, None]).mean(axis=1)
    assert separability_index(with_outlier, negative) == pytest.approx(
        (same[group == 0].mean() + same[group == 1].mean()) / 2, abs=1e-12)
    with pytest.raises(ValueError, match="must be finite"):
        separability_index(np.r_[positive[:-1], [[np.nan] * 8]], negative)


def test_metrics_take_torch_tensors_of_any_dtype():
    import torch

    activity = torch.tensor([[3.0, 4.0, 0.0, 0.0]], requires_grad=True)
    assert hoyer_sparsity(activity)[0] == pytest.approx(0.6)
    assert hoyer_sparsity(activity.detach().to(torch.bfloat16))[0] == pytest.approx(0.6)
    assert neural_usage(activity.detach().half()).active_fraction == 0.5
    assert convergence_area(torch.tensor([0.5, 0.9], dtype=torch.bfloat16)) > 0


def test_functional_hoyer_computes_half_precision_in_float32():
    import torch

    from skff.functional import hoyer_sparsity as hoyer_torch

    # |h|_1 = 80000 overflows float16 (max 65504): the result was 0.
    h = torch.cat([torch.ones(80_000), torch.zeros(20_000)])
    expected = float(hoyer_torch(h))
    assert expected == pytest.approx(0.1059, abs=1e-4)
    assert float(hoyer_torch(h.half())) == pytest.approx(expected, abs=1e-6)
    assert float(hoyer_torch(h.bfloat16())) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("n_neighbors", [0, -1, 1.5, True])
def test_separability_index_rejects_bad_n_neighbors(n_neighbors):
    with pytest.raises(ValueError, match=f"n_neighbors must be a positive int, got {n_neighbors}"):
        separability_index(np.ones((3, 2)), np.zeros((3, 2)), n_neighbors=n_neighbors)


def test_bad_thresholds_are_rejected():
    with pytest.raises(ValueError, match="tol must be a non-negative number, got -1"):
        convergence_area([0.5, 0.9], tol=-1)
    with pytest.raises(ValueError, match=r"threshold must be a share in \[0, 1\], got 2"):
        neural_usage(np.ones((2, 2)), threshold=2)


def test_convergence_area_hand_values():
    # max 0.9, first epoch within 0.005 is the third: (0.4 + 0.1 + 0) / 4
    assert convergence_area([0.5, 0.8, 0.9, 0.9]) == pytest.approx(0.125)
    # a curve at its maximum from the start has zero area
    assert convergence_area([0.9, 0.9, 0.9]) == 0.0
    # within tol of the max counts as converged: (0.897 -> 0.9 is within 0.005)
    assert convergence_area([0.5, 0.897, 0.9]) == pytest.approx((0.4 + 0.003) / 3)


def test_convergence_area_rejects_empty_and_non_finite_curves():
    with pytest.raises(ValueError, match="non-empty"):
        convergence_area([])
    # A NaN returned nan and -inf returned inf, silently.
    for curve in ([0.5, np.nan, 0.9], [-np.inf, 0.5]):
        with pytest.raises(ValueError, match="accuracies must be finite"):
            convergence_area(curve)


def test_metrics_reject_or_flag_inputs_they_cannot_measure():
    with pytest.raises(ValueError, match="scalar"):
        hoyer_sparsity(3.0)
    with pytest.raises(ValueError, match="axis=5 is out of range"):
        hoyer_sparsity(np.ones((2, 3)), axis=5)
    with pytest.raises(ValueError, match="at least one unit"):
        hoyer_sparsity([])
    # An infinite unit is neither inactive nor measurable: NaN, as for NaN activity.
    for bad in (np.inf, np.nan):
        usage = neural_usage([[bad, 1.0], [0.0, 1.0]])
        assert np.isnan(usage.sparsity) and np.isnan(usage.active_fraction)
