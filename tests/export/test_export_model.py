"""deepedge.export.export_model: any Keras model (several inputs and outputs, subclassed, free
dimensions) to builtin-only int8 with the parity gate, model.json, the card and raw inputs."""

import json

import numpy as np
import pytest

from deepedge.backend import keras, tf
from deepedge.edge import load
from deepedge.errors import ConversionError, InvalidInputError, ParityError
from deepedge.export import export_model
from user_models import image_classifier, model_with_problems, two_input_data, two_input_model


@pytest.fixture(scope="module")
def two_by_two():
    model = two_input_model()
    inputs, kinds, sizes = two_input_data(model)
    return model, inputs, kinds, sizes


@pytest.fixture(scope="module")
def exported_two_by_two(two_by_two, tmp_path_factory):
    model, inputs, kinds, _ = two_by_two
    path = tmp_path_factory.mktemp("user") / "two_by_two"
    meta = export_model(model, path, calibration_data=inputs, evaluation_data=(inputs, kinds),
                        preprocessing={"image": {"scale": 1 / 255}}, max_drop=3.0, latency_runs=20)
    return path, meta


def test_two_inputs_and_two_outputs_export_to_full_int8_with_named_raw_inputs(exported_two_by_two, two_by_two):
    path, meta = exported_two_by_two
    model, inputs, _, _ = two_by_two
    assert meta["task"] == "keras_model" and meta["quantization"] == "int8"
    assert sorted(s["name"] for s in meta["inputs"]) == ["extra", "image"]
    assert sorted(s["name"] for s in meta["outputs"]) == ["kind", "size"]
    assert {s["dtype"] for s in meta["inputs"] + meta["outputs"]} == {"int8"}
    assert not [op for op in meta["ops"] if op.startswith("Flex") or op == "CUSTOM"]
    # int8 throughout but the softmax, rewritten so that XNNPACK takes every op (deepedge.export.rewrite)
    assert [op["op"] for op in meta["float_ops"]] == ["SOFTMAX"] and meta["xnnpack_rewrites"] == {"SOFTMAX": 1}
    described = meta["keras_model"]
    assert [spec["name"] for spec in described["inputs"]] == ["image", "extra"]
    assert described["outputs"] == ["kind", "size"]
    assert described["inputs"][0]["preprocessing"] == {"scale": 1 / 255, "offset": 0.0, "layout": "channels_last"}
    metrics = meta["metrics"]
    assert metrics["metric"] == "accuracy" and metrics["examples"] == 300 and metrics["passed"]
    assert metrics["keras_float"] == 100.0 and metrics["drop"] <= 3.0
    on_disk = json.loads((path / "model.json").read_text())
    assert on_disk["tflite_sha256"] == meta["tflite_sha256"] and on_disk["footprint"]["flash_bytes"] > 0
    card = (path / "card.md").read_text()
    assert "| input | image | (8, 8, 1), float32 | x * 0.00392157 + 0 |" in card and "license: other" in card
    # The runtime takes the raw uint8 images (the scaling is in the graph) and names its outputs.
    runtime = load(path)
    edge = runtime.predict({"image": inputs["image"][:20], "extra": inputs["extra"][:20]})
    kind, size = model([inputs["image"][:20].astype(np.float32) / 255.0, inputs["extra"][:20]])
    np.testing.assert_allclose(edge["kind"], keras.ops.convert_to_numpy(kind), atol=0.03)
    np.testing.assert_allclose(edge["size"], keras.ops.convert_to_numpy(size), atol=0.1)


