"""Training that survives being killed: a checkpoint each epoch, resumed where it stopped.

`fit_resumable` runs `model.fit` one epoch at a time. Each epoch's order and augmentation
are drawn from `(seed, epoch)`, the optimizer (with its step counter and learning-rate
schedule) is saved with the model, and the checkpoint is replaced atomically after each
epoch, so a run that is killed and started again ends with the same weights as one that
never stopped.

A model built inside a strategy's scope trains under it (`model.distribute_strategy`): with
one machine's strategies through `fit`; with a multi-worker strategy through
`deepedge.training.multi_worker.StrategyLoop`, every worker drawing the same batches from
`(seed, epoch)` and the chief alone writing the checkpoints, which every worker resumes from
(with several machines, put the checkpoint folder on storage they share).
"""

import contextlib
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np

from deepedge.backend import keras, tf
from deepedge.errors import CheckpointError
from deepedge.fileio import atomic_path, atomic_write_json
from deepedge.training.distribute import is_chief, strategy_kind
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


def epoch_arrays(train_images, train_labels, rng, augmentation=None, epoch_data=None, epoch=None):
    """One epoch's training arrays `(x, y)` as `fit_resumable` draws them from `rng` (made from
    `(seed, epoch)`): shuffled (or drawn by `epoch_data(rng)`), augmented, images as float32."""
    if epoch_data is not None:
        # (a curriculum's `epoch_data` says `takes_epoch = True` and is given the epoch too)
        images, labels = epoch_data(rng, epoch) if getattr(epoch_data, "takes_epoch", False) else epoch_data(rng)
    else:
        order = rng.permutation(len(train_labels))
        images = (tuple(a[order] for a in train_images) if isinstance(train_images, (list, tuple))
                  else train_images[order])
        labels = train_labels[order]
    if augmentation is not None:
        images = augmentation(images, rng)
    if not isinstance(images, tuple) and (images.dtype == np.uint8 or images.dtype.kind == "f"):
        images = images.astype(np.float32)  # images; token ids stay integers
    return images, labels


def fit_resumable(model, train_images, train_labels, epochs, checkpoint_dir, batch_size=128, seed=0,
                  augmentation=None, validation_data=None, verbose=True, on_epoch_end=None, epoch_data=None,
                  batches=None, epoch_dataset=None):
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
            One with `takes_epoch = True` is called `(rng, epoch)` (a curriculum: epochs from 0).
        batches: callable `(x, y, batch_size, rng) -> dataset` that batches the (shuffled)
            training arrays, and the validation arrays with `rng=None`; for batches that are
            not plain slices (a translator's length-trimmed, weighted batches). Default: in order.
        epoch_dataset: callable `(rng, batch_size) -> dataset`: each epoch's batches as a tf.data
            pipeline that makes its examples while the model trains (scenes and keyword clips
            made in worker processes, `deepedge.training.parallel_batches`), instead of
            `epoch_data`'s arrays drawn before the epoch. When given, `train_images` and
            `train_labels` only size the run.

    Call it outside the strategy's scope: after multi-worker training the model returned is
    a copy outside the strategy, for the recipe's evaluation and export.

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
    strategy = model.distribute_strategy
    chief = is_chief(strategy)
    state = _load_state(checkpoint_dir, run_config)
    history = {}
    start = 0
    if state is not None:
        start = state["epoch"]
        history = state["history"]
        with _built_like(model):
            model = keras.saving.load_model(checkpoint_dir / state["checkpoint"], safe_mode=True)
        if verbose:
            print(f"Resuming from {checkpoint_dir / state['checkpoint']} after epoch {start}/{epochs}.")
    loop = None
    if strategy_kind(strategy) == "multi-worker":
        from deepedge.training.multi_worker import StrategyLoop

        loop = StrategyLoop(model, strategy)
    if batches is None:
        def batches(x, y, size, rng):
            return ordered_batches(x, y, size)
    validation = None if validation_data is None else batches(*validation_data, batch_size, None)
    for epoch in range(start, epochs):
        rng = np.random.default_rng([seed, epoch])
        epoch_started, examples = time.perf_counter(), len(train_labels)
        if epoch_dataset is not None:  # (the time to make the examples counts: the pipeline streams them)
            dataset = epoch_dataset(rng, batch_size)
        else:
            images, labels = epoch_arrays(train_images, train_labels, rng, augmentation, epoch_data, epoch)
            epoch_started, examples = time.perf_counter(), len(labels)
            dataset = batches(images, labels, batch_size, rng)
        progress = EpochProgress(epoch, epochs, math.ceil(examples / batch_size)) if verbose else None
        if loop is not None:
            logs = loop.run_epoch(dataset, validation, progress)
        else:
            logs = model.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, validation_data=validation,
                             verbose=0, callbacks=[progress] if progress else []).history
            logs = {key: values[-1] for key, values in logs.items()}
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        history.setdefault("epoch_seconds", []).append(round(time.perf_counter() - epoch_started, 2))
        if chief:
            _save_checkpoint(model, checkpoint_dir, epoch, history, run_config)
        if on_epoch_end is not None:
            on_epoch_end(epoch, {k: v[-1] for k, v in history.items()})
    if loop is not None:
        model = _outside_strategy(model, checkpoint_dir)
    return model, history


def _save_checkpoint(model, checkpoint_dir, epoch, history, run_config):
    """Writes `epoch_NNN.keras`, then `state.json` pointing at it, each atomically; removes older epochs."""
    name = f"epoch_{epoch + 1:03d}.keras"
    with atomic_path(checkpoint_dir / name) as tmp:
        keras.saving.save_model(model, tmp)
    atomic_write_json(checkpoint_dir / STATE_FILE, {
        "epoch": epoch + 1, "checkpoint": name, "history": history, "run_config": run_config})
    for old in checkpoint_dir.glob("epoch_*.keras"):
        if old.name != name:
            old.unlink()


@contextlib.contextmanager
def _built_like(model, strategy=None):
    """Loads inside: the scope of `strategy` (default: the one `model` was built under) and its
    dtype policy (mixed precision), as the recipe built it (a task makes its layers in `__init__`)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(model.dtype_policy.name)
    try:
        with (strategy or model.distribute_strategy).scope():
            yield
    finally:
        keras.config.set_dtype_policy(previous)


def _outside_strategy(model, checkpoint_dir):
    """`model` (compiled, with its optimizer) reloaded outside any strategy, for the recipe's
    evaluation: Keras's `evaluate` sets up through the same step as `fit`, which fails under a
    multi-worker strategy. Each worker writes its own temporary copy."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=checkpoint_dir, prefix=".final") as folder:
        path = Path(folder) / "model.keras"
        keras.saving.save_model(model, path)
        with _built_like(model, tf.distribute.get_strategy()):
            return keras.saving.load_model(path, safe_mode=True)


def seed_everything(seed, deterministic=True):
    """Seeds Python, numpy and TensorFlow; optionally makes TensorFlow ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
