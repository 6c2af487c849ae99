"""Image recognition: LeNet-5 and a depthwise-separable edge net (the paper's Fig. 2 ConvNets)."""

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "EdgeNetBackbone": "deepedge.apps.image_recognition.backbones",
    "LeNet5Backbone": "deepedge.apps.image_recognition.backbones",
    "ImageClassifier": "deepedge.apps.image_recognition.image_classifier",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
