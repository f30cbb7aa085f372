"""skff: forward-only learning (Forward-Forward and relatives) for scikit-learn."""

from ._activation import ActivationLearningAnomalyDetector
from ._base import FitOutOfMemoryError
from ._engine import TrainingDivergedError
from ._ff import FFClassifier, PolarFFClassifier
from ._scff import SCFFTransformer

__version__ = "0.1.0"

__all__ = [
    "ActivationLearningAnomalyDetector",
    "FFClassifier",
    "FitOutOfMemoryError",
    "PolarFFClassifier",
    "SCFFTransformer",
    "TrainingDivergedError",
    "__version__",
]
