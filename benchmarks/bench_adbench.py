"""Outlier detection on ADBench's classical data sets, side by side with the usual baselines.

Protocol (ADBench, Han et al. 2022): for every data set and seed a 70/30
stratified split; every detector is fitted on the *unlabelled* training part
(anomalies included) and scored on the test part; AUC-ROC and AUC-PR
(average precision) of the anomaly score ``-score_samples`` against ``y``
(1 = anomaly). Features are standardised with a ``StandardScaler`` fitted on
the training part, for every method alike (IsolationForest and ECOD do not
depend on it). Every method sees the same splits.

Methods: ``al`` (``ActivationLearningAnomalyDetector`` defaults),
``al_nobins`` (the same without the histogram code, ``n_bins=None``: scaled
feature values and the appended constant only), ``al_paper`` (neither the
code nor the constant: unit-length scaling of the sample as in the paper), ``iforest``, ``lof`` (``novelty=True``), ``ocsvm``, ``knn`` and
``ecod`` (PyOD, ``pip install skff[benchmarks]``). ``--max-train`` caps the
training set of the neighbour/kernel methods (``lof``, ``knn``, ``ocsvm``):
above it they are fitted on a random subsample of that size, and the output
marks those cells with ``*``. Times are reported as ratios to IsolationForest
in the same run.

``--scale`` instead fits the default detector (and IsolationForest) on the
whole of the largest sets (``11_donors``, ``16_http``) in a fresh subprocess
each and reports fit/score time and the subprocess's peak resident memory.

Data: ``adbench_classical/*.npz`` (arrays ``X``, ``y``) in the shared data
folder: ``$SKFF_DATA`` if set, else ``../shared/data`` beside the checkout;
``--data`` names the folder of ``.npz`` files itself.

The JSON goes to ``benchmarks/results/adbench[_TAG].json`` (``--scale``:
``adbench_scale[_TAG].json``); ``--out-dir`` writes it elsewhere.

Examples::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_adbench.py
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_adbench.py --datasets wine WDBC --methods al iforest
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_adbench.py --scale
"""

import argparse
import importlib.util
import json
import pathlib
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from _common import ROOT, add_output_arguments, data_root, results_path

sys.path.insert(0, str(ROOT))
from skff import ActivationLearningAnomalyDetector  # noqa: E402

METHODS = ["al", "al_nobins", "al_paper", "iforest", "lof", "ocsvm", "knn", "ecod"]
PYOD_METHODS = {"knn", "ecod"}
SUBSAMPLED = {"lof", "knn", "ocsvm"}
SCALE_SETS = ["11_donors", "16_http"]


class _PyOD(BaseEstimator):
    """PyOD detector with scikit-learn's sign convention (higher = more normal)."""

    def __init__(self, name):
        self.name = name

    def fit(self, X, y=None):
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN

        self.model_ = {"knn": KNN, "ecod": ECOD}[self.name]()
        self.model_.fit(X)
        return self

    def score_samples(self, X):
        return -self.model_.decision_function(X)


def make_method(name, seed, al_params):
    if name == "al":
        return ActivationLearningAnomalyDetector(random_state=seed, **al_params)
    if name == "al_nobins":
        return ActivationLearningAnomalyDetector(random_state=seed, **{**al_params, "n_bins": None})
    if name == "al_paper":
        return ActivationLearningAnomalyDetector(
            random_state=seed, **{**al_params, "constant_feature": None, "n_bins": None}
        )
    if name == "iforest":
        return IsolationForest(random_state=seed)
    if name == "lof":
        return LocalOutlierFactor(novelty=True)
    if name == "ocsvm":
        return OneClassSVM()
    if name in PYOD_METHODS:
        return _PyOD(name)
    raise ValueError(name)


def load(data_dir, name):
    path = pathlib.Path(data_dir) / f"{name}.npz"
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass --data (the folder of .npz files) or set SKFF_DATA.")
    data = np.load(path, allow_pickle=False)
    return data["X"].astype(np.float64), data["y"].astype(int)


