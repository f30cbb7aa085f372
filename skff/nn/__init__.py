"""Torch modules built from :mod:`skff.functional`.

Which estimator keeps which network in ``module_`` (on the CPU):

* :class:`~skff.FFClassifier`, :class:`~skff.PolarFFClassifier`: a
  :class:`~skff.nn.ForwardForwardNetwork`, scored by a
  :class:`~skff.nn.GoodnessObjective`;
* :class:`~skff.SCFFTransformer`: a :class:`~skff.nn.SCFFNetwork` of
  :class:`~skff.nn.DenseSCFFLayer`, :class:`~skff.nn.ConvSCFFLayer` or
  :class:`~skff.nn.BiRNNSCFFLayer`;
* :class:`~skff.ActivationLearningAnomalyDetector`: an
  :class:`~skff.nn.ActivationLearningNetwork` of
  :class:`~skff.nn.CompetitiveLayer`.

Learning is layer-local: the activity a layer passes on is detached, so no
gradient crosses a layer boundary. The networks are driven through their
methods (losses per layer, scores, features), not called like
``module(x)``.
"""

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
