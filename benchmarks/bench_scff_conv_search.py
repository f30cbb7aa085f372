"""Does learning help the convolutional SCFF encoder on 8x8 digits? A random search, then fresh seeds.

The test suite asks ``make_pipeline(SCFFTransformer(encoder="conv", ...),
LogisticRegression())`` to beat the same pipeline with the encoder's
random initial weights (``max_iter=0``), by 3-fold cross-validation on all
1797 digits (``StratifiedKFold(3, shuffle=True, random_state=SPLIT)``,
split 0) averaged over encoder seeds 0-2. With 24 or more channels random
filters keep the digit as well as learned ones; with the encoder's
defaults the gain is 0.09 points.

``--search N`` draws ``N`` settings at random (fixed draw, seed 14: 16-64
channels, one or two layers, a 3x3 or 5x5 first kernel, learning rate,
thresholds, penalty, weight decay, epochs, decay, batch size, shifted
views, negatives) and scores each on that protocol. The kernel size is
not a parameter of ``SCFFTransformer`` (5x5 first, as in the paper); the
search tries 3x3 by patching the private helper that sizes it.

``--confirm CONFIG --seeds ... --split S`` scores one setting (a JSON
object as the search writes it) on other encoder seeds and another CV
split: the check that a search's pick is not a lucky draw.

Usage::

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/bench_scff_conv_search.py --search 150
    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/bench_scff_conv_search.py \\
        --confirm '{"hidden_layer_sizes": [16], ...}' --seeds 3 4 5 6 7 --split 1

Results are printed and written to
``benchmarks/results/scff_conv_search[_TAG].json`` (``--out-dir`` writes it
elsewhere). On one core the 150-setting search took 25 minutes (1 to 20 s
per setting and seed) and a confirmation of one setting on 8 seeds 8 s.
"""

import argparse
import json
import random
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skff._scff as scff_module
from _common import add_output_arguments, results_path
from skff import SCFFTransformer

_FIT_KERNEL = scff_module._fit_kernel


def cv_mean(first_step, X, y, split):
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return float(cross_val_score(make_pipeline(first_step, LogisticRegression(max_iter=2000)), X, y,
                                     cv=cv).mean())


def evaluate(config, seeds, split, X, y):
    """Trained and untrained CV accuracy of one setting, per seed."""
    params = dict(config)
    kernel = params.pop("kernel", 5)
    # 5x5 first layers become kernel x kernel; later layers keep 3x3.
    scff_module._fit_kernel = lambda size, spatial: _FIT_KERNEL(kernel if size == 5 else size, spatial)
    try:
        base = dict(encoder="conv", input_shape=(1, 8, 8), device="cpu", **params)
        trained = [cv_mean(SCFFTransformer(**base, random_state=seed), X, y, split) for seed in seeds]
        untrained = [cv_mean(SCFFTransformer(**{**base, "max_iter": 0}, random_state=seed), X, y, split)
                     for seed in seeds]
    finally:
        scff_module._fit_kernel = _FIT_KERNEL
    gains = [100 * (a - b) for a, b in zip(trained, untrained)]
    return dict(config=config, seeds=list(seeds), split=split, trained=trained, untrained=untrained,
                gain_points=gains, mean_gain_points=float(np.mean(gains)))


def draw(rng):
    channels = rng.choice([16, 24, 32, 48, 64])
    layers = rng.choice([(channels,), (channels,), (channels, 2 * channels)])
    return dict(
        kernel=rng.choice([3, 5]),
        hidden_layer_sizes=list(layers),
        learning_rate_init=round(10 ** rng.uniform(-3.3, -1.7), 5),
        threshold_pos=rng.choice([0.0, 1.0, 2.0, 4.0]),
        threshold_neg=rng.choice([1.0, 2.0, 4.0, 6.0]),
        penalty=rng.choice([0.0, 1e-4, 1e-3, 1e-2, 0.05]),
        weight_decay=rng.choice([0.0, 3e-4, 1e-2, 0.03]),
        max_iter=rng.choice([2, 3, 5, 10, 20]),
        learning_rate_decay=rng.choice([0.7, 0.9, 1.0]),
        batch_size=rng.choice([32, 64, 100]),
        augment_shift=rng.choice([0, 0, 1]),
        n_negatives=rng.choice([1, 1, 2]),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--search", type=int, metavar="N", help="score N random settings on seeds 0-2, split 0")
    mode.add_argument("--confirm", metavar="CONFIG", help="score one setting (JSON object)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--split", type=int, default=0, help="random_state of the 3-fold CV split")
    add_output_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    raw = cv_mean(StandardScaler(), X, y, args.split)
    print(f"raw pixels (StandardScaler), split {args.split}: {raw:.4f}")
    if args.search:
        rng = random.Random(14)
        configs = [draw(rng) for _ in range(args.search)]
    else:
        configs = [json.loads(args.confirm)]
    runs = []
    for config in configs:
        start = time.perf_counter()
        run = evaluate(config, args.seeds, args.split, X, y)
        run["seconds"] = round(time.perf_counter() - start, 1)
        runs.append(run)
        print(f"gain {run['mean_gain_points']:+.2f} points (per seed "
              f"{', '.join(f'{g:+.2f}' for g in run['gain_points'])}), trained {np.mean(run['trained']):.4f}, "
              f"untrained {np.mean(run['untrained']):.4f}: {json.dumps(config)}", flush=True)
    if args.search:
        print("\nbest five:")
        for run in sorted(runs, key=lambda r: -r["mean_gain_points"])[:5]:
            print(f"  {run['mean_gain_points']:+.2f}  {json.dumps(run['config'])}")
    path = results_path(args, "scff_conv_search")
    path.write_text(json.dumps(dict(mode="search" if args.search else "confirm", raw_pixels=raw,
                                    split=args.split, seeds=args.seeds, runs=runs), indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
