"""deepedge.export.exporter: the int8 export of the trained digits classifier (`exported_int8`
in tests/conftest.py), other quantizations, the parity check and the arguments it refuses."""

import json

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import InvalidInputError, ParityError


def test_int8_export_is_full_integer_builtin_only_and_keeps_accuracy(exported_int8, trained_digits_classifier, digits):
    meta = json.loads((exported_int8 / "model.json").read_text())
    assert meta["quantization"] == "int8" and meta["task"] == "image_classification"
    assert [s["dtype"] for s in meta["inputs"]] == ["int8"] and [s["dtype"] for s in meta["outputs"]] == ["int8"]
    assert meta["inputs"][0]["shape"] == [1, 8, 8, 1]
    assert meta["signatures"] == {"serving_default": {"inputs": ["images"], "outputs": ["output_0"]}}
    assert all(not op.startswith("Flex") and op != "CUSTOM" for op in meta["ops"])
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(meta["ops"])
    # no float islands but the softmax, rewritten so that XNNPACK takes it (deepedge.export.rewrite)
    assert [op["op"] for op in meta["float_ops"]] == ["SOFTMAX"] and meta["xnnpack_rewrites"] == {"SOFTMAX": 1}
    assert meta["accelerators"]["xnnpack"]["cpu_ops"] == {}
    metrics = meta["metrics"]
    assert metrics["split"] == "test" and metrics["examples"] == 360
    assert metrics["keras_float"] > 80.0 and metrics["drop"] <= 3.0 and metrics["passed"]
    assert meta["labels"] == trained_digits_classifier.class_names
    assert meta["latency_us"]["median"] > 0 and meta["latency_us"]["runs"] == 1000
    # The on-device model reproduces what export recorded.
    assert load(exported_int8).evaluate_metric(digits["test"]) == pytest.approx(metrics["litert_int8"], abs=1e-3)


def test_int8_predictions_match_keras(exported_int8, trained_digits_classifier, digits):
    images = digits["test"].images
    keras_scores = trained_digits_classifier.predict(images, verbose=0)
    edge_scores = load(exported_int8).predict(images)
    agreement = np.mean(np.argmax(keras_scores, -1) == np.argmax(edge_scores, -1))
    assert agreement >= 0.97
    assert np.abs(keras_scores - edge_scores).mean() < 0.02


@pytest.mark.parametrize("quantization", ["float32", "float16", "dynamic"])
def test_other_quantizations(quantization, trained_digits_classifier, digits, tmp_path):
    meta = trained_digits_classifier.export(tmp_path, quantization=quantization, evaluation_data=digits["test"])
    assert meta["inputs"][0]["dtype"] == "float32" and meta["metrics"]["passed"]
    edge = load(tmp_path).predict(digits["test"].images[:20])
    keras_scores = trained_digits_classifier.predict(digits["test"].images[:20], verbose=0)
    tolerance = {"float32": 1e-5, "float16": 2e-2, "dynamic": 5e-2}[quantization]
    np.testing.assert_allclose(edge, keras_scores, atol=tolerance)


def test_parity_failure_writes_nothing_unless_forced(trained_digits_classifier, digits, tmp_path):
    with pytest.raises(ParityError, match="Nothing was written"):
        trained_digits_classifier.export(tmp_path / "strict", calibration_data=digits["train"],
                                         evaluation_data=digits["test"], max_drop=-100.0)
    assert not (tmp_path / "strict").exists()
    meta = trained_digits_classifier.export(tmp_path / "forced", calibration_data=digits["train"],
                                            evaluation_data=digits["test"], max_drop=-100.0, force=True)
    assert meta["metrics"]["passed"] is False and (tmp_path / "forced" / "model.tflite").exists()


def test_int8_without_calibration_data_is_refused(trained_digits_classifier, tmp_path):
    with pytest.raises(InvalidInputError, match="calibration"):
        trained_digits_classifier.export(tmp_path)


