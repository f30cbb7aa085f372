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

With ``--trace-epochs 1 2 5 ...`` each configuration is instead fitted
once per fold and seed, and the 3-fold CV accuracy of its features is
measured after each listed epoch (epoch 0: the initial weights), which
shows whether more updates help (one-layer configurations; ``"tol": 0``
keeps the loss-based stopping rule from ending a fold early). The trace
already scores the untrained encoder (epoch 0) and reports every gain
against it, so ``--compare-untrained`` does not go with it.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff_digits.py [--configs '[{...}, ...]'] [--tag NAME]
        [--seeds 0 1 2] [--compare-untrained | --trace-epochs 1 2 5 10]

Results are printed and written to ``benchmarks/results/scff_digits[_TAG].json``
(``--out-dir`` writes it elsewhere).
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import add_output_arguments, results_path
from skff import SCFFTransformer
from skff.callbacks import Callback

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


class FeatureSnapshots(Callback):
    """Features of two image sets after the listed epochs of training."""

    def __init__(self, epochs, X_fit, X_eval, layers_out):
        self.epochs, self.layers_out = set(epochs), layers_out
        self.X = [torch.as_tensor(X, dtype=torch.float32) for X in (X_fit, X_eval)]
        self.features = {}

    def on_epoch_end(self, estimator, *, network, history, **kwargs):
        if len(history) in self.epochs:
            with torch.no_grad():
                self.features[len(history)] = [network.features(X.to(next(network.parameters()).device),
                                                                self.layers_out).cpu().numpy() for X in self.X]


def trace(config, seed, data, folds, epochs):
    """3-fold CV accuracy on the training part after each of ``epochs`` (0:
    the initial weights), from one fit per fold: how learning moves the
    features' quality, epoch by epoch."""
    X_train, _, y_train, _ = data
    scores = {epoch: [] for epoch in [0, *epochs]}
    for fit_rows, eval_rows in folds.split(X_train, y_train):
        params = {"random_state": seed, "device": "cpu", **config}
        X_fit, X_eval = X_train[fit_rows], X_train[eval_rows]
        initial = SCFFTransformer(**{**params, "max_iter": 0}).fit(X_fit)
        layers_out = list(config.get("layers_out") or range(initial.n_layers_))
        snapshots = FeatureSnapshots(epochs, X_fit, X_eval, layers_out)
        snapshots.features[0] = [initial.transform(X_fit), initial.transform(X_eval)]
        fitted = SCFFTransformer(**params, callbacks=[snapshots]).fit(X_fit)
        # The fit ran a copy of the callback (fit leaves its parameters unchanged).
        for epoch, (F_fit, F_eval) in fitted.callbacks_[0].features.items():
            probe = LogisticRegression(max_iter=2000).fit(F_fit, y_train[fit_rows])
            scores[epoch].append(probe.score(F_eval, y_train[eval_rows]))
    # Epochs the fit did not reach (a layer stopped by ``tol``) are left out.
    return {epoch: float(np.mean(v)) for epoch, v in scores.items() if len(v) == folds.get_n_splits()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=json.loads, default=DEFAULT_CONFIGS)
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="fit every configuration once per seed (overrides its random_state)")
    parser.add_argument("--trace-epochs", type=int, nargs="+", default=None,
                        help="instead: CV accuracy after each of these epochs of one fit per fold and seed "
                             "(one-layer configurations; set tol=0 to reach them all)")
    parser.add_argument("--compare-untrained", action="store_true",
                        help="also score each configuration with max_iter=0 (per seed) and report the gain")
    add_output_arguments(parser)
    args = parser.parse_args()
    if args.trace_epochs and args.compare_untrained:
        parser.error("--trace-epochs already scores the untrained encoder (epoch 0) and reports the gains "
                     "against it; drop --compare-untrained")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = load_digits(return_X_y=True)
    data = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    results = []
    for config in args.configs:
        if args.trace_epochs and config != "raw":
            started = time.perf_counter()
            seeds = args.seeds or [config.get("random_state", 0)]
            by_seed = [trace(config, seed, data, folds, args.trace_epochs) for seed in seeds]
            epochs = sorted(set.intersection(*(set(t) for t in by_seed)))
            result = {"config": config, "seeds": seeds, "trace_epochs": epochs,
                      "cv_by_epoch": [float(np.mean([t[e] for t in by_seed])) for e in epochs],
                      "cv_gain_points_by_epoch_per_seed": [[100 * (t[e] - t[0]) for t in by_seed] for e in epochs],
                      "seconds": time.perf_counter() - started}
            results.append(result)
            print(config, flush=True)
            for epoch, cv, gains in zip(epochs, result["cv_by_epoch"], result["cv_gain_points_by_epoch_per_seed"]):
                print(f"  epoch {epoch:3d}  CV {cv:.4f}  gain {np.mean(gains):+.2f} "
                      f"({', '.join(f'{g:+.2f}' for g in gains)})", flush=True)
            continue
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
    results_path(args, "scff_digits").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
