"""Torch modules built from :mod:`skff.functional`."""

from .activation_learning import ActivationLearningNetwork, CompetitiveLayer
from .ff import ForwardForwardNetwork, GoodnessObjective
from .scff import BiRNNSCFFLayer, ConvSCFFLayer, DenseSCFFLayer, SCFFNetwork

__all__ = [
    "ActivationLearningNetwork",
    "BiRNNSCFFLayer",
    "CompetitiveLayer",
    "ConvSCFFLayer",
    "DenseSCFFLayer",
    "ForwardForwardNetwork",
    "GoodnessObjective",
    "SCFFNetwork",
]
