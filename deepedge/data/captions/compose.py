"""Drawing a captioned scene: emoji glyphs and coloured grey objects pasted at known boxes on
a tinted texture, and the caption grammar run on what was drawn."""

import os
from functools import lru_cache

import numpy as np

from deepedge.data.captions.grammar import COLOURS, KINDS, RELATIONS, SIZES, _captions, _combinations
from deepedge.errors import DataNotFoundError

EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
_TEXTURE_TINT = {"brick": (1.15, 0.8, 0.7), "grass": (0.75, 1.1, 0.7), "gravel": (1.0, 1.0, 1.0)}
_TEXTURE_ROWS = {"train": (0, 384), "validation": (384, 512), "test": (384, 512), "test_combinations": (384, 512)}
_OBJECT_THRESHOLD = 40  # of 255: a grey object's pixels after resizing


# === Parts ===
@lru_cache(maxsize=4096)  # every glyph at every side drawn (about 100 x 17, 4 KB each)
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
