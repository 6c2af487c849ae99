"""Dense (per-pixel) prediction helpers shared by Keras and the on-device runtime (numpy only).

Intersection over union from a confusion matrix, sliding-window tiling for images of any
size on a fixed-size model, and coloured overlays of label maps.
"""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.ops.preprocess import check_pixels


def confusion_matrix(predicted, true, num_classes):
    """`(num_classes, num_classes)` int64 counts: row = true class, column = predicted class."""
    predicted = np.asarray(predicted).ravel().astype(np.int64)
    true = np.asarray(true).ravel().astype(np.int64)
    if predicted.shape != true.shape:
        raise InvalidInputError(f"Predicted and true label maps differ in size: {predicted.size} vs {true.size}.")
    if true.size and (true.min() < 0 or true.max() >= num_classes):
        raise InvalidInputError(f"True labels must lie in 0..{num_classes - 1}. "
                                f"Received values from {true.min()} to {true.max()}.")
    return np.bincount(true * num_classes + predicted, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def iou_per_class(confusion):
    """IoU of each class; NaN for a class that is neither present nor predicted."""
    confusion = np.asarray(confusion, np.float64)
    intersection = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / union, np.nan)


def segmentation_scores(confusion, class_names):
    """Pixel accuracy, mean IoU and per-class IoU (fractions, 0..1) from a confusion matrix."""
    confusion = np.asarray(confusion)
    iou = iou_per_class(confusion)
    return {"pixel_accuracy": float(np.trace(confusion) / max(1, confusion.sum())),
            "mean_iou": float(np.nanmean(iou)) if np.any(~np.isnan(iou)) else float("nan"),
            "iou": {name: (None if np.isnan(v) else round(float(v), 4)) for name, v in zip(class_names, iou)}}


def metric_from_confusion(confusion, metric):
    """`mean_iou` or `foreground_iou` (the IoU of class 1), in percent."""
    iou = iou_per_class(confusion)
    if metric == "foreground_iou":
        return float(100.0 * np.nan_to_num(iou[1]))
    return float(100.0 * np.nanmean(iou))


def pad_to_multiple(image, multiple):
    """`(padded, (height, width))`: `image` (H, W, C) mirrored out to multiples of `multiple`."""
    height, width = image.shape[:2]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h or pad_w:
        image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")
    return image, (height, width)


def _axis_tiles(size, tile, margin):
    """`(pad_before, pad_after, [(start, keep_from, keep_to)])` along one axis of the padded image."""
    if size <= tile:  # the whole axis fits in one tile: no seams, no margin needed
        return 0, tile - size, [(0, 0, size)]
    step = tile - 2 * margin
    count = -(-size // step)
    return margin, count * step - size + margin, [(i * step, margin, margin + step) for i in range(count)]


def tiled_predict(image, predict_tile, tile, margin):
    """Runs a fixed-size model over an image of any size, tile by tile, and stitches the result.

    Along an axis that fits in one tile, the tile covers it whole. Along a longer one, tiles
    overlap their neighbours by `margin` pixels on each side and only their centres are kept,
    so every output pixel sees at least `margin` pixels of context. The image is mirrored
    beyond its borders.

    Args:
        image: float array (H, W, C).
        predict_tile: callable `(tile, tile, C) -> (tile, tile, K)` scores.
        tile: int. The model's input side.
        margin: int. Context kept around each tile's centre; `0 <= 2 * margin < tile`.

    Returns:
        float32 scores (H, W, K).
    """
    if not 0 <= 2 * margin < tile:
        raise InvalidInputError(f"The tile margin must satisfy 0 <= 2*margin < tile. Received: "
                                f"margin={margin}, tile={tile}.")
    height, width = image.shape[:2]
    (top, bottom, rows), (left, right, cols) = _axis_tiles(height, tile, margin), _axis_tiles(width, tile, margin)
    padded = np.pad(image, ((top, bottom), (left, right), (0, 0)), mode="symmetric")
    out = None
    for y, y_from, y_to in rows:
        for x, x_from, x_to in cols:
            scores = np.asarray(predict_tile(padded[y:y + tile, x:x + tile]))
            if out is None:
                out = np.empty((padded.shape[0], padded.shape[1], scores.shape[-1]), np.float32)
            out[y + y_from:y + y_to, x + x_from:x + x_to] = scores[y_from:y_to, x_from:x_to]
    return out[top:top + height, left:left + width]


def colorize(label_map, palette):
    """An RGB uint8 image (H, W, 3) with each pixel painted in its class's colour."""
    palette = np.asarray(palette, np.uint8)
    label_map = np.asarray(label_map)
    if label_map.size and label_map.max() >= len(palette):
        raise InvalidInputError(f"Label {label_map.max()} has no colour: the palette has {len(palette)}.")
    return palette[label_map]


def overlay(image, label_map, palette, alpha=0.5):
    """The image (grey or RGB, 0..255) blended with its coloured label map; uint8 RGB."""
    from deepedge.validation import probability

    alpha = probability("alpha", alpha, hint="Pass how strongly to paint the labels, from 0 (not at all) to 1.")
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, -1)
    colours = colorize(label_map, palette).astype(np.float32)
    return np.clip((1 - alpha) * image + alpha * colours, 0, 255).astype(np.uint8)


def standardize_dense_images(images, channels, min_side=1):
    """`images` as a float32 batch (N, H, W, channels) of raw pixels 0..255, any H and W.

    Accepts one image ((H, W) for grey, or (H, W, C)) or a batch (N, H, W, C) of equal-size
    images, uint8 or float. Raises `InvalidInputError` naming what was received otherwise.
    """
    from deepedge.validation import uniform_images

    array = uniform_images("images", images)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidInputError(f"Images must be uint8 (0..255) or float arrays. Received: dtype={array.dtype}.")
    if array.ndim == 2 and channels == 1:
        array = array[..., None]
    if channels == 1 and array.ndim == 3 and array.shape[-1] in (3, 4):
        raise InvalidInputError(f"This model takes grey images (1 channel); this looks like a colour image of shape "
                                f"{array.shape}. Convert it to grey first (for example PIL's `.convert('L')`).")
    if array.ndim == 3 and array.shape[-1] == channels:
        array = array[None]
    elif array.ndim == 3 and channels == 1:  # a batch of grey images without the channel axis
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] != channels:
        raise InvalidInputError(f"Expected images of shape (N, H, W, {channels}) or one image of shape "
                                f"(H, W, {channels}). Received: shape={np.shape(images)}.")
    if len(array) == 0:
        raise InvalidInputError("Received an empty batch of images (N=0).")
    if min(array.shape[1:3]) < min_side:
        raise InvalidInputError(f"Images must be at least {min_side}x{min_side} pixels. "
                                f"Received: {array.shape[1]}x{array.shape[2]}.")
    floats = array.dtype.kind == "f"
    array = array.astype(np.float32, copy=False)
    check_pixels(array, floats)
    return array


def as_images_and_masks(data):
    """`(images, masks)` from a `SegmentationDataset` or an `(images, masks)` pair."""
    if hasattr(data, "masks"):
        return data.images, np.asarray(data.masks)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data[0], np.asarray(data[1])
    raise InvalidInputError("Expected a SegmentationDataset or an (images, masks) pair. "
                            f"Received: {type(data).__name__}.")
