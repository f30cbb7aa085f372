"""What every skff estimator does with its fitted torch module.

The fitted module lives on the CPU, so that an estimator pickles
device-neutrally (a GPU-fitted model loads on a CPU-only machine); a copy on
the inference device is cached and dropped from pickles. Inference runs in
fixed-size chunks so that a sample's output does not depend on which other
samples share the call.
"""

import copy
import functools
import itertools

import numpy as np
import torch

from skorch.history import History
from sklearn.utils import check_random_state

from ._device import continued_random_state, resolve_device

# Samples per inference chunk on the CPU. Fixed (the last chunk is padded),
# because GEMM kernels sum in a shape-dependent order: with a fixed shape
# a sample's result does not depend on the batch it came in (scikit-learn's
# subset and sample-order invariance checks).
CPU_INFERENCE_CHUNK = 64


def to_tensor(X, device):
    """float32 tensor on ``device``; on the CPU it shares ``X``'s memory when it can.

    Training and inference only read this tensor (batches are gathered into
    new tensors), so a float32 C-contiguous array is used in place rather
    than copied: a second copy of the data costs memory and, for a short
    fit, a measurable share of its time. Read-only arrays (joblib's memory
    maps under ``n_jobs``) are copied, since torch warns on them.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not X.flags.writeable:
        X = X.copy()
    return torch.from_numpy(X).to(device)


def check_finite_outputs(estimator, X, outputs, what):
    """Raise a ValueError naming the rows of ``X`` whose ``outputs`` are not finite.

    Inputs finite in float32 can still overflow the networks' arithmetic (a
    sum of squares, a product with the weights): their outputs would be NaN
    or inf, i.e. silent garbage.
    """
    bad = ~np.isfinite(outputs).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{type(estimator).__name__}: {int(bad.sum())} row(s) of X (first: row {int(bad.argmax())}, largest "
            f"|value| {float(np.abs(X[bad]).max()):.3g}) give non-finite {what}: values that large "
            "overflow float32 arithmetic. Scale X as the training data were scaled."
        )


def probe_rows(n_rows, size, device, generator=None):
    """Indices of a fixed random subset of ``size`` training rows (all if fewer).

    Per-epoch probes (the history's measurements, the checks for a collapsed
    layer) look at this subset, not the first rows, which on sorted data are
    one kind of sample. Its own generator (``generator``, else a CPU one
    seeded 0) leaves the training draws, and so the fitted model, unchanged.
    """
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    return torch.randperm(n_rows, generator=generator, device=generator.device)[:size].to(device)


# Largest finite float32: parameters and values used in the float32
# computations must stay within it (beyond it they become inf).
FLOAT32_MAX = float(np.finfo(np.float32).max)


# Rows per inference chunk on a GPU, for a classifier of up to this many
# classes (its rows fan out over the classes: fewer rows for more classes).
GPU_INFERENCE_CHUNK = 64 * CPU_INFERENCE_CHUNK
_GPU_CHUNK_CLASSES = 10


def inference_chunk(device, fan_out=1):
    """Chunk size: small on the CPU (cheap padding), large on a GPU.

    ``fan_out`` (the classes each row is scored for) shrinks GPU chunks
    beyond ten classes so that their activity stays the size of ten
    classes' (100 classes of 2000 units were 3.3 GB per activity tensor).
    The CPU chunk never changes: a model's CPU results stay the same bits.
    """
    if device.type == "cpu":
        return CPU_INFERENCE_CHUNK
    return max(CPU_INFERENCE_CHUNK, GPU_INFERENCE_CHUNK * _GPU_CHUNK_CLASSES // max(fan_out, _GPU_CHUNK_CLASSES))


def map_in_chunks(fn, X_t, scale=1, *, labels=None, out_device=None, device=None, fan_out=1):
    """``fn`` applied to fixed-size row chunks of ``X_t``, results concatenated.

    ``device`` is where ``fn`` runs (default: ``X_t``'s device); each chunk
    is moved there in turn, so that a ``X_t`` kept on the CPU never has to
    fit on a GPU whole. ``scale`` multiplies the chunk size (an estimator
    whose rows do not fan out over classes affords larger chunks);
    ``fan_out`` is the classes each row is scored for
    (:func:`inference_chunk`). The last chunk is zero-padded to
    the common size and the padding rows are dropped from its result: GPU
    kernels, like CPU ones, pick their summation order by shape, and a row's
    result must not depend on the rows that share its call. With ``labels``
    (one per row, padded with class 0) ``fn`` gets ``(block, label_block)``;
    ``fn`` may return a tensor or a list of tensors (concatenated one by one).
    ``out_device`` moves each chunk's result there as it is made (so that a
    GPU holds one chunk of a large output, not all of it).
    """
    device = X_t.device if device is None else torch.device(device)
    chunk = scale * inference_chunk(device, fan_out)
    outputs = []
    with torch.inference_mode():
        for start in range(0, X_t.shape[0], chunk):
            blocks = [X_t[start : start + chunk]] + ([] if labels is None else [labels[start : start + chunk]])
            blocks = [b.to(device) for b in blocks]
            rows = blocks[0].shape[0]
            if rows < chunk:
                blocks = [torch.cat([b, b.new_zeros(chunk - rows, *b.shape[1:])]) for b in blocks]
            result = fn(*blocks)
            trimmed = [r[:rows] for r in result] if isinstance(result, list) else [result[:rows]]
            if out_device is not None:
                trimmed = [r.to(out_device) for r in trimmed]
            outputs.append(trimmed if isinstance(result, list) else trimmed[0])
    if outputs and isinstance(outputs[0], list):
        return [torch.cat(parts) for parts in zip(*outputs)]
    return torch.cat(outputs)


def keeps_state_on_failure(fit):
    """Decorate a fitting method so that, if it raises, the estimator is left as it was.

    ``validate_data`` records ``n_features_in_`` before anything else can
    fail; without this a failed refit (bad labels, a diverged run) would
    leave the earlier model paired with the new data's feature count, and
    the next ``predict`` would fail deep inside torch.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException as exc:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if _is_out_of_memory(exc):
                raise FitOutOfMemoryError(
                    f"{type(self).__name__}: out of memory while fitting on {_device_name(self.device)} ({exc}). "
                    "Lower batch_size or hidden_layer_sizes; if X itself does not fit on the device, train with "
                    "partial_fit on chunks of it or fit with device='cpu'."
                ) from exc.with_traceback(None)  # its frames hold the fit's tensors: free them for a retry
            raise

    return wrapper


