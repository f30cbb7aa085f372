"""Grid search wall time: sequential, 2 joblib workers, and a 2-worker Dask cluster.

The same ``GridSearchCV`` (PolarFFClassifier on ``load_digits``, 4
candidates x 3 folds, plus the refit) runs three ways, in one process, one
after the other:

* ``n_jobs=1``: torch in this process with its default thread count;
* ``n_jobs=2``: joblib's loky workers; joblib caps each worker's OpenMP
  threads at ``cpu_count // n_jobs``, so torch inside a worker uses its fair
  share instead of all cores;
* Dask: ``joblib.parallel_config(backend="dask")`` on a
  ``distributed.LocalCluster`` of 2 single-threaded worker processes on
  loopback (Dask's nanny also sets ``OMP_NUM_THREADS=1`` in workers).

It prints the seconds of each (median of ``--repeats``), the ratios to
sequential, the torch thread count each worker saw, whether the searches
chose the same parameters, and the largest difference between their mean
CV scores. CPU training is deterministic for a given ``random_state`` *and
thread count*; a worker with 1 thread sums some products in another order
than a process with 2, so scores may differ slightly.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_model_selection.py [--repeats 3]

Needs ``pip install "dask[distributed]"`` (the ``dask`` extra) for the Dask run.
The JSON goes to ``benchmarks/results/model_selection[_TAG].json``
(``--out-dir`` writes it elsewhere).
"""

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time
import warnings

import joblib
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import add_output_arguments, results_path
from skff import PolarFFClassifier
from skff.callbacks import Callback


class ThreadProbe(Callback):
    """Records torch's thread count where the fit runs (inside the worker)."""

    def on_train_begin(self, estimator, **kwargs):
        with open(os.environ["SKFF_THREAD_LOG"], "a") as log:
            log.write(f"{os.getpid()} {torch.get_num_threads()}\n")


def search(n_jobs):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    model = make_pipeline(
        StandardScaler(),
        PolarFFClassifier(hidden_layer_sizes=(256, 256), max_iter=15, batch_size=64, random_state=0,
                          device="cpu", callbacks=[ThreadProbe()]),
    )
    grid = {
        "polarffclassifier__goodness": ["l2", "l2_squared"],
        "polarffclassifier__probability": ["polar_sigmoid", "symmetric"],
    }
    return GridSearchCV(model, grid, cv=3, n_jobs=n_jobs)


def timed(run, repeats, log):
    seconds, result = [], None
    for _ in range(repeats):
        log.write_text("")
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    threads = sorted({line.split()[1] for line in log.read_text().split("\n") if line})
    return statistics.median(seconds), result, threads


def run_searches(X, y, args, log):
    rows = {}
    rows["sequential (n_jobs=1)"] = timed(lambda: search(1).fit(X, y), args.repeats, log)
    rows["joblib loky, n_jobs=2"] = timed(lambda: search(2).fit(X, y), args.repeats, log)
    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster):
            def on_dask():
                with joblib.parallel_config(backend="dask"):
                    return search(-1).fit(X, y)

            rows["Dask LocalCluster, 2 workers x 1 thread"] = timed(on_dask, args.repeats, log)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-dask", action="store_true")
    add_output_arguments(parser)
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    with tempfile.TemporaryDirectory(prefix="skff_threads_") as tmp:
        # The probes append here from every worker process (they inherit the variable).
        log = pathlib.Path(tmp) / "threads.log"
        os.environ["SKFF_THREAD_LOG"] = str(log)
        rows = run_searches(X, y, args, log)

    base, reference = rows["sequential (n_jobs=1)"][:2]
    print(f"{'run':42} {'seconds':>8} {'speed-up':>9}  {'torch threads':>13}  same best  max |d score|")
    out = {}
    for name, (seconds, gs, threads) in rows.items():
        same = gs.best_params_ == reference.best_params_
        delta = float(np.abs(gs.cv_results_["mean_test_score"] - reference.cv_results_["mean_test_score"]).max())
        print(f"{name:42} {seconds:8.1f} {base / seconds:8.2f}x  {','.join(threads):>13}  {same!s:9}  {delta:.4f}")
        out[name] = {"seconds": seconds, "speedup": base / seconds, "torch_threads": threads,
                     "same_best_params": same, "max_score_difference": delta, "best_params": gs.best_params_}
    print(f"machine: {os.cpu_count()} cores; torch {torch.__version__}; best {reference.best_params_}")
    results_path(args, "model_selection").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
