"""Device resolution and seeding shared by all estimators."""

import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device, *, for_inference=False):
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks CUDA when available, else the CPU. A CUDA device that is
    not available is an error at fit time; at inference time (a model fitted
    on a GPU and loaded on a CPU-only machine) it falls back to the CPU with a
    warning.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda":
        available = torch.cuda.is_available() and (
            resolved.index is None or resolved.index < torch.cuda.device_count()
        )
        if not available:
            if for_inference:
                warnings.warn(
                    f"device={device!r} is not available on this machine; using the CPU.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return torch.device("cpu")
            raise ValueError(
                f"device={device!r} was requested but CUDA (or that GPU) is not available; "
                "use device='cpu' or device='auto'."
            )
    elif resolved.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'cuda:N'.")
    return resolved


def make_generators(random_state, device):
    """A CPU generator (initialisation, shuffling) and one on ``device`` (sampling).

    Seeds are drawn from the scikit-learn ``random_state`` so that the global
    torch RNG is never touched: the same ``random_state`` gives the same model
    on the same device.
    """
    seeds = random_state.randint(np.iinfo(np.int32).max, size=2)
    cpu = torch.Generator().manual_seed(int(seeds[0]))
    if device.type == "cpu":
        return cpu, cpu
    return cpu, torch.Generator(device=device).manual_seed(int(seeds[1]))


def continued_random_state(random_state, epochs_so_far):
    """Random state of a ``partial_fit`` call that continues earlier training.

    Each call shuffles and samples afresh, yet reproducibly: the seed drawn
    from ``random_state`` moves on with the number of epochs already run.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.RandomState((seed + epochs_so_far) % 2**32)
