"""On-device scene labeller: images of any size in, a class for every pixel out, tiled."""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.runtime.base import EdgeModel


class EdgeSceneLabeller(EdgeModel):
    """On-device scene labeller: raw images of any size in, a class for every pixel out.

    The LiteRT model takes one square tile (`tile` pixels). An image of that size runs in
    one call; a smaller one is mirrored out to it; a larger one is cut into tiles that
    overlap by `margin` pixels, and only each tile's centre is kept (`tiled_predict`).
    `SceneLabeller.predict(..., tiled=True)` does the same in Keras.
    """

    task_name = "scene_labelling"
    metadata_fields = {"labels": "strings", "palette": "colours", "input": "object", "input.tile_margin?": "count",
                       "metric_name?": "text"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self.palette = [tuple(c) for c in self.metadata["palette"]]
        self._check_rank(self.input_specs[0], "(1, tile, tile, channels)")
        self._check_rank(self.output_specs[0], "(1, tile, tile, classes)")
        self._check_classes("labels", len(self.class_names), self.output_specs[0])
        self._check_classes("palette colours", len(self.palette), self.output_specs[0])
        self.metric_name = self.metadata.get("metric_name", "mean_iou")
        _, self.tile, _, self.channels = self.input_specs[0]["shape"]
        self.margin = int(self.metadata["input"].get("tile_margin", self.tile // 8))

    def _predict_tile(self, tile):
        return self.invoke(tile[None])[0][0]

    def predict(self, images):
        """Per-pixel class probabilities (N, H, W, num_classes) for one image or a batch."""
        from deepedge.ops.dense import standardize_dense_images, tiled_predict

        images = standardize_dense_images(images, self.channels)
        return np.stack([tiled_predict(image, self._predict_tile, self.tile, self.margin) for image in images])

    def label(self, images):
        """Label maps: uint8 (H, W) for one image, (N, H, W) for a batch."""
        from deepedge.validation import uniform_images

        array = uniform_images("images", images)
        single = array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == self.channels)
        labels = np.argmax(self.predict(images), -1).astype(np.uint8)
        return labels[0] if single else labels

    def confusion(self, data):
        """The confusion matrix (true rows, predicted columns) over every pixel of `data`."""
        from deepedge.ops.dense import as_images_and_masks, confusion_matrix

        images, masks = as_images_and_masks(data)
        total = np.zeros((len(self.class_names),) * 2, np.int64)
        for image, mask in zip(images, masks):
            total += confusion_matrix(self.label(image[None])[0], mask, len(self.class_names))
        return total

    def evaluate_metric(self, data):
        """The model's metric (`metric_name`: mean or foreground IoU), in percent."""
        from deepedge.ops.dense import metric_from_confusion

        return metric_from_confusion(self.confusion(data), self.metric_name)

    def evaluate_scores(self, data):
        """Pixel accuracy, mean IoU and IoU per class (fractions)."""
        from deepedge.ops.dense import segmentation_scores

        return segmentation_scores(self.confusion(data), self.class_names)

    def overlay(self, image, alpha=0.5):
        """`(label_map, rgb)`: the labels of one image and the image painted with them."""
        from deepedge.ops.dense import overlay

        labels = self.label(image)
        if labels.ndim != 2:
            raise InvalidInputError(f"`overlay` takes one image. Received a batch of {len(labels)}.")
        return labels, overlay(image, labels, self.palette, alpha)
