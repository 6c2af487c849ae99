"""deepedge.runtime.metadata_checks: a model.json that does not describe the .tflite beside it (another
model's, with the checksum patched to match; NaN or zero quantization scales; a wrong signature
name; a label list of the wrong length) is refused at load, before it can give wrong labels or
NaN probabilities. Every shipped model still loads."""

import json
import math
import shutil

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import ModelFileError
from deepedge.presets import saved_models_dir

SHIPPED = sorted(p.name for p in saved_models_dir().iterdir() if (p / "model.json").is_file())


def _meta(name):
    return json.loads((saved_models_dir() / name / "model.json").read_text())


def model_folder(tmp_path, tflite_from, json_from=None, change=None):
    """The .tflite of the shipped `tflite_from` beside the model.json of `json_from` (default: the
    same model), its checksum patched to match the .tflite, then changed by `change(meta)`."""
    folder = tmp_path / f"{tflite_from}_with_{json_from or tflite_from}"
    folder.mkdir()
    shutil.copy(saved_models_dir() / tflite_from / "model.tflite", folder)
    meta = _meta(json_from or tflite_from)
    meta["tflite_sha256"] = _meta(tflite_from)["tflite_sha256"]
    if change is not None:
        change(meta)
    (folder / "model.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_loads(name):
    model = load(saved_models_dir() / name)
    assert model.metadata["name"] == name


def _with_signatures_of(name, *signatures):
    """A `change` that adds `name`'s description of `signatures` to a model.json, so that the
    signature lists agree and the check reaches the shapes."""
    def change(meta):
        other = _meta(name)
        for signature in signatures:
            meta["signatures"][signature] = other["signatures"][signature]
            meta["signature_io"][signature] = other["signature_io"][signature]
    return change


@pytest.mark.parametrize("tflite_from, json_from, change, message", [
    ("nuclei_labeller", "scenes_labeller", None,
     r"output .* has shape \[1, 128, 128, 9\], but .* has \[1, 128, 128, 2\]"),
    ("scenes_labeller", "nuclei_labeller", None,
     r"output .* has shape \[1, 128, 128, 2\], but .* has \[1, 128, 128, 9\]"),
    ("es_en_seq2seq", "de_en_seq2seq", None,
     r"lists signatures \['decode_step', 'encode', 'encode_16'\], .* has \['decode_step', 'encode', 'encode_16', "
     r"'encode_32', 'encode_48'\]"),
    ("es_en_seq2seq", "de_en_seq2seq", _with_signatures_of("es_en_seq2seq", "encode_32", "encode_48"),
     r"input 'source_last' of signature 'encode' has shape \[1, 1, 48\], but .* \[1, 1, 96\]"),
    ("scenes_show_and_tell", "scenes_captioner", None,
     r"signature 'decode_step' has inputs \['c', 'h', 'keys', 'memory', 'token_rows'\]"),
])
def test_model_json_of_another_model_with_a_matching_checksum_is_refused(tmp_path, tflite_from, json_from, change,
                                                                         message):
    with pytest.raises(ModelFileError, match=message):
        load(model_folder(tmp_path, tflite_from, json_from, change))


@pytest.mark.parametrize("scale", [math.nan, math.inf, -0.00390625])
def test_nan_infinite_or_negative_scales_are_refused(tmp_path, scale):
    folder = model_folder(tmp_path, "fashion_edgenet", change=lambda meta: meta["outputs"][0].update(scale=scale))
    with pytest.raises(ModelFileError, match=r"quantization scale of `outputs\[0\]`.* is (nan|inf|-0\.0039)"):
        load(folder)


@pytest.mark.parametrize("side", ["inputs", "outputs"])
def test_zero_scale_of_a_quantized_tensor_is_refused(tmp_path, side):
    folder = model_folder(tmp_path, "fashion_edgenet", change=lambda meta: meta[side][0].update(scale=0.0))
    with pytest.raises(ModelFileError, match=r"has quantization scale 0\.0 \(0: not quantized\), but .* has "):
        load(folder)


def test_other_quantization_parameters_are_compared(tmp_path):
    folder = model_folder(tmp_path, "fashion_edgenet", change=lambda meta: meta["outputs"][0].update(zero_point=0))
    with pytest.raises(ModelFileError, match="has zero_point 0, but .* has -128"):
        load(folder)
    step = model_folder(tmp_path, "glimpse_cluttered",
                        change=lambda m: m["signature_io"]["step"]["outputs"][-1].update(scale=0.5))
    with pytest.raises(ModelFileError, match="output 'probabilities' of signature 'step' has quantization scale 0.5"):
        load(step)


def test_a_wrong_signature_name_is_refused(tmp_path):
    def rename(meta):
        meta["signatures"]["predict"] = meta["signatures"].pop("serving_default")

    with pytest.raises(ModelFileError, match=r"lists signatures \['predict'\], but .* has \['serving_default'\]"):
        load(model_folder(tmp_path, "fashion_edgenet", change=rename))

    def rename_output(meta):
        meta["signatures"]["step"]["outputs"] = ["c", "h", "next_location", "probs"]

    with pytest.raises(ModelFileError, match="signature 'step' has outputs"):
        load(model_folder(tmp_path, "glimpse_cluttered", change=rename_output))


@pytest.mark.parametrize("model, key, change, message", [
    ("fashion_edgenet", "labels", lambda names: names.pop(), "lists 9 labels, but the output .* has 10 classes"),
    ("kws_dscnn", "labels", lambda names: names.append("extra"), "lists 23 labels, but .* has 22 classes"),
    ("nuclei_labeller", "labels", lambda names: names.append("extra"), "lists 3 labels, but .* has 2 classes"),
    ("nuclei_labeller", "palette", lambda colours: colours.pop(), "lists 1 palette colours"),
    ("glimpse_cluttered", "labels", lambda names: names.pop(), "lists 9 labels, but the output 'probabilities'"),
    ("asr_ctc", "characters", lambda names: names.pop(), r"lists 27 characters \(plus 1 .*\), but .* 29 classes"),
    ("dqn_cartpole", "action_names", lambda names: names.pop(), "lists 1 action names, but .* has 2 classes"),
])
def test_a_label_list_of_the_wrong_length_is_refused(tmp_path, model, key, change, message):
    with pytest.raises(ModelFileError, match=message):
        load(model_folder(tmp_path, model, change=lambda meta: change(meta[key])))


def test_checks_run_once_at_load_not_per_thread(monkeypatch):
    import threading

    from deepedge.runtime import base

    model = load(saved_models_dir() / "fashion_edgenet")
    calls, results = [], []
    monkeypatch.setattr(base, "compare_specs", lambda *args, **kwargs: calls.append(args))
    thread = threading.Thread(target=lambda: results.append(model.predict(np.zeros((28, 28), np.uint8))))
    thread.start()
    thread.join()
    assert len(results) == 1 and results[0].shape == (1, 10) and calls == []