def run_one(name, X_train, X_test, y_test, seed, al_params, max_train):
    model = make_pipeline(StandardScaler(), make_method(name, seed, al_params))
    subsampled = name in SUBSAMPLED and max_train and X_train.shape[0] > max_train
    if subsampled:
        rows = np.random.RandomState(seed).choice(X_train.shape[0], max_train, replace=False)
        X_train = X_train[rows]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    anomaly = -model.score_samples(X_test)
    score_seconds = time.perf_counter() - started
    return {
        "auc_roc": float(roc_auc_score(y_test, anomaly)),
        "auc_pr": float(average_precision_score(y_test, anomaly)),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "subsampled": bool(subsampled),
    }


def dataset_names(data_dir, wanted, exclude):
    names = sorted(p.stem for p in pathlib.Path(data_dir).glob("*.npz"))
    if not names:
        raise SystemExit(f"no .npz files in {data_dir}: pass --data (the folder of .npz files) or set SKFF_DATA.")
    names.sort(key=lambda s: int(s.split("_")[0]) if s.split("_")[0].isdigit() else 0)
    if wanted:
        names = [n for n in names if any(w.lower() in n.lower() for w in wanted)]
    names = [n for n in names if not any(e in n for e in exclude)]
    if not names:
        patterns = (["--datasets", *wanted] if wanted else []) + (["--exclude", *exclude] if exclude else [])
        raise SystemExit(f"no data set in {data_dir} matches {' '.join(patterns)}")
    return names


def parse_params(pairs):
    params = {}
    for pair in pairs or []:
        key, value = pair.split("=", 1)
        params[key] = json.loads(value) if value[:1] in "0123456789-[{tfn\"" else value
    return params


def print_tables(results, methods, seeds, markdown=False):
    def row(cells):
        return ("| " + " | ".join(cells) + " |") if markdown else f"{cells[0]:24s}" + "".join(f"{c:>10s}" for c in cells[1:])

    def header(first):
        lines = [row([first] + methods)]
        if markdown:
            lines.append(row(["---"] * (len(methods) + 1)))
        return "\n".join(lines)

    for metric in ("auc_roc", "auc_pr"):
        print(f"\n{metric.upper()} (mean over seeds {seeds}; * = neighbour/kernel method fitted on a subsample)\n")
        print(header("dataset"))
        means = {m: [] for m in methods}
        for dataset, cells in results.items():
            line = [dataset]
            for m in methods:
                runs = cells.get(m, [])
                if not runs:
                    line.append("-")
                    continue
                value = float(np.mean([r[metric] for r in runs]))
                means[m].append(value)
                line.append(f"{value:.3f}" + ("*" if any(r["subsampled"] for r in runs) else ""))
            print(row(line))
        print(row(["**mean**" if markdown else "mean"]
                  + [f"{np.mean(means[m]):.3f}" if means[m] else "-" for m in methods]))
    if "iforest" in methods:
        print("\nTime relative to IsolationForest (geometric mean over data sets and seeds of the per-run ratio)\n")
        print(header("time"))
        for kind in ("fit_seconds", "score_seconds"):
            line = [kind]
            for m in methods:
                ratios = [
                    run[kind] / base[kind]
                    for cells in results.values()
                    for run, base in zip(cells.get(m, []), cells.get("iforest", []))
                ]
                line.append(f"{np.exp(np.mean(np.log(ratios))):.2f}" if ratios else "-")
            print(row(line))


def scale_child(name, method, data_dir, seed):
    """Fit one method on the full data set; print a JSON line with times and peak memory."""
    X, y = load(data_dir, name)
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    result = run_one(method, X_train, X_test, y_test, seed, {}, None)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["n_train"] = int(X_train.shape[0])
    print(json.dumps(result))