class FitOutOfMemoryError(MemoryError, torch.cuda.OutOfMemoryError):
    """Torch could not allocate memory during ``fit`` or ``partial_fit``.

    A :class:`MemoryError` that names the estimator and the device, and
    still a ``torch.cuda.OutOfMemoryError`` (a :class:`RuntimeError`), so
    that code catching torch's error (to retry with a smaller batch, say)
    keeps working.
    """


# Substrings of torch's allocation failures: the CPU allocator on Linux and
# macOS, on Windows and mimalloc builds, CUDA's caching allocator, cuBLAS,
# cuDNN and the other CUDA libraries (CUBLAS_STATUS_ALLOC_FAILED, ...).
_OUT_OF_MEMORY_MESSAGES = ("can't allocate memory", "not enough memory", "out of memory", "_STATUS_ALLOC_FAILED")


def _is_out_of_memory(exc):
    """An allocation failure of torch (CPU or GPU), which torch raises as a RuntimeError."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(text in str(exc) for text in _OUT_OF_MEMORY_MESSAGES)


def _device_name(device):
    """The device a fit ran on, for messages (the parameter if it cannot be resolved)."""
    try:
        resolved = str(resolve_device(device))
    except (ValueError, RuntimeError):
        return f"device={device!r}"
    return f"device {resolved!r}" + ("" if resolved == str(device) else f" (device={device!r})")


class TorchModuleMixin:
    """Fitted-module storage, device cache and pickling for skff estimators."""

    # Parameters that define the fitted network; continuing training
    # (warm_start, partial_fit) refuses to run when one of them changed.
    _ARCHITECTURE_PARAMS = ()

    def _store_module(self, network, device):
        network.eval()
        # The last step's gradients are of no use to a fitted model and would
        # double its memory (on a GPU, and in the deep copy made for the CPU).
        network.zero_grad(set_to_none=True)
        self.module_ = network if device.type == "cpu" else copy.deepcopy(network).to("cpu")
        self._fitted_architecture = {name: _canonical(getattr(self, name)) for name in self._ARCHITECTURE_PARAMS}
        self._fitted_architecture_resolved = {name: _canonical(self._architecture_value(name))
                                              for name in self._ARCHITECTURE_PARAMS}
        self._inference_cache = (device, network, _fingerprint(self.module_))
        self.device_ = str(device)

    def _architecture_value(self, name):
        """Architecture parameter ``name`` as the network uses it: spellings
        that build the same network (``16`` and ``(16,)``, a default and its
        value) compare equal."""
        return getattr(self, name)

    def _resolved_differs(self, name, fitted_value, errors):
        try:
            return _canonical(self._architecture_value(name)) != fitted_value
        except ValueError as exc:
            # Not resolvable with the current parameters (e.g. an input_shape
            # that does not suit a new encoder): a change, reported as one.
            errors.append(exc)
            return True

    def _warm_module(self, device):
        """A copy of the fitted network on ``device`` to continue training.

        Training a copy keeps the fitted model intact when the continued
        training fails (diverges, or a callback raises).
        """
        fitted = getattr(self, "_fitted_architecture", {})
        # Models fitted before the resolved values were recorded compare the
        # values as set.
        resolved = getattr(self, "_fitted_architecture_resolved", None)
        if resolved is None:
            changed = [name for name in self._ARCHITECTURE_PARAMS
                       if name in fitted and _canonical(getattr(self, name)) != fitted[name]]
        else:
            errors = []
            changed = [name for name in self._ARCHITECTURE_PARAMS
                       if name in resolved and self._resolved_differs(name, resolved[name], errors)]
            # Name what was set, not what follows from it (another encoder
            # changes the resolved defaults of several parameters).
            changed_as_set = [name for name in changed if _canonical(getattr(self, name)) != fitted.get(name)]
            if changed and not changed_as_set and errors:
                # Nothing that defines the network was set differently: a
                # parameter outside it (augment_shift, say) makes one
                # unresolvable, and its own message says which and why.
                raise errors[0]
            changed = changed_as_set or changed
        if changed:
            raise ValueError(
                f"{type(self).__name__}: {', '.join(changed)} changed since the model was fitted; "
                "warm_start and partial_fit continue training the fitted network, which these parameters "
                "define. Set them back, or fit from scratch (warm_start=False)."
            )
        return copy.deepcopy(self.module_).to(device)

    def _revalidate_params(self):
        """Validate the parameters on a continued ``partial_fit`` call.

        ``_fit_context`` validates them on the first call only; they may
        change between calls (``set_params`` is supported there).
        """
        if hasattr(self, "module_"):
            self._validate_params()

    def _training_random_state(self, incremental, warm):
        """Random state of a fit: a continued ``partial_fit`` call shuffles afresh, reproducibly."""
        if incremental and warm:
            return continued_random_state(self.random_state, len(self.history_))
        return check_random_state(self.random_state)

    def _history_to_extend(self, warm):
        # A copy: a failed continuation must leave the fitted model as it was.
        return copy.deepcopy(self.history_) if warm else History()

    def _training_callbacks(self, warm):
        """The callbacks a fit runs: deep copies of the ``callbacks`` parameter.

        ``fit`` must leave its parameters as they were (scikit-learn's rule),
        and callbacks keep state (a checkpoint's best value, a recorder's
        events), so training runs copies, exposed as ``callbacks_``.
        Continued training (``warm_start``, ``partial_fit``) continues from
        copies of the training before's (so that a failed call leaves them
        as they were), unless ``callbacks`` was set anew since.
        """
        given = check_callbacks(self.callbacks)
        earlier = getattr(self, "_callbacks_given", None)
        continuing = (warm and hasattr(self, "callbacks_") and earlier is not None and len(earlier) == len(given)
                      and all(a is b for a, b in zip(earlier, given)))
        # Copies in both cases: a continuation that fails must leave
        # callbacks_ as it was (the estimator's attributes are restored, the
        # objects they hold are not).
        try:
            copies = copy.deepcopy(self.callbacks_ if continuing else given)
        except Exception as exc:
            raise TypeError(
                f"{type(self).__name__}: callbacks must be deep-copyable (training runs copies, callbacks_, so that "
                f"fit leaves the callbacks parameter unchanged): {exc}"
            ) from exc
        self.callbacks_, self._callbacks_given = copies, given
        return copies

    def _early_stopping(self, incremental):
        """``early_stopping`` for this call; ``partial_fit`` refuses it.

        As ``MLPClassifier``: one pass over a chunk has nothing to stop early.
        """
        if incremental and self.early_stopping:
            raise ValueError(f"{type(self).__name__}.partial_fit does not support early_stopping=True; "
                             "set early_stopping=False to train on chunks.")
        return self.early_stopping

    def _carried_optimizer_states(self, incremental, warm):
        """Optimiser states a continued ``partial_fit`` call starts from (else None)."""
        # A copy: the optimiser updates its moments in place, and a failed
        # call must leave the fitted model (and its moments) as they were.
        return copy.deepcopy(getattr(self, "_optimizer_states", None)) if incremental and warm else None

    def _keep_optimizer_states(self, incremental, result):
        # Adam's moments carry over between partial_fit calls only: a fit
        # (warm-started or not) and the first partial_fit after it start fresh
        # ones (MLPClassifier also carries fit's moments into partial_fit; no
        # accuracy difference was measured). Kept on the CPU so the model
        # pickles device-neutrally.
        if incremental:
            self._optimizer_states = optimizer_states_to_cpu(result.optimizer_states)
        else:
            self.__dict__.pop("_optimizer_states", None)

    def _network_on_device(self):
        """``(device, module)`` for inference; falls back to the CPU with a warning."""
        device = resolve_device(self.device, for_inference=True)
        cached = getattr(self, "_inference_cache", None)
        # The fingerprint notices weights loaded into module_ in place (e.g.
        # from a Checkpoint) after a device copy was cached.
        if cached is None or cached[0] != device or cached[2] != _fingerprint(self.module_):
            network = self.module_ if device.type == "cpu" else copy.deepcopy(self.module_).to(device)
            network.eval()
            self._inference_cache = (device, network, _fingerprint(self.module_))
        return self._inference_cache[:2]

    def __sklearn_is_fitted__(self):
        # n_features_in_ alone does not make a model: a fit that diverged
        # leaves no module behind.
        return hasattr(self, "module_")

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_inference_cache", None)
        return state

    # Parameters added after models were first stored, each with the value
    # that reproduces what an older model did: loading one sets it, and
    # records it as the fitted value where it defines the network (so that
    # continued training refuses a change, as for a new model).
    _PARAMS_ADDED = {}

    def __setstate__(self, state):
        super().__setstate__(state)
        for name, value in self._PARAMS_ADDED.items():
            if name in self.__dict__:
                continue
            setattr(self, name, value)
            if name in self._ARCHITECTURE_PARAMS:
                for record in ("_fitted_architecture", "_fitted_architecture_resolved"):
                    if isinstance(self.__dict__.get(record), dict):
                        self.__dict__[record].setdefault(name, _canonical(value))


def _fingerprint(module):
    """In-place modification counters of a module's tensors (cheap to compare)."""
    return tuple(t._version for t in itertools.chain(module.parameters(), module.buffers()))


