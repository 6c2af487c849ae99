"""Application families, each a task class with presets. Importing this imports Keras."""

from deepedge.apps.image_recognition import ImageClassifier
from deepedge.apps.language_modelling import NPLM, LSTMLanguageModel
from deepedge.apps.scene_labelling import SceneLabeller
from deepedge.apps.speech import KeywordSpotter, SpeechRecognizer

TASKS = {"image_classification": ImageClassifier, "language_model": LSTMLanguageModel,
         "scene_labelling": SceneLabeller, "keyword_spotting": KeywordSpotter,
         "speech_recognition": SpeechRecognizer}

__all__ = ["ImageClassifier", "KeywordSpotter", "LSTMLanguageModel", "NPLM", "SceneLabeller", "SpeechRecognizer",
           "TASKS"]
