"""Torch modules built from :mod:`skff.functional`."""

from .ff import ForwardForwardNetwork, GoodnessObjective

__all__ = ["ForwardForwardNetwork", "GoodnessObjective"]
