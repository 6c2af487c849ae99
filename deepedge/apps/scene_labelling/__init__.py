"""Scene labelling: a class for every pixel (Farabet et al.'s multiscale ConvNet, a compact encoder-decoder)."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "EncoderDecoderBackbone": "deepedge.apps.scene_labelling.backbones",
    "MultiscaleBackbone": "deepedge.apps.scene_labelling.backbones",
    "SceneLabeller": "deepedge.apps.scene_labelling.scene_labeller",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
