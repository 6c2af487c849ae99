"""deepedge.runtime.keras_model: the on-device model of any exported Keras model takes raw arrays
(one array, a list or a dict by input name), names its outputs, checks every input, needs no
TensorFlow, and shipped models load by name."""

import json
import shutil

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.keras_model import EdgeKerasModel
from test_case import check_runtime_without_tensorflow
from user_models import image_classifier, two_input_data, two_input_model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`(folder, raw inputs)`: the two-input, two-output model exported to int8 with its image
    scaling declared, and three class labels."""
    from deepedge.export import export_model

    model = two_input_model()
    inputs, kinds, _ = two_input_data(model, count=120)
    folder = tmp_path_factory.mktemp("edge_user") / "two_by_two"
    export_model(model, folder, calibration_data=inputs, evaluation_data=(inputs, kinds), max_drop=5.0,
                 preprocessing={"image": {"scale": 1 / 255}}, labels=["round", "square", "star"], latency_runs=10)
    return folder, inputs


def test_predict_takes_a_dict_or_a_list_and_names_the_outputs(exported):
    folder, inputs = exported
    runtime = load(folder)
    assert isinstance(runtime, EdgeKerasModel)
    assert runtime.input_names == ["image", "extra"] and runtime.output_names == ["kind", "size"]
    assert runtime.labels == ["round", "square", "star"] and runtime.preprocessing["image"]["scale"] == 1 / 255
    by_name = runtime.predict({"image": inputs["image"][:6], "extra": inputs["extra"][:6]})
    in_order = runtime.predict([inputs["image"][:6], inputs["extra"][:6]])
    assert by_name["kind"].shape == (6, 3) and by_name["size"].shape == (6, 1)
    np.testing.assert_array_equal(by_name["kind"], in_order["kind"])
    np.testing.assert_allclose(by_name["kind"].sum(-1), 1.0, atol=0.02)


def test_the_runtime_never_imports_tensorflow(exported):
    folder, inputs = exported
    call = "runtime.predict({'image': x, 'extra': np.zeros((len(x), 3), np.float32)})['kind'].argmax(-1)"
    result = check_runtime_without_tensorflow(folder, call, inputs["image"][:5])
    expected = load(folder).predict({"image": inputs["image"][:5], "extra": np.zeros((5, 3), np.float32)})
    assert result == expected["kind"].argmax(-1).tolist()


@pytest.mark.parametrize("bad, message", [
    (lambda x: {"image": x["image"][:2]}, r"takes the inputs \['image', 'extra'\]"),
    (lambda x: {"image": x["image"][0], "extra": x["extra"][:1]}, r"batch of shape \(N, 8, 8, 1\).*x\[None\]"),
    (lambda x: {"image": x["image"][:2], "extra": x["extra"][:3]}, "same number of rows"),
    (lambda x: {"image": x["image"][:1], "extra": np.full((1, 3), np.nan, np.float32)}, "NaN"),
    (lambda x: {"image": x["image"][:1].astype(str), "extra": x["extra"][:1]}, "must be numeric"),
    (lambda x: x["image"][:2], "pass a dict by name"),
])
def test_bad_inputs_raise_clear_errors_and_the_model_still_works(exported, bad, message):
    folder, inputs = exported
    runtime = load(folder)
    with pytest.raises(InvalidInputError, match=message):
        runtime.predict(bad(inputs))
    assert runtime.predict({"image": inputs["image"][:1], "extra": inputs["extra"][:1]})["kind"].shape == (1, 3)


def test_a_model_json_that_renames_the_outputs_is_refused(exported, tmp_path):
    folder, _ = exported
    copy = shutil.copytree(folder, tmp_path / "m")
    meta = json.loads((copy / "model.json").read_text())
    meta["keras_model"]["outputs"] = ["kind", "weight"]
    (copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"`keras_model.outputs` lists \['kind', 'weight'\]"):
        load(copy)


def test_a_one_input_model_takes_a_plain_array(tmp_path):
    from deepedge.export import export_model

    model = image_classifier()
    images = np.random.default_rng(0).integers(0, 256, (30, 8, 8, 1)).astype(np.uint8)
    export_model(model, tmp_path / "m", calibration_data=images, latency_runs=10)
    scores = load(tmp_path / "m").predict(images[:4])
    assert scores.shape == (4, 3) and np.allclose(scores.sum(-1), 1.0, atol=0.02)


def test_a_shipped_model_loads_by_its_name():
    from deepedge.errors import PresetNotFoundError
    from deepedge.presets import saved_models_dir

    if not (saved_models_dir() / "fashion_edgenet" / "model.json").exists():
        pytest.skip("fashion_edgenet is not shipped in this checkout")
    assert load("fashion_edgenet").tflite_path == saved_models_dir() / "fashion_edgenet" / "model.tflite"
    with pytest.raises(PresetNotFoundError, match="fashion_edgenet"):
        load("no_such_model")
