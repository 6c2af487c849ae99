"""`ImageClassifier`: preprocessing, a ConvNet backbone and a softmax head in one Keras model."""

import numpy as np

from deepedge.apps.image_recognition.backbones import BACKBONES
from deepedge.apps.image_recognition.presets import ARCHITECTURES, TRAINED
from deepedge.apps.task import ClassifierCompileMixin, Task
from deepedge.backend import keras
from deepedge.ops.preprocess import standardize_images, top_k_labels
from deepedge.training import losses  # noqa: F401  (registers the label-smoothing loss recipes compile with)


@keras.saving.register_keras_serializable(package="deepedge")
class ImageClassifier(ClassifierCompileMixin, Task, keras.Model):
    """An image classifier that takes raw pixels and returns class probabilities.

    The model is `Rescaling` (pixels 0..255 to the backbone's range) -> backbone ->
    `Dense(num_classes, softmax)`, so the exported LiteRT model takes raw images too.

    Args:
        backbone: a backbone model from `deepedge.apps.image_recognition.backbones`, or any
            functional Keras model with an `image_shape` attribute that maps images to a
            feature vector.
        class_names: list of str. One name per class.
        image_scale: float. Pixels are multiplied by this... Defaults to `1/255`.
        image_offset: float. ...and then this is added. Defaults to `0.0`.

    Example:

    >>> classifier = ImageClassifier.from_preset("fashion_edgenet")
    >>> classifier.classify(images[:2])
    [[('Ankle boot', 0.99)], [('Pullover', 0.97)]]
    """

    family = "image_recognition"
    task_name = "image_classification"
    metric_name = "accuracy"
    metric_higher_is_better = True
    parity_threshold = 0.5  # accuracy points an int8 export may lose
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, backbone, class_names, image_scale=1.0 / 255.0, image_offset=0.0, **kwargs):
        class_names = [str(c) for c in class_names]
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise ValueError("`class_names` must hold at least two distinct names. "
                             f"Received: class_names={class_names!r}")
        if not hasattr(backbone, "image_shape"):
            raise ValueError("`backbone` must have an `image_shape` attribute (height, width, channels). "
                             f"Received: backbone={backbone!r}")
        # === Functional Model ===
        inputs = keras.Input(shape=backbone.image_shape, name="images")
        x = keras.layers.Rescaling(image_scale, image_offset, name="preprocess")(inputs)
        x = backbone(x)
        outputs = keras.layers.Dense(len(class_names), activation="softmax", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.class_names = class_names
        self.image_scale = float(image_scale)
        self.image_offset = float(image_offset)

    @property
    def image_shape(self):
        return tuple(self.backbone.image_shape)

    def predict(self, x, batch_size=256, verbose="auto", steps=None, callbacks=None):
        """Class probabilities, shape (N, num_classes), for raw uint8 or float images."""
        if not hasattr(x, "element_spec") and not isinstance(x, keras.utils.PyDataset):
            x = standardize_images(x, self.image_shape)
        return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def classify(self, images, top_k=1):
        """The `top_k` (class name, probability) pairs for each image, best first."""
        from deepedge.validation import positive_int

        positive_int("top_k", top_k, hint="Pass how many of the best labels to list, 1 or more.")
        images = standardize_images(images, self.image_shape)
        scores = np.concatenate([keras.ops.convert_to_numpy(self(images[i:i + 256], training=False))
                                 for i in range(0, len(images), 256)])
        return top_k_labels(scores, self.class_names, top_k)

    def evaluate_metric(self, data, batch_size=256):
        """Accuracy in percent on `data` (`.images`/`.labels`, or an `(images, labels)` tuple)."""
        images, labels = (data.images, data.labels) if hasattr(data, "images") else data
        images = standardize_images(images, self.image_shape)
        predictions = [np.argmax(keras.ops.convert_to_numpy(self(images[i:i + batch_size], training=False)), -1)
                       for i in range(0, len(images), batch_size)]
        return float(100.0 * np.mean(np.concatenate(predictions) == np.asarray(labels)))

    def edge_metadata(self):
        """What the on-device runtime needs beyond the `.tflite`: labels and the input's meaning."""
        return {"labels": list(self.class_names),
                "input": {"kind": "image", "shape": list(self.image_shape), "range": [0, 255],
                          "preprocessing": f"x * {self.image_scale:.6g} + {self.image_offset:.6g} (in the graph)"},
                "params": int(self.count_params())}

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, class_names=None, image_shape=None):
        """An untrained classifier of the architecture preset `name` (`"edgenet"`) for `class_names`."""
        if class_names is None:
            raise ValueError(f"The architecture preset {name!r} needs `class_names`.")
        arch = ARCHITECTURES[name]
        config = dict(arch["backbone_config"])
        if image_shape is not None:
            config["image_shape"] = tuple(image_shape)
        backbone = BACKBONES[arch["backbone"]](**config)
        return cls(backbone, class_names, image_scale=arch["image_scale"], image_offset=arch["image_offset"])

    # === Config ===
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "class_names": list(self.class_names), "image_scale": self.image_scale,
                "image_offset": self.image_offset}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
