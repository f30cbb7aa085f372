"""Activation learning on the histogram code without expanding it, against the dense code, side by side.

With the histogram code (the detector's default, ``n_bins=20``) the first
layer's input has ``21 * n_features + 1`` columns of which ``n_features + 1``
are dense and one per feature is non-zero in the code. The detector now
keeps the code as :class:`skff.functional.HistogramRows` and learns from the
batch moments ``X^T Y`` and ``Y^T Y``
(:func:`skff.functional.competitive_update_from_moments`); before, it
expanded the code and formed the ``(batch, columns)`` residual
``X - Y W^T`` (:func:`skff.functional.competitive_update`). This fits the
detector both ways, interleaved round by round on the same data, checks
that both give the same scores (to float32 rounding), and prints each
round's ratio of fit times and its median.

Without ``--data`` the rows are Gaussian (speed does not depend on the
values); with ``--data DIR`` it also fits ADBench's sets (``*.npz`` with
``X``; ``../shared/data/adbench_classical`` on the project machines).

Usage::

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/bench_al_sparse.py [--rounds 3]
        [--n-features 10 27 100 400] [--n-samples 5000] [--data DIR --datasets magic ALOI mnist]

Results are printed and written to ``benchmarks/results/al_sparse[_TAG].json``
(``--out-dir`` writes it elsewhere).
"""

import argparse
import json
import pathlib
import statistics
import time
from unittest import mock

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from _common import add_output_arguments, results_path
from skff import ActivationLearningAnomalyDetector
from skff.functional import competitive_update
from skff.nn import ActivationLearningNetwork, CompetitiveLayer


def dense_learn(layer, x, learning_rate):
    """The update as it was: the expanded input and its residual."""
    y = x @ layer.weight
    delta, residual = competitive_update(x, y, layer.weight)
    layer.weight.add_(delta, alpha=learning_rate)
    return y, residual.pow(2).sum(dim=1).mean()


_ENCODE = ActivationLearningNetwork.encode


def expanded_encode(network, x):
    """The first layer's input with the histogram code expanded (as prepare() gives it)."""
    rows = _ENCODE(network, x)
    return rows if isinstance(rows, torch.Tensor) else rows.to_dense()


def timed_fit(X, dense, seed):
    patches = [mock.patch.object(CompetitiveLayer, "learn", dense_learn),
               mock.patch.object(ActivationLearningNetwork, "encode", expanded_encode)] if dense else []
    for patch in patches:
        patch.start()
    try:
        started = time.perf_counter()
        model = ActivationLearningAnomalyDetector(random_state=seed, device="cpu").fit(X)
        seconds = time.perf_counter() - started
        return seconds, model.score_samples(X), model.n_iter_
    finally:
        for patch in patches:
            patch.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-features", type=int, nargs="*", default=[10, 27, 100, 400])
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--data", type=pathlib.Path, default=None)
    parser.add_argument("--datasets", nargs="*", default=["magic", "ALOI", "mnist", "InternetAds"])
    parser.add_argument("--rounds", type=int, default=3)
    add_output_arguments(parser)
    args = parser.parse_args()
    torch.manual_seed(0)

    problems = {}
    rng = np.random.RandomState(0)
    for d in args.n_features:
        problems[f"gaussian, {d} features"] = rng.normal(size=(args.n_samples, d)).astype(np.float32)
    if args.data is not None:
        for name in args.datasets:
            path = next(iter(sorted(args.data.glob(f"*{name}*.npz"))), None)
            if path is None:
                raise SystemExit(f"no {name} in {args.data}")
            problems[path.stem] = StandardScaler().fit_transform(np.load(path)["X"]).astype(np.float32)

    results = {}
    for name, X in problems.items():
        ratios, rounds = [], []
        for r in range(args.rounds):
            coded_s, coded_scores, n_iter = timed_fit(X, dense=False, seed=r)
            dense_s, dense_scores, dense_iter = timed_fit(X, dense=True, seed=r)
            gap = float(np.max(np.abs(coded_scores - dense_scores)))
            ratios.append(dense_s / coded_s)
            rounds.append(dict(coded_seconds=coded_s, dense_seconds=dense_s, epochs=[n_iter, dense_iter],
                               max_score_difference=gap))
            print(f"{name:<28} round {r}: dense {dense_s:7.2f} s, coded {coded_s:7.2f} s, "
                  f"ratio {dense_s / coded_s:5.2f}x, epochs {dense_iter}/{n_iter}, max |score gap| {gap:.1e}",
                  flush=True)
        results[name] = dict(shape=list(X.shape), rounds=rounds, median_ratio=statistics.median(ratios))
        print(f"{name:<28} median: the coded fit is {statistics.median(ratios):.2f}x as fast", flush=True)

    out = results_path(args, "al_sparse")
    out.write_text(json.dumps(dict(args={k: str(v) for k, v in vars(args).items()}, results=results), indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
