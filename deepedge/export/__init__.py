"""Keras -> LiteRT (this package imports TensorFlow): conversion with builtin ops only, int8
calibration, the parity check on the task metric, `model.json` and the model card.

`deepedge.export.export(task, path, ...)` is the entry point for deepedge's tasks and
`deepedge.export.export_model(model, path, ...)` for any other Keras model; `diagnose` lists
every reason a model will not convert, before converting; `convert` and `convert_signatures`
turn one Keras model, or a recurrent model's step-wise signatures, into a flatbuffer.
"""

from deepedge.lazy import lazy_attributes

_LAZY = {"export": "deepedge.export.exporter", "export_model": "deepedge.export.model_export",
         "diagnose": "deepedge.export.doctor", "convert": "deepedge.export.convert",
         "convert_signatures": "deepedge.export.convert", "write_model_card": "deepedge.export.card"}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
