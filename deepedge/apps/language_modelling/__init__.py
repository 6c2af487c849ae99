"""Language modelling: NPLM and LSTM language models, trained on Jane Austen, generating on device."""

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "LSTMLanguageModel": "deepedge.apps.language_modelling.models",
    "LanguageModel": "deepedge.apps.language_modelling.models",
    "NPLM": "deepedge.apps.language_modelling.models",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
