"""SCFFTransformer configurations on scikit-learn's digits, chosen by cross-validation.

The test suite checks that ``make_pipeline(SCFFTransformer(...),
LogisticRegression())`` beats logistic regression on the standardised
pixels and the same pipeline with untrained weights (``max_iter=0``), on a
stratified 75/25 split (seed 0). This script compares configurations the
way a user would choose one: by 3-fold cross-validation on the training
part only; the test accuracy is printed beside it, never used to choose.

Each configuration is a JSON object of ``SCFFTransformer`` parameters
(``random_state`` 0 unless it sets one);
``"raw"`` stands for ``StandardScaler`` on the pixels. By default the
recurrent encoder (rows of the 8x8 image as 8 time steps) with the SCFF
paper's only recurrent recipe (its FSDD table F.4 and appendix E: 500 units
per direction, learning rate 2e-5, thresholds 0 and 1, penalty 0.0075, no
weight decay, decay 0.7 per epoch, 10 epochs, batch 64) is compared with
its untrained version and raw pixels.

With ``--seeds 0 1 2 --compare-untrained`` every configuration is fitted
once per seed and again with ``max_iter=0`` (its random initial weights),
and the gain of learning is printed per seed and averaged: a gain the size
of one split's grain (0.2-0.3 points) is only believable when every seed
shows it.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff_digits.py [--configs '[{...}, ...]'] [--tag NAME]
        [--seeds 0 1 2] [--compare-untrained]

Results are printed and written to ``benchmarks/results/scff_digits[_TAG].json``.
"""

import argparse
import json
import pathlib
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import SCFFTransformer

FSDD_RECIPE = dict(threshold_pos=0.0, threshold_neg=1.0, penalty=0.0075, weight_decay=0.0,
                   learning_rate_decay=0.7, batch_size=64, max_iter=10)
BIRNN = dict(encoder="birnn", input_shape=(8, 8), hidden_layer_sizes=(500,))
DEFAULT_CONFIGS = [
    "raw",
    {**BIRNN, **FSDD_RECIPE, "learning_rate_init": 2e-5},
    {**BIRNN, **FSDD_RECIPE, "learning_rate_init": 1e-4},
    {**BIRNN, "max_iter": 0},
]


def pipeline(config, seed=None):
    if config == "raw":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    params = {"random_state": 0, "device": "cpu", **config}
    if seed is not None:
        params["random_state"] = seed
    return make_pipeline(SCFFTransformer(**params), LogisticRegression(max_iter=2000))


def score(config, seed, data, folds):
    X_train, X_test, y_train, y_test = data
    model = pipeline(config, seed)
    cv = cross_val_score(model, X_train, y_train, cv=folds).mean()
    return float(cv), float(model.fit(X_train, y_train).score(X_test, y_test))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=json.loads, default=DEFAULT_CONFIGS)
    parser.add_argument("--tag", default="")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="fit every configuration once per seed (overrides its random_state)")
    parser.add_argument("--compare-untrained", action="store_true",
                        help="also score each configuration with max_iter=0 (per seed) and report the gain")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = load_digits(return_X_y=True)
    data = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    results = []
    for config in args.configs:
        started = time.perf_counter()
        seeds = [None] if args.seeds is None or config == "raw" else args.seeds
        runs = [score(config, seed, data, folds) for seed in seeds]
        result = {"config": config, "cv_accuracy": float(np.mean([cv for cv, _ in runs])),
                  "test_accuracy": float(np.mean([test for _, test in runs]))}
        if args.seeds is not None and config != "raw":
            result.update(seeds=args.seeds, cv_per_seed=[cv for cv, _ in runs],
                          test_per_seed=[test for _, test in runs])
        line = f"CV {result['cv_accuracy']:.4f}  test {result['test_accuracy']:.4f}"
        if args.compare_untrained and config != "raw":
            untrained = [score({**config, "max_iter": 0}, seed, data, folds) for seed in seeds]
            gains = [100 * (cv - cv0) for (cv, _), (cv0, _) in zip(runs, untrained)]
            result.update(untrained_cv_accuracy=float(np.mean([cv for cv, _ in untrained])),
                          untrained_test_accuracy=float(np.mean([test for _, test in untrained])),
                          untrained_cv_per_seed=[cv for cv, _ in untrained],
                          cv_gain_points_per_seed=gains, cv_gain_points=float(np.mean(gains)))
            line += (f"  untrained CV {result['untrained_cv_accuracy']:.4f}"
                     f"  gain {result['cv_gain_points']:+.2f} ({', '.join(f'{g:+.2f}' for g in gains)})")
        result["seconds"] = time.perf_counter() - started
        results.append(result)
        print(f"{line}  {config}", flush=True)
    out = pathlib.Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"scff_digits{'_' + args.tag if args.tag else ''}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
