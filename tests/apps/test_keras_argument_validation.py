"""The Keras tasks check their public arguments as the runtime does (issue 23, item 7): a bad one
raises InvalidInputError naming it, what was received and what to pass, before any work is done."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.presets import saved_models_dir

_LOADED = {}


@pytest.fixture(scope="module")
def load():
    """Each shipped `.keras` model loaded once for the whole module, on first use."""
    from deepedge.apps import register_keras_classes
    from deepedge.apps.task import Task

    register_keras_classes()

    def get(name):
        if name not in _LOADED:
            _LOADED[name] = Task.load(saved_models_dir() / name / "model.keras")
        return _LOADED[name]

    yield get
    _LOADED.clear()


def refused(call, *shown):
    with pytest.raises(InvalidInputError) as raised:
        call()
    message = str(raised.value)
    for text in shown:
        assert text in message, message
    assert "Received" in message, message
    return message


def test_image_classifier_checks_top_k_and_ragged_lists(load):
    model = load("fashion_edgenet")
    image = np.zeros(model.image_shape, np.uint8)
    for top_k in (-3, 0, 2.5, True):
        refused(lambda: model.classify(image, top_k=top_k), "`top_k`")
    refused(lambda: model.classify([np.zeros((28, 28)), np.zeros((20, 20))]), "images[1]", "(20, 20)")
    assert len(model.classify(image, top_k=50)[0]) == len(model.class_names)


def test_language_model_checks_ids_and_generation_controls(load):
    model = load("austen_nplm")
    refused(lambda: model.perplexity([]), "empty")
    refused(lambda: model.perplexity([2**32 + 5]), "4294967301")
    refused(lambda: model.perplexity([1.5, 2]), "1.5")
    refused(lambda: model.perplexity(np.array([2**32 + 5])), "4294967301")
    refused(lambda: model.perplexity("it is", batch_size=0), "`batch_size`")
    for arguments, shown in (({"temperature": float("inf")}, "`temperature`"), ({"seed": 1.5}, "`seed`"),
                             ({"top_k": 2.5}, "`top_k`"), ({"max_tokens": -1}, "`max_tokens`"),
                             ({"beam_width": 0}, "`beam_width`")):
        refused(lambda: model.generate("It is", **arguments), shown)


def test_keyword_spotter_checks_top_k_and_empty_audio(load):
    model = load("kws_dscnn")
    clip = np.zeros(model.clip_samples, np.float32)
    refused(lambda: model.classify(clip, top_k=-3), "`top_k`")
    refused(lambda: model.classify(np.zeros((0, model.clip_samples), np.float32)), "empty batch of audio")
    refused(lambda: model.predict([]), "empty batch of audio")


def test_speech_recognizer_checks_empty_audio_and_beams(load):
    model = load("asr_ctc")
    refused(lambda: model.transcribe(np.zeros(0, np.float32)), "empty")
    refused(lambda: model.transcribe([]), "empty")
    refused(lambda: model.transcribe(np.zeros(1600, np.float32), beam_width=-1), "`beam_width`")
    refused(lambda: model.transcribe(np.zeros(1600, np.float32), beam_width=2.5), "`beam_width`")


def test_translator_checks_decoding_controls(load):
    model = load("es_en_attention")
    refused(lambda: model.translate("hola", beam_width=2.5), "`beam_width`")
    refused(lambda: model.translate("hola", beam_width=-1), "`beam_width`")
    refused(lambda: model.translate("hola", max_tokens=-1), "`max_tokens`")
    refused(lambda: model.translate("hola", max_tokens=2.5), "`max_tokens`")
    refused(lambda: model.translate("hola", length_penalty=float("nan")), "`length_penalty`")


def test_captioner_checks_images_and_controls(load):
    model = load("scenes_captioner")
    image = np.zeros((model.image_size, model.image_size, 3), np.uint8)
    refused(lambda: model.caption([image, image[:-1]]), "images[1]")
    refused(lambda: model.caption(image, beam_width=0), "`beam_width`")
    refused(lambda: model.caption(image, max_tokens=1.5), "`max_tokens`")


@pytest.mark.parametrize("calibration_data", [np.zeros((0, 28, 28, 1), np.uint8), [], ()])
def test_export_refuses_an_empty_calibration_set(load, tmp_path, calibration_data):
    model = load("fashion_edgenet")
    refused(lambda: model.export(tmp_path / "out", calibration_data=calibration_data), "`calibration_data` is empty")
    assert not (tmp_path / "out").exists()


def test_export_refuses_an_empty_data_set_and_bad_options(load, tmp_path):
    from types import SimpleNamespace

    model = load("fashion_edgenet")
    empty = SimpleNamespace(images=np.zeros((0, 28, 28, 1), np.uint8), labels=np.zeros(0, np.int64))
    refused(lambda: model.export(tmp_path / "out", calibration_data=empty), "`calibration_data` is empty")
    calibration = np.zeros((4, 28, 28, 1), np.uint8)
    refused(lambda: model.export(tmp_path / "out", calibration_data=calibration, num_calibration=0),
            "`num_calibration`")
    refused(lambda: model.export(tmp_path / "out", calibration_data=calibration, latency_runs=2.5), "`latency_runs`")
    refused(lambda: model.export(tmp_path / "out", calibration_data=calibration, max_drop=float("nan")), "`max_drop`")
    language_model = load("austen_nplm")
    refused(lambda: language_model.export(tmp_path / "lm", calibration_data=[]), "`calibration_data` is empty")
