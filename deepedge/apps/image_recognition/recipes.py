"""The recipes that train the shipped image classifiers (`deepedge train fashion_edgenet`)."""

import math
import time

import numpy as np

from deepedge.apps.image_recognition.image_classifier import ImageClassifier
from deepedge.apps.image_recognition.presets import TRAINED
from deepedge.data import load_image_dataset
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import ImageAugmentation, fit_resumable, recalibrate_batch_norm, seed_everything
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy
from deepedge.training.optimizers import build_optimizer


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the trained preset `name` by its recipe and saves `out_dir/model.keras`.

    Args:
        name: a key of `TRAINED` (`fashion_edgenet`, `fashion_lenet5`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to `out_dir/checkpoints`;
            running the same command again resumes from there. Removed once the final
            model is saved.
        limit: int. Train on the first `limit` training images only (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device.

    Returns:
        `(model, report)`, the report holding history, accuracies and the training time.
    """
    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    train = load_image_dataset(spec["data"], "train")
    if limit:
        train = train.take(limit)
    validation = load_image_dataset(spec["data"], "validation")

    seed_everything(recipe["seed"])
    with distribution.scope(recipe):
        model = ImageClassifier.from_preset(spec["architecture"], class_names=train.class_names,
                                            image_shape=train.images.shape[1:])
        steps = math.ceil(len(train) / recipe["batch_size"])
        loss = (SmoothedSparseCategoricalCrossentropy(recipe["label_smoothing"]) if recipe.get("label_smoothing")
                else "auto")
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"]), loss=loss,
                      **distribution.compile_options)
    record = distribution.record(model, recipe)
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
        "training_seconds": round(training_seconds, 1), "distribution": record,
        "command": train_command(name, out_dir, epochs, limit),
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (1, *train.images.shape[1:]),
                           chief=distribution.is_chief)
