"""The edge toolkit: export to LiteRT (needs TensorFlow) and the on-device runtime (does not).

`deepedge.edge.load(path)` and everything in `deepedge.edge.runtime` use only numpy and
`ai-edge-litert`; `deepedge.edge.export` imports TensorFlow when it is first called.
"""

_LAZY = {
    "load": "deepedge.edge.runtime",
    "EdgeModel": "deepedge.edge.runtime",
    "EdgeImageClassifier": "deepedge.edge.runtime",
    "EdgeLanguageModel": "deepedge.edge.runtime",
    "EdgeStepModel": "deepedge.edge.runtime",
    "EdgeSceneLabeller": "deepedge.edge.runtime",
    "convert_signatures": "deepedge.edge.convert",
    "measure_latency": "deepedge.edge.bench",
    "export": "deepedge.edge.convert",
    "convert": "deepedge.edge.convert",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deepedge.edge' has no attribute {name!r}")


__all__ = sorted(_LAZY)
