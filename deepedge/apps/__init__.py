"""Application families, one folder each: a Keras task (backbone + head + preprocessing), its
presets and recipes, and its `Family` (data, evaluation, export report, training, prediction,
demo) that `deepedge.registry` finds by task name. Importing this package imports nothing
heavy; the task classes import Keras when first used (`deepedge.apps.ImageClassifier`).
"""

from deepedge.lazy import lazy_attributes

_LAZY = {
    "ImageClassifier": "deepedge.apps.image_recognition.image_classifier",
    "LanguageModel": "deepedge.apps.language_modelling.language_model",
    "LSTMLanguageModel": "deepedge.apps.language_modelling.language_model",
    "NPLM": "deepedge.apps.language_modelling.language_model",
    "SceneLabeller": "deepedge.apps.scene_labelling.scene_labeller",
    "KeywordSpotter": "deepedge.apps.speech.keyword_spotter",
    "SpeechRecognizer": "deepedge.apps.speech.speech_recognizer",
    "Translator": "deepedge.apps.translation.translator",
}


def register_keras_classes():
    """Imports every registered family's Keras task classes, so that `keras.saving.load_model`
    finds them by their registered names."""
    from deepedge.registry import families

    for family in families():
        family.keras_task()


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY) + ["register_keras_classes"]
