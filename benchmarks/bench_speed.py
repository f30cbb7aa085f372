"""Training and prediction speed of the FF engine against a straightforward loop.

Everything is measured side by side in one run, on the same machine, at the
Polar-FFA paper shape: 784 features + a 100-bit label pattern, two layers of
1000 units, batch 512, float32 (DESIGN.md section 3).

* baseline: a straightforward Forward-Forward loop: per layer, positives and
  negatives go through the full ``[x, label]`` input, one optimiser step, then
  the layer's outputs are recomputed with the new weights for the next layer;
  prediction runs one full forward pass per class.
* skff: ``PolarFFClassifier.fit`` / ``predict`` (shared ``W_x x`` product,
  all layers per batch in one forward pass, one backward, batched class search).
* GEMM bound: torch matmul throughput on exactly the matmul shapes skff's
  training step runs, measured in the same run; the achieved training FLOP/s
  is the matmul FLOPs of an epoch divided by its wall time.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_speed.py [--samples 10240] [--repeats 15]

Synthetic data is enough here (speed does not depend on the pixel values);
results are printed as a table and written to ``benchmarks/results/speed[_TAG].json``
(``--out-dir`` writes it elsewhere).
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from _common import add_output_arguments, results_path
from skff import PolarFFClassifier
from skff._engine import _make_optimizer

N_FEATURES, LABEL_BITS, HIDDEN, N_CLASSES, BATCH = 784, 100, 1000, 10, 512


class StraightforwardFF:
    """The loop the issue names as the baseline (Polar-FFA maths, no tricks)."""

    def __init__(self, generator):
        self.patterns = (torch.rand(N_CLASSES, LABEL_BITS, generator=generator) < 0.1).float()
        sizes = [N_FEATURES + LABEL_BITS, HIDDEN, HIDDEN]
        self.weights = [
            torch.empty(o, i).uniform_(-(i**-0.5), i**-0.5, generator=generator).requires_grad_()
            for i, o in zip(sizes[:-1], sizes[1:])
        ]
        # The same optimiser construction as skff's engine, so that the ratio
        # measures the training scheme, not the Adam kernel.
        self.optimizers = [_make_optimizer([w], 1e-3) for w in self.weights]

    @staticmethod
    def logits(h):
        half = h.shape[1] // 2
        g_pos = h[:, :half].pow(2).sum(1).sqrt()
        g_neg = h[:, half:].pow(2).sum(1).sqrt()
        return g_pos - g_neg - 2.0

    @staticmethod
    def normalize(h):
        half = h.shape[1] // 2
        a, b = h[:, :half], h[:, half:]
        return torch.cat([a / (a.norm(dim=1, keepdim=True) + 1e-5), b / (b.norm(dim=1, keepdim=True) + 1e-5)], 1)

    def train_batch(self, x, y, generator):
        y_neg = (y + torch.randint(1, N_CLASSES, y.shape, generator=generator)) % N_CLASSES
        inp = torch.cat([torch.cat([x, self.patterns[y]], 1), torch.cat([x, self.patterns[y_neg]], 1)])
        target = torch.cat([torch.ones(len(x)), torch.zeros(len(x))])
        for w, opt in zip(self.weights, self.optimizers):
            h = torch.relu(inp @ w.T)
            loss = F.binary_cross_entropy_with_logits(self.logits(h), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # outputs recomputed with the updated weights
                inp = self.normalize(torch.relu(inp @ w.T))

    def fit_epoch(self, X, y, generator):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), BATCH):
            idx = order[start : start + BATCH]
            self.train_batch(X[idx], y[idx], generator)

    @torch.inference_mode()
    def predict(self, X):
        scores = torch.zeros(len(X), N_CLASSES)
        for c in range(N_CLASSES):  # one full pass per class
            h = torch.cat([X, self.patterns[c].expand(len(X), -1)], 1)
            for w in self.weights:
                h = torch.relu(h @ w.T)
                scores[:, c] += self.logits(h)
                h = self.normalize(h)
        return scores.argmax(1)


def seconds(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def gemm_throughput():
    """FLOP/s of torch matmuls with the exact shapes of one skff training step."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, N_FEATURES, generator=g)
    w1 = torch.randn(HIDDEN, N_FEATURES, generator=g)
    d1 = torch.randn(BATCH, HIDDEN, generator=g)
    h = torch.randn(2 * BATCH, HIDDEN, generator=g)
    w2 = torch.randn(HIDDEN, HIDDEN, generator=g)
    d2 = torch.randn(2 * BATCH, HIDDEN, generator=g)

    def step():
        x @ w1.T  # layer 1 forward (shared by positive and negative)
        d1.T @ x  # layer 1 weight gradient
        h @ w2.T  # layer 2 forward
        d2.T @ h  # layer 2 weight gradient

    step()
    n = 20
    return n * skff_train_flops_per_batch() / seconds(lambda: [step() for _ in range(n)])


