"""KeywordSpotter: clips it takes, presets, config and `.keras` files, and its int8 export
(`tiny_spotter` and `exported_spotter` in tests/conftest.py)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from test_case import run_task_test


@pytest.mark.slow
def test_spotter_takes_int16_or_float_clips_and_checks_their_shape(tiny_spotter, tiny_keywords):
    clips = tiny_keywords["validation"].audio[:3]
    as_int16 = tiny_spotter.scores(clips)
    as_float = tiny_spotter.scores(clips.astype(np.float32) / 32768.0)
    assert as_int16.shape == (3, 22) and np.allclose(as_int16, as_float, atol=1e-5)
    np.testing.assert_allclose(as_int16.sum(-1), 1.0, atol=1e-5)
    assert len(tiny_spotter.classify(clips[0], top_k=2)[0]) == 2
    with pytest.raises(InvalidInputError, match="16000-sample clips"):
        tiny_spotter.scores(np.zeros(8000, np.float32))
    with pytest.raises(InvalidInputError, match="int16 PCM or float"):
        tiny_spotter.scores(np.zeros(16000, np.int32))


@pytest.mark.slow
def test_spotter_config_round_trip_and_safe_save_load(tiny_spotter, tiny_keywords, tmp_path):
    from deepedge.apps.speech import KeywordSpotter

    clips = tiny_keywords["validation"].audio[:4]
    loaded = run_task_test(tiny_spotter, clips.astype(np.float32) / 32768.0, (4, 22), tmp_path)
    clone = KeywordSpotter.from_config(tiny_spotter.get_config())
    assert clone.count_params() == tiny_spotter.count_params() and clone.threshold == 0.3
    np.testing.assert_allclose(loaded.scores(clips), tiny_spotter.scores(clips), atol=1e-6)
    assert loaded.threshold == 0.3 and loaded.class_names == tiny_spotter.class_names


def test_presets_build_hello_edge_sized_models():
    from deepedge.apps.speech import KeywordSpotter
    from deepedge.errors import PresetNotFoundError

    assert 20_000 < KeywordSpotter.from_preset("dscnn_s").count_params() < 30_000
    assert KeywordSpotter.from_preset("dscnn_xs").count_params() < 10_000
    with pytest.raises(PresetNotFoundError, match="dscnn_s"):
        KeywordSpotter.from_preset("dscnn_huge")


@pytest.mark.slow
def test_int8_export_takes_audio_keeps_the_front_end_float_and_the_network_int8(exported_spotter):
    from ai_edge_litert.interpreter import Interpreter

    path, meta = exported_spotter
    assert meta["inputs"][0]["shape"] == [1, 16000] and meta["inputs"][0]["dtype"] == "float32"
    assert meta["input"]["kind"] == "audio" and meta["threshold"] == 0.3
    assert {"TRANSPOSE", "LOG", "CONV_2D", "DEPTHWISE_CONV_2D", "QUANTIZE"} <= set(meta["ops"])
    assert "RFFT2D" not in meta["ops"]  # the factored Fourier transform: matrix products
    assert not any(op.startswith("Flex") for op in meta["ops"])
    interpreter = Interpreter(model_path=str(path / "model.tflite"))
    kinds = {}
    for op in interpreter._get_ops_details():
        inputs = [i for i in op["inputs"] if i >= 0]
        kinds.setdefault(op["op_name"], set()).add(interpreter._get_tensor_details(inputs[0], 0)["dtype"].__name__)
    assert kinds["TRANSPOSE"] == {"float32"} and kinds["LOG"] == {"float32"}
    assert kinds["CONV_2D"] == {"int8"} and kinds["DEPTHWISE_CONV_2D"] == {"int8"}
    assert set(meta["metrics"]) >= {"keras_float", "litert_int8", "drop"}
