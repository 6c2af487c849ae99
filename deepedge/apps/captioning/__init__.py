"""Image captioning: a ConvNet reads the image and an LSTM writes the caption, with or without
soft attention over the feature grid (Vinyals et al. 2014; Xu et al. 2015)."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {"Captioner": "deepedge.apps.captioning.captioner"}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = sorted(_LAZY)