def skff_train_flops_per_batch():
    return 2 * 2 * BATCH * N_FEATURES * HIDDEN + 2 * 2 * (2 * BATCH) * HIDDEN * HIDDEN


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10240)
    parser.add_argument("--repeats", type=int, default=15,
                        help="interleaved timing rounds (single rounds swing by +-20%% on a shared machine)")
    add_output_arguments(parser)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    rng = np.random.RandomState(0)
    X = rng.rand(args.samples, N_FEATURES).astype(np.float32)
    y = rng.randint(N_CLASSES, size=args.samples)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    g = torch.Generator().manual_seed(0)
    baseline = StraightforwardFF(g)
    baseline.fit_epoch(X_t[:BATCH * 2], y_t[: BATCH * 2], g)  # warm-up
    clf = PolarFFClassifier(hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=BATCH, max_iter=1,
                            learning_rate_init=1e-3, device="cpu", random_state=0)
    clf.fit(X[: BATCH * 2], y[: BATCH * 2])  # warm-up

    # Interleaved rounds: each round times every contender once, back to back,
    # so a slow spell of this shared machine hits all of them alike. Ratios are
    # taken within a round and the median round is reported.
    rounds = []
    for _ in range(args.repeats):
        rounds.append({
            "base_train": seconds(lambda: baseline.fit_epoch(X_t, y_t, g)),
            "skff_train": seconds(lambda: clf.fit(X, y)),
            "base_predict": seconds(lambda: baseline.predict(X_t)),
            "skff_predict": seconds(lambda: clf.predict(X)),
            "gemm": gemm_throughput(),
        })
    n_batches = -(-args.samples // BATCH)

    def median(values):
        return float(np.median(values))

    base_train = median([r["base_train"] for r in rounds])
    skff_train = median([r["skff_train"] for r in rounds])
    base_predict = median([r["base_predict"] for r in rounds])
    skff_predict = median([r["skff_predict"] for r in rounds])
    gemm = median([r["gemm"] for r in rounds])
    achieved = n_batches * skff_train_flops_per_batch() / skff_train
    train_ratios = [r["base_train"] / r["skff_train"] for r in rounds]
    predict_ratios = [r["base_predict"] / r["skff_predict"] for r in rounds]
    fractions = [n_batches * skff_train_flops_per_batch() / r["skff_train"] / r["gemm"] for r in rounds]

    results = {
        "shape": f"{N_FEATURES}+{LABEL_BITS}-{HIDDEN}-{HIDDEN}, batch {BATCH}, {N_CLASSES} classes",
        "threads": torch.get_num_threads(),
        "samples": args.samples,
        "baseline_train_samples_per_s": args.samples / base_train,
        "skff_train_samples_per_s": args.samples / skff_train,
        "train_speedup": median(train_ratios),
        "train_speedup_rounds": train_ratios,
        "baseline_predict_samples_per_s": args.samples / base_predict,
        "skff_predict_samples_per_s": args.samples / skff_predict,
        "predict_speedup": median(predict_ratios),
        "predict_speedup_rounds": predict_ratios,
        "gemm_flops_per_s": gemm,
        "skff_train_flops_per_s": achieved,
        "train_fraction_of_gemm": median(fractions),
        "train_fraction_of_gemm_rounds": fractions,
    }
    print(f"shape {results['shape']}, {results['threads']} torch threads, {args.samples} samples, "
          f"median of {args.repeats} interleaved rounds")
    print(f"{'':28} {'baseline':>12} {'skff':>12} {'ratio':>7}")
    print(f"{'training samples/s':28} {results['baseline_train_samples_per_s']:12.0f} "
          f"{results['skff_train_samples_per_s']:12.0f} {results['train_speedup']:6.2f}x  (target >= 1.8x)")
    print(f"{'prediction samples/s':28} {results['baseline_predict_samples_per_s']:12.0f} "
          f"{results['skff_predict_samples_per_s']:12.0f} {results['predict_speedup']:6.2f}x  (target >= 1.6x)")
    print("per-round training ratios " + " ".join(f"{r:.2f}" for r in train_ratios))
    print("per-round training FLOP/s / matmul FLOP/s " + " ".join(f"{f:.0%}" for f in fractions))
    print(f"training GFLOP/s {achieved / 1e9:.1f} (median time) of matmul {gemm / 1e9:.1f} (median) on the same shapes; "
          "median of the per-round shares: "
          f"{results['train_fraction_of_gemm']:.0%}  (target >= 70%)")
    results_path(args, "speed").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
