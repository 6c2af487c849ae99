"""Keras -> LiteRT (this package imports TensorFlow): conversion with builtin ops only, int8
calibration, the parity check on the task metric, `model.json` and the model card.

`deepedge.export.export(task, path, ...)` is the entry point; `convert` and
`convert_signatures` turn one Keras model, or a recurrent model's step-wise signatures, into
a flatbuffer.
"""

_LAZY = {"export": "deepedge.export.exporter", "convert": "deepedge.export.convert",
         "convert_signatures": "deepedge.export.convert", "write_model_card": "deepedge.export.card"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deepedge.export' has no attribute {name!r}")


__all__ = sorted(_LAZY)
