"""The edge toolkit in one name: `deepedge.edge.load` (the on-device runtime, no TensorFlow; an
exported folder or a shipped model's name), `deepedge.edge.export` (the LiteRT exporter of
deepedge's tasks) and `deepedge.edge.export_model` (of any other Keras model), TensorFlow
imported when first called.

The code lives in `deepedge.runtime` and `deepedge.export`; this module only points there.
"""

from deepedge.lazy import lazy_attributes

_LAZY = {
    "load": "deepedge.runtime",
    "EdgeModel": "deepedge.runtime",
    "EdgeStepModel": "deepedge.runtime",
    "EdgeImageClassifier": "deepedge.runtime",
    "EdgeLanguageModel": "deepedge.runtime",
    "EdgeSceneLabeller": "deepedge.runtime",
    "EdgeKeywordSpotter": "deepedge.runtime",
    "EdgeSpeechRecognizer": "deepedge.runtime",
    "EdgeKerasModel": "deepedge.runtime",
    "measure_latency": "deepedge.runtime.bench",
    "export": "deepedge.export.exporter",
    "export_model": "deepedge.export.model_export",
    "convert": "deepedge.export.convert",
    "convert_signatures": "deepedge.export.convert",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
