"""Application families, each a task class with presets. Importing this imports Keras."""

from deepedge.apps.image_recognition import ImageClassifier
from deepedge.apps.language_modelling import NPLM, LSTMLanguageModel
from deepedge.apps.scene_labelling import SceneLabeller

TASKS = {"image_classification": ImageClassifier, "language_model": LSTMLanguageModel,
         "scene_labelling": SceneLabeller}

__all__ = ["ImageClassifier", "LSTMLanguageModel", "NPLM", "SceneLabeller", "TASKS"]
