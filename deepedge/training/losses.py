"""Losses for dense prediction."""

import numpy as np

from deepedge.backend import keras


@keras.saving.register_keras_serializable(package="deepedge")
class WeightedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with a weight per true class.

    For per-pixel labels where a few classes cover most pixels (background textures) and
    the others are small (objects): weighting the rare classes up keeps the model from
    trading them away, which is what mean IoU punishes. Takes probabilities (after softmax).

    Args:
        class_weights: list of float, one per class.
    """

    def __init__(self, class_weights, name="weighted_sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(w) for w in class_weights]

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(y_true, "int32")
        losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        weights = keras.ops.take(keras.ops.convert_to_tensor(self.class_weights, losses.dtype), y_true)
        return losses * weights

    def get_config(self):
        return {**super().get_config(), "class_weights": self.class_weights}


def balanced_class_weights(labels, num_classes, power=0.5):
    """Weights `(1 / frequency) ** power`, scaled so the pixel-weighted mean is 1.

    `power=0.5` (the default) is a middle way between no weighting (0) and full inverse
    frequency (1), which over-weights tiny classes into noisy gradients.
    """
    counts = np.bincount(np.asarray(labels).ravel(), minlength=num_classes).astype(np.float64)
    frequency = np.maximum(counts / counts.sum(), 1e-4)
    weights = frequency ** -power
    return (weights / np.sum(weights * frequency)).round(4).tolist()
