"""SCFFTransformer: the maths, learning on real data, and the estimator contract."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_circles
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import SCFFTransformer, TrainingDivergedError
from skff.callbacks import Callback
from skff.functional import contrastive_loss, contrastive_pairs, mean_square_goodness, standardize, triangle
from skff.functional.contrastive import draw_shifts, random_translate


# -- the maths -----------------------------------------------------------------
def test_contrastive_pairs_equal_the_tied_weight_doubled_input():
    g = torch.Generator().manual_seed(0)
    x = standardize(torch.randn(5, 7, generator=g))
    w = torch.randn(3, 7, generator=g)
    doubled = torch.cat([w, w], dim=1)  # W_1 = W_2 = W on the input [a, b]
    shift = 2
    partner = torch.roll(x, shifts=-shift, dims=0)
    positive, negative = contrastive_pairs(x @ w.T, shift)
    torch.testing.assert_close(positive, torch.cat([x, x], 1) @ doubled.T)
    torch.testing.assert_close(negative, torch.cat([x, partner], 1) @ doubled.T)
    # sample i is paired with sample (i + shift) mod n
    torch.testing.assert_close(negative[4], (x[4] + x[1]) @ w.T)


def test_augmented_pairs_use_the_partner_view():
    g = torch.Generator().manual_seed(0)
    u, partner = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    positive, negative = contrastive_pairs(u, 1, partner)
    torch.testing.assert_close(positive, u + partner)
    torch.testing.assert_close(negative[0], u[0] + partner[1])
    torch.testing.assert_close(negative[3], u[3] + partner[0])


def test_several_shifts_give_one_negative_block_per_shift():
    g = torch.Generator().manual_seed(0)
    u, partner = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    positive, negative = contrastive_pairs(u, [1, 3], partner)
    torch.testing.assert_close(positive, u + partner)
    assert negative.shape == (10, 3)
    torch.testing.assert_close(negative[:5], contrastive_pairs(u, 1, partner)[1])
    torch.testing.assert_close(negative[5:], contrastive_pairs(u, 3, partner)[1])


@pytest.mark.parametrize("pairing", ["streams", "repair"])
def test_layer_loss_with_several_negatives_averages_the_negative_term(pairing):
    # The positive term and the penalty are those of one shift; the negative
    # term is the mean over all negatives, so the loss with shifts (1, 2) is
    # the mean of the losses with shift 1 and with shift 2 -- for the paired
    # first layer and for a second layer that reads the first one's streams.
    X, _ = load_digits(return_X_y=True)
    scff = SCFFTransformer(hidden_layer_sizes=(24, 16), pairing=pairing, max_iter=1, penalty=0.01,
                           random_state=0).fit(X[:100])
    x = torch.as_tensor(X[:40], dtype=torch.float32)
    network = scff.module_
    with torch.no_grad():
        for layer in (0, 1):
            both = network.layer_loss(x, layer, [1, 2])
            separate = (network.layer_loss(x, layer, 1) + network.layer_loss(x, layer, 2)) / 2
            torch.testing.assert_close(both, separate)


def test_draw_shifts_are_distinct_partners_capped_by_the_batch():
    g = torch.Generator().manual_seed(0)
    assert 1 <= draw_shifts(7, 1, g) <= 6
    for n_samples, wanted in [(7, 3), (7, 6), (7, 50), (2, 4)]:
        shifts = draw_shifts(n_samples, wanted, g)
        assert len(shifts) == len(set(shifts)) == min(wanted, n_samples - 1)
        assert all(1 <= k < n_samples for k in shifts)
    # shifts given as numpy or 0-d torch integers work as plain ints
    u = torch.randn(4, 2, generator=g)
    torch.testing.assert_close(contrastive_pairs(u, np.int64(1))[1], contrastive_pairs(u, 1)[1])
    torch.testing.assert_close(contrastive_pairs(u, torch.tensor(1))[1], contrastive_pairs(u, 1)[1])
    with pytest.raises(ValueError, match="at least one shift"):
        contrastive_pairs(u, [])


def test_n_negatives_reaches_every_batch(monkeypatch):
    import skff._scff

    drawn = []

    def recording(n_samples, n_negatives, generator=None):
        shift = draw_shifts(n_samples, n_negatives, generator)
        drawn.append((n_samples, 1 if isinstance(shift, int) else len(shift)))
        return shift

    monkeypatch.setattr(skff._scff, "draw_shifts", recording)
    X, _ = load_digits(return_X_y=True)
    params = dict(hidden_layer_sizes=(32,), max_iter=2, batch_size=16, random_state=0)
    SCFFTransformer(**params, n_negatives=4).fit(X[:200])
    # 200 samples in batches of 16: 12 full batches and one of 8, per epoch
    assert len(drawn) == 2 * 13 and all(count == min(4, n - 1) for n, count in drawn)
    drawn.clear()
    SCFFTransformer(**{**params, "batch_size": 3}, n_negatives=10).fit(X[:30])
    assert drawn and all(count == 2 for _, count in drawn)
    drawn.clear()
    one = SCFFTransformer(**params).fit(X[:200])
    assert all(count == 1 for _, count in drawn)
    several = SCFFTransformer(**params, n_negatives=4).fit(X[:200])
    assert not np.allclose(one.transform(X[:50]), several.transform(X[:50]))
    with pytest.raises(ValueError, match="n_negatives"):
        SCFFTransformer(n_negatives=0).fit(X[:20])


def test_random_translate_shifts_whole_images_with_zero_fill():
    images = torch.arange(2 * 25, dtype=torch.float32).view(2, 1, 5, 5) + 1
    shifted = random_translate(images, 2, torch.Generator().manual_seed(3))
    assert shifted.shape == images.shape
    for original, moved in zip(images[:, 0], shifted[:, 0]):
        # some offset in [-2, 2]^2 reproduces the image, zeros shifted in
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(moved, torch.nn.functional.pad(original, (2, 2, 2, 2))[2 + dy : 7 + dy, 2 + dx : 7 + dx])
        ]
        assert len(matches) == 1
    assert torch.equal(random_translate(images, 0), images)


def test_standardize_triangle_goodness_by_hand():
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0]])
    s = standardize(x, eps=0.0)
    torch.testing.assert_close(s, (x - 3.0) / torch.sqrt(torch.tensor(3.5)))
    torch.testing.assert_close(triangle(x), torch.tensor([[0.0, 0.0, 0.0, 3.0]]))
    torch.testing.assert_close(mean_square_goodness(x), torch.tensor([50.0 / 4]))
    # per position for images, per time step for sequences
    assert mean_square_goodness(torch.ones(2, 3, 4, 5), dim=1).shape == (2, 4, 5)
    sequence = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(standardize(sequence, start_dim=-1).mean(-1), torch.zeros(2, 6), atol=1e-5, rtol=0)


def test_standardize_handles_samples_near_the_float32_maximum():
    x = torch.randn(50, 7, 9, generator=torch.Generator().manual_seed(0)) * torch.logspace(-2, 3, 50).view(-1, 1, 1)
    for start_dim in (1, -1):
        # Ordinary samples: the eps-free formula up to eps, which is relative
        # to each sample's scale (powers of two change no bit) ...
        dims = tuple(range(start_dim % 3, 3))
        unscaled = (x - x.mean(dims, keepdim=True)) / x.std(dims, keepdim=True, unbiased=False)
        torch.testing.assert_close(standardize(x, start_dim), unscaled, rtol=1e-4, atol=1e-4)
        for power in (-60, -3, 5, 60):
            torch.testing.assert_close(standardize(x * 2.0**power, start_dim), standardize(x, start_dim),
                                       rtol=0, atol=0)
        # ... and samples beyond 1e19, whose variance used to overflow to
        # inf (every such sample became zeros), standardised as well.
        torch.testing.assert_close(standardize(x * 1e30, start_dim), unscaled, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(standardize(torch.tensor([[3e38, 0.0, -3e38, 0.0]])),
                               torch.tensor([[2.0 ** 0.5, 0.0, -(2.0 ** 0.5), 0.0]]))
    assert not standardize(torch.tensor([[5e37, 7.0], [0.0, 0.0]])).isnan().any()


@pytest.mark.parametrize("encoder, shape", [("dense", None), ("conv", (1, 8, 8)), ("birnn", (8, 8))])
def test_samples_near_the_float32_maximum_get_the_features_of_their_pattern(encoder, shape):
    X, _ = load_digits(return_X_y=True)
    # Pixel variances of 0.1 and up: eps (1e-5) barely counts at scale 1.
    model = _small(encoder=encoder, input_shape=shape).fit(X[:100])
    features = model.transform(X[:20])
    for scale in (1e20, 1e36):
        np.testing.assert_allclose(model.transform(X[:20] * scale), features, atol=1e-3)
    # Trained on samples near 1e20 (all features constant before): nearly the same model.
    np.testing.assert_allclose(_small(encoder=encoder, input_shape=shape).fit(X[:100] * 1e20).transform(X[:20]),
                               features, atol=1e-2)


def test_contrastive_loss_by_hand():
    g_pos, g_neg = torch.tensor([5.0, 3.0]), torch.tensor([1.0, 7.0])
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    expected = (softplus(4 - 5) + softplus(4 - 3)) / 2 + (softplus(1 - 6) + softplus(7 - 6)) / 2 + 0.1 * (5 + 3) / 2
    assert float(contrastive_loss(g_pos, g_neg, 4.0, 6.0, 0.1)) == pytest.approx(expected, rel=1e-6)
    # penalty: Frobenius norm of each sample's goodness over positions
    per_position = torch.tensor([[[3.0, 4.0]]])
    base = float(contrastive_loss(per_position, per_position, 0.0, 0.0, 0.0))
    assert float(contrastive_loss(per_position, per_position, 0.0, 0.0, 1.0)) == pytest.approx(base + 5.0)


# -- learning measurably helps on real data ---------------------------------------
@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def raw_pixel_score(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return model.fit(X_train, y_train).score(X_test, y_test)


def _probe_score(digits_split, **params):
    X_train, X_test, y_train, y_test = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_pipeline(SCFFTransformer(random_state=0, device="cpu", **params),
                              LogisticRegression(max_iter=2000))
        return model.fit(X_train, y_train).score(X_test, y_test)


# dense: 0.984 trained vs 0.964 untrained vs 0.969 raw pixels on this split
# (seed 0; 0.980 when first measured), a margin of 9 digits. Over seeds 0-2 by 3-fold CV on all
# digits the gain is smaller: 0.65 points (1.06, 0.17 and 0.72 per seed;
# session 14).
def test_learned_features_beat_raw_pixels_and_untrained_weights(digits_split, raw_pixel_score):
    params = dict(hidden_layer_sizes=(100,), learning_rate_init=0.01)
    trained = _probe_score(digits_split, **params)
    untrained = _probe_score(digits_split, **{**params, "max_iter": 0})
    assert trained > raw_pixel_score, (trained, raw_pixel_score)
    assert trained > untrained + 0.005, (trained, untrained)


# The recurrent encoder: the best of two random searches scored by 3-fold CV
# on the training part of the split above (benchmarks/README.md, session 7):
# 384 units per direction, the time-mean readout, a strong penalty on the
# positive goodness and weight decay. On that split it beat its untrained
# version by 0.67 points on one machine and by 0.44 on another (the
# untrained encoder got one more digit right there; 0.5 was asked): the
# split's grain is 0.22 points a digit, and the logistic regression lands
# on slightly different solutions under different BLAS builds and thread
# counts. So the recurrent encoder is
# measured on all 1797 digits, 3-fold CV, averaged over three seeds (a
# digit is then worth 0.019 points): trained 0.979-0.981, untrained
# 0.973, raw pixels 0.9705; gain 0.65 points with BLAS on 1 thread and 0.67
# on 2 (per seed 0.61-0.72, no fold worse; session 8; 0.69 in session 14,
# per seed 0.56-0.83, after the standardisation's epsilon became relative).
# 3 folds were chosen
# for run time before these numbers were seen; 5 folds (more training
# digits per fit) give a smaller gain, 0.41-0.50 averaged over the seeds
# (benchmarks/README.md), so this margin is not a wide one. With the paper's
# final-state readout no configuration found gains more than 0.45 CV points
# over random recurrent weights while staying above the raw pixels.
#
# conv: with the encoder's defaults (the authors' MNIST CNN settings, 32
# channels) learned filters are no better than random ones over seeds 0-2
# by 3-fold CV on all digits: 0.9874 vs 0.9859 (session 14), and about 45
# hand-picked settings in sessions 8-12 gained at most 0.48 points with a
# seed negative. A width sweep (session 9) showed where learning can pay:
# 16 channels, where random filters barely keep the digit, while learned
# ones rise above the raw pixels (from 24 channels on, random filters do as
# well as learned ones). Traced epoch by epoch (session 10), the gain peaks
# after 3-8 epochs and then falls while the SCFF loss keeps falling.
# Session 14 ran a random search of 150 settings (kernel 3 or 5, 16-64
# channels, one or two layers, rate, thresholds, penalty, weight decay,
# epochs, decay, batch, shifted views, negatives) on this test's protocol
# (seeds 0-2, CV split 0; mean gain over the search -0.09) and checked the
# five best on fresh seeds and fresh CV splits. The one kept below gained
# 0.69 points on the search's protocol (per seed 0.56, 0.67, 0.83; trained
# 0.979, untrained 0.9725, raw pixels 0.9705): being the search's pick, that
# overstates it. On fresh seeds and CV splits it gained 0.60 (seeds 3-7,
# split 1, all positive), 0.34 (seeds 8-15, split 2, seven of eight
# positive) and 0.34 (seeds 16-23, split 3, six of eight): 0.40 points over
# the 21 fresh seeds, 18 positive, a paired t-statistic of 4.3, with the
# trained features 0.6 to 1.1 points above the raw pixels on every split.
# Learning helps, by less than the search's protocol shows, so the test
# measures it on the fresh seeds. The runner-up (shifted views) gained 0.82
# on split 1 but 0.05 on split 2, which ruled it out. On
# 28x28 MNIST the conv encoder beats its random filters at (32, 128)
# channels (10k images: +0.4 to +0.6 test points over three seeds), not at
# the authors' (96, 384).
BIRNN_DIGITS = dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(384,), sequence_features="mean",
                    learning_rate_init=0.0015, max_iter=5, threshold_pos=0.0, threshold_neg=6.0, penalty=0.05,
                    weight_decay=0.03, learning_rate_decay=1.0, batch_size=64, device="cpu")
CONV_DIGITS = dict(encoder="conv", input_shape=(1, 8, 8), hidden_layer_sizes=(16,), learning_rate_init=0.00384,
                   threshold_pos=2.0, threshold_neg=4.0, penalty=0.01, weight_decay=0.01, max_iter=5,
                   learning_rate_decay=0.9, batch_size=32, device="cpu")


def _digits_cv_mean(first_step, X, y, split):
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_val_score(make_pipeline(first_step, LogisticRegression(max_iter=2000)), X, y, cv=cv).mean()


def test_recurrent_features_beat_raw_pixels_and_untrained_weights_across_seeds():
    X, y = load_digits(return_X_y=True)
    raw = _digits_cv_mean(StandardScaler(), X, y, 0)
    trained = np.mean([_digits_cv_mean(SCFFTransformer(**BIRNN_DIGITS, random_state=seed), X, y, 0)
                       for seed in range(3)])
    untrained = np.mean([_digits_cv_mean(SCFFTransformer(**{**BIRNN_DIGITS, "max_iter": 0}, random_state=seed),
                                         X, y, 0) for seed in range(3)])
    assert trained > raw + 0.005, (trained, raw)
    assert trained > untrained + 0.005, (trained, untrained)


def test_conv_features_beat_raw_pixels_and_untrained_weights_on_fresh_seeds():
    # The setting was picked by a search on seeds 0-2 with CV split 0, where
    # it gains 0.69 points; measured there, the pick would flatter itself.
    # Here: the 21 seeds and three CV splits of its confirmation (comment
    # above). Measured: gain 0.40 points (standard error 0.09, 18 of 21
    # seeds positive), trained features 0.80 points above the raw pixels.
    # Asked: a gain of more than 0.2 points, two standard errors above zero,
    # and the raw pixels beaten by 0.5 points.
    X, y = load_digits(return_X_y=True)
    gains, trained, raw = [], [], []
    for split, seeds in {1: range(3, 8), 2: range(8, 16), 3: range(16, 24)}.items():
        raw_split = _digits_cv_mean(StandardScaler(), X, y, split)
        for seed in seeds:
            learned = _digits_cv_mean(SCFFTransformer(**CONV_DIGITS, random_state=seed), X, y, split)
            initial = _digits_cv_mean(SCFFTransformer(**{**CONV_DIGITS, "max_iter": 0}, random_state=seed), X, y,
                                      split)
            gains.append(learned - initial)
            trained.append(learned)
            raw.append(raw_split)
    assert np.mean(gains) > 0.002, gains
    assert np.mean(trained) > np.mean(raw) + 0.005, (np.mean(trained), np.mean(raw))


def test_tabular_rows_keep_their_level_without_sample_standardisation():
    # Two features standardised per sample keep only the sign of their
    # difference: the circles are lost. Passed on as a StandardScaler left
    # them, the first layer's features separate the circles linearly
    # (5-fold CV: 0.992 against 0.466 standardised and 0.456 for a logistic
    # regression on the two features; docs/scff.md).
    X, y = make_circles(500, noise=0.1, factor=0.5, random_state=0)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

    def cv_mean(*steps):
        return cross_val_score(make_pipeline(StandardScaler(), *steps, LogisticRegression(max_iter=2000)),
                               X, y, cv=cv).mean()

    raw = cv_mean()
    standardised = cv_mean(SCFFTransformer(random_state=0, device="cpu"))
    as_scaled = cv_mean(SCFFTransformer(standardize_samples=False, random_state=0, device="cpu"))
    assert raw < 0.6 and standardised < 0.6, (raw, standardised)
    assert as_scaled > 0.95, as_scaled


@pytest.mark.parametrize("encoder, shape", [("dense", None), ("conv", (1, 8, 8)), ("birnn", (8, 8))])
def test_features_do_not_depend_on_the_units_of_the_data(encoder, shape):
    # The standardisation's epsilon was added in the data's units: digits
    # given in units 1e5 times larger (pixel values near 1e-4) had their
    # features damped, and the features of a logistic regression fell from
    # 0.94 to 0.50 CV accuracy (review, session 14).
    X = load_digits(return_X_y=True)[0][:300]
    params = dict(encoder=encoder, input_shape=shape, hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                  device="cpu")
    features = SCFFTransformer(**params).fit_transform(X)
    small_units = SCFFTransformer(**params).fit_transform(X * 1e-5)
    np.testing.assert_allclose(small_units, features, atol=1e-3)


@pytest.mark.parametrize("encoder, shape", [("dense", None), ("conv", (1, 8, 8)), ("birnn", (8, 8))])
def test_standardize_samples_false_feeds_the_first_layer_the_input_as_it_is(encoder, shape):
    X = load_digits(return_X_y=True)[0][:300] / 16.0
    params = dict(encoder=encoder, input_shape=shape, hidden_layer_sizes=(8,), max_iter=1, random_state=0,
                  device="cpu")
    off = SCFFTransformer(standardize_samples=False, **params).fit(X)
    on = SCFFTransformer(**params).fit(X)
    assert np.isfinite(off.transform(X)).all()
    assert not np.allclose(off.transform(X), on.transform(X))
    # Unstandardised, a row and twice it are different inputs; standardised,
    # the same (exactly: the standardisation's epsilon is relative to each
    # sample's scale).
    assert np.abs(off.transform(X[:20]) - off.transform(2 * X[:20])).max() > 0.05
    np.testing.assert_array_equal(on.transform(X[:20]), on.transform(2 * X[:20]))
    # A network pickled before the option existed standardised its input.
    network = pickle.loads(pickle.dumps(on.module_))
    del network.standardize_input
    x = torch.as_tensor(X[:20], dtype=torch.float32)
    torch.testing.assert_close(network.features(x, [0]), on.module_.features(x, [0]))
    # A changed standardize_samples is a new network: continuing training refuses it.
    with pytest.raises(ValueError, match="standardize_samples"):
        on.set_params(warm_start=True, standardize_samples=False).fit(X)


# -- behaviour ---------------------------------------------------------------------
def _small(**params):
    return SCFFTransformer(**{"hidden_layer_sizes": (16, 8), "max_iter": 2, "random_state": 0, "device": "cpu",
                              **params})


def test_output_shapes_layers_and_feature_names():
    X, _ = load_digits(return_X_y=True)
    X = X[:200]
    assert _small().fit_transform(X).shape == (200, 24)
    assert _small(layers_out=[-1]).fit(X).transform(X).shape == (200, 8)
    conv = _small(encoder="conv", input_shape=(1, 8, 8)).fit(X)
    # layer 1: 16 channels on a 2x2 grid of quadrants; layer 2: 8 channels, 2x2
    assert conv.transform(X).shape == (200, 16 * 4 + 8 * 4)
    birnn = _small(encoder="birnn", input_shape=(8, 8)).fit(X)
    assert birnn.transform(X).shape == (200, 2 * 16 + 2 * 8)
    names = _small().fit(X).get_feature_names_out()
    assert names.shape == (24,) and names[0] == "scfftransformer0"


def test_features_are_standardised_per_layer_and_sample():
    X, _ = load_digits(return_X_y=True)
    features = _small().fit(X[:300]).transform(X[:300])
    for block in (features[:, :16], features[:, 16:]):
        np.testing.assert_allclose(block.mean(axis=1), 0, atol=1e-4)
        np.testing.assert_allclose(block.std(axis=1), 1, atol=1e-2)


@pytest.mark.parametrize("pairing", ["streams", "repair"])
def test_both_pairing_algorithms_train_every_layer(pairing):
    X, _ = load_digits(return_X_y=True)
    model = _small(pairing=pairing, max_iter=3).fit(X[:400])
    stages = [entry["stage"] for entry in model.history_]
    assert stages == ["layer 1"] * 3 + ["layer 2"] * 3
    for layer in ("layer 1", "layer 2"):
        losses = [e["loss"] for e in model.history_ if e["stage"] == layer]
        assert losses[-1] < losses[0]


def test_later_layers_learn_with_earlier_ones_frozen():
    X, _ = load_digits(return_X_y=True)
    model = _small(max_iter=[2, 0]).fit(X[:300])
    trained_first = model.module_.layers[0].weight.detach().clone()
    initial_second = _small(max_iter=[0, 0]).fit(X[:300]).module_.layers[1].weight
    torch.testing.assert_close(model.module_.layers[1].weight, initial_second)
    again = _small(max_iter=[2, 2]).fit(X[:300])
    torch.testing.assert_close(again.module_.layers[0].weight, trained_first)
    assert not torch.allclose(again.module_.layers[1].weight, initial_second)


@pytest.mark.parametrize("encoder, shape, later_layers_paired", [
    ("dense", None, False), ("conv", (1, 8, 8), True), ("birnn", (8, 8), False),
])
def test_default_pairing_per_encoder(encoder, shape, later_layers_paired):
    # pairing=None: the authors' CNN re-pairs every layer (Algorithm 2); the
    # MLP passes the positive and negative streams on (Algorithm 1).
    X, _ = load_digits(return_X_y=True)
    model = _small(encoder=encoder, input_shape=shape, max_iter=1).fit(X[:50])
    assert [layer.paired for layer in model.module_.layers] == [True, later_layers_paired]


def test_per_layer_settings_reach_the_optimizer(monkeypatch):
    # Every layer gets its own AdamW with its own rate, decay and weight
    # decay: record the optimisers the engine builds and read them afterwards.
    import skff._engine as engine

    built = []
    make = engine._make_optimizer

    def recording(*args, **kwargs):
        built.append(make(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(engine, "_make_optimizer", recording)
    X, _ = load_digits(return_X_y=True)
    model = _small(max_iter=[2, 3], learning_rate_init=[0.01, 0.002], learning_rate_decay=[1.0, 0.5],
                   weight_decay=[0.1, 0.0], tol=0).fit(X[:200])
    assert [e["stage"] for e in model.history_] == ["layer 1"] * 2 + ["layer 2"] * 3
    assert [type(o).__name__ for o in built] == ["AdamW", "AdamW"]
    (first,), (second,) = (o.param_groups for o in built)
    # After the stage: the rate times decay ** epochs.
    assert first["lr"] == pytest.approx(0.01) and first["weight_decay"] == 0.1
    assert second["lr"] == pytest.approx(0.002 * 0.5 ** 3) and second["weight_decay"] == 0.0
    for group, layer in zip((first, second), model.module_.layers):  # each optimiser holds its own layer
        assert [id(p) for p in group["params"]] == [id(p) for p in layer.parameters()]
    with pytest.raises(ValueError, match="threshold_pos"):
        _small(threshold_pos=[]).fit(X[:50])


def test_early_stopping_on_the_validation_loss():
    # Each layer stops by MLPClassifier's rule applied to its validation
    # score (minus its SCFF loss on the held-out samples) and keeps the
    # weights of its best validation epoch, not its last.
    X, _ = load_digits(return_X_y=True)
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, estimator, *, network, history, **kwargs):
            snapshots.append([layer.weight.detach().clone() for layer in network.layers])

    model = _small(early_stopping=True, max_iter=40, n_iter_no_change=3, tol=0.01, learning_rate_init=0.02,
                   callbacks=[Snapshot()]).fit(X[:400])
    history = model.history_
    for index in range(2):
        epochs = [i for i, e in enumerate(history) if e["stage"] == f"layer {index + 1}"]
        scores = [history[i]["validation_score"] for i in epochs]
        best, no_improvement, stop = -np.inf, 0, len(scores)
        for epoch, score in enumerate(scores):
            no_improvement = 0 if score > best + 0.01 else no_improvement + 1
            best = max(best, score)
            if no_improvement >= 3:
                stop = epoch + 1
                break
        assert len(scores) == stop < 40  # stopped by the validation scores
        best_epoch = epochs[int(np.argmax(scores))]
        torch.testing.assert_close(model.module_.layers[index].weight, snapshots[best_epoch][index])
        if best_epoch != epochs[-1]:  # the best weights were restored, not the last ones kept
            assert not torch.equal(model.module_.layers[index].weight, snapshots[epochs[-1]][index])


def test_deterministic_and_pickle_round_trip():
    X, _ = load_digits(return_X_y=True)
    a = _small().fit(X[:200]).transform(X[:50])
    model = _small().fit(X[:200])
    np.testing.assert_array_equal(a, model.transform(X[:50]))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(X[:50]), a)
    assert not hasattr(clone(model), "module_")


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X, _ = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:100], columns=[f"px{i}" for i in range(64)])
    out = _small().set_output(transform="pandas").fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["scfftransformer0", "scfftransformer1"]


def test_feature_names_follow_layers_out_set_after_fit():
    X, _ = load_digits(return_X_y=True)
    model = _small(layers_out=[1]).fit(X[:100])
    assert len(model.get_feature_names_out()) == model.transform(X[:5]).shape[1] == 8
    # transform reads layers_out when called; so must the feature names
    # (set_output's pandas wrapper used to fail on the length mismatch).
    model.set_params(layers_out=[0, 1])
    assert len(model.get_feature_names_out()) == model.transform(X[:5]).shape[1] == 24
    pd = pytest.importorskip("pandas")
    assert model.set_output(transform="pandas").transform(X[:5]).shape == (5, 24)
    model.set_params(layers_out=[2])
    with pytest.raises(ValueError, match=r"layers_out \[2\] out of range for a network of 2 layers"):
        model.get_feature_names_out()


@pytest.mark.parametrize("name, value, allowed", [
    ("learning_rate_init", [0.01, -1.0], r"a float in the range \(0.0, inf\)"),
    ("learning_rate_init", [0.0], r"a float in the range \(0.0, inf\)"),
    ("weight_decay", [-1.0], r"a float in the range \[0.0, inf\)"),
    ("penalty", [0.0, -1.0], r"a float in the range \[0.0, inf\)"),
    ("learning_rate_decay", [2.0], r"a float in the range \(0.0, 1.0\]"),
    ("learning_rate_decay", [0.0], r"a float in the range \(0.0, 1.0\]"),
    ("max_iter", [1, 1.5], r"an int in the range \[0, inf\)"),
    ("max_iter", [-1], r"an int in the range \[0, inf\)"),
])
def test_per_layer_sequences_obey_the_scalar_constraints(name, value, allowed):
    # _parameter_constraints checks scalars; a sequence used to reach AdamW
    # (a torch error) or to train silently with a growing learning rate.
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match=f"{name} must be {allowed} for every layer .*got"):
        _small(**{name: value}).fit(X[:20])


def test_input_shape_must_match_the_features():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match=r"input_shape=\(1, 7, 7\) holds 49 values per sample but X has 64"):
        _small(encoder="conv", input_shape=(1, 7, 7)).fit(X[:20])
    with pytest.raises(ValueError, match=r"\(time_steps, features\)"):
        _small(encoder="birnn", input_shape=(1, 8, 8)).fit(X[:20])


def test_augment_shift_needs_image_shape():
    X, _ = load_digits(return_X_y=True)
    model = _small(augment_shift=1, input_shape=(1, 8, 8)).fit(X[:100])
    assert model.transform(X[:5]).shape == (5, 24)
    with pytest.raises(ValueError, match="augment_shift needs input_shape"):
        _small(augment_shift=1).fit(X[:20])
    with pytest.raises(ValueError, match="not available for encoder='birnn'"):
        _small(encoder="birnn", input_shape=(8, 8), augment_shift=1).fit(X[:20])
    # Continued training names the parameter at fault, not the input_shape
    # that augment_shift would need (it named input_shape, which had not
    # changed).
    warm = _small(warm_start=True).fit(X[:100])
    with pytest.raises(ValueError, match="augment_shift needs input_shape"):
        warm.set_params(augment_shift=1).fit(X[:100])


def test_augment_shift_per_layer():
    # (0, 1): layer 1 trains on plain pairs exactly as without augmentation,
    # layer 2 on shifted views, so only the second layer's weights differ.
    X, _ = load_digits(return_X_y=True)
    kwargs = dict(input_shape=(1, 8, 8), hidden_layer_sizes=(16, 8))
    plain = _small(**kwargs).fit(X[:200])
    second = _small(augment_shift=(0, 1), **kwargs).fit(X[:200])
    both = _small(augment_shift=1, **kwargs).fit(X[:200])
    plain_w, second_w, both_w = ([layer.weight for layer in m.module_.layers] for m in (plain, second, both))
    torch.testing.assert_close(second_w[0], plain_w[0])
    assert not torch.allclose(second_w[1], plain_w[1])
    assert not torch.allclose(both_w[0], plain_w[0])
    with pytest.raises(ValueError, match=r"augment_shift must be an int in the range \[0, inf\) for every layer"):
        _small(augment_shift=(0, 1.5), **kwargs).fit(X[:20])
    with pytest.raises(ValueError, match="augment_shift needs input_shape"):
        _small(augment_shift=[0, 1]).fit(X[:20])


def test_bad_input():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(NotFittedError):
        _small().transform(X)
    bad = X[:20].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _small().fit(bad)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        _small().fit(bad)
    with pytest.raises(ValueError, match="2D array"):
        _small().fit(X[0])
    with pytest.raises(ValueError, match="at least 2 samples"):
        _small().fit(X[:1])
    with pytest.raises(ValueError, match=r"at least 2 features to standardise each sample, got 1 feature\(s\)"):
        _small().fit(X[:20, :1])
    # One unit, channel or hidden state per direction: its triangle
    # activity is always 0 (every feature was constant before this check).
    for params in (dict(hidden_layer_sizes=(1,)), dict(hidden_layer_sizes=(8, 1)),
                   dict(encoder="conv", input_shape=(1, 8, 8), hidden_layer_sizes=1),
                   dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(1,))):
        with pytest.raises(ValueError, match="at least 2 in every layer .*triangle"):
            _small(**params).fit(X[:20])
    with pytest.raises(ValueError):
        _small().fit(np.array([["a", "b"], ["c", "d"]]))
    model = _small().fit(X[:50])
    with pytest.raises(ValueError, match="64 features"):
        model.transform(X[:5, :10])


def test_divergence_is_reported():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(TrainingDivergedError, match="layer 1"):
        _small(learning_rate_init=1e25, weight_decay=0.0, max_iter=3).fit(X[:200])


def test_birnn_mean_readout_is_the_time_mean_of_the_states():
    X, _ = load_digits(return_X_y=True)
    params = dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(6,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        final = SCFFTransformer(**params).fit(X)
        mean = SCFFTransformer(sequence_features="mean", **params).fit(X)
    # The readout does not change training: same weights.
    for a, b in zip(final.module_.state_dict().values(), mean.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    layer = mean.module_.layers[0]
    with torch.no_grad():
        x = torch.as_tensor(X[:5], dtype=torch.float32).view(5, 8, 8)
        z = layer.respond(2 * layer.project(layer.prepare(x)))
        states = layer.transmit(z).view(5, 8, 2, 6)
    expected = states.mean(dim=1).flatten(1)
    # transform standardises each layer's features per sample.
    expected = standardize(expected)
    np.testing.assert_allclose(mean.transform(X[:5]), expected.numpy(), rtol=1e-4, atol=1e-4)
    assert not np.allclose(final.transform(X[:5]), mean.transform(X[:5]))


def test_fixed_input_weights_learn_only_the_recurrence():
    X, _ = load_digits(return_X_y=True)
    params = dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(6, 4), max_iter=2, random_state=0,
                  weight_decay=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        untrained = SCFFTransformer(**{**params, "max_iter": 0}).fit(X)
        fixed = SCFFTransformer(train_input_weights=False, **params).fit(X)
        both = SCFFTransformer(**params).fit(X)
    for initial, kept, learned in zip(untrained.module_.layers, fixed.module_.layers, both.module_.layers):
        # neither a gradient step nor AdamW's weight decay touches them
        torch.testing.assert_close(kept.weight_ih, initial.weight_ih, rtol=0, atol=0)
        torch.testing.assert_close(kept.bias, initial.bias, rtol=0, atol=0)
        assert not torch.equal(kept.weight_hh, initial.weight_hh)
        assert not torch.equal(learned.weight_ih, initial.weight_ih)
    # streamed chunks keep the setting, and it may change between calls
    stream = SCFFTransformer(train_input_weights=False, **params)
    stream.partial_fit(X[:900])
    before = stream.module_.layers[0].weight_ih.detach().clone()
    stream.partial_fit(X[900:])
    torch.testing.assert_close(stream.module_.layers[0].weight_ih, before, rtol=0, atol=0)
    stream.set_params(train_input_weights=True).partial_fit(X[:900])
    assert not torch.equal(stream.module_.layers[0].weight_ih, before)
    learned = stream.module_.layers[0].weight_ih.detach().clone()
    stream.set_params(train_input_weights=False).partial_fit(X[900:])
    torch.testing.assert_close(stream.module_.layers[0].weight_ih, learned, rtol=0, atol=0)


def test_fixed_input_weights_need_a_recurrent_encoder_and_several_steps():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="train_input_weights=False applies to encoder='birnn' only"):
        SCFFTransformer(train_input_weights=False, max_iter=1).fit(X[:50])
    with pytest.raises(ValueError, match="at least 2 time steps"):
        SCFFTransformer(encoder="birnn", input_shape=(1, 64), train_input_weights=False, max_iter=1).fit(X[:50])


def test_conv_layers_pool_one_dimensional_signals_along_their_length():
    # Rows read as 1-D signals, (1, 1, n_features): every layer is followed
    # by the 4-wide, stride-2 max-pooling along the signal, as images are
    # along both axes (it was skipped whenever a map was one pixel high).
    X = load_digits(return_X_y=True)[0][:200]
    encoder = SCFFTransformer(encoder="conv", hidden_layer_sizes=(4, 4, 4), max_iter=1, random_state=0,
                              device="cpu").fit(X)
    layers = encoder.module_.layers
    shapes = [(1, 1, 64)]
    for layer in layers:
        shapes.append(layer.output_shape(shapes[-1]))
    assert shapes == [(1, 1, 64), (4, 1, 32), (4, 1, 16), (4, 1, 8)]
    assert np.isfinite(encoder.transform(X)).all()
    # A layer stored before the change keeps not pooling thin maps: the
    # layer after it learned from the unpooled map.
    old = pickle.loads(pickle.dumps(layers[0]))
    del old.pools_thin_maps
    assert old.output_shape((1, 1, 64)) == (4, 1, 64)
    assert old.output_shape((1, 8, 8)) == layers[0].output_shape((1, 8, 8)) == (4, 4, 4)
