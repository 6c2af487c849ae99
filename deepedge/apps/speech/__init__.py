"""Speech: keyword spotting (a DS-CNN, "Hello Edge") and streaming CTC recognition, with the
log-mel front end inside the model."""

from deepedge.apps.speech.frontend import LogMelSpectrogram, SpecAugment
from deepedge.apps.speech.keyword_spotter import KeywordSpotter
from deepedge.apps.speech.recognizer import CTCLoss, SpeechRecognizer

__all__ = ["CTCLoss", "KeywordSpotter", "LogMelSpectrogram", "SpecAugment", "SpeechRecognizer"]