@pytest.mark.slow
def test_parity_on_the_mae_of_a_named_output_and_the_gate(two_by_two, tmp_path):
    model, inputs, kinds, sizes = two_by_two
    measured = sizes + np.random.default_rng(2).normal(0, 0.5, sizes.shape)  # targets the model misses by ~0.4
    meta = export_model(model, tmp_path / "mae", calibration_data=inputs,
                        evaluation_data=(inputs, {"size": measured}), metric="mae",
                        preprocessing={"image": {"scale": 1 / 255}}, latency_runs=10)
    metrics = meta["metrics"]
    assert metrics["metric"] == "mae" and metrics["keras_float"] == pytest.approx(np.abs(measured - sizes).mean(), 1e-3)
    assert metrics["drop_unit"] == "percent" and metrics["drop"] <= 5.0
    with pytest.raises(ParityError, match="Nothing was written"):
        export_model(model, tmp_path / "strict", calibration_data=inputs, evaluation_data=(inputs, kinds),
                     max_drop=-1.0, preprocessing={"image": {"scale": 1 / 255}}, latency_runs=10)
    assert not (tmp_path / "strict").exists()


def test_a_metric_function_needs_its_allowance(two_by_two, tmp_path):
    model, inputs, kinds, _ = two_by_two
    with pytest.raises(InvalidInputError, match="pass `max_drop`"):
        export_model(model, tmp_path / "m", calibration_data=inputs, evaluation_data=(inputs, kinds),
                     metric=lambda y, p: 1.0)


@pytest.mark.parametrize("calibration, message", [
    (lambda x: {"image": x["image"]}, r"missing \['extra'\]"),
    (lambda x: {**x, "extra": x["extra"][:10]}, "counts differ"),
    (lambda x: {**x, "image": x["image"][..., 0]}, r"must have shape \(N, 8, 8, 1\)"),
    (lambda x: {**x, "extra": np.full((300, 3), "a")}, "must hold numbers"),
    (lambda x: x["image"], "takes 2 inputs"),
])
def test_calibration_data_that_does_not_fit_the_model_is_refused(two_by_two, tmp_path, calibration, message):
    model, inputs, _, _ = two_by_two
    with pytest.raises(InvalidInputError, match=message):
        export_model(model, tmp_path / "m", calibration_data=calibration(inputs))
    assert not (tmp_path / "m").exists()


def test_evaluation_targets_must_match_the_examples(two_by_two, tmp_path):
    model, inputs, kinds, _ = two_by_two
    with pytest.raises(InvalidInputError, match="300 examples but 10 targets"):
        export_model(model, tmp_path / "m", calibration_data=inputs, evaluation_data=(inputs, kinds[:10]))
    with pytest.raises(InvalidInputError, match=r"\(x, y\) pair"):
        export_model(model, tmp_path / "m", calibration_data=inputs, evaluation_data=inputs)


def test_every_problem_is_listed_before_anything_converts(tmp_path):
    with pytest.raises(ConversionError) as raised:
        export_model(model_with_problems(), tmp_path / "m")
    message = str(raised.value)
    assert "2 problem(s)" in message and "layer 'encoder'" in message and "unroll=True" in message
    assert "layer 'half'" in message and "float32" in message and "nothing was converted" in message
    assert not (tmp_path / "m").exists()
    with pytest.raises(ConversionError, match=r"1 problem\(s\):\n1. \[error\] layer 'half'"):
        export_model(model_with_problems(), tmp_path / "m", quantization="float32")  # a float loop converts


def test_a_layer_without_builtin_ops_is_named_with_its_op_and_the_fix(tmp_path):
    class Determinant(keras.layers.Layer):
        def call(self, x):
            return tf.linalg.det(tf.reshape(x, (-1, 2, 2)))

    inputs = keras.Input((4,), name="values")
    model = keras.Model(inputs, Determinant(name="determinant")(keras.layers.Dense(4)(inputs)))
    with pytest.raises(ConversionError, match=r"Layer 'determinant' uses TensorFlow op\(s\) MatrixDeterminant.*"
                                              r"What to do: Matrix decompositions") as raised:
        export_model(model, tmp_path / "m", quantization="float32")
    assert raised.value.ops == {"MatrixDeterminant": "determinant"}


