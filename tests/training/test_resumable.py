"""deepedge.training.resumable: a killed run resumes to the same weights, a checkpoint of
another run is refused, and batches keep their order."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from deepedge.apps import ImageClassifier
from deepedge.apps.image_recognition import EdgeNetBackbone
from deepedge.errors import CheckpointError
from deepedge.training import fit_resumable
from helpers import build_tiny_classifier

TESTS = Path(__file__).resolve().parents[1]  # tests/, where helpers.py lives

RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    from helpers import build_tiny_classifier
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


def test_a_curriculum_is_told_each_epoch_also_after_a_resume(digits, tmp_path):
    train = digits["train"].take(64)
    seen = []

    def epoch_data(rng, epoch):
        seen.append(epoch)
        order = rng.permutation(len(train))
        return train.images[order], train.labels[order]

    epoch_data.takes_epoch = True

    class Stop(Exception):
        pass

    def stop_after_two(epoch, logs):
        if epoch == 1:
            raise Stop  # (as a kill: the checkpoint of epoch 2 is written)

    for on_epoch_end in (stop_after_two, None):
        model = build_tiny_classifier(train.class_names)
        model.compile()
        try:
            fit_resumable(model, train.images, train.labels, epochs=3, checkpoint_dir=tmp_path, batch_size=32,
                          verbose=False, epoch_data=epoch_data, on_epoch_end=on_epoch_end)
        except Stop:
            pass
    assert seen == [0, 1, 2]  # the resumed run starts at the epoch the checkpoint ends, and says so
