"""`deepedge export MY_MODEL.keras --calibration ... --evaluate ...` and `deepedge doctor`: a Keras model
deepedge did not build goes to a working on-device folder in one command, its data read from a
.npz file, a folder of images in class subfolders, or a folder of WAV files."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from deepedge.cli import cli
from deepedge.edge import load
from helpers import run_cli, tone, wav_bytes
from user_models import image_classifier, model_with_problems


@pytest.fixture(scope="module")
def tiny_cnn(tmp_path_factory):
    """`(folder, .keras path, images, labels)`: the tiny CNN saved, with images it labels itself
    (into three classes, by brightness)."""
    from deepedge.backend import keras

    folder = tmp_path_factory.mktemp("cli_user")
    model = image_classifier()
    conv, dense = model.layers[2], model.layers[-1]  # made to sort images by brightness: dark, grey, bright
    conv.set_weights([np.full((3, 3, 1, 8), 1 / 9, np.float32), np.zeros(8, np.float32)])
    dense.set_weights([np.tile([[-3.0, 0.0, 3.0]], (8, 1)), np.array([6.0, 0.0, -18.0], np.float32)])
    model.save(folder / "tiny.keras")
    rng = np.random.default_rng(0)
    levels = rng.uniform(0, 255, (120, 1, 1, 1))
    images = np.clip(levels + rng.normal(0, 10, (120, 8, 8, 1)), 0, 255).astype(np.uint8)
    labels = np.argmax(keras.ops.convert_to_numpy(model(images.astype(np.float32))), -1)
    return folder, folder / "tiny.keras", images, labels


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_one_command_from_npz_files_to_a_working_on_device_folder(tiny_cnn):
    folder, path, images, labels = tiny_cnn
    np.savez(folder / "calib.npz", image=images)
    np.savez(folder / "test.npz", image=images, y=labels)
    out = folder / "npz_out"
    result = invoke("export", path, "--calibration", folder / "calib.npz", "--evaluate", folder / "test.npz",
                    "--metric", "accuracy", "--out", out)
    assert result.exit_code == 0, result.output
    assert "accuracy float 100.00 vs int8" in result.output
    meta = json.loads((out / "model.json").read_text())
    assert meta["task"] == "keras_model" and meta["metrics"]["passed"] and meta["inputs"][0]["dtype"] == "int8"
    card = (out / "card.md").read_text()
    assert f"deepedge export {path} --calibration {folder / 'calib.npz'}" in card
    predicted = load(out).predict(images[:30]).argmax(-1)
    assert np.mean(predicted == labels[:30]) >= 0.9
    # the int8 SOFTMAX was rewritten so that XNNPACK takes every op, and the card says so
    assert meta["xnnpack_rewrites"] == {"SOFTMAX": 1} and meta["accelerators"]["xnnpack"]["cpu_ops"] == {}
    assert "rewritten for it (deepedge.export.rewrite): SOFTMAX" in card


def test_keep_ops_exports_the_converters_ops_for_an_npu(tiny_cnn):
    folder, path, images, labels = tiny_cnn
    np.savez(folder / "calib_keep.npz", image=images)
    out = folder / "keep_out"
    result = invoke("export", path, "--calibration", folder / "calib_keep.npz", "--keep-ops", "--out", out)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "model.json").read_text())
    assert "xnnpack_rewrites" not in meta and meta["accelerators"]["xnnpack"]["cpu_ops"] == {"SOFTMAX": 1}
    assert meta["accelerators"]["edgetpu"]["edgetpu"] == meta["accelerators"]["edgetpu"]["ops"]
    assert "--keep-ops" in (out / "card.md").read_text()


@pytest.mark.slow
def test_a_folder_of_images_in_class_subfolders_gives_the_labels(tiny_cnn):
    from PIL import Image

    folder, path, images, labels = tiny_cnn
    for i, (image, label) in enumerate(zip(images[:60], labels[:60])):
        target = folder / "pictures" / ["ant", "bee", "cat"][label]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.repeat(np.repeat(image[..., 0], 2, 0), 2, 1)).save(target / f"{i}.png")  # 16x16: resized
    out = folder / "folder_out"
    result = invoke("export", path, "--calibration", folder / "pictures", "--evaluate", folder / "pictures",
                    "--max-drop", 5, "--out", out)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "model.json").read_text())
    assert meta["labels"] == sorted({["ant", "bee", "cat"][label] for label in labels[:60]})
    assert meta["metrics"]["examples"] == 60 and load(out).labels == meta["labels"]


def test_a_folder_of_wav_files_calibrates_an_audio_model(tmp_path):
    from deepedge.backend import keras

    keras.utils.set_random_seed(0)
    audio = keras.Input((1600, 1), name="audio")
    hidden = keras.layers.Conv1D(4, 9, strides=4, activation="relu")(audio)
    pooled = keras.layers.GlobalAveragePooling1D()(hidden)
    model = keras.Model(audio, keras.layers.Dense(2, activation="softmax")(pooled))
    model.save(tmp_path / "audio.keras")
    (tmp_path / "clips").mkdir()
    for i, freq in enumerate((300, 500, 700, 900)):
        (tmp_path / "clips" / f"{i}.wav").write_bytes(wav_bytes(tone(freq, 0.12 + 0.01 * i, 8000), 8000))
    result = invoke("export", tmp_path / "audio.keras", "--calibration", tmp_path / "clips", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "out" / "model.json").read_text())
    assert meta["keras_model"]["inputs"][0]["shape"] == [1600, 1] and "metrics" not in meta


def test_a_deepedge_model_refuses_the_options_for_your_own(tmp_path):
    from deepedge.errors import InvalidInputError
    from deepedge.presets import saved_models_dir

    shipped = saved_models_dir() / "fashion_edgenet" / "model.keras"
    if not shipped.exists():
        pytest.skip("fashion_edgenet is not shipped in this checkout")
    with pytest.raises(InvalidInputError, match="is a deepedge model"):
        invoke("export", "fashion_edgenet", "--calibration", shipped, "--out", tmp_path / "out")


def test_doctor_lists_every_problem_and_fails_on_errors(tmp_path, tiny_cnn):
    model_with_problems().save(tmp_path / "troubled.keras")
    result = CliRunner().invoke(cli, ["doctor", str(tmp_path / "troubled.keras")], terminal_width=200)
    assert result.exit_code == 1
    for text in ("4 error(s)", "layer 'encoder'", "unroll=True", "layer 'half'", "layer 'double'", "safe mode"):
        assert text in result.output, result.output
    clean = CliRunner().invoke(cli, ["doctor", str(tiny_cnn[1]), "--json"])
    assert clean.exit_code == 0 and json.loads(clean.output) == {"model": str(tiny_cnn[1]), "errors": 0,
                                                                  "problems": []}


@pytest.mark.slow
def test_missing_arrays_give_one_error_line(tiny_cnn):
    folder, path, images, _ = tiny_cnn
    np.savez(folder / "wrong.npz", pixels=images)
    result = run_cli("export", path, "--calibration", folder / "wrong.npz", "--out", folder / "never")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "InvalidInputError" in result.stderr and "lacks the array(s) ['image']" in result.stderr
    assert "Received the arrays ['pixels']" in result.stderr and not (folder / "never").exists()


def _pictures(folder, images, labels, classes):
    from PIL import Image

    for i, (image, label) in enumerate(zip(images, labels)):
        if classes[label] is None:
            continue
        target = folder / classes[label]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[..., 0]).save(target / f"{i}.png")
    return folder


def test_an_evaluation_folder_without_a_class_keeps_its_labels(tiny_cnn):
    """Subfolder order gives the labels: a test folder with no "bee" pictures must not turn
    every "cat" into a "bee"; the calibration folder's class names map them."""
    folder, path, images, labels = tiny_cnn
    everything = _pictures(folder / "all_classes", images[:60], labels[:60], ["ant", "bee", "cat"])
    assert sorted(p.name for p in everything.iterdir()) == ["ant", "bee", "cat"]
    no_bees = _pictures(folder / "no_bees", images[60:], labels[60:], ["ant", None, "cat"])
    out = folder / "no_bees_out"
    result = invoke("export", path, "--calibration", everything, "--evaluate", no_bees, "--max-drop", 5, "--out", out)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "model.json").read_text())
    assert meta["labels"] == ["ant", "bee", "cat"] and meta["metrics"]["keras_float"] == 100.0
    assert meta["metrics"]["examples"] == int(np.sum(labels[60:] != 1))

    np.savez(folder / "calib_arrays.npz", image=images)  # no class names: the folder must name every class
    result = run_cli("export", path, "--calibration", folder / "calib_arrays.npz", "--evaluate", no_bees,
                     "--out", folder / "never_out")
    assert result.returncode == 2 and "2 class subfolder(s) but the model's output has 3 classes" in result.stderr
    assert not (folder / "never_out").exists()
