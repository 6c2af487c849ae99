"""deepedge.runtime.base: the interpreter wrapper every runtime shares checks inputs before
LiteRT sees them and reports a damaged model file."""

import shutil

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import InvalidInputError, ModelFileError


def test_invoke_checks_shape_before_set_tensor(exported_int8):
    model = load(exported_int8)
    with pytest.raises(InvalidInputError, match="must have shape"):
        model.invoke(np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(InvalidInputError, match="takes 1 input"):
        model.invoke()


def test_truncated_model_is_reported(exported_int8, tmp_path):
    broken = shutil.copytree(exported_int8, tmp_path / "m")
    data = (broken / "model.tflite").read_bytes()
    (broken / "model.tflite").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError, match="does not describe|truncated"):
        load(broken)
