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
