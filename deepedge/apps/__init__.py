"""Application families, each a task class with presets. Importing this imports Keras."""

from deepedge.apps.image_recognition import ImageClassifier

TASKS = {"image_classification": ImageClassifier}

__all__ = ["ImageClassifier", "TASKS"]
