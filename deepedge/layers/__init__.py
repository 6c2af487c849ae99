"""Reusable Keras layers shared by the application families."""

from deepedge.layers.attention import AdditiveAttention
from deepedge.layers.backbone import Backbone
from deepedge.layers.embedding import ReversibleEmbedding
from deepedge.layers.recurrent import CellStateUpdate, GatewiseLSTMStep, StepSelect
from deepedge.layers.separable import DepthwiseSeparableConv
from deepedge.layers.subsampling import Subsampling

__all__ = ["AdditiveAttention", "Backbone", "CellStateUpdate", "DepthwiseSeparableConv", "GatewiseLSTMStep", "ReversibleEmbedding", "StepSelect", "Subsampling"]
