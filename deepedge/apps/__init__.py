"""Application families, each a task class with presets. Importing this imports Keras."""

from deepedge.apps.image_recognition import ImageClassifier
from deepedge.apps.language_modelling import NPLM, LSTMLanguageModel

TASKS = {"image_classification": ImageClassifier, "language_model": LSTMLanguageModel}

__all__ = ["ImageClassifier", "LSTMLanguageModel", "NPLM", "TASKS"]
