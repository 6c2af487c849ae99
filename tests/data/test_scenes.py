"""deepedge.data.scenes: the synthetic texture scenes and the real nuclei strip."""

import numpy as np
import pytest

from deepedge.data.scenes import NUCLEI_CLASSES, SCENE_CLASSES, TEXTURES, load_nuclei, load_scenes
from deepedge.errors import InvalidInputError


def test_scenes_are_deterministic_and_every_pixel_is_labelled():
    a, b = load_scenes("validation", 6, size=96), load_scenes("validation", 6, size=96)
    assert a.images.shape == (6, 96, 96, 1) and a.images.dtype == np.uint8
    assert a.masks.shape == (6, 96, 96) and a.masks.max() < len(SCENE_CLASSES)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    other = load_scenes("validation", 6, size=96, seed=1)
    assert not np.array_equal(a.images, other.images)
    # Scene i does not depend on how many scenes were asked for.
    np.testing.assert_array_equal(load_scenes("validation", 2, size=96).images, a.images[:2])


def test_scenes_hold_textures_and_objects():
    scenes = load_scenes("train", 40)
    shares = np.bincount(scenes.masks.ravel(), minlength=len(SCENE_CLASSES)) / scenes.masks.size
    assert np.all(shares > 0), dict(zip(SCENE_CLASSES, shares))  # every class occurs
    assert shares[:len(TEXTURES)].sum() > 0.6  # the textures are the background
    # Objects are pasted pixels: where a scene says "digit", the pixels differ from the texture statistics.
    assert scenes.images[..., 0][scenes.masks == SCENE_CLASSES.index("digit")].mean() > 100


def test_scene_splits_use_held_out_objects():
    from deepedge.data.scenes import _object_pool

    train, test = _object_pool("train"), _object_pool("test")
    train_bags = {item.tobytes() for item in train["bag"]}
    assert not any(item.tobytes() in train_bags for item in test["bag"][:200])


@pytest.mark.parametrize("kwargs", [{"split": "dev"}, {"split": "test", "num_scenes": 0},
                                    {"split": "test", "size": 8}])
def test_bad_scene_requests_raise(kwargs):
    with pytest.raises(InvalidInputError):
        load_scenes(**kwargs)


def test_nuclei_splits_are_disjoint_strips_of_the_stardist_image():
    from deepedge.data.scenes import _nuclei_arrays

    image, instances = _nuclei_arrays()
    assert image.shape == instances.shape == (512, 512) and instances.max() > 50  # dozens of nuclei
    train, test = load_nuclei("train"), load_nuclei("test")
    assert train.images.shape == (1, 320, 512, 1) and test.images.shape == (1, 128, 512, 1)
    np.testing.assert_array_equal(test.masks[0], instances[384:] > 0)
    assert 0.1 < test.masks.mean() < 0.4 and test.class_names == NUCLEI_CLASSES
    tiles = load_nuclei("train", tile=128, stride=64)
    assert tiles.images.shape == (4 * 7, 128, 128, 1)
    np.testing.assert_array_equal(tiles.images[1], train.images[0, :128, 64:192])
    with pytest.raises(InvalidInputError, match="do not fit"):
        load_nuclei("validation", tile=128)
