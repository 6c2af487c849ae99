"""Scene labelling: a class for every pixel (Farabet et al.'s multiscale ConvNet, a compact encoder-decoder)."""

from deepedge.apps.scene_labelling.backbones import EncoderDecoderBackbone, MultiscaleBackbone
from deepedge.apps.scene_labelling.labeller import SceneLabeller

__all__ = ["EncoderDecoderBackbone", "MultiscaleBackbone", "SceneLabeller"]
