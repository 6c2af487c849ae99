"""On-device glimpse agent: the numpy retina moves over the image, the int8 step decides where next.

The `.tflite` holds one `step`: `(glimpse, location, h, c) -> (probabilities, next_location,
h, c)`. `classify` runs `glimpses` steps per image: the first glimpse looks at the centre, each
later one where the previous step pointed, and the last step's probabilities are the answer.
The image itself never enters the interpreter, so its size costs nothing but the crop.

An agent whose locator is a spatial softmax over the coarsest patch (`locator="saliency"`)
moves by offsets measured in pixels of the canvas it was trained on (`canvas` in model.json):
on an image of another size its moves are rescaled to cover the same pixels (near the border
a move the step clipped may then fall short of the Keras agent's).
"""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.ops.glimpse import retina
from deepedge.ops.preprocess import check_pixels
from deepedge.runtime.base import EdgeStepModel


class EdgeGlimpseAgent(EdgeStepModel):
    """An exported `GlimpseAgent`.

    Args:
        path: the model folder (or its `.tflite` or `model.json`).
        num_threads: int. Interpreter threads. Defaults to `1`.
    """

    task_name = "glimpse_classification"
    metadata_fields = {"labels": "strings", "glimpses": "count", "glimpse_size": "count", "scales": "count",
                       "input": "object", "input.scale": "number"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        meta = self.metadata
        self.class_names = list(meta["labels"])
        if "probabilities" not in self._output_specs.get("step", {}):
            raise ModelFileError(f"{self.json_path}: a glimpse agent has a `step` signature with `probabilities` "
                                 f"among its outputs. Received: {sorted(self.signatures)}. Export again.")
        self._check_classes("labels", len(self.class_names), self._output_specs["step"]["probabilities"])
        self.glimpses, self.glimpse_size, self.scales = int(meta["glimpses"]), int(meta["glimpse_size"]), int(meta["scales"])
        self.input_scale = float(meta["input"]["scale"])
        self.canvas = None if meta.get("canvas") is None else np.asarray(meta["canvas"], np.float32)
        self.metric_name = "accuracy"

    def _as_images(self, images):
        from deepedge.validation import uniform_images

        array = uniform_images("images", images)
        if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 1):
            array = array[None]
        if array.ndim == 3:
            array = array[..., None]
        if array.ndim != 4 or array.shape[-1] != 1 or min(array.shape[:3]) < 1:
            raise InvalidInputError(f"Expected grey images (height, width[, 1]) or a batch (n, height, width[, 1]). "
                                    f"Received: shape={np.shape(images)}.")
        if array.dtype.kind not in "biuf":  # (complex numbers too: their imaginary part would be dropped)
            raise InvalidInputError(f"Images must be numeric (0..255). Received: dtype={array.dtype}.")
        floats = array.dtype.kind == "f"
        array = array.astype(np.float32)
        check_pixels(array, floats)
        return array

    def look(self, image):
        """`(probabilities (num_classes,), locations (glimpses, 2))` for one image `(h, w[, 1])`, 0..255."""
        images = self._as_images(image)
        if len(images) != 1:
            raise InvalidInputError(f"`look` takes one image. Received: {len(images)}.")
        scaled = images * self.input_scale
        state = self.initial_state()
        location = np.zeros((1, 2), np.float32)
        locations = []
        rescale = None
        if self.canvas is not None and tuple(self.canvas) != images.shape[1:3]:
            rescale = self.canvas / np.asarray(images.shape[1:3], np.float32)
        for _ in range(self.glimpses):
            locations.append(location[0].copy())
            glimpse = retina(scaled, location, self.glimpse_size, self.scales)
            outputs, state = self.step({"glimpse": glimpse, "location": location}, state)
            moved = outputs["next_location"]
            if rescale is not None:
                moved = location + (moved - location) * rescale
            location = np.clip(moved, -1.0, 1.0).astype(np.float32)
        return outputs["probabilities"][0], np.stack(locations)

    def predict(self, images):
        """Class probabilities `(n, num_classes)` for images `(n, height, width[, 1])` (or one image)."""
        return np.stack([self.look(image)[0] for image in self._as_images(images)])

    def evaluate_metric(self, data):
        """Accuracy on a `CanvasDataset` or `(images, labels)`."""
        images, labels = (data.images, data.labels) if hasattr(data, "images") else data
        predicted = np.argmax(self.predict(images), axis=-1)
        return float(np.mean(predicted == np.asarray(labels)))


__all__ = ["EdgeGlimpseAgent"]
