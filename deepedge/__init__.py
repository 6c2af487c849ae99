"""deepedge: the systems of the 2015 Nature review "Deep learning" as Keras applications
that ship to phones and embedded accelerators as full-integer LiteRT models.

`import deepedge` is light: TensorFlow loads only when a Keras task is used
(`deepedge.ImageClassifier`), never for the on-device runtime (`deepedge.edge.load`).
"""

__version__ = "0.1.0"

_LAZY = {"ImageClassifier": "deepedge.apps", "LSTMLanguageModel": "deepedge.apps", "NPLM": "deepedge.apps"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deepedge' has no attribute {name!r}")


__all__ = ["ImageClassifier", "LSTMLanguageModel", "NPLM", "__version__"]