def test_unknown_quantization_is_refused(trained_digits_classifier, tmp_path):
    with pytest.raises(InvalidInputError, match="int4"):
        trained_digits_classifier.export(tmp_path, quantization="int4")


def test_exported_tensor_names_are_short_and_the_model_unchanged(tmp_path, trained_digits_classifier, digits):
    from ai_edge_litert.interpreter import Interpreter

    meta = trained_digits_classifier.export(tmp_path / "m", calibration_data=digits["train"], latency_runs=20)
    interpreter = Interpreter(model_path=str(tmp_path / "m" / "model.tflite"))
    assert max(len(d["name"]) for d in interpreter.get_tensor_details()) <= 64
    assert meta["inputs"][0]["name"] == interpreter.get_input_details()[0]["name"]
    images = digits["test"].images[:20]
    assert np.mean(np.argmax(load(tmp_path / "m").predict(images), -1)
                   == np.argmax(trained_digits_classifier.predict(images, verbose=0), -1)) >= 0.95


def test_exporting_again_replaces_the_export_and_keeps_the_trained_model(trained_digits_classifier, digits, tmp_path):
    path = tmp_path / "digits"
    trained_digits_classifier.export(path, quantization="float32", evaluation_data=digits["test"])
    (path / "model.keras").write_bytes(b"the trained model")
    (path / "model.tflite").write_bytes(b"a damaged export")
    meta = trained_digits_classifier.export(path, quantization="float32", evaluation_data=digits["test"])
    assert (path / "model.keras").read_bytes() == b"the trained model"
    assert load(path).metadata["tflite_sha256"] == meta["tflite_sha256"]
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]  # no workspace left beside it


def test_an_export_path_that_is_a_file_is_refused(trained_digits_classifier, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(InvalidInputError, match="is a file"):
        trained_digits_classifier.export(tmp_path / "taken", quantization="float32")
    with pytest.raises(InvalidInputError, match="is a file"):
        trained_digits_classifier.export(tmp_path / "taken" / "inside", quantization="float32")
    assert (tmp_path / "taken").read_text() == "not a folder"


def test_every_export_records_memory_and_accelerators_in_model_json_and_card(exported_int8):
    from deepedge.export.card import build_card, render_markdown

    meta = json.loads((exported_int8 / "model.json").read_text())
    memory, targets = meta["footprint"], meta["accelerators"]
    assert memory["flash_bytes"] == (exported_int8 / "model.tflite").stat().st_size
    assert 0 < memory["litert_arena_bytes"] < 100_000 and memory["micro_arena_bytes"] > 0
    assert targets["micro"]["loads"] and targets["xnnpack"]["ops"] >= targets["xnnpack"]["delegated"] > 0
    assert targets["edgetpu"]["ops"] == targets["xnnpack"]["ops"] and not targets["gpu"]["verified"]
    markdown = render_markdown(build_card(exported_int8))
    assert "| flash / RAM |" in markdown and "| XNNPACK (CPU) |" in markdown and "| TFLite Micro | runs, arena" in markdown


def test_a_budget_the_model_exceeds_fails_naming_its_tensors_and_writes_nothing(trained_digits_classifier, digits,
                                                                                tmp_path):
    from deepedge.errors import BudgetExceededError

    with pytest.raises(BudgetExceededError, match=r"RAM budget 1 KB exceeded.*largest activations"):
        trained_digits_classifier.export(tmp_path / "m", calibration_data=digits["train"], max_ram="1KB")
    with pytest.raises(BudgetExceededError, match=r"Flash budget .* exceeded.*largest constants"):
        trained_digits_classifier.export(tmp_path / "m", calibration_data=digits["train"], max_flash=1000)
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
    trained_digits_classifier.export(tmp_path / "m", calibration_data=digits["train"], max_ram="1MB", max_flash="1MB")
    assert (tmp_path / "m" / "model.tflite").exists()
