"""Self-Contrastive Forward-Forward (SCFF) maths: pairs, goodness, loss.

A SCFF layer sees a pair of inputs ``[a, b]`` through two weight blocks that
are tied (``W_1 = W_2 = W``), so its pre-activation is ``W s(a) + W s(b)``
(``s`` the per-sample standardisation). A positive pair is a sample with
itself, a negative pair a sample with another sample of the batch. With
``u = W s(x)`` computed once per sample, both are sums of rows of ``u``:
the positive is ``2 u_i`` and the negative ``u_i + u_(i+k) mod B``. The pair
costs one product per sample instead of two products of a doubled input.
"""

import numbers

import torch
import torch.nn.functional as F


def standardize(x, start_dim=1, eps=1e-5, relative_eps=True):
    """Per-sample standardisation: zero mean, unit variance over dims ``start_dim:``.

    Parameters
    ----------
    x : Tensor of shape (n_samples, ...)
    start_dim : int, default=1
        First dimension that belongs to a sample's features (``1``: the whole
        sample; ``-1``: each time step of a sequence separately).
    eps : float, default=1e-5
        Added to the variance of the sample divided by a power of two that
        brings its largest magnitude into ``[1, 2)``: relative to the
        sample's own scale, so that the result does not depend on the units
        of the data. It keeps constant samples finite (they map to zeros)
        and damps samples whose spread is below about ``sqrt(eps)`` (0.3%)
        of their largest magnitude. Samples up to the float32 maximum are
        standardised without overflow.
    relative_eps : bool, default=True
        ``False``: ``eps`` in the input's units, as before session 14 (kept
        for networks stored then, whose later layers learned from it).

    Returns
    -------
    standardized : Tensor shaped like ``x``

    Examples
    --------
    >>> import torch
    >>> from skff.functional import standardize
    >>> standardize(torch.tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]]))
    tensor([[-1.3416, -0.4472,  0.4472,  1.3416],
            [ 0.0000,  0.0000,  0.0000,  0.0000]])
    """
    dims = tuple(range(start_dim % x.dim(), x.dim()))
    # Each sample is first divided by a power of two that brings its largest
    # magnitude into [1, 2): exact in floating point, so samples beyond 1e19
    # no longer overflow the variance, and eps, added to the variance at
    # this scale, is relative to the sample (an eps in the data's units
    # shrank the features of data given in small units: digits scaled by
    # 1e-5 lost half their CV accuracy).
    exponent = torch.frexp(x.abs().amax(dim=dims, keepdim=True)).exponent - 1
    scale = torch.ldexp(torch.ones_like(exponent, dtype=x.dtype), exponent)
    x = x / scale
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=False)
    floor = torch.finfo(x.dtype).tiny  # eps=0: constant samples map to zeros, not NaN
    added = eps if relative_eps else eps / scale.pow(2)
    return (x - mean) * torch.rsqrt((var + added).clamp_min(floor))


def triangle(z, dim=1):
    """Coates' "triangle" activation ``relu(z - mean(z))`` over the units in ``dim``.

    Used for what a SCFF layer passes on and for the features it returns;
    it does not enter the loss (which uses plain ReLU).

    Parameters
    ----------
    z : Tensor
        Pre-activations.
    dim : int, default=1
        The units (channels for convolutional maps).

    Returns
    -------
    activity : Tensor shaped like ``z``

    Examples
    --------
    >>> import torch
    >>> from skff.functional import triangle
    >>> triangle(torch.tensor([[1.0, 2.0, 3.0, 6.0]]))   # mean 3
    tensor([[0., 0., 0., 3.]])
    """
    return torch.relu(z - z.mean(dim=dim, keepdim=True))


