"""Label embeddings and negative-label sampling for supervised Forward-Forward."""

import torch


def onehot_label_patterns(n_classes, dtype=torch.float32):
    """One-hot code of each class, shape ``(n_classes, n_classes)`` (Hinton).

    Parameters
    ----------
    n_classes : int
    dtype : torch.dtype, default=torch.float32

    Returns
    -------
    patterns : Tensor of shape (n_classes, n_classes)
        Row ``c`` is the code appended to the features of a sample labelled
        ``c``.

    Examples
    --------
    >>> from skff.functional import onehot_label_patterns
    >>> onehot_label_patterns(3)
    tensor([[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]])
    """
    return torch.eye(n_classes, dtype=dtype)


def bernoulli_label_patterns(n_classes, length=100, p=0.1, generator=None, dtype=torch.float32):
    """Fixed random binary pattern per class, shape ``(n_classes, length)``.

    Polar-FFA appends such a pattern (Bernoulli(p) bits) to the features. The
    patterns are redrawn until every class has a distinct, non-empty pattern,
    so no two classes can be confused by construction.

    Parameters
    ----------
    n_classes : int
    length : int, default=100
        Bits per pattern.
    p : float, default=0.1
        Probability of a 1 bit.
    generator : torch.Generator or None, default=None
        Source of randomness (the global one when ``None``).
    dtype : torch.dtype, default=torch.float32

    Returns
    -------
    patterns : Tensor of shape (n_classes, length)

    Raises
    ------
    ValueError
        If 1000 draws give no set of distinct, non-empty patterns (too many
        classes for ``length`` and ``p``).

    Examples
    --------
    >>> import torch
    >>> from skff.functional import bernoulli_label_patterns
    >>> patterns = bernoulli_label_patterns(10, generator=torch.Generator().manual_seed(0))
    >>> patterns.shape
    torch.Size([10, 100])
    >>> len(torch.unique(patterns, dim=0))   # all distinct
    10
    """
    if not 0 < p < 1:
        # p = 0 or 1 gives every class the same pattern (all zeros or all ones).
        raise ValueError(f"p must be in (0, 1), got {p!r}.")
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
    """A uniformly random label different from ``y`` for every entry of ``y``.

    Parameters
    ----------
    y : Tensor of int64
        Encoded labels in ``0 .. n_classes - 1``.
    n_classes : int
        At least 2.
    generator : torch.Generator or None, default=None
        On the device of ``y``.

    Returns
    -------
    wrong : Tensor shaped like ``y``
        Each entry uniform over the ``n_classes - 1`` other labels.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import sample_wrong_labels
    >>> y = torch.tensor([0, 1, 2, 2])
    >>> wrong = sample_wrong_labels(y, 3, generator=torch.Generator().manual_seed(0))
    >>> bool((wrong != y).all())
    True
    """
    if n_classes < 2:
        raise ValueError(f"sample_wrong_labels needs at least 2 classes, got {n_classes}.")
    offset = torch.randint(1, n_classes, y.shape, generator=generator, device=y.device)
    return (y + offset) % n_classes
