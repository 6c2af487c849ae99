"""The recipes that train the shipped image classifiers (`deepedge train fashion_edgenet`)."""

import math
import shutil
import time

import numpy as np

from deepedge.apps.image_recognition.image_classifier import ImageClassifier
from deepedge.apps.image_recognition.presets import TRAINED
from deepedge.backend import keras
from deepedge.data import load_image_dataset
from deepedge.fileio import atomic_write_json
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import ImageAugmentation, fit_resumable, recalibrate_batch_norm, seed_everything
from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy
from deepedge.training.compact import save_for_shipping


def build_optimizer(recipe, steps_per_epoch, epochs):
    """AdamW with one epoch of linear warm-up, then cosine decay to zero."""
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe["learning_rate"] / 10, decay_steps=steps_per_epoch * max(1, epochs - 1),
        warmup_target=recipe["learning_rate"], warmup_steps=steps_per_epoch, alpha=0.0)
    return keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"])


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True):
    """Trains the trained preset `name` by its recipe and saves `out_dir/model.keras`.

    Args:
        name: a key of `TRAINED` (`fashion_edgenet`, `fashion_lenet5`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to `out_dir/checkpoints`;
            running the same command again resumes from there. Removed once the final
            model is saved.
        limit: int. Train on the first `limit` training images only (quick trials).

    Returns:
        `(model, report)`, the report holding history, accuracies and the training time.
    """
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    train = load_image_dataset(spec["data"], "train")
    if limit:
        train = train.take(limit)
    validation = load_image_dataset(spec["data"], "validation")

    seed_everything(recipe["seed"])
    model = ImageClassifier.from_preset(spec["architecture"], class_names=train.class_names,
                                        image_shape=train.images.shape[1:])
    steps = math.ceil(len(train) / recipe["batch_size"])
    loss = SmoothedSparseCategoricalCrossentropy(recipe["label_smoothing"]) if recipe.get("label_smoothing") else "auto"
    model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"]), loss=loss)
    augmentation = ImageAugmentation(flip=recipe["flip"], max_shift=recipe["max_shift"])
    model, history = fit_resumable(
        model, train.images, train.labels, recipe["epochs"], checkpoint_dir,
        batch_size=recipe["batch_size"], seed=recipe["seed"], augmentation=augmentation,
        validation_data=(validation.images.astype(np.float32), validation.labels), verbose=verbose)
    recalibrate_started = time.perf_counter()
    recalibrate_batch_norm(model, train.images)
    training_seconds = sum(history["epoch_seconds"]) + time.perf_counter() - recalibrate_started
    val_accuracy = float(model.evaluate(validation.images.astype(np.float32), validation.labels,
                                        verbose=0, return_dict=True)["accuracy"])
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"],
        "train_examples": len(train), "recipe": recipe, "params": int(model.count_params()),
        "validation_accuracy": val_accuracy, "history": history,
        "training_seconds": round(training_seconds, 1),
        "command": train_command(name, out_dir, epochs, limit),
    }
    model = save_for_shipping(model, out_dir / "model.keras", (1, *train.images.shape[1:]))
    atomic_write_json(out_dir / "training.json", report)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)  # the finished model.keras supersedes them
    return model, report