def _canonical(value):
    """A parameter value in a form that compares equal across list/tuple/array spellings."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_layer_sizes(value, name="hidden_layer_sizes", minimum=1, why=""):
    """A positive int or a non-empty sequence of them, as a list of ints.

    ``minimum`` raises the smallest size allowed; ``why`` (a clause) says
    why in the error message.
    """
    sizes = np.atleast_1d(np.asarray(value))
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
        raise ValueError(f"{name} must be a positive int or a non-empty sequence of positive ints, got {value!r}.")
    if (sizes < minimum).any():
        raise ValueError(f"{name} must be at least {minimum} in every layer{why}, got {value!r}.")
    return [int(s) for s in sizes]


def check_layer_indices(value, n_layers, name):
    """Sorted layer indices (negative ones count from the end); ``None``: all layers."""
    if value is None:
        return list(range(n_layers))
    chosen = np.atleast_1d(np.asarray(value))
    if chosen.size == 0 or not np.issubdtype(chosen.dtype, np.integer):
        raise ValueError(f"{name} must be None or a non-empty sequence of ints, got {value!r}.")
    bad = [int(i) for i in chosen if not -n_layers <= i < n_layers]
    if bad:
        raise ValueError(f"{name} {bad} out of range for a network of {n_layers} layers.")
    return sorted({int(i) % n_layers for i in chosen})


def check_callbacks(callbacks):
    """The ``callbacks`` parameter as a list, each checked for the hooks."""
    callbacks = list(callbacks or [])
    for callback in callbacks:
        missing = [m for m in ("on_train_begin", "on_epoch_end", "on_train_end") if not callable(getattr(callback, m, None))]
        if missing:
            raise ValueError(
                f"callbacks must be skff.callbacks.Callback objects (or have their methods); "
                f"{callback!r} lacks {', '.join(missing)}."
            )
    return callbacks


def optimizer_states_to_cpu(states):
    """Optimiser state dicts with every tensor copied to the CPU (for pickling)."""
    def to_cpu(value):
        if isinstance(value, torch.Tensor):
            return value.detach().to("cpu", copy=True)
        if isinstance(value, dict):
            return {k: to_cpu(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(to_cpu(v) for v in value)
        return value

    return [to_cpu(state) for state in states or []]
