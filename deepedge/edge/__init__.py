"""The edge toolkit in one name: `deepedge.edge.load` (the on-device runtime, no TensorFlow)
and `deepedge.edge.export` (the LiteRT exporter, TensorFlow imported when first called).

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
    "measure_latency": "deepedge.runtime.bench",
    "export": "deepedge.export.exporter",
    "convert": "deepedge.export.convert",
    "convert_signatures": "deepedge.export.convert",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = sorted(_LAZY)
