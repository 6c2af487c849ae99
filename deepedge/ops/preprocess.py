"""Input checks and readers shared by the Keras tasks, the CLI and the on-device runtime (numpy only;
Pillow for image files)."""

from pathlib import Path

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


def images_and_labels(data):
    """`(images, labels)` of a data set with `.images`/`.labels` or an `(images, labels)` tuple."""
    if hasattr(data, "images"):
        return data.images, np.asarray(data.labels)
    images, labels = data
    return images, np.asarray(labels)


def read_image(path, channels):
    """An image file (PNG, JPEG, ... via Pillow, or a .npy array) as uint8 (H, W, channels)."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise InvalidInputError(f"{path} is not a readable .npy array: {e}") from e
        if array.ndim == 2 and channels == 1:
            array = array[..., None]
        return array
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise InvalidInputError("Reading image files needs Pillow: pip install pillow "
                                "(or pass a .npy array).") from e
    try:
        with Image.open(path) as image:
            image.load()
            if image.width < 1 or image.height < 1:
                raise InvalidInputError(f"{path} is an empty image.")
            return np.asarray(image.convert("L" if channels == 1 else "RGB")).reshape(
                image.height, image.width, channels)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise InvalidInputError(f"{path} is not an image Pillow can read ({e}). "
                                "Pass a PNG, JPEG, BMP or TIFF file, or a .npy array.") from e
