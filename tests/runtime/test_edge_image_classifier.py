"""EdgeImageClassifier: classifies without TensorFlow (and quietly), refuses bad images."""

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.errors import InvalidInputError
from test_case import check_runtime_without_tensorflow


def test_runtime_never_imports_tensorflow(exported_int8, digits):
    label = check_runtime_without_tensorflow(exported_int8, "runtime.classify(x)[0][0][0]",
                                             digits["test"].images[:4], timeout=120,
                                             forbidden_in_stderr=("XNNPACK", "INFO"))
    assert label in digits["test"].class_names


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
