"""Errors raised by deepedge.

Every error says what was wrong, what was received and what to do about it. They all derive
from `DeepEdgeError`, so `except deepedge.errors.DeepEdgeError` catches anything the library
raises on purpose.
"""


class DeepEdgeError(Exception):
    """Base class of every error deepedge raises on purpose."""


class DataNotFoundError(DeepEdgeError, FileNotFoundError):
    """A data set's source is not installed; the message names the package to install."""


class InvalidInputError(DeepEdgeError, ValueError):
    """Input to a model or a runtime has the wrong shape, dtype or range."""


class ConversionError(DeepEdgeError):
    """A model cannot be converted to LiteRT with builtin ops only.

    `ops` maps each TensorFlow op that stopped the conversion to the Keras layer using it
    (None where the converter did not say).
    """

    def __init__(self, message, ops=None):
        super().__init__(message)
        self.ops = dict(ops or {})


class ParityError(DeepEdgeError):
    """The exported model loses more of the task metric than the family's threshold allows."""


class ModelFileError(DeepEdgeError):
    """A model file is missing, truncated, foreign, or does not match its model.json."""


class PresetNotFoundError(DeepEdgeError, KeyError):
    """An unknown preset name was asked for."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class CheckpointError(DeepEdgeError):
    """A training checkpoint cannot be resumed (for example it belongs to another model)."""


class BudgetExceededError(DeepEdgeError):
    """An exported model needs more RAM (tensor arena) or flash (file) than the budget allows."""


class DistributionError(DeepEdgeError):
    """A distribution strategy cannot be set up (no TPU, a bad TF_CONFIG) or cannot train a model."""


class QuantizationAwareError(DeepEdgeError):
    """A model cannot be made quantization-aware (a layer type QAT does not cover, say)."""


class WebAssetsError(DeepEdgeError, FileNotFoundError):
    """The browser demo's runtime files (LiteRT.js from the npm registry) are missing or cannot be installed."""
