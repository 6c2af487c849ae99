"""Browser variants (`deepedge export MODEL --io uint8|float32`): the shipped int8 network with
uint8 or float32 tensors at its boundary, giving the shipped model's outputs exactly."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepedge.errors import ModelFileError

SHIPPED = Path(__file__).resolve().parents[2] / "saved_models"
VARIANTS = ["fashion_edgenet", "fashion_lenet5", "nuclei_labeller", "scenes_labeller"]


def run(path, value, output="output_0"):
    """The named output of the model's one signature for one input."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    (name,) = runner.get_input_details()
    return runner(**{name: value})[output]


def real_inputs(name, shape):
    """A few real images of the model's input size: Fashion-MNIST test images, or crops of
    scikit-image's brick, grass and gravel photographs."""
    if shape[1] == 28:
        from deepedge.data import load_fashion_mnist

        return load_fashion_mnist("test").images[:4]
    from skimage import data

    side = shape[1]
    return [getattr(data, texture)()[i * side:(i + 1) * side, :side] for i, texture in enumerate(("brick", "grass",
                                                                                                 "gravel"))]


@pytest.mark.parametrize("name", VARIANTS)
def test_shipped_variant_gives_the_int8_models_outputs_exactly(name):
    meta = json.loads((SHIPPED / name / "model.json").read_text())
    browser = meta["browser"]
    assert browser["io"] == "uint8" and (SHIPPED / name / browser["file"]).is_file()
    assert all(spec["dtype"] == "uint8" for spec in browser["inputs"] + browser["outputs"])
    from deepedge.runtime.metadata import sha256_of

    assert sha256_of(SHIPPED / name / "model.tflite") == meta["tflite_sha256"]  # the shipped model is untouched
    assert sha256_of(SHIPPED / name / browser["file"]) == browser["sha256"]
    shape = meta["inputs"][0]["shape"]
    for image in real_inputs(name, shape):
        pixels = np.asarray(image, np.uint8).reshape(shape)
        shipped = run(SHIPPED / name / "model.tflite", (pixels.astype(np.int16) - 128).astype(np.int8))
        variant = run(SHIPPED / name / browser["file"], pixels)
        np.testing.assert_array_equal(variant.astype(np.int16) - 128, shipped)


def test_variant_keeps_every_op_and_weight_and_adds_only_boundary_ops(tmp_path):
    from tensorflow.lite.tools import flatbuffer_utils

    from deepedge.export.browser import browser_flatbuffer

    original = (SHIPPED / "fashion_edgenet" / "model.tflite").read_bytes()
    before = flatbuffer_utils.read_model_from_bytearray(bytearray(original))
    for io, added in (("uint8", 2), ("float32", 2)):
        after = flatbuffer_utils.read_model_from_bytearray(bytearray(browser_flatbuffer(original, io)))
        assert len(after.subgraphs[0].operators) == len(before.subgraphs[0].operators) + added
        assert [b.data.tobytes() if b.data is not None else b"" for b in after.buffers] == \
            [b.data.tobytes() if b.data is not None else b"" for b in before.buffers]
        old, new = before.subgraphs[0].tensors, after.subgraphs[0].tensors[:len(before.subgraphs[0].tensors)]
        assert [(t.type, t.buffer, list(t.shape)) for t in old] == [(t.type, t.buffer, list(t.shape)) for t in new]


@pytest.mark.parametrize("name, shape", [("fashion_edgenet", [1, 28, 28, 16]), ("fashion_lenet5", [1, 28, 28, 6])])
def test_feature_maps_are_the_int8_models_first_activations(name, shape):
    from ai_edge_litert.interpreter import Interpreter

    meta = json.loads((SHIPPED / name / "model.json").read_text())
    spec = meta["browser"]["signature_io"]["serving_default"]["outputs"]
    assert [o["name"] for o in spec] == ["feature_maps", "output_0"] and spec[0]["shape"] == shape
    interpreter = Interpreter(model_path=str(SHIPPED / name / "model.tflite"), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    for image in real_inputs(name, [1, 28, 28, 1]):
        pixels = np.asarray(image, np.uint8).reshape(1, 28, 28, 1)
        int8_pixels = (pixels.astype(np.int16) - 128).astype(np.int8)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], int8_pixels)
        interpreter.invoke()
        inside = [interpreter.get_tensor(d["index"]) for d in interpreter.get_tensor_details()
                  if list(d["shape"]) == shape and d["dtype"] == np.int8]
        maps = run(SHIPPED / name / "model_browser.tflite", pixels, "feature_maps").astype(np.int16) - 128
        assert any(np.array_equal(maps, tensor) for tensor in inside)


def test_float32_variant_takes_raw_pixels_as_floats(tmp_path):
    from deepedge.export.browser import browser_flatbuffer

    path = tmp_path / "model.tflite"
    path.write_bytes(browser_flatbuffer((SHIPPED / "fashion_lenet5" / "model.tflite").read_bytes(), "float32"))
    image = real_inputs("fashion_lenet5", [1, 28, 28, 1])[0].reshape(1, 28, 28, 1)
    shipped = run(SHIPPED / "fashion_lenet5" / "model.tflite", (image.astype(np.int16) - 128).astype(np.int8))
    variant = run(path, image.astype(np.float32))
    np.testing.assert_allclose(variant, (shipped.astype(np.float32) + 128) / 256, atol=1e-6)


def test_export_io_adds_the_variant_to_an_exported_model_and_nothing_else(tmp_path):
    folder = tmp_path / "lenet"
    shutil.copytree(SHIPPED / "fashion_lenet5", folder)
    (folder / "model_browser.tflite").unlink()
    meta = json.loads((folder / "model.json").read_text())
    del meta["browser"]
    (folder / "model.json").write_text(json.dumps(meta))
    tflite = (folder / "model.tflite").read_bytes()
    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "export", str(folder), "--io", "float32"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    after = json.loads((folder / "model.json").read_text())
    assert after.pop("browser")["io"] == "float32" and after == meta
    assert (folder / "model.tflite").read_bytes() == tflite
    from deepedge.edge import load

    load(folder)  # model.json still describes model.tflite


def test_a_model_the_browser_takes_as_it_is_needs_no_variant():
    from deepedge.export.browser import browser_flatbuffer, needs_browser_variant

    meta = json.loads((SHIPPED / "kws_dscnn" / "model.json").read_text())
    assert not needs_browser_variant(meta)
    with pytest.raises(ModelFileError, match="no int8 input or output"):
        browser_flatbuffer((SHIPPED / "kws_dscnn" / "model.tflite").read_bytes(), "uint8")
    with pytest.raises(Exception, match="uint8 or float32"):
        browser_flatbuffer(b"", "int16")


def test_every_shipped_model_runs_in_the_browser_as_shipped_or_by_its_variant():
    from deepedge.web.server import model_routes

    _, catalog = model_routes(SHIPPED)
    assert catalog and [m["name"] for m in catalog if "unavailable" in m] == []
    assert {m["name"] for m in catalog if m["file"] == "model_browser.tflite"} == set(VARIANTS)
