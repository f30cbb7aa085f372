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

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff_digits.py [--configs '[{...}, ...]'] [--tag NAME]

Results are printed and written to ``benchmarks/results/scff_digits[_TAG].json``.
"""

import argparse
import json
import pathlib
import time
import warnings

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


def pipeline(config):
    if config == "raw":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return make_pipeline(SCFFTransformer(**{"random_state": 0, "device": "cpu", **config}),
                         LogisticRegression(max_iter=2000))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=json.loads, default=DEFAULT_CONFIGS)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    results = []
    for config in args.configs:
        started = time.perf_counter()
        model = pipeline(config)
        cv = cross_val_score(model, X_train, y_train, cv=folds).mean()
        test = model.fit(X_train, y_train).score(X_test, y_test)
        results.append({"config": config, "cv_accuracy": float(cv), "test_accuracy": float(test),
                        "seconds": time.perf_counter() - started})
        print(f"CV {cv:.4f}  test {test:.4f}  {config}", flush=True)
    out = pathlib.Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"scff_digits{'_' + args.tag if args.tag else ''}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