def run_scale(args):
    rows = []
    for name in SCALE_SETS:
        for method in ("al", "iforest"):
            out = subprocess.run(
                [sys.executable, __file__, "--scale-child", name, method, "--data", args.data,
                 "--seeds", str(args.seeds[0])],
                capture_output=True, text=True,
            )
            if out.returncode:
                last = "\n".join(out.stderr.strip().splitlines()[-5:])
                raise SystemExit(f"--scale: the {method} fit on {name} failed (exit {out.returncode}):\n{last}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"dataset": name, "method": method, **result})
            print(f"{name:12s} {method:8s} n_train={result['n_train']:7d} fit {result['fit_seconds']:7.2f}s  "
                  f"score {result['score_seconds']:6.2f}s  peak RSS {result['peak_rss_mib']:7.0f} MiB  "
                  f"AUC-ROC {result['auc_roc']:.3f}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(data_root() / "adbench_classical"),
                        help="folder of the .npz files (default: adbench_classical in $SKFF_DATA or "
                             "../shared/data)")
    parser.add_argument("--datasets", nargs="*", help="substrings of data set names (default: all)")
    parser.add_argument("--exclude", nargs="*", default=[], help="substrings of data set names to skip")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS, metavar="METHOD",
                        help=f"any of {', '.join(METHODS)} (default: all; knn and ecod need PyOD)")
    parser.add_argument("--max-train", type=int, default=20000,
                        help="training rows for lof/knn/ocsvm (random subsample above it; 0 = all)")
    parser.add_argument("--al-params", nargs="*", help="key=value overrides of the detector's parameters")
    parser.add_argument("--scale", action="store_true", help="full-size fits of the largest sets")
    parser.add_argument("--scale-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--from-json", nargs="+", help="only print the tables of earlier runs (merged)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    add_output_arguments(parser)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.scale_child:
        scale_child(*args.scale_child, args.data, args.seeds[0])
        return

    if args.from_json:
        merged, methods, seeds = {}, [], None
        for file in args.from_json:
            saved = json.loads(pathlib.Path(file).read_text())
            if not (isinstance(saved, dict) and "results" in saved):
                # e.g. adbench_scale*.json, which the glob adbench*.json also matches
                print(f"skipping {file}: not a bench_adbench.py comparison", file=sys.stderr)
                continue
            seeds = saved["args"]["seeds"]
            methods += [m for m in saved["args"]["methods"] if m not in methods]
            for dataset, cells in saved["results"].items():
                merged.setdefault(dataset, {}).update(cells)
        if not merged:
            raise SystemExit("--from-json: none of the files is a bench_adbench.py comparison")
        print_tables(merged, methods, seeds, args.markdown)
        return

    if args.scale:
        rows = run_scale(args)
        path = results_path(args, "adbench_scale")
        path.write_text(json.dumps(rows, indent=2))
        print(f"wrote {path}")
        return

    if PYOD_METHODS & set(args.methods) and importlib.util.find_spec("pyod") is None:
        parser.error("knn and ecod need PyOD: pip install -e .[benchmarks] (or leave them out of --methods)")
    al_params = parse_params(args.al_params)
    names = dataset_names(args.data, args.datasets, args.exclude)
    results = {}
    path = results_path(args, "adbench")
    for name in names:
        X, y = load(args.data, name)
        results[name] = {m: [] for m in args.methods}
        for seed in args.seeds:
            X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
            for method in args.methods:
                results[name][method].append(run_one(method, X_train, X_test, y_test, seed, al_params,
                                                     args.max_train))
        line = "  ".join(
            f"{m} {np.mean([r['auc_roc'] for r in results[name][m]]):.3f}" for m in args.methods
        )
        print(f"{name:24s} n={X.shape[0]:7d} d={X.shape[1]:5d}  {line}", flush=True)
        path.write_text(json.dumps({"args": vars(args), "al_params": al_params, "results": results}, indent=2))
    print_tables(results, args.methods, args.seeds, args.markdown)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
