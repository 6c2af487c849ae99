"""Language modelling: NPLM and LSTM language models, trained on Jane Austen, generating on device."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "LSTMLanguageModel": "deepedge.apps.language_modelling.language_model",
    "LanguageModel": "deepedge.apps.language_modelling.language_model",
    "NPLM": "deepedge.apps.language_modelling.language_model",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
