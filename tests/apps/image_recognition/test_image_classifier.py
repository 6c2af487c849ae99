"""ImageClassifier: LeNet-5 and the edge net, presets, config and `.keras` files, inputs it refuses."""

import numpy as np
import pytest

from deepedge.apps import ImageClassifier
from deepedge.apps.image_recognition import EdgeNetBackbone, LeNet5Backbone
from deepedge.apps.image_recognition.presets import ARCHITECTURES
from deepedge.backend import keras, tf
from deepedge.errors import InvalidInputError, ModelFileError, PresetNotFoundError
from test_case import run_task_test

CLASSES = [str(i) for i in range(10)]


def test_lenet5_has_the_papers_layer_sizes():
    model = ImageClassifier.from_preset("lenet5", class_names=CLASSES)
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.backbone.layers}
    assert shapes["pad_to_32"] == (32, 32, 1)
    assert shapes["c1"] == (28, 28, 6) and shapes["s2"] == (14, 14, 6)
    assert shapes["c3"] == (10, 10, 16) and shapes["s4"] == (5, 5, 16)
    assert shapes["c5"] == (1, 1, 120) and shapes["f6"] == (84,)
    # 156 + 12 + 2,416 + 32 + 48,120 + 10,164 + 850 weights: LeNet-5 with a fully connected C3.
    assert model.count_params() == 61_750


def test_scaled_tanh_is_lecuns_squashing_function():
    from deepedge.apps.image_recognition.backbones import scaled_tanh

    x = np.array([-1.0, 0.0, 1.0, 10.0], np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled_tanh(x)),
                               1.7159 * np.tanh(2.0 * x / 3.0), rtol=1e-6)
    assert abs(float(scaled_tanh(np.float32(1.0))) - 1.0) < 2e-3  # f(1) ~ 1 by design


def test_edgenet_stays_within_the_edge_budget():
    model = ImageClassifier.from_preset("edgenet", class_names=CLASSES)
    assert model.count_params() <= 150_000
    assert any(isinstance(layer, keras.layers.DepthwiseConv2D)
               for layer in model._flatten_layers(include_self=False, recursive=True))


@pytest.mark.parametrize("preset", sorted(ARCHITECTURES))
def test_every_preset_runs_and_every_weight_gets_a_gradient(preset):
    model = ImageClassifier.from_preset(preset, class_names=CLASSES)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        probabilities = model(images, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(np.arange(4), probabilities)
    gradients = tape.gradient(loss, model.trainable_weights)
    assert np.all(np.isfinite(probabilities.numpy()))
    np.testing.assert_allclose(probabilities.numpy().sum(-1), 1.0, rtol=1e-5)
    missing = [w.path for w, g in zip(model.trainable_weights, gradients) if g is None or not np.any(g.numpy())]
    assert not missing


def test_config_and_keras_file_round_trip(tmp_path):
    model = ImageClassifier(EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=4, block_filters=(8,),
                                            block_strides=(2,)), CLASSES, image_scale=0.5, image_offset=-1.0)
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 1)).astype(np.float32)
    loaded = run_task_test(model, images, (3, len(CLASSES)), tmp_path)
    clone = ImageClassifier.from_config(model.get_config())
    assert clone.get_config() == model.get_config() == loaded.get_config()
    assert clone.count_params() == model.count_params()
    assert set(model.get_config()) == {"name", "trainable", "backbone", "class_names", "image_scale", "image_offset"}


def test_edgenet_stem_stride_halves_the_stem_and_round_trips():
    backbone = EdgeNetBackbone(image_shape=(28, 28, 1), stem_filters=8, stem_strides=2, block_filters=(16, 24),
                               block_strides=(1, 2))
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in backbone.layers}
    assert shapes["stem_relu"] == (14, 14, 8) and shapes["block1"] == (14, 14, 16) and shapes["block2"] == (7, 7, 24)
    assert EdgeNetBackbone.from_config(backbone.get_config()).get_config() == backbone.get_config()
    # Configs saved before `stem_strides` existed still load as stride 1.
    old = {k: v for k, v in backbone.get_config().items() if k != "stem_strides"}
    assert EdgeNetBackbone.from_config(old).stem_strides == 1


