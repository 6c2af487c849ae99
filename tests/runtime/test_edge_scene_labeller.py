"""EdgeSceneLabeller: tiles images larger than the exported model's input, agrees with Keras,
runs without TensorFlow and refuses bad images (`nuclei_export` in tests/conftest.py)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from test_case import check_runtime_without_tensorflow


@pytest.mark.slow
def test_nuclei_labeller_labels_on_device_without_tensorflow(nuclei_export):
    from deepedge.edge import load

    model, path, meta, test = nuclei_export
    metrics = meta["metrics"]
    runtime = load(path)
    assert runtime.input_specs[0]["shape"] == [1, 128, 128, 1] and runtime.input_specs[0]["dtype"] == "int8"
    # The 128x512 strip is larger than the model's tile: the runtime tiles it and agrees with Keras.
    strip = test.images[0]
    on_device, in_keras = runtime.label(strip), model.label(strip)
    assert on_device.shape == (128, 512)
    assert np.mean(on_device == in_keras) > 0.95
    assert runtime.evaluate_metric(test) == pytest.approx(metrics["litert_int8"], abs=1e-3)
    assert runtime.label(strip[:10, :10]).shape == (10, 10)  # smaller than a tile: mirrored out
    labels, painted = runtime.overlay(strip)
    assert painted.shape == (128, 512, 3) and painted.dtype == np.uint8
    # A fresh process without TensorFlow labels the strip the same way.
    np.testing.assert_array_equal(check_runtime_without_tensorflow(path, "runtime.label(x)", strip), on_device)


@pytest.mark.slow
@pytest.mark.parametrize("image, match", [
    (np.zeros((20, 20, 3), np.uint8), "colour"),
    (np.full((20, 20), np.nan), "NaN"),
    (np.full((20, 20), 256.0), "0..255"),
    (np.zeros((2, 3, 4, 5, 1)), "shape"),
])
def test_runtime_rejects_bad_images(nuclei_export, image, match):
    from deepedge.edge import load

    with pytest.raises(InvalidInputError, match=match):
        load(nuclei_export[1]).label(image)
