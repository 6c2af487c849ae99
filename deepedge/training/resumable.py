"""Training that survives being killed: a checkpoint each epoch, resumed where it stopped.

`fit_resumable` runs `model.fit` one epoch at a time. Each epoch's order and augmentation
are drawn from `(seed, epoch)`, the optimizer (with its step counter and learning-rate
schedule) is saved with the model, and the checkpoint is replaced atomically after each
epoch, so a run that is killed and started again ends with the same weights as one that
never stopped.
"""

import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np

from deepedge.backend import keras, tf
from deepedge.errors import CheckpointError
from deepedge.fileio import atomic_path, atomic_write_json
from deepedge.training.progress import EpochProgress

STATE_FILE = "state.json"


def _load_state(checkpoint_dir, run_config):
    state_path = checkpoint_dir / STATE_FILE
    if not state_path.exists():
        return None
    state = json.loads(state_path.read_text())
    if state.get("run_config") != run_config:
        raise CheckpointError(
            f"The checkpoint in {checkpoint_dir} was made by a different run. "
            f"It has {state.get('run_config')}; this run is {run_config}. "
            "Use another checkpoint folder, or delete this one to start over.")
    return state


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_without_names(v) for v in config]
    return config


def _config_digest(model):
    """Identifies the architecture (not its auto-generated names), so a checkpoint of
    another model is never resumed."""
    text = json.dumps(_without_names(model.get_config()), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def ordered_batches(x, y, batch_size):
    """`(x, y)` as a tf.data pipeline of batches in order, with tf.data's autotuning off.

    Keras builds an autotuned pipeline from numpy arrays; each `fit` call of an epoch then
    ends by waiting, idle, for the autotuning thread to notice the iterator is gone: up to
    a whole epoch's time on this 2-core machine (a quarter of a measured training run).
    """
    def as_tensor_input(a):
        a = np.asarray(a)
        return a.astype(np.float32) if a.dtype == np.float64 else a

    x = tf.nest.map_structure(as_tensor_input, x)
    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensor_slices((x, as_tensor_input(y))).batch(batch_size).with_options(options)


def fit_resumable(model, train_images, train_labels, epochs, checkpoint_dir, batch_size=128, seed=0,
                  augmentation=None, validation_data=None, verbose=True, on_epoch_end=None, epoch_data=None,
                  batches=None):
    """Fits `model` for `epochs`, resuming from `checkpoint_dir` if a checkpoint is there.

    Args:
        model: a compiled Keras model (a deepedge task).
        train_images, train_labels: numpy arrays (`train_images` may be a tuple of arrays for a
            model with several inputs, e.g. a translator's source and target ids).
        epochs: int. Total epochs, counting those done before an interruption.
        checkpoint_dir: folder for `epoch_NNN.keras` and `state.json`.
        batch_size: int.
        seed: int. Seeds each epoch's shuffle and augmentation.
        augmentation: callable `(images, rng) -> images`, or None.
        validation_data: `(images, labels)` evaluated after each epoch, or None.
        verbose: bool. Show a progress bar and a line per epoch (on stderr).
        on_epoch_end: callable `(epoch, logs)`, or None.
        epoch_data: callable `rng -> (x, y)` that draws each epoch's (shuffled) training
            arrays, for data that is cut anew every epoch (language-model windows). When
            given, `train_images` and `train_labels` only size the run (`len(train_labels)`).
        batches: callable `(x, y, batch_size, rng) -> dataset` that batches the (shuffled)
            training arrays, and the validation arrays with `rng=None`; for batches that are
            not plain slices (a translator's length-trimmed, weighted batches). Default: in order.

    Returns:
        `(model, history)`: the trained model (loaded from the checkpoint when resumed)
        and a dict of per-epoch lists: the metrics and `epoch_seconds`, the wall time of
        each epoch (so the total survives interruptions).
    """
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    run_config = {"epochs": int(epochs), "batch_size": int(batch_size), "seed": int(seed),
                  "examples": int(len(train_labels)), "model": type(model).__name__,
                  "model_config_sha256": _config_digest(model)}
    state = _load_state(checkpoint_dir, run_config)
    history = {}
    start = 0
    if state is not None:
        start = state["epoch"]
        history = state["history"]
        model = keras.saving.load_model(checkpoint_dir / state["checkpoint"], safe_mode=True)
        if verbose:
            print(f"Resuming from {checkpoint_dir / state['checkpoint']} after epoch {start}/{epochs}.")
    if batches is None:
        def batches(x, y, size, rng):
            return ordered_batches(x, y, size)
    validation = None if validation_data is None else batches(*validation_data, batch_size, None)
    for epoch in range(start, epochs):
        rng = np.random.default_rng([seed, epoch])
        if epoch_data is not None:
            images, labels = epoch_data(rng)
        else:
            order = rng.permutation(len(train_labels))
            images = (tuple(a[order] for a in train_images) if isinstance(train_images, (list, tuple))
                      else train_images[order])
            labels = train_labels[order]
        if augmentation is not None:
            images = augmentation(images, rng)
        if not isinstance(images, tuple) and (images.dtype == np.uint8 or images.dtype.kind == "f"):
            images = images.astype(np.float32)  # images; token ids stay integers
        epoch_started = time.perf_counter()
        callbacks = [EpochProgress(epoch, epochs, math.ceil(len(labels) / batch_size))] if verbose else []
        result = model.fit(batches(images, labels, batch_size, rng), epochs=epoch + 1, initial_epoch=epoch,
                           shuffle=False, validation_data=validation, verbose=0, callbacks=callbacks)
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
        history.setdefault("epoch_seconds", []).append(round(time.perf_counter() - epoch_started, 2))
        name = f"epoch_{epoch + 1:03d}.keras"
        with atomic_path(checkpoint_dir / name) as tmp:
            keras.saving.save_model(model, tmp)
        atomic_write_json(checkpoint_dir / STATE_FILE, {
            "epoch": epoch + 1, "checkpoint": name, "history": history, "run_config": run_config})
        for old in checkpoint_dir.glob("epoch_*.keras"):
            if old.name != name:
                old.unlink()
        if on_epoch_end is not None:
            on_epoch_end(epoch, {k: v[-1] for k, v in history.items()})
    return model, history


def seed_everything(seed, deterministic=True):
    """Seeds Python, numpy and TensorFlow; optionally makes TensorFlow ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
