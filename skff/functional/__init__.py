"""Pure torch math of forward-only learning: no scikit-learn, no state.

Everything here is a function of tensors so that it can be tested against
values worked out by hand and reused by every estimator.
"""

from .contrastive import (
    contrastive_loss,
    contrastive_pairs,
    mean_square_goodness,
    relu_mean_square_goodness,
    standardize,
    triangle,
)
from .embedding import bernoulli_label_patterns, onehot_label_patterns, sample_wrong_labels
from .goodness import goodness, relu_group_goodness, top_k_mask
from .local_rules import (
    HistogramRows,
    abs_transmit,
    competitive_update,
    competitive_update_from_moments,
    histogram_bins,
    histogram_code,
    std_abs,
    unit_length,
)
from .normalize import rms_normalize
from .sparsity import hoyer_sparsity
from .probability import (
    LOGIT_FUNCTIONS,
    ffa_sigmoid_logit,
    layer_loss,
    polar_sigmoid_logit,
    symmetric_logit,
)

__all__ = [
    "HistogramRows",
    "abs_transmit",
    "competitive_update",
    "competitive_update_from_moments",
    "histogram_bins",
    "histogram_code",
    "std_abs",
    "unit_length",
    "LOGIT_FUNCTIONS",
    "bernoulli_label_patterns",
    "contrastive_loss",
    "contrastive_pairs",
    "ffa_sigmoid_logit",
    "goodness",
    "hoyer_sparsity",
    "layer_loss",
    "mean_square_goodness",
    "onehot_label_patterns",
    "polar_sigmoid_logit",
    "sample_wrong_labels",
    "standardize",
    "symmetric_logit",
    "top_k_mask",
    "triangle",
    "relu_group_goodness",
    "relu_mean_square_goodness",
    "rms_normalize",
]
