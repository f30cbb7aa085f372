"""SCFF features + linear probe on MNIST (dense, conv and birnn encoders).

Protocol: the last 10,000 training images are held out as validation data
(as the SCFF paper does for MNIST). ``SCFFTransformer`` is fitted on the
remaining 50,000 images without labels; a linear probe (softmax regression
with dropout on the features, Adam, the learning rate halved at 20, 35, 50,
60, 70, 80 and 90% of the epochs, as in the paper's Appendix G) is trained
on their features (with ``--probe-augment-shift K``, on the features of
training images shifted by up to ``K`` pixels, redrawn every epoch); the
probe epoch with the best validation accuracy is kept and its *test*
accuracy reported. The test set is never used for
selection. ``--compare-untrained`` repeats everything with the same encoder
left at its random initial weights (``max_iter=0``).

``--authors-protocol`` scores instead as the authors' ``SCFF_MNIST.py``
does, to compare with their published log: encoder and probe on all 60,000
training images, no validation, test accuracy read at fixed probe epochs
(1, 21, 41 and the last); nothing is selected.

Also measured: training samples/s of the encoder, the same as a fraction
of the torch matmul throughput on the training step's matmul shapes (dense
encoder), and ``transform`` features/s.

Data: ``mnist/mnist.npz`` in the shared data folder (see its README):
``$SKFF_DATA`` if set, else ``../shared/data`` beside the checkout;
``--data-dir`` overrides both.

The JSON goes to ``benchmarks/results/scff_ENCODER[_TAG].json``
(``--out-dir`` writes it elsewhere).

Examples::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff.py --encoder dense --hidden 2000 2000
    # the dense result in benchmarks/README.md (98.59-98.75% refitted, seeds 0-2; about 45 min on one CPU thread)
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff.py --hidden 2000 2000 --max-iter 20 9 \
        --augment-shift 0 2 --learning-rate-decay 0.939 0.815 --weight-decay 1e-4 \
        --probe-augment-shift 1 --refit --seed 0
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff.py --encoder conv --compare-untrained
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scff.py --encoder birnn --compare-untrained
"""

import argparse
import json
import pathlib
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from _common import add_output_arguments, data_root, results_path
from skff import SCFFTransformer
from skff.functional.contrastive import random_translate

INPUT_SHAPES = {"dense": (1, 28, 28), "conv": (1, 28, 28), "birnn": (28, 28)}


def load(data_dir, dataset):
    path = pathlib.Path(data_dir) / dataset / f"{dataset}.npz"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data-dir (or set SKFF_DATA) pointing at shared/data.")
    data = np.load(path)
    X, y = data["X_train"].astype(np.float32) / 255, data["y_train"].astype(np.int64)
    X_test, y_test = data["X_test"].astype(np.float32) / 255, data["y_test"].astype(np.int64)
    return X[:-10000], y[:-10000], X[-10000:], y[-10000:], X_test, y_test


