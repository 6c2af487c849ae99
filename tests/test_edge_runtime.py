import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.export.card import render_markdown, write_model_card
from deepedge.errors import InvalidInputError, ModelFileError


def test_runtime_never_imports_tensorflow(exported_int8, digits):
    script = (
        "import sys, numpy as np\n"
        "from deepedge.edge import load\n"
        f"model = load({str(exported_int8)!r})\n"
        f"images = np.load({str(exported_int8 / 'sample.npy')!r})\n"
        "print(model.classify(images)[0][0][0])\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')]\n"
        "assert not heavy, heavy\n")
    np.save(exported_int8 / "sample.npy", digits["test"].images[:4])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in digits["test"].class_names
    assert "XNNPACK" not in result.stderr and "INFO" not in result.stderr


@pytest.mark.parametrize("images, match", [
    (np.zeros((1, 28, 28, 1), np.uint8), r"shape \(N, 8, 8, 1\)"),
    (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
    (np.array(["x"] * 64).reshape(1, 8, 8, 1), "dtype"),
    (np.full((1, 8, 8, 1), -5.0), "0..255"),
    (np.full((1, 8, 8, 1), np.inf), "NaN or infinite"),
    (np.zeros((0, 8, 8), np.uint8), "empty"),
])
def test_bad_input_raises_a_clear_error_not_a_crash(exported_int8, images, match):
    model = load(exported_int8)
    with pytest.raises(InvalidInputError, match=match):
        model.predict(images)
    assert model.predict(np.zeros((8, 8), np.uint8)).shape == (1, 10)  # still usable afterwards


def test_invoke_checks_shape_before_set_tensor(exported_int8):
    model = load(exported_int8)
    with pytest.raises(InvalidInputError, match="must have shape"):
        model.invoke(np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(InvalidInputError, match="takes 1 input"):
        model.invoke()


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_truncated_model_is_reported(exported_int8, tmp_path):
    broken = _copy(exported_int8, tmp_path / "m")
    data = (broken / "model.tflite").read_bytes()
    (broken / "model.tflite").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError, match="does not describe|truncated"):
        load(broken)


def test_foreign_file_is_reported(exported_int8, tmp_path):
    broken = _copy(exported_int8, tmp_path / "m")
    (broken / "model.tflite").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ModelFileError, match="not a TFLite model"):
        load(broken)


def test_model_json_from_another_export_is_reported(exported_int8, tmp_path):
    broken = _copy(exported_int8, tmp_path / "m")
    meta = json.loads((broken / "model.json").read_text())
    meta["tflite_sha256"] = "0" * 64
    (broken / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="does not describe"):
        load(broken)


def test_garbled_or_missing_files_are_reported(exported_int8, tmp_path):
    broken = _copy(exported_int8, tmp_path / "m")
    (broken / "model.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not a readable model.json"):
        load(broken)
    (broken / "model.json").write_text("{}")
    with pytest.raises(ModelFileError, match="lacks"):
        load(broken)
    with pytest.raises(ModelFileError, match="No model file"):
        load(tmp_path / "nothing_here.tflite")


def test_model_card_reports_the_export(exported_int8, tmp_path):
    folder = _copy(exported_int8, tmp_path / "m")
    card = write_model_card(folder, data={"name": "digits", "source": "scikit-learn", "licence": "BSD-3-Clause"},
                            export_command="deepedge export x.keras --out m")
    meta = json.loads((folder / "model.json").read_text())
    assert card["size_bytes"] == meta["size_bytes"] and card["metrics"] == meta["metrics"]
    text = (folder / "card.md").read_text()
    assert text == render_markdown(card)
    assert f"{meta['metrics']['keras_float']:.2f}" in text and "BSD-3-Clause" in text
    assert "deepedge export x.keras --out m" in text
