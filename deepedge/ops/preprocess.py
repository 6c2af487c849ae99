"""Input checks and readers shared by the Keras tasks, the CLI and the on-device runtime (numpy only;
Pillow for image files)."""

import struct
import tokenize
import warnings
import zlib
from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError

_IMAGE_DTYPES = (np.uint8, np.float32, np.float64, np.float16, np.int32, np.int64, np.int16)

MAX_IMAGE_PIXELS = 50_000_000
"""The most pixels (width x height) an image file or .npy array may have; a larger one is refused
from its header, before it is decoded (a file of a few bytes can claim a picture of billions of
pixels). 50 megapixels covers 8K frames and most camera photos; set this module attribute
(`deepedge.ops.preprocess.MAX_IMAGE_PIXELS`) to take larger pictures (past 89 million pixels,
raise Pillow's own `PIL.Image.MAX_IMAGE_PIXELS` too: its bomb warning is treated as an error)."""


def check_pixels(array, floats, what="the images"):
    """Raises `InvalidInputError` unless float32 `array` holds raw pixels 0..255.

    `floats`: whether the caller passed floats. Float pixels that all lie in 0..1 (and are not
    all zero) are refused too: they look scaled to 0..1, and read as 0..255 they make a nearly
    black picture that the model labels at chance. `what` names the array in the message.
    """
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"NaN or infinite values in {what}. Pass raw pixels 0..255.")
    if array.size == 0:  # no pixel, none wrong (an empty batch: its caller decides)
        return
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 255:
        raise InvalidInputError(f"Pixel values must lie in 0..255 (raw pixels). Received values from {low:g} to "
                                f"{high:g} in {what}. Pass raw pixels, not normalised ones.")
    if floats and 0 < high <= 1:
        raise InvalidInputError(
            f"Float pixels that all lie in 0..1 (from {low:g} to {high:g} in {what}) look scaled to 0..1, but the "
            "model takes raw pixels 0..255: multiply them by 255 (for example `images * 255.0`). If the picture "
            "really is this dark, pass it as uint8.")


def standardize_images(images, image_shape):
    """Returns `images` as a float32 batch of shape (N, *image_shape), values 0..255.

    Accepts one image or a batch, with or without the channel axis for grey images, in
    uint8 or float. Raises `InvalidInputError` naming what was received otherwise.
    """
    from deepedge.validation import uniform_images

    height, width, channels = image_shape
    array = uniform_images("images", images)
    if array.size == 0:
        raise InvalidInputError(f"Received an empty batch of images: shape={array.shape}. Pass at least one image of shape "
                                f"({height}, {width}, {channels}), or a batch (N, {height}, {width}, {channels}).")
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
    floats = array.dtype.kind == "f"
    array = array.astype(np.float32, copy=False)
    check_pixels(array, floats)
    return array


def top_k_labels(scores, class_names, k=1):
    """For each row of `scores`, the `k` best (label, score) pairs, best first (all of them when
    `k` is more than there are labels)."""
    from deepedge.validation import positive_int

    scores = np.asarray(scores)
    k = min(positive_int("top_k", k, hint="Pass how many of the best labels to list, 1 or more."), scores.shape[-1])
    order = np.argsort(-scores, axis=-1, kind="stable")[:, :k]
    return [[(class_names[i], float(row[i])) for i in idx] for row, idx in zip(scores, order)]


def images_and_labels(data):
    """`(images, labels)` of a data set with `.images`/`.labels` or an `(images, labels)` tuple."""
    if hasattr(data, "images"):
        return data.images, np.asarray(data.labels)
    images, labels = data
    return images, np.asarray(labels)


def read_image(path, channels):
    """An image file (PNG, JPEG, TIFF, ... via Pillow, or a .npy array) as uint8 (H, W, channels).

    Deep files are converted by their bit depth (16-bit PNG and TIFF scaled by 255/65535, float
    TIFF in 0..1 or 0..255), not saturated. A picture over `MAX_IMAGE_PIXELS` or a damaged file
    raises `InvalidInputError`.
    """
    if not (isinstance(path, str) or hasattr(path, "__fspath__")):
        raise InvalidInputError(f"Expected the path of an image file. Received: {type(path).__name__}.")
    path = Path(path)
    if path.suffix == ".npy":
        return _read_npy(path, channels)
    image = open_image(path, f"{path} is not an image Pillow can read", "Pass a PNG, JPEG, BMP or TIFF file, "
                       "or a .npy array.")
    with image:
        return pil_pixels(image, channels, str(path))


