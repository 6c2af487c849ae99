"""deepedge.ops.dense: IoU by hand, tiled prediction and the dense image checks (numpy only)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.dense import (
    confusion_matrix,
    iou_per_class,
    metric_from_confusion,
    pad_to_multiple,
    standardize_dense_images,
    tiled_predict,
)


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
    calls.clear()
    tiled_predict(np.zeros((32, 200, 1)), model, tile=32, margin=4)
    assert len(calls) == 9  # an axis that fits in one tile needs no seams: one row of ceil(200 / 24) tiles


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