def test_save_and_load_give_identical_predictions(trained_digits_classifier, digits, tmp_path):
    images = digits["test"].images[:50]
    loaded = run_task_test(trained_digits_classifier, images.astype(np.float32), (50, 10), tmp_path)
    np.testing.assert_array_equal(trained_digits_classifier.predict(images, verbose=0), loaded.predict(images, verbose=0))
    assert loaded.class_names == trained_digits_classifier.class_names
    # no temporary file left behind
    assert [p.name for p in tmp_path.iterdir()] == [f"{trained_digits_classifier.name}.keras"]


def test_classify_returns_names_and_scores(trained_digits_classifier, digits):
    test = digits["test"]
    results = trained_digits_classifier.classify(test.images[:100], top_k=3)
    assert len(results) == 100 and all(len(r) == 3 for r in results)
    label, score = results[0][0]
    assert label in CLASSES and 0.0 <= score <= 1.0
    assert results[0][0][1] >= results[0][1][1] >= results[0][2][1]
    accuracy = np.mean([r[0][0] == test.class_names[y] for r, y in zip(results, test.labels[:100])])
    assert accuracy >= 0.8


def test_grey_images_without_channel_axis_and_single_images_are_accepted(trained_digits_classifier, digits):
    images = digits["test"].images[:3]
    batched = trained_digits_classifier.predict(images, verbose=0)
    np.testing.assert_allclose(trained_digits_classifier.predict(images[..., 0], verbose=0), batched, rtol=1e-5)
    np.testing.assert_allclose(trained_digits_classifier.predict(images[0], verbose=0), batched[:1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("images, match", [
    (np.zeros((2, 9, 9, 1), np.uint8), "shape"),
    (np.full((1, 8, 8, 1), 300.0), "0..255"),
    (np.full((1, 8, 8, 1), np.nan), "NaN"),
    (np.array([["a"]]), "dtype"),
    (np.zeros((0, 8, 8, 1), np.uint8), "empty"),
])
def test_bad_images_raise_clear_errors(trained_digits_classifier, images, match):
    with pytest.raises(InvalidInputError, match=match):
        trained_digits_classifier.predict(images)


def test_presets_and_their_errors():
    assert {"lenet5", "edgenet", "fashion_lenet5", "fashion_edgenet"} <= set(ImageClassifier.presets())
    with pytest.raises(PresetNotFoundError, match="resnet"):
        ImageClassifier.from_preset("resnet")
    with pytest.raises(ValueError, match="class_names"):
        ImageClassifier.from_preset("edgenet")
    with pytest.raises(ValueError, match="Received"):
        ImageClassifier(LeNet5Backbone(), ["only one"])
    with pytest.raises(ValueError, match="at least 28x28"):
        LeNet5Backbone(image_shape=(8, 8, 1))


def test_load_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(ModelFileError, match="No model file"):
        ImageClassifier.load(tmp_path / "missing.keras")
    bogus = tmp_path / "bogus.keras"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="Could not load"):
        ImageClassifier.load(bogus)


def test_label_smoothing_recipe_trains_and_reloads_compiled(digits, tmp_path):
    from helpers import build_tiny_classifier

    from deepedge.training.optimizers import build_optimizer
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    train = digits["train"]
    model = build_tiny_classifier(train.class_names)
    model.compile(optimizer=build_optimizer({"learning_rate": 3e-3, "weight_decay": 0.05}, 10, 2),
                  loss=SmoothedSparseCategoricalCrossentropy(0.1))
    history = model.fit(train.images[:320].astype(np.float32), train.labels[:320], batch_size=32, epochs=2,
                        verbose=0).history
    assert history["loss"][1] < history["loss"][0]
    model.save(tmp_path / "m.keras")
    loaded = ImageClassifier.load(tmp_path / "m.keras")
    assert isinstance(loaded.loss, SmoothedSparseCategoricalCrossentropy) and loaded.loss.label_smoothing == 0.1
