"""Scene labelling: data, IoU and tiling maths, the Keras task, its export and the on-device runtime."""

import numpy as np
import pytest

from deepedge.data.scenes import NUCLEI_CLASSES, SCENE_CLASSES, TEXTURES, load_nuclei, load_scenes
from deepedge.edge.dense import (
    confusion_matrix,
    iou_per_class,
    metric_from_confusion,
    pad_to_multiple,
    standardize_dense_images,
    tiled_predict,
)
from deepedge.errors import InvalidInputError


# === Data ===
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


# === IoU and tiling ===
def test_iou_by_hand():
    true = np.array([[0, 0, 1, 1], [2, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [2, 2, 0, 1]])
    confusion = confusion_matrix(pred, true, 4)
    # class 0: 1 hit, union {00,01,12} = 3; class 1: 3 hits, union 4; class 2: 2 hits, union 3; class 3 absent.
    np.testing.assert_allclose(iou_per_class(confusion)[:3], [1 / 3, 3 / 4, 2 / 3])
    assert np.isnan(iou_per_class(confusion)[3])
    assert metric_from_confusion(confusion, "mean_iou") == pytest.approx(100 * (1 / 3 + 3 / 4 + 2 / 3) / 3)
    assert metric_from_confusion(confusion, "foreground_iou") == pytest.approx(75.0)
    with pytest.raises(InvalidInputError, match="0..3"):
        confusion_matrix(pred, true + 2, 4)


@pytest.mark.parametrize("shape", [(64, 64), (50, 200), (130, 70), (1, 1)])
def test_tiled_prediction_stitches_exactly(shape):
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (*shape, 1)).astype(np.float32)
    calls = []

    def model(tile):  # a per-pixel model: the tiling must put every output back where it belongs
        calls.append(tile.shape)
        return np.concatenate([tile, 2 * tile], -1)

    out = tiled_predict(image, model, tile=32, margin=4)
    np.testing.assert_array_equal(out[..., :1], image)
    np.testing.assert_array_equal(out[..., 1:], 2 * image)
    assert set(calls) == {(32, 32, 1)}


def test_padding_and_image_checks():
    padded, size = pad_to_multiple(np.ones((17, 33, 1)), 16)
    assert padded.shape == (32, 48, 1) and size == (17, 33)
    assert standardize_dense_images(np.zeros((5, 7), np.uint8), 1).shape == (1, 5, 7, 1)
    assert standardize_dense_images(np.zeros((2, 5, 7), np.uint8), 1).shape == (2, 5, 7, 1)
    for bad, match in [(np.zeros((5, 7, 3)), "shape"), (np.full((5, 7), 300.0), "0..255"),
                       (np.full((5, 7), np.nan), "NaN"), (np.array(["a"]), "dtype"),
                       (np.zeros((0, 5, 7, 1)), "empty")]:
        with pytest.raises(InvalidInputError, match=match):
            standardize_dense_images(bad, 1)


# === Layers and losses ===
def test_fused_batch_norm_matches_keras():
    from deepedge.backend import keras
    from deepedge.layers.normalization import FusedBatchNormalization

    x = np.random.default_rng(0).normal(2.0, 3.0, (4, 6, 5, 3)).astype(np.float32)
    ours, theirs = FusedBatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.gamma.assign([1.0, 2.0, 0.5])
        layer.beta.assign([0.0, 1.0, -1.0])
    np.testing.assert_allclose(ours(x, training=True), theirs(x, training=True), atol=1e-4)
    np.testing.assert_allclose(ours.moving_mean, theirs.moving_mean, atol=1e-5)
    np.testing.assert_allclose(ours.moving_variance, 0.5 + 0.5 * x.var((0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(ours.moving_variance, theirs.moving_variance, rtol=1e-4)
    np.testing.assert_allclose(ours(x, training=False), theirs(x, training=False), atol=1e-4)


def test_weighted_cross_entropy_by_hand():
    from deepedge.training.losses import WeightedSparseCategoricalCrossentropy, balanced_class_weights

    probabilities = np.array([[[0.5, 0.5], [0.9, 0.1]]], np.float32)
    labels = np.array([[0, 1]])
    loss = WeightedSparseCategoricalCrossentropy([1.0, 3.0])
    expected = (np.log(2) * 1.0 + -np.log(0.1) * 3.0) / 2
    assert float(loss(labels, probabilities)) == pytest.approx(expected, rel=1e-5)
    assert WeightedSparseCategoricalCrossentropy.from_config(loss.get_config()).class_weights == [1.0, 3.0]
    weights = balanced_class_weights(np.array([0] * 90 + [1] * 10), 2)
    assert weights[1] == pytest.approx(3 * weights[0], rel=1e-3)  # (0.9 / 0.1) ** 0.5
    assert 0.9 * weights[0] + 0.1 * weights[1] == pytest.approx(1.0, rel=1e-3)