def _read_npy(path, channels):
    try:  # mapped, not read: the header's shape is checked before anything is allocated
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, OverflowError, SyntaxError, tokenize.TokenError) as e:  # a damaged header
        raise InvalidInputError(f"{path} is not a readable .npy array: {e}") from e
    if array.ndim >= 2:
        _check_size(array.shape[1], array.shape[0], str(path))
    if array.size > 4 * MAX_IMAGE_PIXELS:
        raise InvalidInputError(f"{path} holds {array.size} values, more than an image of at most "
                                f"MAX_IMAGE_PIXELS={MAX_IMAGE_PIXELS} pixels. Pass one image.")
    array = np.array(array)
    if array.ndim == 2 and channels == 1:
        array = array[..., None]
    return array


def _check_size(width, height, name):
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidInputError(
            f"{name} is {width}x{height} pixels, more than deepedge.ops.preprocess.MAX_IMAGE_PIXELS="
            f"{MAX_IMAGE_PIXELS} (a small file can claim a huge picture). Shrink the picture first, or raise "
            "MAX_IMAGE_PIXELS if you trust the file.")


def open_image(source, unreadable, advice):
    """The decoded PIL image of a path, file object or bytes, refusing decompression bombs.

    The pixel count in the header is checked against `MAX_IMAGE_PIXELS` before decoding; a
    missing file, an unknown format or damaged data raises `InvalidInputError` starting
    `unreadable` (`No image file at ...` for a missing path) and ending with `advice`.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise InvalidInputError("Reading image files needs Pillow: pip install pillow "
                                "(or pass a .npy array).") from e
    if not isinstance(source, (str, bytes, bytearray)) and not hasattr(source, "__fspath__") \
            and not hasattr(source, "read"):
        raise InvalidInputError(f"{unreadable}: expected a path, a file object or bytes. Received: "
                                f"{type(source).__name__}. {advice}")
    name = "The image" if isinstance(source, (bytes, bytearray)) or hasattr(source, "read") else str(source)
    if isinstance(source, (bytes, bytearray)):
        import io

        source = io.BytesIO(source)
    image = None
    try:
        with warnings.catch_warnings():  # Pillow's bomb warning (over PIL.Image.MAX_IMAGE_PIXELS) as an error
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            _check_size(image.width, image.height, name)
            if image.width < 1 or image.height < 1:
                raise InvalidInputError(f"{name} is an empty image ({image.width}x{image.height} pixels).")
            image.load()
        return image
    except InvalidInputError:
        if image is not None:
            image.close()
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        pixels = str(e).split(" pixels")[0].split("(")[-1]  # "Image size (N pixels) exceeds limit of ..."
        raise InvalidInputError(
            f"{name} claims a picture of {pixels} pixels, more than deepedge.ops.preprocess.MAX_IMAGE_PIXELS="
            f"{MAX_IMAGE_PIXELS} (a small file can claim a huge picture). Shrink the picture first.") from e
    except FileNotFoundError as e:
        raise InvalidInputError(f"No image file at {name}.") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
            struct.error, zlib.error) as e:  # what Pillow's decoders raise on damaged data
        if image is not None:
            image.close()
        raise InvalidInputError(f"{unreadable} ({type(e).__name__}: {e}). {advice}") from e


def pil_pixels(image, channels, name="The image"):
    """A PIL image as uint8 `(H, W, channels)`, converted by its real bit depth.

    16-bit integer images (modes `I;16*`, and `I` holding 0..65535) are scaled by 255/65535;
    float images (`F`) in 0..1 by 255, in 0..255 as they are. Other ranges are refused with
    `InvalidInputError`: they have no known white. 8-bit modes go through Pillow's `convert`.
    """
    mode = image.mode
    if not (mode.startswith("I") or mode == "F"):
        return np.asarray(image.convert("L" if channels == 1 else "RGB")).reshape(image.height, image.width,
                                                                                  channels)
    values = np.asarray(image).astype(np.float32).reshape(image.height, image.width)
    low, high = (float(values.min()), float(values.max())) if np.all(np.isfinite(values)) else (np.nan, np.nan)
    if mode == "F":
        if not (low >= 0 and high <= 255):
            raise InvalidInputError(
                f"{name} holds float pixels from {low:g} to {high:g}; float images must lie in 0..1 or 0..255. "
                "Rescale it (for example to 0..1), or save it as an 8- or 16-bit image.")
        scale = 255.0 if high <= 1 else 1.0
    else:
        if not (low >= 0 and high <= 65535):
            raise InvalidInputError(
                f"{name} holds integer pixels from {low:g} to {high:g} (mode {mode}); deepedge reads 8 and 16 bits "
                "per channel (0..65535). Save it as an 8- or 16-bit image.")
        scale = 255.0 / 65535.0
    grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)[..., None]
    return np.repeat(grey, channels, axis=-1) if channels != 1 else grey
