"""SCFF training with the fused ReLU goodness against autograd's plain one, side by side.

``relu_mean_square_goodness`` computes ``mean(relu(z)**2)`` with a
one-product backward pass; the plain version is ``mean_square_goodness(
torch.relu(z))``, whose backward runs the square and the ReLU mask as
separate steps. Both give the same model (the script checks the losses);
this times whole ``fit`` calls (one epoch per layer) of each, interleaved
round by round on the same random images, and prints the per-round ratio
and its median. Speed does not depend on the pixel values, so no data set
is needed.

Usage::

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/bench_scff_goodness.py [--rounds 5]
        [--encoder conv] [--n-samples 2000]

Results are printed and written to ``benchmarks/results/scff_goodness_ENCODER[_TAG].json``
(``--out-dir`` writes it elsewhere).
"""

import argparse
import contextlib
import json
import statistics
import time
import warnings
from unittest import mock

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from _common import add_output_arguments, results_path
import skff.nn.scff as scff_nn
from skff import SCFFTransformer
from skff.functional import mean_square_goodness

CONFIGS = {
    "conv": dict(encoder="conv", input_shape=(1, 28, 28)),  # the defaults: (32, 128) channels
    "dense": dict(hidden_layer_sizes=(2000, 2000)),
    "birnn": dict(encoder="birnn", input_shape=(28, 28)),
}


def plain_goodness(z, dim=1):
    return mean_square_goodness(torch.relu(z), dim)


def timed_fit(params, X, plain):
    patch = mock.patch.object(scff_nn, "relu_mean_square_goodness", plain_goodness) if plain else contextlib.nullcontext()
    with patch:
        started = time.perf_counter()
        model = SCFFTransformer(**params).fit(X)
        return time.perf_counter() - started, [entry["loss"] for entry in model.history_]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", choices=sorted(CONFIGS), default="conv")
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    add_output_arguments(parser)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    params = {**CONFIGS[args.encoder], "max_iter": 1, "device": "cpu", "random_state": 0}
    n_features = int(np.prod(params.get("input_shape", (784,))))
    X = np.random.RandomState(0).rand(args.n_samples, n_features).astype(np.float32)
    timed_fit(params, X[:200], plain=False)  # warm-up
    rounds = []
    for _ in range(args.rounds):
        fused_s, fused_loss = timed_fit(params, X, plain=False)
        plain_s, plain_loss = timed_fit(params, X, plain=True)
        np.testing.assert_allclose(fused_loss, plain_loss, rtol=1e-5)  # the same training, only faster
        rounds.append({"fused_s": fused_s, "plain_s": plain_s, "speedup": plain_s / fused_s})
        print(f"fused {fused_s:.2f} s  plain {plain_s:.2f} s  speed-up {plain_s / fused_s:.2f}x", flush=True)
    median = statistics.median(r["speedup"] for r in rounds)
    print(f"{args.encoder}: median speed-up of the fused goodness {median:.2f}x over {args.rounds} rounds "
          f"({args.n_samples} samples, one epoch per layer, {torch.get_num_threads()} thread(s))")
    path = results_path(args, f"scff_goodness_{args.encoder}")
    path.write_text(json.dumps({"args": vars(args), "threads": torch.get_num_threads(),
                                "rounds": rounds, "median_speedup": median}, indent=2))


if __name__ == "__main__":
    main()
