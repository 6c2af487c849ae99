"""Speech: keyword spotting (a DS-CNN, "Hello Edge") with the log-mel front end inside the model."""

from deepedge.apps.speech.frontend import LogMelSpectrogram, SpecAugment
from deepedge.apps.speech.keyword_spotter import KeywordSpotter

__all__ = ["KeywordSpotter", "LogMelSpectrogram", "SpecAugment"]
