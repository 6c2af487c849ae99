"""The README's promise for every failure the user can cause: one unwrapped line on stderr, exit
code 2, no traceback. Damaged model folders are a shipped model's model.tflite beside a
damaged model.json; long messages must not wrap at 80 columns when stderr is a pipe."""

import json
import shutil
import zipfile

import pytest

from deepedge.presets import saved_models_dir
from helpers import run_cli


def assert_one_line_error(result, *expected):
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def damaged(tmp_path, name, text):
    """The shipped model `name` with `text` as its model.json."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(saved_models_dir() / name / "model.tflite", folder)
    (folder / "model.json").write_text(text)
    return folder


def without(tmp_path, name, key):
    meta = json.loads((saved_models_dir() / name / "model.json").read_text())
    del meta[key]
    return damaged(tmp_path, name, json.dumps(meta))


@pytest.mark.parametrize("name, key", [
    ("fashion_edgenet", "labels"),
    ("kws_dscnn", "input"),
    ("nuclei_labeller", "palette"),
    ("asr_ctc", "characters"),
    ("scenes_show_and_tell", "tokenizer"),
    ("glimpse_cluttered", "glimpses"),
])
def test_a_missing_key_in_model_json(tmp_path, name, key):
    folder = without(tmp_path, name, key)
    assert_one_line_error(run_cli("bench", folder, "--runs", 10), "ModelFileError", f"lacks `{key}`",
                          str(folder / "model.json"))


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not a readable model.json"),
    ("null", "holds null"),
    ("42", "holds a number"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format_version": "1", "task": 3, "inputs": [], "outputs": [], "tflite_sha256": ""}', "`format_version`"),
])
@pytest.mark.parametrize("command", ["bench", "info"])
def test_a_model_json_that_is_not_one(tmp_path, text, expected, command):
    folder = damaged(tmp_path, "dqn_cartpole", text)
    assert_one_line_error(run_cli(command, folder), "ModelFileError", expected)


def test_out_under_a_file(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"")
    for args in (["demo", "--out", a_file / "pictures"],
                 ["export", saved_models_dir() / "dqn_cartpole" / "model.keras", "--out", a_file / "export"],
                 ["predict", "scene", picture, "--out", a_file / "overlay.png"],
                 ["train", "dqn_cartpole", "--out", a_file / "run"],
                 ["play", "dqn_cartpole", "--out", a_file / "run.gif"]):
        assert_one_line_error(run_cli(*args), "InvalidInputError", f"{a_file} is a file")


def test_a_negative_seed():
    assert_one_line_error(run_cli("generate", "It is", "--seed", "-1", "--max-tokens", 3), "--seed")


def _keras_with_config(tmp_path, config):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(saved_models_dir() / "dqn_cartpole" / "model.keras") as source, \
            zipfile.ZipFile(path, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, json.dumps(config) if name == "config.json" else source.read(name))
    return path


@pytest.mark.parametrize("config", [[1], None, {"class_name": ["QNetwork"]},
                                    {"module": "builtins", "class_name": "function", "config": "print",
                                     "registered_name": "function"}])
def test_a_keras_file_whose_config_names_no_model_class(tmp_path, config):
    path = _keras_with_config(tmp_path, config)
    assert_one_line_error(run_cli("evaluate", path, "--limit", 1), "ModelFileError", str(path))


@pytest.mark.slow
def test_a_keras_file_whose_config_names_a_function(tmp_path):
    with zipfile.ZipFile(saved_models_dir() / "dqn_cartpole" / "model.keras") as source:
        config = json.loads(source.read("config.json"))
    config["config"]["hidden_units"] = {"module": "os", "class_name": "function", "config": "system",
                                        "registered_name": "function"}
    path = _keras_with_config(tmp_path, config)
    assert_one_line_error(run_cli("evaluate", path, "--limit", 1), "ModelFileError", str(path))


def test_quantization_aware_training_errors_name_what_to_do(tmp_path):
    result = run_cli("train", "fashion_edgenet", "--quantization-aware", "--out", str(tmp_path / "edgenet"))
    assert_one_line_error(result, "no quantization-aware fine-tuning recipe", "quantization_aware=True")
    result = run_cli("train", "austen_lstm_word", "--quantization-aware", "--out", str(tmp_path / "lm"))
    assert_one_line_error(result, "fine-tunes a trained model", "does not exist", "deepedge train austen_lstm_word")
    result = run_cli("train", "austen_lstm_word", "--quantization-aware", "--limit", "2")
    assert_one_line_error(result, "--quantization-aware fine-tunes on one device", "--limit 2")
