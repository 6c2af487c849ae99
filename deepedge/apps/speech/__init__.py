"""Speech: keyword spotting (a DS-CNN, "Hello Edge") and streaming CTC recognition, with the
log-mel front end inside the model."""

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "CTCLoss": "deepedge.apps.speech.recognizer",
    "KeywordSpotter": "deepedge.apps.speech.keyword_spotter",
    "LogMelSpectrogram": "deepedge.apps.speech.frontend",
    "SpecAugment": "deepedge.apps.speech.frontend",
    "SpeechRecognizer": "deepedge.apps.speech.recognizer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
