"""Reusable Keras layers shared by the application families."""

from deepedge.layers.separable import DepthwiseSeparableConv

__all__ = ["DepthwiseSeparableConv"]
