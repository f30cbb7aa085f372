"""The same ``random_state`` gives the same model, in this process and in another.

skff seeds its own torch generators from ``random_state`` and never reads the
global numpy or torch random state, so the fits below disturb both first. A
fresh interpreter fits every case too and must reproduce the outputs exactly
(on the CPU, with the same number of torch threads as this process).
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import skff
from _cases import CASE_IDS, assert_same_outputs, digits, make, outputs

# Continuous output of each estimator, for telling two models apart.
CONTINUOUS = {"transform", "score_samples", "predict_proba"}

_SCRIPT = textwrap.dedent(
    """
    import sys, json, warnings
    import numpy as np
    import torch
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    threads, destination = json.loads(sys.argv[1])
    torch.set_num_threads(threads)
    from _cases import CASE_IDS, digits, make, outputs

    X_train, X_test, y_train, _ = digits()
    arrays = {}
    for case_id in CASE_IDS:
        model = make(case_id).fit(X_train, y_train)
        for name, values in outputs(model, X_test, case_id).items():
            arrays[f"{case_id}/{name}"] = values
    np.savez(destination, **arrays)
    """
)


@pytest.fixture(scope="module")
def fresh_process_outputs(tmp_path_factory):
    """Every case fitted in a new Python interpreter, outputs by case id."""
    destination = tmp_path_factory.mktemp("reproducibility") / "outputs.npz"
    tests = Path(__file__).parent
    root = Path(skff.__file__).parent.parent
    path = os.pathsep.join(filter(None, [str(tests), str(root), os.environ.get("PYTHONPATH")]))
    subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps([torch.get_num_threads(), str(destination)])],
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        timeout=300,
    )
    by_case = {case_id: {} for case_id in CASE_IDS}
    with np.load(destination) as arrays:
        for key in arrays.files:
            case_id, name = key.split("/")
            by_case[case_id][name] = arrays[key]
    return by_case


def _disturb_global_random_state(seed):
    np.random.seed(seed)
    torch.manual_seed(seed)
    np.random.rand(seed % 7 + 1)
    torch.rand(seed % 5 + 1)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_same_seed_same_model_here_and_in_a_fresh_process(case_id, fresh_process_outputs):
    X_train, X_test, y_train, _ = digits()
    fits = []
    for seed in (11, 12345):
        _disturb_global_random_state(seed)
        fits.append(outputs(make(case_id).fit(X_train, y_train), X_test, case_id))
    assert_same_outputs(fits[1], fits[0])
    assert_same_outputs(fresh_process_outputs[case_id], fits[0])


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_other_seed_other_model(case_id):
    X_train, X_test, y_train, _ = digits()
    first = outputs(make(case_id).fit(X_train, y_train), X_test, case_id)
    other = outputs(make(case_id, random_state=1).fit(X_train, y_train), X_test, case_id)
    (name,) = CONTINUOUS.intersection(first)
    assert not np.allclose(other[name], first[name], rtol=1e-3, atol=1e-3), name


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_fit_and_outputs_leave_a_shared_float32_input_unchanged(case_id):
    # A writable float32 C-contiguous array is handed to torch without a copy
    # (skff._base.to_tensor), so nothing may write into it.
    X_train, _, y_train, _ = digits()
    X = np.array(X_train, dtype=np.float32)
    before = X.copy()
    model = make(case_id).fit(X, y_train)
    outputs(model, X, case_id)
    np.testing.assert_array_equal(X, before)


def test_input_tensor_shares_writable_float32_arrays_and_copies_the_rest():
    from skff._base import to_tensor

    cpu = torch.device("cpu")
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert to_tensor(X, cpu).data_ptr() == X.ctypes.data
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when it is handed read-only memory
        assert to_tensor(X, cpu).data_ptr() != X.ctypes.data
    for other in (np.arange(6.0).reshape(3, 2), np.asfortranarray(np.ones((3, 2), dtype=np.float32))):
        tensor = to_tensor(other, cpu)
        assert tensor.dtype == torch.float32 and tensor.is_contiguous()
        np.testing.assert_array_equal(tensor.numpy(), other)


def test_inference_chunks_move_to_the_device_one_at_a_time():
    # Inference keeps X on the CPU and moves one fixed-size chunk at a time
    # to the computing device (a GPU need not hold X whole). "meta" stands in
    # for a GPU here: tensors with shapes but no data.
    from skff._base import CPU_INFERENCE_CHUNK, GPU_INFERENCE_CHUNK, inference_chunk, map_in_chunks

    X = torch.zeros(10_000, 3)
    seen = []

    def record(block):
        seen.append((block.device.type, block.shape[0]))
        return block.sum(dim=1)

    out = map_in_chunks(record, X, device="meta")
    assert out.device.type == "meta" and out.shape == (10_000,)
    assert seen == [("meta", GPU_INFERENCE_CHUNK)] * 3  # the last chunk padded to the common size
    seen.clear()
    map_in_chunks(record, X)
    assert set(seen) == {("cpu", CPU_INFERENCE_CHUNK)}

    # GPU chunks shrink beyond ten classes (a classifier's rows fan out over
    # them); the CPU chunk never changes, so CPU results keep their bits.
    gpu = torch.device("cuda")
    assert inference_chunk(gpu, fan_out=2) == inference_chunk(gpu, fan_out=10) == GPU_INFERENCE_CHUNK
    assert inference_chunk(gpu, fan_out=100) == GPU_INFERENCE_CHUNK // 10
    assert inference_chunk(gpu, fan_out=10**6) == CPU_INFERENCE_CHUNK
    assert inference_chunk(torch.device("cpu"), fan_out=100) == CPU_INFERENCE_CHUNK


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_fitted_module_keeps_no_gradients(case_id):
    # The last step's gradients would double a fitted model's memory.
    X_train, _, y_train, _ = digits()
    model = make(case_id).fit(X_train, y_train)
    assert all(p.grad is None for p in model.module_.parameters())
