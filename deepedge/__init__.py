"""deepedge: the systems of the 2015 Nature review "Deep learning" as Keras applications
that ship to phones and embedded accelerators as full-integer LiteRT models.

`import deepedge` is light: TensorFlow loads only when a Keras task is used
(`deepedge.ImageClassifier`), never for the on-device runtime (`deepedge.edge.load`).
"""

from deepedge.lazy import lazy_attributes

__version__ = "0.1.0"

_LAZY = {"ImageClassifier": "deepedge.apps", "LSTMLanguageModel": "deepedge.apps", "NPLM": "deepedge.apps"}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = ["ImageClassifier", "LSTMLanguageModel", "NPLM", "__version__"]
