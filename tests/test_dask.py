"""A search run on a local Dask cluster through joblib's "dask" backend.

Two worker processes of one thread each: the cross-validation fits run there
and must give exactly the scores of the sequential run in this process (the
estimators are seeded and on the CPU).
"""

import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from _cases import digits, make

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        # Without a dashboard the scheduler still serves HTTP, on port 8787
        # or, where another cluster holds it, on a random port with a warning.
        warnings.filterwarnings("ignore", "Port 8787 is already in use", UserWarning)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_grid_search_on_dask_equals_sequential_search(client):
    X, _, y, _ = digits()
    search = GridSearchCV(
        make("PolarFFClassifier"),
        {"learning_rate_init": [0.001, 0.01]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    sequential = clone(search).fit(X, y)
    with distributed.get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        on_dask = clone(search).set_params(n_jobs=-1).fit(X, y)
    # The fits ran on the cluster's workers (joblib may batch several per task).
    assert {task["worker"] for task in stream.data} <= set(client.scheduler_info()["workers"])
    assert len(stream.data) > 0
    assert on_dask.best_params_ == sequential.best_params_
    for key in ["mean_test_score", "rank_test_score"] + [f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_array_equal(on_dask.cv_results_[key], sequential.cv_results_[key], err_msg=key)
    assert on_dask.cv_results_["params"] == sequential.cv_results_["params"]
    # Five epochs: the larger step learns more (measured 0.914 against 0.614).
    assert sequential.best_params_ == {"learning_rate_init": 0.01}
    assert sequential.best_score_ > 0.9


def test_torch_uses_one_thread_per_dask_worker(client):
    """Dask's nanny starts worker processes with OMP_NUM_THREADS=1 and
    MKL_NUM_THREADS=1 (its "distributed.nanny.pre-spawn-environ" setting),
    whatever threads_per_worker: torch does not oversubscribe the cores."""
    assert list(client.run(torch.get_num_threads).values()) == [1, 1]
    # The same inside a task, where a fit would run.
    assert client.submit(torch.get_num_threads, pure=False).result() == 1
