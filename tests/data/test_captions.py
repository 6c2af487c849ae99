"""deepedge.data.captions: captioned scenes whose captions are true, with held-out splits."""

import re

import numpy as np
import pytest

from deepedge.data import captions as C
from deepedge.data.captions import compose, grammar
from deepedge.errors import DataNotFoundError, InvalidInputError


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    import os

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("DEEPEDGE_CACHE")
    os.environ["DEEPEDGE_CACHE"] = str(cache)
    try:
        yield {split: C.load_captions(split, num_images=60) for split in C.CAPTION_SPLITS}, cache
    finally:
        if old is None:
            del os.environ["DEEPEDGE_CACHE"]
        else:
            os.environ["DEEPEDGE_CACHE"] = old


def test_images_are_rgb_deterministic_and_cached(splits):
    data, cache = splits
    train = data["train"]
    assert train.images.shape == (60, 64, 64, 3) and train.images.dtype == np.uint8
    assert len(list((cache / "captions").glob("train-*.npz"))) == 1
    again = C.load_captions("train", num_images=60)  # from the cache
    assert np.array_equal(again.images, train.images) and again.captions == train.captions
    assert again.objects == train.objects and again.relations == train.relations
    fresh = C.load_captions("train", num_images=60, seed=1)
    assert not np.array_equal(fresh.images, train.images)
    assert train.take(5).captions == train.captions[:5] and len(train.take(5)) == 5


def test_only_test_combinations_show_held_out_combinations(splits):
    data, _ = splits
    for split, dataset in data.items():
        shown = [bool(grammar._combinations(objects, relations))
                 for objects, relations in zip(dataset.objects, dataset.relations)]
        assert all(shown) if split == "test_combinations" else not any(shown), split


def test_held_out_glyphs_never_reach_training():
    for kind in C.KINDS.values():
        if kind.source == "emoji":
            assert set(compose._glyphs(kind, False)).isdisjoint(compose._glyphs(kind, True)), kind.name
            assert len(compose._glyphs(kind, False)) >= 1


def _mentioned_kinds(caption):
    return {C.OBJECT_WORDS[w] for w in caption.split() if w in C.OBJECT_WORDS}


def test_every_caption_is_true_of_its_image(splits):
    data, _ = splits
    for dataset in data.values():
        for image, refs, objects, relations in zip(dataset.images, dataset.captions, dataset.objects,
                                                   dataset.relations):
            assert len(refs) == 5 and len(set(refs)) == 5
            kinds = {o["kind"] for o in objects}
            colours = {o["colour"] for o in objects if o["colour"]}
            for caption in refs:
                assert _mentioned_kinds(caption) == kinds, (caption, objects)
                said = {w for w in caption.split() if w in C.COLOURS}
                assert said <= colours, (caption, objects)
                assert not re.search(r"\ba [aeiou]", caption), caption
                if len(objects) == 2 and objects[0]["kind"] == objects[1]["kind"]:
                    assert caption.split()[caption.split()[0] == "there" and 2 or 0] == "two", caption
            for a, relation, b in relations:  # the boxes show the relation
                (t0, l0, b0, r0), (t1, l1, b1, r1) = objects[a]["box"], objects[b]["box"]
                dy, dx = (t0 + b0 - t1 - b1) / 2, (l0 + r0 - l1 - r1) / 2
                assert {"left": -dx, "right": dx, "above": -dy, "below": dy}[relation] >= 12
            for o in objects:  # an object is where its box says: its pixels differ from the texture
                top, left, bottom, right = o["box"]
                assert (bottom - top) in range(C.SIZES[o["size"]][0], C.SIZES[o["size"]][1] + 1)
                assert 0 <= top < bottom <= 64 and 0 <= left < right <= 64


