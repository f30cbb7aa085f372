"""Accuracy of the FF classifiers on MNIST and Fashion-MNIST.

Protocol (DESIGN.md section 4): 10% of the training set is held out
(stratified) as validation data by the estimator's own ``early_stopping``;
the epoch with the best validation accuracy is kept; its *test* accuracy is
reported. The test set is never used for selection. Also reported: the
validation accuracy after every epoch and the first epoch reaching a target.

Data: ``{mnist,fashion_mnist}/*.npz`` in the shared data folder (see its
README): ``$SKFF_DATA`` if set, else ``../shared/data`` beside the checkout;
``--data-dir`` overrides both.

The JSON goes to ``benchmarks/results/DATASET_ESTIMATOR[_gpu][_TAG].json``
(``--out-dir`` writes it elsewhere).

Examples::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_mnist.py --dataset mnist --estimator polar
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_mnist.py --dataset fashion_mnist --estimator polar
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_mnist.py --dataset mnist --estimator ff
"""

import argparse
import json
import pathlib
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from _common import add_output_arguments, data_root, results_path
from skff import FFClassifier, PolarFFClassifier
from skff._device import resolve_device

ESTIMATORS = {"polar": PolarFFClassifier, "ff": FFClassifier}


def load(data_dir, dataset):
    path = pathlib.Path(data_dir) / dataset / f"{dataset}.npz"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data-dir (or set SKFF_DATA) pointing at shared/data.")
    data = np.load(path)
    # Pixels scaled to [0, 1], as in the papers.
    return (data["X_train"].astype(np.float32) / 255, data["y_train"],
            data["X_test"].astype(np.float32) / 255, data["y_test"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), default="polar")
    parser.add_argument("--data-dir", default=str(data_root()),
                        help="the shared data folder (default: $SKFF_DATA or ../shared/data)")
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the estimator's")
    parser.add_argument("--learning-rate", type=float, default=None, help="default: the estimator's")
    parser.add_argument("--hidden", type=int, nargs="+", default=[1000, 1000])
    parser.add_argument("--target", type=float, default=0.98, help="validation accuracy to reach")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    add_output_arguments(parser)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X_train, y_train, X_test, y_test = load(args.data_dir, args.dataset)
    params = dict(hidden_layer_sizes=tuple(args.hidden), max_iter=args.max_iter, early_stopping=True,
                  validation_fraction=0.1, n_iter_no_change=args.max_iter, random_state=args.seed, verbose=1,
                  device=args.device)
    if args.batch_size:
        params["batch_size"] = args.batch_size
    if args.learning_rate:
        params["learning_rate_init"] = args.learning_rate
    clf = ESTIMATORS[args.estimator](**params)
    started = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    curve = list(clf.validation_scores_)
    reached = next((i + 1 for i, v in enumerate(curve) if v >= args.target), None)
    test_accuracy = clf.score(X_test, y_test)
    per_layer = {}
    for layer in range(clf.n_layers_):
        per_layer[f"layer {layer + 1} alone"] = clf.set_params(predict_layers=[layer]).score(X_test, y_test)
    clf.set_params(predict_layers=None)

    result = {
        "dataset": args.dataset,
        "estimator": type(clf).__name__,
        "params": {k: v for k, v in clf.get_params().items() if k != "verbose"},
        "validation_curve": curve,
        "best_epoch": int(np.argmax(curve)) + 1,
        "best_validation_accuracy": clf.best_validation_score_,
        "test_accuracy_of_selected_model": test_accuracy,
        "test_accuracy_per_layer": per_layer,
        f"first_epoch_validation_reaches_{args.target}": reached,
        "fit_seconds": seconds,
        "device": str(resolve_device(args.device)),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "params"}, indent=1))
    suffix = "" if result["device"] == "cpu" else "_gpu"
    path = results_path(args, f"{args.dataset}_{args.estimator}{suffix}")
    path.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
