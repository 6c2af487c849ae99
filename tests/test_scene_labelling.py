"""Scene labelling: data, IoU and tiling maths, the Keras task, its export and the on-device runtime."""

import numpy as np
import pytest

from deepedge.data.scenes import NUCLEI_CLASSES, SCENE_CLASSES, TEXTURES, load_nuclei, load_scenes
from deepedge.ops.dense import (
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


def test_label_smoothing_cross_entropy_by_hand():
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    probabilities = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]], np.float32)
    labels = np.array([0, 2])
    loss = SmoothedSparseCategoricalCrossentropy(0.3)
    # target (1 - 0.3) on the true class + 0.3 / 3 on every class
    targets = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    expected = np.mean(-(targets * np.log(probabilities)).sum(-1))
    assert float(loss(labels, probabilities)) == pytest.approx(expected, rel=1e-5)
    plain = -np.mean(np.log([0.7, 0.5]))
    assert float(SmoothedSparseCategoricalCrossentropy(0.0)(labels, probabilities)) == pytest.approx(plain, rel=1e-5)
    assert SmoothedSparseCategoricalCrossentropy.from_config(loss.get_config()).label_smoothing == 0.3
    with pytest.raises(ValueError, match="label_smoothing"):
        SmoothedSparseCategoricalCrossentropy(1.0)


# === The Keras task ===
def _tiny_labeller(class_names=SCENE_CLASSES, seed=0, **overrides):
    from deepedge.apps import SceneLabeller
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    config = {"filters": (8, 8, 16), "hidden": 16, "refine_filters": 8, **overrides}
    return SceneLabeller.from_preset("multiscale_refined", class_names=class_names, **config)


def test_labeller_takes_any_size_and_round_trips(tmp_path):
    from deepedge.apps import SceneLabeller

    model = _tiny_labeller()
    image = np.random.default_rng(0).integers(0, 256, (50, 70), dtype=np.uint8)
    scores = model.predict(image, verbose=0)
    assert scores.shape == (1, 50, 70, len(SCENE_CLASSES))
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    labels = model.label(image)
    assert labels.shape == (50, 70) and labels.dtype == np.uint8
    assert model.label(np.stack([image, image])).shape == (2, 50, 70)
    model.save(tmp_path / "m.keras")
    loaded = SceneLabeller.load(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(image, verbose=0), scores, atol=1e-6)
    again = SceneLabeller.from_config(model.get_config())
    assert again.get_config() == model.get_config() and again.count_params() == model.count_params()
    with pytest.raises(InvalidInputError, match="colour"):
        model.predict(np.zeros((50, 70, 3), np.uint8))


def test_encoder_decoder_any_size_and_argument_errors():
    from deepedge.apps import SceneLabeller
    from deepedge.apps.scene_labelling import EncoderDecoderBackbone

    model = SceneLabeller.from_preset("encoder_decoder", class_names=NUCLEI_CLASSES, metric="foreground_iou",
                                      encoder_filters=(8, 16), decoder_filters=(8, 8))
    assert model.predict(np.zeros((1, 33, 20, 1)), verbose=0).shape == (1, 33, 20, 2)
    assert model.edge_input_shape == (128, 128, 1) and model.metric_name == "foreground_iou"
    with pytest.raises(ValueError, match="decoder_filters"):
        EncoderDecoderBackbone(encoder_filters=(8, 16), decoder_filters=(8,))
    with pytest.raises(ValueError, match="metric"):
        SceneLabeller(model.backbone, NUCLEI_CLASSES, metric="dice")
    with pytest.raises(ValueError, match="export_size"):
        SceneLabeller(model.backbone, NUCLEI_CLASSES, export_size=30)


def test_half_resolution_encoder_decoder_refines_to_full_size(tmp_path):
    from deepedge.apps import SceneLabeller
    from deepedge.apps.scene_labelling import EncoderDecoderBackbone

    config = {"stem_filters": 8, "encoder_filters": (8, 16), "decoder_filters": (8, 8), "block": "conv"}
    half = EncoderDecoderBackbone(stem_strides=2, **config)
    assert half.output_stride == 2 and half.size_multiple == 8
    refined = EncoderDecoderBackbone(stem_strides=2, refine_filters=8, **config)
    assert refined.output_stride == 1 and "refine_fine" in [layer.name for layer in refined.layers]
    model = SceneLabeller(refined, SCENE_CLASSES)
    assert model.predict(np.zeros((1, 37, 20, 1)), verbose=0).shape == (1, 37, 20, len(SCENE_CLASSES))
    model.save(tmp_path / "m.keras")
    loaded = SceneLabeller.load(tmp_path / "m.keras")
    assert loaded.backbone.stem_strides == 2 and loaded.backbone.refine_filters == 8
    with pytest.raises(ValueError, match="stem_strides"):
        EncoderDecoderBackbone(stem_strides=4, **config)


