"""The metrics `deepedge.export.export_model` checks parity on, for any model's outputs (numpy only).

Each takes `(y_true, y_pred)` as arrays with one row per example and returns one number:
`accuracy` and `mean_iou` in percent (higher is better), `mae` in the unit of `y_true` (lower
is better). `METRICS` says, per name, which direction is better, what loss to quantization an
export allows by default, and whether that allowance is a percentage of the float figure.
"""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.ops.dense import confusion_matrix, metric_from_confusion


def _check_rows(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, np.float32)
    if len(y_true) != len(y_pred):
        raise InvalidInputError(f"The labels hold {len(y_true)} examples, the model's output {len(y_pred)}. "
                                "Pass one label per example.")
    return y_true, y_pred


def predicted_classes(y_pred):
    """Class indices from scores: the arg max of the last axis, or for one score per example
    (a sigmoid or a logit, last axis of size 1 or none) whether it passes 0.5 (scores all in
    0..1) or 0 (logits)."""
    y_pred = np.asarray(y_pred, np.float32)
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        return np.argmax(y_pred, axis=-1)
    scores = y_pred.reshape(y_pred.shape[:-1] if y_pred.ndim >= 2 else y_pred.shape)
    threshold = 0.5 if scores.size and scores.min() >= 0 and scores.max() <= 1 else 0.0
    return (scores > threshold).astype(np.int64)


def _true_classes(y_true, predicted):
    """Labels as class indices shaped like `predicted` (one-hot labels are read by their arg max)."""
    if y_true.ndim == predicted.ndim + 1 and y_true.shape[-1] > 1:
        y_true = np.argmax(y_true, axis=-1)
    if y_true.ndim == predicted.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != predicted.shape:
        raise InvalidInputError(f"Labels of shape {y_true.shape} do not match the model's predictions of shape "
                                f"{predicted.shape}. Pass one class index (or one-hot row) per example, or per pixel.")
    return y_true


def accuracy(y_true, y_pred):
    """Percent of examples (or pixels) whose predicted class is the label."""
    y_true, y_pred = _check_rows(y_true, y_pred)
    predicted = predicted_classes(y_pred)
    return float(100.0 * np.mean(_true_classes(y_true, predicted) == predicted))


def mean_iou(y_true, y_pred):
    """Mean intersection over union of the classes, in percent: `y_pred` per-pixel scores
    `(N, ..., classes)`, `y_true` class indices `(N, ...)`."""
    y_true, y_pred = _check_rows(y_true, y_pred)
    predicted = predicted_classes(y_pred)
    classes = y_pred.shape[-1] if y_pred.ndim >= 2 and y_pred.shape[-1] > 1 else 2
    confusion = confusion_matrix(predicted, _true_classes(y_true, predicted).astype(np.int64), classes)
    return metric_from_confusion(confusion, "mean_iou")


def mae(y_true, y_pred):
    """Mean absolute error, in the unit of `y_true`."""
    y_true, y_pred = _check_rows(y_true, y_pred)
    y_true = y_true.astype(np.float32).reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    if y_true.shape != y_pred.shape:
        raise InvalidInputError(f"Targets of shape {y_true.shape} do not match the model's outputs of shape "
                                f"{y_pred.shape}. Pass one target per output value.")
    return float(np.mean(np.abs(y_true - y_pred)))


# name -> (function, higher is better, default allowed loss, allowance relative to the float figure)
METRICS = {
    "accuracy": (accuracy, True, 1.0, False),
    "mean_iou": (mean_iou, True, 1.0, False),
    "mae": (mae, False, 5.0, True),
}


__all__ = ["METRICS", "accuracy", "mae", "mean_iou", "predicted_classes"]