@pytest.mark.slow
def test_a_subclassed_model_with_a_free_length_takes_the_calibration_shape(tmp_path):
    class Pooled(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv1D(4, 3, activation="relu")
            self.head = keras.layers.Dense(2, activation="softmax")

        def call(self, x):
            return self.head(keras.ops.mean(self.conv(x), axis=1))

    keras.utils.set_random_seed(0)
    model = Pooled()
    model(np.zeros((1, 16, 2), np.float32))
    x = np.random.default_rng(0).normal(size=(64, 16, 2)).astype(np.float32)
    meta = export_model(model, tmp_path / "m", calibration_data=x, latency_runs=10)
    assert meta["keras_model"]["inputs"][0]["shape"] == [16, 2] and meta["inputs"][0]["shape"] == [1, 16, 2]
    expected = keras.ops.convert_to_numpy(model(x[:8]))
    np.testing.assert_allclose(load(tmp_path / "m").predict(x[:8]), expected, atol=0.03)


def test_channels_first_raw_inputs_are_transposed_in_the_graph(tmp_path):
    model = image_classifier(shape=(6, 6, 3))
    images = np.random.default_rng(1).integers(0, 256, (40, 3, 6, 6)).astype(np.uint8)
    meta = export_model(model, tmp_path / "m", quantization="float32", preprocessing={"layout": "channels_first"},
                        latency_runs=10)
    assert meta["keras_model"]["inputs"][0]["shape"] == [3, 6, 6] and "TRANSPOSE" in meta["ops"]
    expected = keras.ops.convert_to_numpy(model(np.moveaxis(images, 1, -1).astype(np.float32)))
    np.testing.assert_allclose(load(tmp_path / "m").predict(images), expected, atol=1e-5)


def test_bad_preprocessing_and_float_layers_are_refused(tmp_path):
    model = image_classifier()
    images = np.zeros((4, 8, 8, 1), np.uint8)
    with pytest.raises(InvalidInputError, match="one per channel"):
        export_model(model, tmp_path / "m", calibration_data=images, preprocessing={"scale": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match="must be one of"):
        export_model(model, tmp_path / "m", calibration_data=images, preprocessing={"layout": "NCHW"})
    with pytest.raises(InvalidInputError, match=r"layers the model does not have: \['front'\]"):
        export_model(model, tmp_path / "m", calibration_data=images, float_layers=["front"])
    with pytest.raises(InvalidInputError, match="needs calibration_data"):
        export_model(model, tmp_path / "m")


def test_a_float_export_keeps_a_recurrent_loop_that_int8_refuses(tmp_path):
    keras.utils.set_random_seed(0)
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    hidden = keras.layers.LSTM(8, name="encoder")(keras.layers.Embedding(30, 4)(tokens))
    model = keras.Model(tokens, keras.layers.Dense(2, activation="softmax")(hidden))
    ids = np.random.default_rng(0).integers(0, 30, (20, 12)).astype(np.int32)
    with pytest.raises(ConversionError, match="layer 'encoder'"):
        export_model(model, tmp_path / "int8", calibration_data=ids)
    meta = export_model(model, tmp_path / "float", quantization="float32", latency_runs=10)
    assert "WHILE" in meta["ops"] and meta["inputs"][0]["dtype"] == "int32"
    np.testing.assert_allclose(load(tmp_path / "float").predict(ids), keras.ops.convert_to_numpy(model(ids)), atol=1e-5)


def test_the_card_of_an_export_renders_again_without_its_model(exported_two_by_two, tmp_path):
    import shutil

    from deepedge.export.card import refresh_card

    folder = shutil.copytree(exported_two_by_two[0], tmp_path / "copy")
    (folder / "card.md").unlink()
    card = refresh_card(folder)
    assert card["keras_model"]["outputs"] == ["kind", "size"]
    text = (folder / "card.md").read_text()
    assert "| output | size | (1,) | |" in text and "generic / keras model" in text