def linear_probe(F_train, y_train, F_val, y_val, F_test, y_test, epochs, dropout, scale_features, seed=0,
                 device="cpu", stop_after=None, train_features=None):
    """Softmax regression with dropout on the features; best validation epoch.

    ``train_features``: if given, a function of the epoch returning that
    epoch's training features (features of shifted training images, for
    ``--probe-augment-shift``); ``F_train`` is then used only for the
    feature scaling.

    ``scale_features``: standardise each feature with its training mean and
    standard deviation first (as a ``StandardScaler`` in a pipeline would).
    ``stop_after``: train for that many epochs (of the ``epochs``-long
    schedule) and report that epoch's test accuracy; the refit on all
    training data uses it with the epoch selected on validation.
    """
    scale = (lambda F: F)
    if scale_features:
        mean, std = F_train.mean(axis=0), F_train.std(axis=0) + 1e-6
        scale = (lambda F: (F - mean) / std)
        F_train, F_val, F_test = (scale(F) for F in (F_train, F_val, F_test))
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout masks
    tensors = [torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in (F_train, y_train, F_val, y_val, F_test, y_test)]
    F_train, y_train, F_val, y_val, F_test, y_test = tensors
    model = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(F_train.shape[1], 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    milestones = [int(epochs * f) for f in (0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9)]
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.5)
    best = (-1.0, None, 0)
    test_by_epoch = {}
    for epoch in range(1, (stop_after or epochs) + 1):
        if train_features is not None:
            F_train = torch.from_numpy(np.ascontiguousarray(scale(train_features(epoch)))).to(device)
        model.train()
        order = torch.randperm(F_train.shape[0], generator=g).to(device)
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            loss = torch.nn.functional.cross_entropy(model(F_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            val = float((model(F_val).argmax(1) == y_val).float().mean())
            test_by_epoch[epoch] = float((model(F_test).argmax(1) == y_test).float().mean())
            if val > best[0] or stop_after:
                best = (val, test_by_epoch[epoch], epoch)
    return {"validation_accuracy": best[0], "test_accuracy": best[1], "probe_epoch": best[2],
            "test_accuracy_by_probe_epoch": test_by_epoch}


def matmul_bound_seconds(n_features, hidden, epochs, n_samples, batch, pairing, repeats=10):
    """Seconds the dense encoder's fit would take if it ran only its matmuls.

    Per batch, the stage training layer ``l`` runs the frozen layers below it
    forward and layer ``l`` forward plus its weight gradient. A paired layer
    computes one product per sample (positive and negative are sums of its
    rows); a layer fed the positive and negative streams, two. Each stage's
    matmuls are timed on their exact shapes, here, in this run.
    """
    g = torch.Generator().manual_seed(0)
    sizes = [n_features, *hidden]
    rows = [batch if (i == 0 or pairing == "repair") else 2 * batch for i in range(len(hidden))]
    weights = [torch.randn(b, a, generator=g) for a, b in zip(sizes[:-1], sizes[1:])]
    inputs = [torch.randn(r, a, generator=g) for r, a in zip(rows, sizes[:-1])]
    grads = [torch.randn(r, w.shape[0], generator=g) for r, w in zip(rows, weights)]
    n_batches = -(-n_samples // batch)
    total = 0.0
    for layer, n_epochs in enumerate(epochs):
        def stage():
            for j in range(layer):
                inputs[j] @ weights[j].T
            inputs[layer] @ weights[layer].T
            grads[layer].T @ inputs[layer]
        stage()
        started = time.perf_counter()
        for _ in range(repeats):
            stage()
        total += n_epochs * n_batches * (time.perf_counter() - started) / repeats
    return total


def run(args, untrained, refit_epoch=None):
    X, y, X_val, y_val, X_test, y_test = load(args.data_dir, "mnist")
    if args.authors_protocol:
        refit_epoch = args.probe_epochs
    if refit_epoch:
        # Hyper-parameters and the probe epoch were chosen on the validation
        # images; now every training image trains the final model (the
        # paper's protocol), and only the test set is scored.
        X, y = np.concatenate([X, X_val]), np.concatenate([y, y_val])
    if args.train_size:
        X, y = X[: args.train_size], y[: args.train_size]
    params = dict(
        encoder=args.encoder,
        input_shape=INPUT_SHAPES[args.encoder],
        batch_size=args.batch_size,
        n_negatives=args.n_negatives,
        train_input_weights=not args.fixed_input_weights,
        pairing=args.pairing,
        sequence_features=args.sequence_features,
        augment_shift=args.augment_shift[0] if len(args.augment_shift) == 1 else args.augment_shift,
        random_state=args.seed,
        device=args.device,
        verbose=args.verbose,
    )
    if args.hidden:
        params["hidden_layer_sizes"] = tuple(args.hidden)
    if args.max_iter:
        params["max_iter"] = args.max_iter
    for name in ("threshold_pos", "threshold_neg", "penalty", "learning_rate_init", "learning_rate_decay",
                 "weight_decay"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if untrained:
        params["max_iter"] = 0
    scff = SCFFTransformer(**params)
    started = time.perf_counter()
    scff.fit(X)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    F_train = scff.transform(X)
    transform_seconds = time.perf_counter() - started
    F_val, F_test = scff.transform(X_val), scff.transform(X_test)
    result = {
        "encoder": args.encoder,
        "untrained": untrained,
        "params": {k: v for k, v in scff.get_params().items() if k != "device"},
        "n_features_out": F_train.shape[1],
        "fit_seconds": fit_seconds,
        "epochs": scff.n_iter_,
        "transform_features_per_s": X.shape[0] / transform_seconds,
        "loss_per_epoch": [entry["loss"] for entry in scff.history_],
    }
    if not untrained and scff.n_iter_:
        result["train_samples_per_s"] = X.shape[0] * scff.n_iter_ / fit_seconds
        if args.encoder == "dense" and torch.device(scff._network_on_device()[0]).type == "cpu":
            epochs = [sum(1 for e in scff.history_ if e["stage"] == f"layer {i + 1}") for i in range(scff.n_layers_)]
            bound = matmul_bound_seconds(X.shape[1], scff._layer_sizes(), epochs, X.shape[0],
                                         args.batch_size, scff._pairing())
            result["matmul_bound_seconds"] = bound
            result["train_fraction_of_matmul"] = bound / fit_seconds
    result["probe_feature_scaling"] = args.probe_scaling == "feature"
    result["probe_dropout"] = args.dropout
    result["refit_on_all_training_images"] = bool(refit_epoch)
    train_features = None
    if args.probe_augment_shift:
        # The probe sees each training image shifted by a fresh random offset
        # every epoch (as the paper's linear classifiers on CIFAR-10 and
        # STL-10 see flipped and cropped images); validation and test images
        # are never shifted.
        images = torch.from_numpy(X).reshape(-1, 1, 28, 28)
        shifts = torch.Generator().manual_seed(args.seed + 1)

        def train_features(epoch):
            shifted = random_translate(images, args.probe_augment_shift, shifts)
            return scff.transform(shifted.reshape(len(images), -1).numpy())

        result["probe_augment_shift"] = args.probe_augment_shift
    result.update(linear_probe(F_train, y, F_val, y_val, F_test, y_test, args.probe_epochs, args.dropout,
                               args.probe_scaling == "feature", device=scff._network_on_device()[0],
                               stop_after=refit_epoch, train_features=train_features))
    if refit_epoch:
        result["validation_accuracy"] = None  # the validation images trained encoder and probe
    if args.authors_protocol:
        # Their log prints the test accuracy after probe epochs 1, 21, 41 and 50.
        shown = sorted({1, 21, 41, args.probe_epochs} & set(result["test_accuracy_by_probe_epoch"]))
        result["test_accuracy_by_probe_epoch"] = {e: result["test_accuracy_by_probe_epoch"][e] for e in shown}
        result["probe_protocol"] = "authors'"
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(data_root()),
                        help="the shared data folder (default: $SKFF_DATA or ../shared/data)")
    parser.add_argument("--encoder", choices=["dense", "conv", "birnn"], default="dense")
    parser.add_argument("--hidden", type=int, nargs="+")
    parser.add_argument("--max-iter", type=int, nargs="+", help="epochs per layer")
    parser.add_argument("--threshold-pos", type=float, nargs="+")
    parser.add_argument("--threshold-neg", type=float, nargs="+")
    parser.add_argument("--penalty", type=float, nargs="+")
    parser.add_argument("--learning-rate-init", type=float, nargs="+")
    parser.add_argument("--learning-rate-decay", type=float, nargs="+")
    parser.add_argument("--weight-decay", type=float, nargs="+")
    parser.add_argument("--augment-shift", type=int, nargs="+", default=[0],
                        help="random translation of pair members (pixels), one value or one per layer")
    parser.add_argument("--pairing", choices=["streams", "repair"], default=None, help="default: the encoder's")
    parser.add_argument("--sequence-features", choices=["final", "mean"], default="final",
                        help="birnn readout: final states or their mean over time")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--n-negatives", type=int, default=1, help="negative pairs per positive pair")
    parser.add_argument("--fixed-input-weights", action="store_true",
                        help="birnn: keep the input weights random, learn only the recurrent ones")
    parser.add_argument("--train-size", type=int, default=0, help="use only the first N training images")
    parser.add_argument("--probe-epochs", type=int, default=50)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--probe-scaling", choices=["none", "feature"], default="none",
                        help="feature: standardise each feature on the training set before the probe")
    parser.add_argument("--probe-augment-shift", type=int, default=0,
                        help="train the probe on the features of training images shifted by up to this many "
                             "pixels, redrawn every probe epoch (validation and test images unshifted)")
    parser.add_argument("--compare-untrained", action="store_true")
    parser.add_argument("--refit", action="store_true",
                        help="then refit encoder and probe on all 60,000 training images (probe epoch chosen on "
                             "validation) and report that model's test accuracy, as the paper does")
    parser.add_argument("--authors-protocol", action="store_true",
                        help="fit encoder and probe on all 60,000 training images and read the test accuracy at "
                             "fixed probe epochs, as the authors' script does (no validation, nothing selected)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--verbose", type=int, default=0)
    add_output_arguments(parser)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    if args.authors_protocol and args.refit:
        parser.error("--authors-protocol already fits on all training images; drop --refit")
    results = [run(args, untrained=False)]
    if args.refit:
        results.append(run(args, untrained=False, refit_epoch=results[0]["probe_epoch"]))
    if args.compare_untrained:
        results.append(run(args, untrained=True))
        if args.refit:
            results.append(run(args, untrained=True, refit_epoch=results[-1]["probe_epoch"]))
    for r in results:
        label = ("untrained" if r["untrained"] else "SCFF") + (" refit" if r["refit_on_all_training_images"] else "")
        if r.get("probe_protocol") == "authors'":
            label = label.split()[0] + " authors'"
            by_epoch = ", ".join(f"{e}: {a:.4f}" for e, a in r["test_accuracy_by_probe_epoch"].items())
            selection = f"test by probe epoch {by_epoch}"
        elif r["refit_on_all_training_images"]:
            selection = f"probe epoch {r['probe_epoch']}, chosen on validation before the refit"
        else:
            selection = f"val {r['validation_accuracy']:.4f}, probe epoch {r['probe_epoch']}"
        line = (f"{r['encoder']:6} {label:16} probe test {r['test_accuracy']:.4f} ({selection}), "
                f"{r['n_features_out']} features, fit {r['fit_seconds']:.0f}s, "
                f"transform {r['transform_features_per_s']:.0f} samples/s")
        if r.get("probe_augment_shift"):
            line += f", probe on images shifted by up to {r['probe_augment_shift']} px"
        if "train_samples_per_s" in r:
            line += f", training {r['train_samples_per_s']:.0f} samples/s"
        if "train_fraction_of_matmul" in r:
            line += (f", {r['train_fraction_of_matmul']:.0%} of the torch matmul throughput on the same shapes "
                     f"(matmuls alone: {r['matmul_bound_seconds']:.0f}s)")
        print(line)
    results_path(args, f"scff_{args.encoder}").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
