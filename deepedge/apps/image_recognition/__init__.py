"""Image recognition: LeNet-5 and a depthwise-separable edge net (the paper's Fig. 2 ConvNets)."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "EdgeNetBackbone": "deepedge.apps.image_recognition.backbones",
    "LeNet5Backbone": "deepedge.apps.image_recognition.backbones",
    "ImageClassifier": "deepedge.apps.image_recognition.image_classifier",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
