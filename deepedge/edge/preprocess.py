"""Input checks shared by the Keras tasks and the on-device runtime (numpy only)."""

import numpy as np

from deepedge.errors import InvalidInputError

_IMAGE_DTYPES = (np.uint8, np.float32, np.float64, np.float16, np.int32, np.int64, np.int16)


def standardize_images(images, image_shape):
    """Returns `images` as a float32 batch of shape (N, *image_shape), values 0..255.

    Accepts one image or a batch, with or without the channel axis for grey images, in
    uint8 or float. Raises `InvalidInputError` naming what was received otherwise.
    """
    height, width, channels = image_shape
    array = np.asarray(images)
    if array.dtype == object or not any(array.dtype == d for d in _IMAGE_DTYPES):
        raise InvalidInputError(
            f"Images must be uint8 (0..255) or float arrays. Received: dtype={array.dtype}. "
            "Pass a numpy array, for example `np.asarray(pil_image)`.")
    if channels == 1 and array.ndim in (2, 3) and array.shape[-2:] == (height, width):
        array = array[..., None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or tuple(array.shape[1:]) != (height, width, channels):
        raise InvalidInputError(
            f"Expected images of shape (N, {height}, {width}, {channels}) or one image of shape "
            f"({height}, {width}, {channels}). Received: shape={tuple(np.shape(images))}. "
            "Resize the images to the model's input size first.")
    if len(array) == 0:
        raise InvalidInputError("Received an empty batch of images (N=0).")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise InvalidInputError("Images contain NaN or infinite values.")
    if array.min() < 0 or array.max() > 255:
        raise InvalidInputError(
            "Image values must lie in 0..255 (raw pixels). Received values from "
            f"{array.min():g} to {array.max():g}. Pass raw pixels, not normalised ones.")
    return array


def top_k_labels(scores, class_names, k=1):
    """For each row of `scores`, the `k` best (label, score) pairs, best first."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[-1])
    order = np.argsort(-scores, axis=-1, kind="stable")[:, :k]
    return [[(class_names[i], float(row[i])) for i in idx] for row, idx in zip(scores, order)]
