"""Language modelling: NPLM and LSTM language models, trained on Jane Austen, generating on device."""

from deepedge.apps.language_modelling.models import NPLM, LanguageModel, LSTMLanguageModel

__all__ = ["LSTMLanguageModel", "LanguageModel", "NPLM"]
