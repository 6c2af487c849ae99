"""deepedge.runtime.metadata: a model folder whose files do not belong together, or are not
what they claim, is reported before anything runs."""

import json
import shutil

import pytest

from deepedge.edge import load
from deepedge.errors import ModelFileError


def test_foreign_file_is_reported(exported_int8, tmp_path):
    broken = shutil.copytree(exported_int8, tmp_path / "m")
    (broken / "model.tflite").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ModelFileError, match="not a TFLite model"):
        load(broken)


def test_model_json_from_another_export_is_reported(exported_int8, tmp_path):
    broken = shutil.copytree(exported_int8, tmp_path / "m")
    meta = json.loads((broken / "model.json").read_text())
    meta["tflite_sha256"] = "0" * 64
    (broken / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="does not describe"):
        load(broken)


def test_garbled_or_missing_files_are_reported(exported_int8, tmp_path):
    broken = shutil.copytree(exported_int8, tmp_path / "m")
    (broken / "model.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not a readable model.json"):
        load(broken)
    (broken / "model.json").write_text("{}")
    with pytest.raises(ModelFileError, match="lacks"):
        load(broken)
    with pytest.raises(ModelFileError, match="No model file"):
        load(tmp_path / "nothing_here.tflite")