# === Real data, training, export and the runtime, end to end ===
@pytest.fixture(scope="module")
def nuclei_export(tmp_path_factory):
    """A small labeller trained for seconds on the real nuclei strip, exported to int8."""
    from deepedge.apps.scene_labelling.training import random_tiles
    from deepedge.backend import keras

    train, test = load_nuclei("train"), load_nuclei("test")
    from deepedge.apps import SceneLabeller

    keras.utils.set_random_seed(0)
    model = SceneLabeller.from_preset("encoder_decoder", class_names=NUCLEI_CLASSES, metric="foreground_iou",
                                      encoder_filters=(8, 16, 16), decoder_filters=(16, 8, 8))
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    rng = np.random.default_rng(0)
    x, y = random_tiles(train.images[0].astype(np.float32), train.masks[0], 384, 64, rng)
    model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    path = tmp_path_factory.mktemp("scene") / "nuclei_int8"
    meta = model.export(path, calibration_data=load_nuclei("train", tile=128, stride=64), evaluation_data=test,
                        max_drop=5.0, latency_runs=20, extra_metadata={"data": "nuclei"})
    return model, path, meta, test


@pytest.mark.slow
def test_nuclei_train_export_and_label_on_device(nuclei_export):
    from deepedge.edge import load

    model, path, meta, test = nuclei_export
    metrics = meta["metrics"]
    assert metrics["metric"] == "foreground_iou" and metrics["keras_float"] >= 50.0, metrics
    assert metrics["passed"] and set(meta["ops"]) <= {"AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D",
                                                      "DEPTHWISE_CONV_2D", "MUL", "ADD", "RESHAPE", "TILE",
                                                      "SOFTMAX", "QUANTIZE", "DEQUANTIZE"}
    runtime = load(path)
    assert runtime.input_specs[0]["shape"] == [1, 128, 128, 1] and runtime.input_specs[0]["dtype"] == "int8"
    # The 128x512 strip is larger than the model's tile: the runtime tiles it and agrees with Keras.
    strip = test.images[0]
    on_device, in_keras = runtime.label(strip), model.label(strip)
    assert on_device.shape == (128, 512)
    assert np.mean(on_device == in_keras) > 0.95
    assert runtime.evaluate_metric(test) == pytest.approx(metrics["litert_int8"], abs=1e-3)
    assert runtime.label(strip[:10, :10]).shape == (10, 10)  # smaller than a tile: mirrored out
    labels, painted = runtime.overlay(strip)
    assert painted.shape == (128, 512, 3) and painted.dtype == np.uint8


@pytest.mark.slow
@pytest.mark.parametrize("image, match", [
    (np.zeros((20, 20, 3), np.uint8), "colour"),
    (np.full((20, 20), np.nan), "NaN"),
    (np.full((20, 20), 256.0), "0..255"),
    (np.zeros((2, 3, 4, 5, 1)), "shape"),
])
def test_runtime_rejects_bad_images(nuclei_export, image, match):
    from deepedge.edge import load

    with pytest.raises(InvalidInputError, match=match):
        load(nuclei_export[1]).label(image)


@pytest.mark.slow
def test_scene_runtime_and_cli_need_no_tensorflow(nuclei_export, tmp_path):
    import subprocess
    import sys

    from PIL import Image

    path = nuclei_export[1]
    picture = tmp_path / "cells.png"
    Image.fromarray(nuclei_export[3].images[0, :, :200, 0]).convert("RGB").save(picture)
    script = ("import sys\n"
              "from deepedge.cli import main\n"
              f"sys.argv = ['deepedge', 'predict', 'scene', {str(picture)!r}, '--model', {str(path)!r}]\n"
              "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
              "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "nucleus" in result.stdout and "background" in result.stdout
    overlay = np.asarray(Image.open(tmp_path / "cells_labels.png"))
    assert overlay.shape == (128, 200, 3)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "predict", "scene", str(broken), "--model",
                             str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "is not an image" in " ".join(result.stderr.split())


@pytest.mark.slow
def test_cli_evaluates_a_labeller_as_json(nuclei_export):
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "evaluate", str(nuclei_export[1]), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["data"] == "nuclei" and report["metric"] == "foreground_iou" and report["split"] == "test"
    assert report["value"] == pytest.approx(nuclei_export[2]["metrics"]["litert_int8"], abs=1e-3)
    assert set(report["iou"]) == set(NUCLEI_CLASSES)


@pytest.mark.slow
def test_training_recipe_runs_resumes_and_reports(tmp_path):
    import json

    from deepedge.apps.scene_labelling.training import train_preset

    out = tmp_path / "nuclei"
    model, report = train_preset("nuclei_labeller", out, epochs=1, limit=16, verbose=False)
    assert (out / "model.keras").exists() and not (out / "checkpoints").exists()
    saved = json.loads((out / "training.json").read_text())
    assert saved["metric"] == "foreground_iou" and 0.0 <= saved["validation_metric"] <= 100.0
    assert saved["command"] == f"deepedge train nuclei_labeller --out {out} --epochs 1 --limit 16"
    assert set(saved["validation"]["iou"]) == set(NUCLEI_CLASSES)
    assert model.dtype_policy.name == "float32"
