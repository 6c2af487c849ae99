"""Speech: keyword spotting (a DS-CNN, "Hello Edge") and streaming CTC recognition, with the
log-mel front end inside the model."""

from deepedge.lazy import lazy_attributes

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "CTCLoss": "deepedge.apps.speech.speech_recognizer",
    "KeywordSpotter": "deepedge.apps.speech.keyword_spotter",
    "LogMelSpectrogram": "deepedge.apps.speech.frontend",
    "SpecAugment": "deepedge.apps.speech.frontend",
    "SpeechRecognizer": "deepedge.apps.speech.speech_recognizer",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
