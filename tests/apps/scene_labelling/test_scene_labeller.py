"""SceneLabeller: any image size, its backbones' arguments, config and `.keras` files, and the
int8 export of a labeller trained on the real nuclei strip (`nuclei_export` in tests/conftest.py)."""

import numpy as np
import pytest

from deepedge.data.scenes import NUCLEI_CLASSES, SCENE_CLASSES
from deepedge.errors import InvalidInputError
from test_case import run_task_test


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
    # The model itself takes sizes that are multiples of the backbone's (16); `predict` pads to them.
    padded = np.random.default_rng(1).uniform(0, 255, (2, 48, 80, 1)).astype(np.float32)
    loaded = run_task_test(model, padded, (2, 48, 80, len(SCENE_CLASSES)), tmp_path)
    assert isinstance(loaded, SceneLabeller)
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


@pytest.mark.slow
def test_nuclei_labeller_trains_and_exports_to_builtin_int8(nuclei_export):
    """Seconds of training on the real strip reach a usable IoU, and the export keeps it."""
    model, path, meta, test = nuclei_export
    metrics = meta["metrics"]
    assert metrics["metric"] == "foreground_iou" and metrics["keras_float"] >= 50.0, metrics
    assert metrics["passed"] and set(meta["ops"]) <= {"AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D",
                                                      "DEPTHWISE_CONV_2D", "MUL", "ADD", "RESHAPE", "TILE",
                                                      "SOFTMAX", "QUANTIZE", "DEQUANTIZE"}