def contrastive_pairs(u, shift, partner=None):
    """Positive and negative pre-activations from per-sample products ``u``.

    Parameters
    ----------
    u : Tensor of shape (n_samples, ...)
        ``W s(x_i)`` for every sample of the batch (no bias).
    shift : int or sequence of int
        Sample ``i`` is paired with sample ``(i + shift) mod n_samples`` for
        the negative; ``0 < shift < n_samples``. Several shifts give several
        negatives per positive, one block of ``n_samples`` rows per shift.
        Each costs only a sum of rows of ``u``, no further product.
    partner : Tensor shaped like ``u`` or None
        Products of the second member of each pair when it differs from the
        first (e.g. another random augmentation of the same sample);
        ``None``: ``u`` itself.

    Returns
    -------
    positive : Tensor shaped like ``u``
        ``u_i + partner_i`` (``2 u_i`` without a partner).
    negative : Tensor of shape (n_shifts * n_samples, ...)
        ``u_i + partner_(i + shift)``, the shifts one after the other.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import contrastive_pairs
    >>> u = torch.tensor([[1.0], [2.0], [3.0]])
    >>> positive, negative = contrastive_pairs(u, shift=1)
    >>> positive.ravel()
    tensor([2., 4., 6.])
    >>> negative.ravel()                 # 1 + 2, 2 + 3, 3 + 1
    tensor([3., 5., 4.])
    >>> contrastive_pairs(u, shift=[1, 2])[1].ravel()   # then 1 + 3, 2 + 1, 3 + 2
    tensor([3., 5., 4., 4., 3., 5.])
    """
    other = u if partner is None else partner
    if isinstance(shift, numbers.Integral) or (torch.is_tensor(shift) and shift.ndim == 0):
        shifts = [int(shift)]
    else:
        shifts = [int(k) for k in shift]
    if not shifts:
        raise ValueError("contrastive_pairs needs at least one shift.")
    bad = [k for k in shifts if not 0 < k < u.shape[0]]
    if bad:
        # A shift of 0 (or n) pairs each sample with itself: negatives = positives.
        raise ValueError(f"shifts must satisfy 0 < shift < n_samples ({u.shape[0]}), got {bad}.")
    negative = torch.cat([u + torch.roll(other, shifts=-k, dims=0) for k in shifts])
    return u + other, negative


def draw_shifts(n_samples, n_negatives, generator=None):
    """Distinct random pairing shifts for the negatives of a batch.

    Parameters
    ----------
    n_samples : int
        Samples in the batch (at least 2).
    n_negatives : int
        Negatives wanted per sample; at most ``n_samples - 1`` are drawn,
        since only that many other samples exist.
    generator : torch.Generator or None

    Returns
    -------
    shift : int or list of int
        One shift in ``[1, n_samples - 1]`` (an ``int``) for a single
        negative, otherwise a list of distinct ones.

    Examples
    --------
    >>> import torch
    >>> from skff.functional.contrastive import draw_shifts
    >>> shifts = draw_shifts(5, 10, torch.Generator().manual_seed(0))
    >>> sorted(shifts)
    [1, 2, 3, 4]
    """
    if n_negatives == 1:
        return int(torch.randint(1, n_samples, (1,), generator=generator))
    count = min(n_negatives, n_samples - 1)
    return (torch.randperm(n_samples - 1, generator=generator)[:count] + 1).tolist()


def mean_square_goodness(y, dim=1):
    """Goodness ``G = mean over units of y**2``, per position of the other dims.

    Dense activity ``(n, units)`` gives ``(n,)``; convolutional activity
    ``(n, channels, H, W)`` with ``dim=1`` gives one value per position
    ``(n, H, W)``; recurrent activity ``(n, T, units)`` with ``dim=-1`` gives
    one value per time step ``(n, T)``.

    Parameters
    ----------
    y : Tensor
        Activity (ReLU of the pre-activations in SCFF's loss).
    dim : int, default=1
        The units.

    Returns
    -------
    g : Tensor
        ``y`` without dimension ``dim``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import mean_square_goodness
    >>> mean_square_goodness(torch.tensor([[1.0, -1.0, 2.0, 0.0]]))   # (1 + 1 + 4) / 4
    tensor([1.5000])
    """
    return (y * y).mean(dim=dim)


_FIRST_DERIVATIVES_ONLY = ("{name} has first derivatives only (create_graph=True would treat its gradient as a "
                           "constant); use {plain} for higher-order gradients.")


class _ReluMeanSquare(torch.autograd.Function):
    """``mean over dim of relu(z)**2`` with a one-product backward pass."""

    @staticmethod
    def forward(ctx, z, dim):
        h = torch.relu(z)
        ctx.save_for_backward(h)
        ctx.dim = dim
        return (h * h).mean(dim=dim)

    @staticmethod
    def backward(ctx, grad):
        # h is saved as a value: no second derivatives. Autograd runs this
        # with grad mode on exactly when a graph of the gradient is asked
        # for (create_graph=True), which would silently treat 2 h as constant.
        if torch.is_grad_enabled():
            raise RuntimeError(_FIRST_DERIVATIVES_ONLY.format(name="relu_mean_square_goodness",
                                                              plain="mean_square_goodness(torch.relu(z))"))
        (h,) = ctx.saved_tensors
        # d/dz relu(z)**2 = 2 relu(z): the ReLU mask is already in h.
        return h * (grad.unsqueeze(ctx.dim) * (2.0 / max(h.shape[ctx.dim], 1))), None