def test_objects_are_painted_in_their_colour_inside_their_box():
    pools = compose._grey_pool(True)
    rng = np.random.default_rng(0)
    for kind in ("shirt", "dress", "shoe", "bag", "digit"):
        for colour, channel in (("red", 0), ("green", 1), ("blue", 2)):
            image = np.zeros((64, 64, 3), np.float32)
            compose._paint(image, rng, {"kind": kind, "colour": colour, "size": "large"}, (10, 20, 38, 48), pools, True)
            painted = image.sum(-1) > 0
            assert painted[10:38, 20:48].mean() > 0.1 and not painted[:10].any() and not painted[:, :20].any()
            assert np.all(image[painted].argmax(-1) == channel), (kind, colour)


def test_bad_arguments_and_a_missing_font_give_clear_errors(monkeypatch):
    with pytest.raises(InvalidInputError, match="Unknown split"):
        C.load_captions("dev")
    with pytest.raises(InvalidInputError, match="size >= 48"):
        C.load_captions("train", num_images=2, size=16)
    monkeypatch.setattr(compose, "EMOJI_FONT", "/nonexistent/NotoColorEmoji.ttf")
    compose._emoji_font.cache_clear()
    compose.emoji_glyph.cache_clear()
    try:
        with pytest.raises(DataNotFoundError, match="fonts-noto-color-emoji"):
            compose.emoji_glyph("\U0001F415", 20)
    finally:
        compose._emoji_font.cache_clear()
        compose.emoji_glyph.cache_clear()


def test_object_maps_name_the_kind_and_colour_under_each_cell_centre(splits):
    data = splits[0]["train"]
    maps = C.object_maps(data, (8, 8))
    assert maps.shape == (len(data), 8, 8, 2) and maps.dtype == np.int32
    for i, scene in enumerate(data.objects):
        for o in scene:
            top, left, bottom, right = o["box"]
            centres = (np.arange(8) + 0.5) * 8
            rows = np.flatnonzero((centres >= top) & (centres < bottom))
            cols = np.flatnonzero((centres >= left) & (centres < right))
            cells = maps[i][np.ix_(rows, cols)]
            if len(scene) == 1:
                assert np.all(cells[..., 0] == 1 + list(C.KINDS).index(o["kind"]))
                assert np.all(cells[..., 1] == (0 if o["colour"] is None else 1 + list(C.COLOURS).index(o["colour"])))
        covered = np.zeros((8, 8), bool)
        for o in scene:
            top, left, bottom, right = o["box"]
            centres = (np.arange(8) + 0.5) * 8
            covered |= ((centres >= top) & (centres < bottom))[:, None] & ((centres >= left) & (centres < right))
        assert np.all((maps[i, ..., 0] > 0) == covered)  # the background is 0 everywhere else


def test_recoloured_and_zoomed_images_keep_their_maps_true(splits):
    data = splits[0]["train"]
    images, maps = C.recoloured_and_zoomed(data, (8, 8), np.random.default_rng(3))
    again, maps_again = C.recoloured_and_zoomed(data, (8, 8), np.random.default_rng(3))
    np.testing.assert_array_equal(images, again)  # deterministic for one generator
    np.testing.assert_array_equal(maps, maps_again)
    assert images.shape == data.images.shape and images.dtype == np.uint8
    plain = C.object_maps(data, (8, 8))
    changed = np.any(images != data.images, axis=(1, 2, 3))
    assert 0.4 < changed.mean() < 0.95
    # a recoloured object's colour is its own or unknown (-1), never another one
    unzoomed = np.all(maps[..., 0] == plain[..., 0], axis=(1, 2))
    kept = maps[unzoomed][..., 1]
    assert np.all((kept == plain[unzoomed][..., 1]) | ((kept == -1) & (plain[unzoomed][..., 1] > 0)))
    assert (maps[..., 1] == -1).any() and not unzoomed.all()
    # zoomed by exactly 1 (the crop at the corner), every map is the plain one
    _, same = C.recoloured_and_zoomed(data, (8, 8), np.random.default_rng(0), zoom=(1.0, 1.0))
    np.testing.assert_array_equal(same[..., 0], plain[..., 0])
