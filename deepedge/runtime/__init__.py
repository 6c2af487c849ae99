"""The on-device runtime: LiteRT interpreter and numpy only, never TensorFlow or Keras.

`load(path)` reads `model.tflite` and `model.json`, checks that they belong together, and
returns the task's runtime class (`EdgeImageClassifier`, ...; `deepedge.registry` says which)
with the same `predict` on raw inputs as the Keras task. A phone-side install
(`pip install deepedge[edge]`) has everything this package imports.
"""

from deepedge.lazy import lazy_attributes
from deepedge.runtime.base import EdgeModel, EdgeStepModel, check_input, dequantize, quantize, tensor_spec
from deepedge.runtime.metadata import read_metadata, resolve_model_paths


def load(path, num_threads=1):
    """Loads an exported model as its task's runtime: a folder (or its `.tflite` / `model.json`),
    or the name of a shipped model (`load("fashion_edgenet")`, as `from_preset` on the Keras side).
    A model deepedge did not build (`deepedge.export.export_model`) loads as `EdgeKerasModel`."""
    from deepedge.presets import resolve_model
    from deepedge.registry import runtime_class

    path = resolve_model(path) if _is_bare_name(path) else path
    _, json_path = resolve_model_paths(path)
    return runtime_class(read_metadata(json_path).get("task"))(path, num_threads=num_threads)


def _is_bare_name(path):
    """A string that names no existing file and has no folder or suffix in it: a shipped model's name."""
    from pathlib import Path

    return isinstance(path, str) and not Path(path).exists() and "/" not in path and "\\" not in path \
        and not Path(path).suffix


_LAZY = {
    "EdgeImageClassifier": "deepedge.runtime.image_classifier",
    "EdgeLanguageModel": "deepedge.runtime.language_model",
    "EdgeSceneLabeller": "deepedge.runtime.scene_labeller",
    "EdgeKeywordSpotter": "deepedge.runtime.keyword_spotter",
    "EdgeSpeechRecognizer": "deepedge.runtime.speech_recognizer",
    "EdgeTranslator": "deepedge.runtime.translator",
    "EdgeCaptioner": "deepedge.runtime.captioner",
    "EdgeKerasModel": "deepedge.runtime.keras_model",
    "measure_latency": "deepedge.runtime.bench",
    "io_metadata": "deepedge.runtime.base",
    "signature_io": "deepedge.runtime.base",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = ["EdgeModel", "EdgeStepModel", "check_input", "dequantize", "load", "quantize", "tensor_spec", *sorted(_LAZY)]
