"""The on-device runtime: LiteRT interpreter and numpy only, never TensorFlow or Keras.

`load(path)` reads `model.tflite` and `model.json`, checks that they belong together, and
returns the task's runtime class (`EdgeImageClassifier`, ...) with the same `predict` on
raw inputs as the Keras task. Every input is checked for shape and dtype before it reaches
`set_tensor`, so bad input raises `InvalidInputError` instead of crashing the interpreter.
"""

import numpy as np

from deepedge.edge.metadata import check_tflite_file, read_metadata, resolve_model_paths
from deepedge.edge.preprocess import standardize_images, top_k_labels
from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.quiet import native_output_silenced


def _interpreter(tflite_path, num_threads=1):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise ModelFileError("The on-device runtime needs `ai-edge-litert`: "
                             "pip install 'deepedge[edge]'") from e
    check_tflite_file(tflite_path)
    try:
        with native_output_silenced():
            interpreter = Interpreter(model_path=str(tflite_path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        raise ModelFileError(f"LiteRT cannot load {tflite_path}: it is truncated or corrupt ({e}). "
                             "Export it again.") from e
    return interpreter


def tensor_spec(detail):
    scale, zero_point = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def io_metadata(tflite_path):
    """The model's inputs and outputs (name, shape, dtype, quantization) and its signatures."""
    interpreter = _interpreter(tflite_path)
    return {"inputs": [tensor_spec(d) for d in interpreter.get_input_details()],
            "outputs": [tensor_spec(d) for d in interpreter.get_output_details()],
            "signatures": interpreter.get_signature_list()}


def quantize(values, spec):
    """Float values to the tensor's integer type with its scale and zero point (or a cast)."""
    dtype = np.dtype(spec["dtype"])
    if not np.issubdtype(dtype, np.integer) or spec["scale"] == 0:
        return np.asarray(values, dtype)
    info = np.iinfo(dtype)
    q = np.rint(np.asarray(values, np.float32) / spec["scale"]) + spec["zero_point"]
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values, spec):
    if not np.issubdtype(np.dtype(spec["dtype"]), np.integer) or spec["scale"] == 0:
        return np.asarray(values, np.float32)
    return (values.astype(np.float32) - spec["zero_point"]) * spec["scale"]


class EdgeModel:
    """A LiteRT model with its `model.json`: float arrays in, float arrays out, one sample a call.

    Args:
        path: the model folder (or its `.tflite` or `model.json`).
        num_threads: int. Interpreter threads. Defaults to `1`.
    """

    task_name = None

    def __init__(self, path, num_threads=1):
        self.tflite_path, self.json_path = resolve_model_paths(path)
        self.metadata = read_metadata(self.json_path, self.tflite_path)
        self.interpreter = _interpreter(self.tflite_path, num_threads)
        self._inputs = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        actual = [tensor_spec(d) for d in self._inputs]
        for want, have in zip(self.metadata["inputs"], actual):
            if (want["shape"], want["dtype"]) != (have["shape"], have["dtype"]):
                raise ModelFileError(
                    f"{self.json_path} says input {want['name']!r} is {want['dtype']}{want['shape']}, "
                    f"but {self.tflite_path} has {have['dtype']}{have['shape']}. Export again.")
        if len(actual) != len(self.metadata["inputs"]):
            raise ModelFileError(f"{self.json_path} lists {len(self.metadata['inputs'])} inputs, "
                                 f"{self.tflite_path} has {len(actual)}. Export again.")
        self.input_specs = self.metadata["inputs"]
        self.output_specs = self.metadata["outputs"]

    def invoke(self, *inputs):
        """Runs one sample: float inputs shaped like the model's inputs; returns float outputs."""
        if len(inputs) != len(self._inputs):
            raise InvalidInputError(f"The model takes {len(self._inputs)} input(s). Received: {len(inputs)}.")
        for value, detail, spec in zip(inputs, self._inputs, self.input_specs):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(spec["shape"]):
                raise InvalidInputError(f"Input {spec['name']!r} must have shape {tuple(spec['shape'])}. "
                                        f"Received: shape={value.shape}.")
            if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
                raise InvalidInputError(f"Input {spec['name']!r} must be numeric. Received: dtype={value.dtype}.")
            self.interpreter.set_tensor(detail["index"], quantize(value, spec))
        self.interpreter.invoke()
        return [dequantize(self.interpreter.get_tensor(d["index"]), s)
                for d, s in zip(self._outputs, self.output_specs)]


class EdgeImageClassifier(EdgeModel):
    """On-device image classifier: raw uint8 images in, probabilities or labels out."""

    task_name = "image_classification"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self.image_shape = tuple(self.input_specs[0]["shape"][1:])

    def predict(self, images):
        """Probabilities, shape (N, num_classes), for one image or a batch of raw images."""
        images = standardize_images(images, self.image_shape)
        return np.concatenate([self.invoke(image[None])[0] for image in images])

    def classify(self, images, top_k=1):
        """The `top_k` (class name, probability) pairs for each image, best first."""
        return top_k_labels(self.predict(images), self.class_names, top_k)

    def evaluate_metric(self, data):
        """Accuracy in percent on `data` (`.images`/`.labels`, or an `(images, labels)` tuple)."""
        images, labels = _images_and_labels(data)
        return float(100.0 * np.mean(np.argmax(self.predict(images), axis=-1) == labels))


def _images_and_labels(data):
    if hasattr(data, "images"):
        return data.images, np.asarray(data.labels)
    images, labels = data
    return images, np.asarray(labels)


RUNTIMES = {cls.task_name: cls for cls in (EdgeImageClassifier,)}


def load(path, num_threads=1):
    """Loads an exported model folder as its task's on-device runtime."""
    _, json_path = resolve_model_paths(path)
    task = read_metadata(json_path).get("task")
    if task not in RUNTIMES:
        raise ModelFileError(f"{json_path} is a {task!r} model; this deepedge runs {sorted(RUNTIMES)}.")
    return RUNTIMES[task](path, num_threads=num_threads)
