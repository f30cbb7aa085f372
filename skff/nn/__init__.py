"""Torch modules built from :mod:`skff.functional`."""

from .activation_learning import ActivationLearningNetwork, CompetitiveLayer
from .ff import ForwardForwardNetwork, GoodnessObjective

__all__ = ["ActivationLearningNetwork", "CompetitiveLayer", "ForwardForwardNetwork", "GoodnessObjective"]
