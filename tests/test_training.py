import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import build_tiny_classifier
from deepedge.apps import ImageClassifier
from deepedge.apps.image_recognition import EdgeNetBackbone
from deepedge.backend import keras
from deepedge.errors import CheckpointError
from deepedge.training import ImageAugmentation, fit_resumable, recalibrate_batch_norm

TESTS = Path(__file__).parent

RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    from conftest import build_tiny_classifier
    from deepedge.backend import keras
    from deepedge.data import load_digits
    from deepedge.training import ImageAugmentation, fit_resumable, seed_everything

    seed_everything(7)
    train = load_digits("train")
    model = build_tiny_classifier(train.class_names, seed=7)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))

    def maybe_die(epoch, logs):
        if {kill_after} is not None and epoch + 1 == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)

    model, history = fit_resumable(model, train.images, train.labels, epochs=3, checkpoint_dir={ckpt!r},
                                   batch_size=64, seed=7, augmentation=ImageAugmentation(max_shift=1),
                                   verbose=0, on_epoch_end=maybe_die)
    np.save({out!r}, np.concatenate([w.ravel() for w in model.get_weights()]))
""")


def _run(tmp_path, name, kill_after):
    script = RUN.format(tests=str(TESTS), kill_after=kill_after, ckpt=str(tmp_path / f"ckpt_{name}"),
                        out=str(tmp_path / f"{name}.npy"))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_killed_training_resumes_to_the_same_weights(tmp_path):
    straight = _run(tmp_path, "straight", None)
    assert straight.returncode == 0, straight.stderr
    killed = _run(tmp_path, "resumed", 1)
    assert killed.returncode == -9
    state = json.loads((tmp_path / "ckpt_resumed" / "state.json").read_text())
    assert state["epoch"] == 1 and (tmp_path / "ckpt_resumed" / state["checkpoint"]).exists()
    resumed = _run(tmp_path, "resumed", None)
    assert resumed.returncode == 0, resumed.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "straight.npy"), np.load(tmp_path / "resumed.npy"))
    state = json.loads((tmp_path / "ckpt_resumed" / "state.json").read_text())
    assert state["epoch"] == 3 and len(state["history"]["loss"]) == 3
    assert sorted(p.name for p in (tmp_path / "ckpt_resumed").iterdir()) == ["epoch_003.keras", "state.json"]


def test_checkpoint_of_another_run_is_refused(digits, tmp_path):
    train = digits["train"].take(64)
    model = build_tiny_classifier(train.class_names)
    model.compile()
    fit_resumable(model, train.images, train.labels, epochs=1, checkpoint_dir=tmp_path, batch_size=32, verbose=False)
    with pytest.raises(CheckpointError, match="different run"):
        fit_resumable(model, train.images, train.labels, epochs=1, checkpoint_dir=tmp_path, batch_size=16, verbose=False)


def test_augmentation_is_a_function_of_the_seed_and_keeps_pixels():
    images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1).astype(np.uint8)
    augment = ImageAugmentation(flip=True, max_shift=1)
    a = augment(images, np.random.default_rng([1, 0]))
    b = augment(images, np.random.default_rng([1, 0]))
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape and a.dtype == images.dtype
    for original, shifted in zip(images, a):  # a shift by at most 1 keeps the centre 2x2 pixels' values
        assert set(np.unique(shifted)) - {0} <= set(np.unique(original))
    flipped = ImageAugmentation(flip=True)(images, np.random.default_rng(0))
    for original, out in zip(images, flipped):
        assert np.array_equal(out, original) or np.array_equal(out, original[:, ::-1])


def test_batch_norm_recalibration_rescues_a_high_momentum_model(digits):
    """The keras.applications MobileNetV3 trap: BN momentum 0.999 after a short training run."""
    train, test = digits["train"], digits["test"]
    keras.utils.set_random_seed(3)
    backbone = EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=8, block_filters=(16, 24),
                               block_strides=(2, 1), batch_norm_momentum=0.999)
    model = ImageClassifier(backbone, train.class_names)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=4, verbose=False)
    before = model.evaluate_metric(test)
    assert recalibrate_batch_norm(model, train.images) == 5  # stem + 2 blocks x 2
    after = model.evaluate_metric(test)
    assert before < 40.0 and after > 75.0, (before, after)


def test_checkpoint_of_another_architecture_is_refused(digits, tmp_path):
    train = digits["train"].take(64)
    model = build_tiny_classifier(train.class_names)
    model.compile()
    fit_resumable(model, train.images, train.labels, epochs=1, checkpoint_dir=tmp_path, batch_size=32, verbose=False)
    other = ImageClassifier(EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=4, block_filters=(8,),
                                            block_strides=(1,)), train.class_names)
    other.compile()
    with pytest.raises(CheckpointError, match="different run"):
        fit_resumable(other, train.images, train.labels, epochs=1, checkpoint_dir=tmp_path, batch_size=32,
                      verbose=False)


def test_ordered_batches_keep_order_and_the_last_partial_batch():
    from deepedge.training import ordered_batches

    x = np.arange(10, dtype=np.float64).reshape(5, 2)
    y = np.arange(5)
    batches = list(ordered_batches(x, y, batch_size=2).as_numpy_iterator())
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == y.dtype
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x.astype(np.float32))
    assert not ordered_batches(x, y, 2).options().autotune.enabled
