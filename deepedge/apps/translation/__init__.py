"""Translation: encoder-decoder LSTMs (Sutskever et al.) and additive attention (Bahdanau et al.),
exported as `encode` + `decode_step` signatures with beam search on device."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {"Translator": "deepedge.apps.translation.translator"}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = sorted(_LAZY)
