"""Losses: class-weighted cross-entropy for dense prediction, label smoothing for classifiers."""

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


@keras.saving.register_keras_serializable(package="deepedge")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy against labels smoothed towards uniform.

    The target puts `1 - label_smoothing` on the true class and spreads `label_smoothing`
    evenly over all classes (Szegedy et al. 2016), which keeps a classifier from driving its
    training examples to certainty. Keras's `SparseCategoricalCrossentropy` has no
    `label_smoothing`, and one-hot targets would cost memory on large label sets.

    Args:
        label_smoothing: float in [0, 1). `0` is plain cross-entropy.
        from_logits: bool. Whether `y_pred` holds logits; by default probabilities (after softmax).
    """

    def __init__(self, label_smoothing=0.1, from_logits=False, name="smoothed_sparse_categorical_crossentropy",
                 **kwargs):
        label_smoothing = float(label_smoothing)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
        super().__init__(name=name, **kwargs)
        self.label_smoothing, self.from_logits = label_smoothing, bool(from_logits)

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(y_true, "int32")
        nll = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits)
        if not self.label_smoothing:
            return nll
        if self.from_logits:
            log_probabilities = keras.ops.log_softmax(y_pred, axis=-1)
        else:
            log_probabilities = keras.ops.log(keras.ops.clip(y_pred, keras.backend.epsilon(), 1.0))
        uniform = -keras.ops.mean(log_probabilities, axis=-1)
        return (1.0 - self.label_smoothing) * nll + self.label_smoothing * uniform

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "from_logits": self.from_logits}


def balanced_class_weights(labels, num_classes, power=0.5):
    """Weights `(1 / frequency) ** power`, scaled so the pixel-weighted mean is 1.

    `power=0.5` (the default) is a middle way between no weighting (0) and full inverse
    frequency (1), which over-weights tiny classes into noisy gradients.
    """
    counts = np.bincount(np.asarray(labels).ravel(), minlength=num_classes).astype(np.float64)
    frequency = np.maximum(counts / counts.sum(), 1e-4)
    weights = frequency ** -power
    return (weights / np.sum(weights * frequency)).round(4).tolist()