def relu_mean_square_goodness(z, dim=1):
    """``mean_square_goodness(relu(z), dim)``, fused for training.

    The same values and gradients with less work: autograd's version keeps
    the ReLU mask and the square as separate backward steps, this one needs
    a single element-wise product (``d/dz relu(z)**2 = 2 relu(z)``). SCFF
    training with it is 1.17x as fast for the default convolutional encoder
    on the CPU, where the element-wise work over every channel and position
    outweighs the convolutions, and 1.04-1.05x for the dense and recurrent
    ones (``benchmarks/bench_scff_goodness.py``). First derivatives only
    (a backward pass with ``create_graph=True`` raises): use :func:`mean_square_goodness` of
    ``torch.relu(z)`` for higher-order gradients.

    Parameters
    ----------
    z : Tensor
        Pre-activations.
    dim : int, default=1
        The units.

    Returns
    -------
    g : Tensor
        ``z`` without dimension ``dim``.

    Examples
    --------
    >>> import torch
    >>> from skff.functional import relu_mean_square_goodness
    >>> relu_mean_square_goodness(torch.tensor([[1.0, -1.0, 2.0, 0.0]]))   # (1 + 0 + 4 + 0) / 4
    tensor([1.2500])
    """
    if not -z.ndim <= dim < z.ndim:
        # As mean_square_goodness: -3 on a 2-D z reduced dim -1 silently.
        raise IndexError(f"dim {dim} is out of range for a tensor of {z.ndim} dimensions.")
    return _ReluMeanSquare.apply(z, dim % z.ndim)


def contrastive_loss(g_pos, g_neg, threshold_pos, threshold_neg, penalty=0.0):
    """SCFF layer loss, averaged over samples and positions.

    ``softplus(threshold_pos - G+) + softplus(G- - threshold_neg)``, i.e. the
    binary cross-entropy of ``sigmoid(G+ - threshold_pos)`` for positives and
    ``sigmoid(threshold_neg - G-)`` for negatives, plus ``penalty`` times the
    Frobenius norm of each positive sample's goodness over its positions
    (which keeps positive activity from growing without bound).

    Parameters
    ----------
    g_pos, g_neg : Tensor of shape (n_samples,) or (n_samples, ...)
        Goodness of the positive and of the negative pairs, per sample and
        position.
    threshold_pos, threshold_neg : float
    penalty : float, default=0.0

    Returns
    -------
    loss : scalar Tensor

    Examples
    --------
    >>> import torch
    >>> from skff.functional import contrastive_loss
    >>> good = contrastive_loss(torch.tensor([10.0]), torch.tensor([0.0]), 4.0, 6.0)
    >>> bad = contrastive_loss(torch.tensor([0.0]), torch.tensor([10.0]), 4.0, 6.0)
    >>> round(float(good), 4), round(float(bad), 4)
    (0.005, 8.0363)
    """
    loss = F.softplus(threshold_pos - g_pos).mean() + F.softplus(g_neg - threshold_neg).mean()
    if penalty:
        loss = loss + penalty * torch.linalg.vector_norm(g_pos.reshape(g_pos.shape[0], -1), dim=1).mean()
    return loss


def random_translate(images, max_shift, generator=None):
    """Shift each image by its own random offset of up to ``max_shift`` pixels.

    Parameters
    ----------
    images : Tensor of shape (n, channels, height, width)
    max_shift : int
        Offsets are drawn uniformly from ``[-max_shift, max_shift]`` for
        each axis and each image; pixels shifted in are zeros.
    generator : torch.Generator or None
        On the device of ``images``.
    """
    if max_shift <= 0:
        return images
    n, _, height, width = images.shape
    padded = torch.nn.functional.pad(images, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator, device=images.device)
    rows = torch.arange(height, device=images.device) + offsets[0][:, None]
    cols = torch.arange(width, device=images.device) + offsets[1][:, None]
    picked = padded[torch.arange(n, device=images.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2)
