"""Torch modules built from :mod:`skff.functional`."""

from .ff import ForwardForwardNetwork, GoodnessObjective
from .scff import BiRNNSCFFLayer, ConvSCFFLayer, DenseSCFFLayer, SCFFNetwork

__all__ = [
    "BiRNNSCFFLayer",
    "ConvSCFFLayer",
    "DenseSCFFLayer",
    "ForwardForwardNetwork",
    "GoodnessObjective",
    "SCFFNetwork",
]
