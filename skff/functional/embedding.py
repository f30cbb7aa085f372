"""Label embeddings and negative-label sampling for supervised Forward-Forward."""

import torch


def onehot_label_patterns(n_classes, dtype=torch.float32):
    """One-hot code of each class, shape ``(n_classes, n_classes)`` (Hinton)."""
    return torch.eye(n_classes, dtype=dtype)


def bernoulli_label_patterns(n_classes, length=100, p=0.1, generator=None, dtype=torch.float32):
    """Fixed random binary pattern per class, shape ``(n_classes, length)``.

    Polar-FFA appends such a pattern (Bernoulli(p) bits) to the features. The
    patterns are redrawn until every class has a distinct, non-empty pattern,
    so no two classes can be confused by construction.
    """
    for _ in range(1000):
        patterns = (torch.rand(n_classes, length, generator=generator) < p).to(dtype)
        distinct = torch.unique(patterns, dim=0).shape[0] == n_classes
        if distinct and bool((patterns.sum(dim=1) > 0).all()):
            return patterns
    raise ValueError(
        f"Could not draw {n_classes} distinct Bernoulli label patterns of length {length}; "
        "use label_embedding='onehot' for this many classes."
    )


def sample_wrong_labels(y, n_classes, generator=None):
    """A uniformly random label different from ``y`` for every entry of ``y``."""
    offset = torch.randint(1, n_classes, y.shape, generator=generator, device=y.device)
    return (y + offset) % n_classes
