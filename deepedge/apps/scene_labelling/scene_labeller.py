"""`SceneLabeller`: a class for every pixel, from raw pixels, at any image size."""


import numpy as np

from deepedge.apps.scene_labelling.backbones import BACKBONES
from deepedge.apps.scene_labelling.presets import ARCHITECTURES, TRAINED
from deepedge.apps.task import ClassifierCompileMixin, Task
from deepedge.backend import keras
from deepedge.ops.dense import (
    as_images_and_masks,
    confusion_matrix,
    metric_from_confusion,
    pad_to_multiple,
    segmentation_scores,
    standardize_dense_images,
    tiled_predict,
)
from deepedge.errors import InvalidInputError
from deepedge.training import losses  # noqa: F401  (registers the weighted loss that checkpoints compile with)

METRICS = ("mean_iou", "foreground_iou")


@keras.saving.register_keras_serializable(package="deepedge")
class SceneLabeller(ClassifierCompileMixin, Task, keras.Model):
    """Labels every pixel of an image: raw pixels in, per-pixel class probabilities out.

    The model is `Rescaling` -> a fully convolutional backbone -> a 1x1 convolution scoring
    every class -> bilinear upsampling to the input size (for backbones with an output
    stride) -> softmax. It takes images of any size in Keras (`predict` mirrors them out to a
    multiple of the backbone's `size_multiple` and crops the result back); the exported
    LiteRT model has the fixed size `export_size`, and the on-device runtime tiles larger
    images with overlapping windows.

    Args:
        backbone: a backbone from `deepedge.apps.scene_labelling.backbones`.
        class_names: list of str, one per label id.
        palette: list of `(r, g, b)` per class, for overlays. Defaults to a fixed palette.
        image_scale, image_offset: floats. Pixels are scaled as `x * scale + offset`.
        metric: `"mean_iou"` (default) or `"foreground_iou"` (IoU of class 1, for
            foreground/background tasks): the metric export checks for parity.
        export_size: int. Side of the square tile the LiteRT model takes. Defaults to `128`.

    Example:

    >>> labeller = SceneLabeller.from_preset("scenes_labeller")
    >>> labeller.label(scene).shape     # a (H, W) map of class ids
    (128, 128)
    """

    family = "scene_labelling"
    task_name = "scene_labelling"
    metric_higher_is_better = True
    parity_threshold = 1.0  # IoU points (percent) an int8 export may lose
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, backbone, class_names, palette=None, image_scale=1.0 / 255.0, image_offset=0.0,
                 metric="mean_iou", export_size=128, **kwargs):
        class_names = [str(c) for c in class_names]
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise ValueError(f"`class_names` must hold at least two distinct names. Received: {class_names!r}")
        if metric not in METRICS:
            raise ValueError(f"`metric` must be one of {METRICS}. Received: metric={metric!r}")
        if not hasattr(backbone, "size_multiple"):
            raise ValueError("`backbone` must be a scene-labelling backbone (with `size_multiple` and "
                             f"`output_stride`). Received: {backbone!r}")
        export_size = int(export_size)
        if export_size < backbone.size_multiple or export_size % backbone.size_multiple:
            raise ValueError(f"`export_size` must be a positive multiple of {backbone.size_multiple} for this "
                             f"backbone. Received: export_size={export_size}")
        if palette is None:
            rng = np.random.default_rng(0)
            palette = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in class_names]
        palette = [tuple(int(v) for v in colour) for colour in palette]
        if len(palette) != len(class_names):
            raise ValueError(f"`palette` needs one colour per class ({len(class_names)}). Received {len(palette)}.")
        # === Functional Model ===
        inputs = keras.Input(shape=(None, None, backbone.channels), name="images")
        x = keras.layers.Rescaling(image_scale, image_offset, name="preprocess")(inputs)
        x = backbone(x)
        x = keras.layers.Conv2D(len(class_names), 1, name="classifier")(x)
        if backbone.output_stride > 1:
            x = keras.layers.UpSampling2D(backbone.output_stride, interpolation="bilinear", name="upsample")(x)
        outputs = keras.layers.Activation("softmax", dtype="float32", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.class_names = class_names
        self.palette = palette
        self.image_scale = float(image_scale)
        self.image_offset = float(image_offset)
        self.metric = metric
        self.export_size = export_size

    @property
    def metric_name(self):
        return self.metric

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def edge_input_shape(self):
        """The fixed input shape of the exported model: one square tile."""
        return (self.export_size, self.export_size, self.backbone.channels)

    def default_metrics(self):
        """Pixel accuracy and mean IoU (the per-pixel cross-entropy and AdamW come from the mixin)."""
        return [keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy"),
                keras.metrics.MeanIoU(self.num_classes, sparse_y_pred=False, name="mean_iou")]

    # === Inference ===
    def _standardize(self, images):
        return standardize_dense_images(images, self.backbone.channels)

    def predict(self, x, batch_size=16, verbose="auto", steps=None, callbacks=None, tiled=False):
        """Per-pixel class probabilities, shape (N, H, W, num_classes), for raw images of any size.

        `x` is one image ((H, W) or (H, W, C)) or a batch of equal-size images, uint8 or
        float pixels 0..255. Data sets and generators go to Keras's `predict` unchanged.
        With `tiled=True` the image is cut into `export_size` tiles exactly as the on-device
        runtime cuts it (the same seams, the same context): what the exported model sees.
        """
        if hasattr(x, "element_spec") or isinstance(x, keras.utils.PyDataset):
            return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)
        images = self._standardize(x)
        if tiled:
            def predict_tile(tile):
                return keras.ops.convert_to_numpy(self(tile[None], training=False))[0]

            return np.stack([tiled_predict(image, predict_tile, self.export_size, self.tile_margin)
                             for image in images])
        height, width = images.shape[1:3]
        padded = np.stack([pad_to_multiple(image, self.backbone.size_multiple)[0] for image in images])
        scores = [keras.ops.convert_to_numpy(self(padded[i:i + batch_size], training=False))
                  for i in range(0, len(padded), batch_size)]
        return np.concatenate(scores)[:, :height, :width]

    def label(self, images, batch_size=16, tiled=False):
        """Label maps: uint8 (H, W) for one image, (N, H, W) for a batch."""
        single = np.asarray(images).ndim == 2 or (np.asarray(images).ndim == 3
                                                 and np.asarray(images).shape[-1] == self.backbone.channels)
        scores = self.predict(images, batch_size=batch_size, verbose=0, tiled=tiled)
        labels = np.argmax(scores, -1).astype(np.uint8)
        return labels[0] if single else labels

    def confusion(self, data, batch_size=16, tiled=False):
        """The (num_classes, num_classes) confusion matrix over every pixel of `data`."""
        images, masks = as_images_and_masks(data)
        if len(images) != len(masks):
            raise InvalidInputError(f"{len(images)} images but {len(masks)} masks.")
        total = np.zeros((self.num_classes, self.num_classes), np.int64)
        for i in range(0, len(images), batch_size):
            predicted = self.label(np.asarray(images[i:i + batch_size]), batch_size=batch_size, tiled=tiled)
            total += confusion_matrix(predicted, masks[i:i + batch_size], self.num_classes)
        return total

    def evaluate_metric(self, data, batch_size=16, tiled=False):
        """The task metric (`metric_name`), in percent, over every pixel of `data`."""
        return metric_from_confusion(self.confusion(data, batch_size, tiled), self.metric)

    def evaluate_metric_as_exported(self, data):
        """The metric with images tiled as the runtime tiles them: what export's parity check
        compares the exported model with, so the check measures quantization alone."""
        return self.evaluate_metric(data, tiled=True)

    def evaluate_scores(self, data, batch_size=16, tiled=False):
        """Pixel accuracy, mean IoU and IoU per class (fractions) on `data`."""
        return segmentation_scores(self.confusion(data, batch_size, tiled), self.class_names)

    # === Edge ===
    def edge_metadata(self):
        """Labels, colours and the input's meaning, for the on-device runtime."""
        return {"labels": list(self.class_names), "palette": [list(c) for c in self.palette],
                "metric_name": self.metric,
                "input": {"kind": "image", "shape": list(self.edge_input_shape), "range": [0, 255],
                          "preprocessing": f"x * {self.image_scale:.6g} + {self.image_offset:.6g} (in the graph)",
                          "tiling": "images of other sizes are cut into overlapping tiles by the runtime",
                          "tile_margin": self.tile_margin},
                "params": int(self.count_params())}

    @property
    def tile_margin(self):
        """Context kept around each tile when the runtime stitches a large image (pixels)."""
        return max(self.backbone.size_multiple, self.export_size // 4)

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, class_names=None, palette=None, metric="mean_iou", channels=1,
                          **backbone_overrides):
        """An untrained labeller of the architecture preset `name` (`"encoder_decoder"`) for `class_names`."""
        if class_names is None:
            raise ValueError(f"The architecture preset {name!r} needs `class_names`.")
        arch = ARCHITECTURES[name]
        backbone = BACKBONES[arch["backbone"]](**{**arch["backbone_config"], "channels": channels,
                                                  **backbone_overrides})
        return cls(backbone, class_names, palette=palette, metric=metric, export_size=arch["export_size"])

    # === Config ===
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "class_names": list(self.class_names), "palette": [list(c) for c in self.palette],
                "image_scale": self.image_scale, "image_offset": self.image_offset, "metric": self.metric,
                "export_size": self.export_size}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
