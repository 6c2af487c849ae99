"""Digits and clothing placed in larger canvases, for agents that look with glimpses (Mnih et al. 2014).

| name | objects | canvas | clutter |
| --- | --- | --- | --- |
| `mnist_translated_60` | `mnist` (70,000 digits) | 60x60 | none |
| `mnist_cluttered_60` | `mnist` | 60x60 | 4 pieces |
| `mnist_cluttered_100` | `mnist` | 100x100 | 8 pieces |
| `fashion_translated_60`, `fashion_cluttered_60`, `fashion_cluttered_100` | `fashion_mnist` (70,000 items) | as above | as above |

As in Mnih et al. (2014, section 4.1): the 28x28 object is placed at a uniformly random
position wholly inside the black canvas; a cluttered canvas also gets 8x8 pieces cut from other
objects of the same split (from their central 20x20, where the strokes are) at uniformly random
positions, merged by the pixel-wise maximum, so a piece may overlap the object as in the paper.
The label is the object's class; `boxes` holds where it was put (`top, left, bottom, right`).

Splits are those of the object data sets (`mnist`: 50,000 / 10,000 / 10,000; `fashion_mnist`:
55,000 / 5,000 / 10,000), so test canvases are built only from test images, clutter included.
Validation and test canvases are fixed: one `numpy` generator seeded by the data set's name and
split draws every position and piece. Training canvases can be drawn anew each epoch
(`compose_canvases` with the epoch's generator), which is what the recipes do.
"""

import dataclasses
import zlib

import numpy as np

from deepedge.data.cache import check_split
from deepedge.errors import InvalidInputError

PIECE = 8  # clutter pieces are 8x8 (Mnih et al.)
_OBJECTS = {"mnist": "mnist", "fashion": "fashion_mnist"}
_LAYOUTS = {"translated_60": (60, 0), "cluttered_60": (60, 4), "cluttered_100": (100, 8)}
GLIMPSE_DATASETS = {f"{o}_{layout}": (objects, *_LAYOUTS[layout]) for o, objects in _OBJECTS.items()
                    for layout in _LAYOUTS}


@dataclasses.dataclass(frozen=True)
class CanvasDataset:
    """Canvases of one split: images uint8 `(n, size, size, 1)`, labels int64 `(n,)`, boxes int
    `(n, 4)` (`top, left, bottom, right` of the object), and what they were made from."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    class_names: tuple
    name: str
    split: str
    source: str
    licence: str

    def __len__(self):
        return len(self.labels)

    def take(self, n):
        """The first `n` canvases."""
        return dataclasses.replace(self, images=self.images[:n], labels=self.labels[:n], boxes=self.boxes[:n])


def compose_canvases(objects, size, distractors, rng, pool=None):
    """Canvases with each of `objects` (uint8 `(n, 28, 28[, 1])`) at a random place and
    `distractors` 8x8 pieces of random images of `pool` (default `objects`) around it.

    Returns:
        `(canvases uint8 (n, size, size, 1), boxes int64 (n, 4))`.
    """
    objects = np.asarray(objects)
    if objects.ndim == 4:
        objects = objects[..., 0]
    if objects.ndim != 3 or objects.dtype != np.uint8:
        raise InvalidInputError(f"Expected uint8 objects of shape (n, height, width[, 1]). Received: "
                                f"shape={objects.shape}, dtype={objects.dtype}.")
    n, height, width = objects.shape
    if size < max(height, width):
        raise InvalidInputError(f"A canvas must hold the whole object ({height}x{width}). Received: size={size}.")
    pool = objects if pool is None else np.asarray(pool).reshape(-1, height, width)
    canvases = np.zeros((n, size, size), np.uint8)
    tops = rng.integers(0, size - height + 1, n)
    lefts = rng.integers(0, size - width + 1, n)
    if distractors:
        margin = (height - 20) // 2  # pieces come from the central 20x20
        sources = rng.integers(0, len(pool), (n, distractors))
        cut = rng.integers(margin, margin + 20 - PIECE + 1, (n, distractors, 2))
        at = rng.integers(0, size - PIECE + 1, (n, distractors, 2))
        for i in range(n):
            for k in range(distractors):
                (r, c), (y, x) = cut[i, k], at[i, k]
                piece = pool[sources[i, k], r:r + PIECE, c:c + PIECE]
                np.maximum(canvases[i, y:y + PIECE, x:x + PIECE], piece, out=canvases[i, y:y + PIECE, x:x + PIECE])
    for i in range(n):
        region = canvases[i, tops[i]:tops[i] + height, lefts[i]:lefts[i] + width]
        np.maximum(region, objects[i], out=region)
    boxes = np.stack([tops, lefts, tops + height, lefts + width], axis=1).astype(np.int64)
    return canvases[..., None], boxes


def load_objects(name, split):
    """The objects of a glimpse data set: `mnist` (all 70,000 digits, `deepedge.data.mnist`) or
    `fashion_mnist`, as an `ImageDataset`."""
    if name == "mnist":
        from deepedge.data.mnist import load_mnist

        return load_mnist(split)
    from deepedge.data.images import load_image_dataset

    return load_image_dataset(name, split)


def canvas_layout(name):
    """`(object data set, canvas size, clutter pieces)` of a glimpse data set."""
    if name not in GLIMPSE_DATASETS:
        raise InvalidInputError(f"Unknown glimpse data set. Expected one of {sorted(GLIMPSE_DATASETS)}. "
                                f"Received: name={name!r}")
    return GLIMPSE_DATASETS[name]


def load_canvases(name, split="train", seed=None):
    """One split of a glimpse data set: the split's objects composed into canvases, by a
    generator seeded by `(name, split)`, or by `seed` when given (a training epoch)."""
    check_split(split)
    objects_name, size, distractors = canvas_layout(name)
    objects = load_objects(objects_name, split)
    if seed is None:
        seed = zlib.crc32(f"{name}/{split}".encode())
    images, boxes = compose_canvases(objects.images, size, distractors, np.random.default_rng(seed))
    return CanvasDataset(images, objects.labels, boxes, objects.class_names, name, split,
                         f"{objects.source}, composed into {size}x{size} canvases"
                         + (f" with {distractors} clutter pieces" if distractors else ""), objects.licence)


__all__ = ["CanvasDataset", "GLIMPSE_DATASETS", "PIECE", "canvas_layout", "compose_canvases", "load_canvases",
           "load_objects"]
