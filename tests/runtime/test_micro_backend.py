"""deepedge.runtime.micro: the same runtime classes running the exported file in TFLite Micro
(`deepedge evaluate --backend micro`), and the speech front end that lets TFLM take the spotter."""

import json

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import InvalidInputError
from deepedge.runtime.micro import arena_for, current_backend, micro_backend

pytest.importorskip("tflite_micro")


def test_the_digits_classifier_scores_the_same_in_tflite_micro_as_in_litert(exported_int8, digits):
    litert = load(exported_int8)
    with micro_backend():
        micro = load(exported_int8)
    assert current_backend() == "litert" and micro.backend == "micro" and litert.backend == "litert"
    images = digits["test"].images[:40]
    # TFLM's reference int8 kernels and XNNPACK's round intermediate sums differently: the scores
    # agree to a few quantization steps, and the classes almost always.
    micro_scores, litert_scores = micro.predict(images), litert.predict(images)
    np.testing.assert_allclose(micro_scores, litert_scores, atol=6 / 256)
    assert np.mean(micro_scores.argmax(-1) == litert_scores.argmax(-1)) >= 0.95
    assert micro.evaluate_metric(digits["test"]) == pytest.approx(litert.evaluate_metric(digits["test"]), abs=0.3)


def test_micro_runs_with_the_arena_the_export_recorded(exported_int8):
    meta = json.loads((exported_int8 / "model.json").read_text())
    arena = meta["accelerators"]["micro"]["arena_bytes"]
    assert arena and arena < arena_for(meta) < 2 * arena
    assert arena_for({}) == 64 * 1024 * 1024  # nothing recorded: a generous arena


def test_bad_input_is_refused_before_tflite_micro_sees_it(exported_int8):
    with micro_backend():
        micro = load(exported_int8)
    with pytest.raises(InvalidInputError, match="shape"):
        micro.predict(np.zeros((1, 9, 9, 1), np.float32))


def test_step_wise_models_are_refused_with_the_reason(exported_language_models):
    folder = next(path for (name, quantization), path in exported_language_models.items() if quantization == "int8")
    with micro_backend(), pytest.raises(InvalidInputError, match="step-wise model.*LiteRT backend"):
        load(folder).generate("It is", max_new_tokens=2)


@pytest.mark.slow
def test_the_spotter_with_its_factored_fourier_transform_runs_in_tflite_micro(exported_spotter, tiny_keywords):
    folder, meta = exported_spotter
    assert "RFFT2D" not in meta["ops"] and meta["accelerators"]["micro"]["loads"]
    assert meta["accelerators"]["xnnpack"]["cpu_ops"].keys() <= {"SOFTMAX", "RESHAPE"}
    litert = load(folder)
    with micro_backend():
        micro = load(folder)
    data = tiny_keywords["validation"]
    assert micro.evaluate_metric(data) == pytest.approx(litert.evaluate_metric(data), abs=2.0)


def test_evaluate_refuses_the_micro_backend_for_a_keras_file(tmp_path):
    from deepedge.cli.evaluate import evaluate_model

    with pytest.raises(Exception, match="exported model"):
        evaluate_model("saved_models/fashion_lenet5/model.keras", backend="micro")
