"""On-device image classifier: raw uint8 images in, class probabilities out."""

import numpy as np

from deepedge.ops.preprocess import images_and_labels, standardize_images, top_k_labels
from deepedge.runtime.base import EdgeModel


class EdgeImageClassifier(EdgeModel):
    """On-device image classifier: raw uint8 images in, probabilities or labels out."""

    task_name = "image_classification"
    metadata_fields = {"labels": "strings"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self._check_rank(self.input_specs[0], "(1, height, width, channels)")
        self._check_rank(self.output_specs[0], "(1, classes)")
        self._check_classes("labels", len(self.class_names), self.output_specs[0])
        self.image_shape = tuple(self.input_specs[0]["shape"][1:])

    def predict(self, images):
        """Probabilities, shape (N, num_classes), for one image or a batch of raw images."""
        images = standardize_images(images, self.image_shape)
        return np.concatenate([self.invoke(image[None])[0] for image in images])

    def classify(self, images, top_k=1):
        """The `top_k` (class name, probability) pairs for each image, best first."""
        from deepedge.validation import positive_int

        positive_int("top_k", top_k, hint="Pass how many of the best labels to list, 1 or more.")
        return top_k_labels(self.predict(images), self.class_names, top_k)

    def evaluate_metric(self, data):
        """Accuracy in percent on `data` (`.images`/`.labels`, or an `(images, labels)` tuple)."""
        images, labels = images_and_labels(data)
        return float(100.0 * np.mean(np.argmax(self.predict(images), axis=-1) == labels))
