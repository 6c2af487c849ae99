"""The recipes that train the shipped scene labellers (`deepedge train scenes_labeller`)."""

import math
import time

import numpy as np

from deepedge.apps.scene_labelling.scene_labeller import SceneLabeller
from deepedge.apps.scene_labelling.presets import TRAINED
from deepedge.backend import tf
from deepedge.data.scenes import load_nuclei, load_scenes, scene_at
from deepedge.ops.dense import metric_from_confusion, segmentation_scores
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import fit_resumable, parallel_batches, recalibrate_batch_norm, seed_everything
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.losses import WeightedSparseCategoricalCrossentropy, balanced_class_weights
from deepedge.training.optimizers import build_optimizer


def random_tiles(strip, labels, count, tile, rng):
    """`count` random `tile`-square crops of an image strip and its labels, randomly rotated,
    mirrored and brightened (x0.7 to x1.3): the augmentation for the one nuclei image."""
    images = np.empty((count, tile, tile, strip.shape[-1]), np.float32)
    masks = np.empty((count, tile, tile), np.uint8)
    for i in range(count):
        y = rng.integers(0, strip.shape[0] - tile + 1)
        x = rng.integers(0, strip.shape[1] - tile + 1)
        image, mask = strip[y:y + tile, x:x + tile], labels[y:y + tile, x:x + tile]
        turns = rng.integers(4)
        image, mask = np.rot90(image, turns), np.rot90(mask, turns)
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
        images[i] = np.clip(image * rng.uniform(0.7, 1.3), 0, 255)
        masks[i] = mask
    return images, masks


def scene_pipeline(count, size, seed, batch_size):
    """`count` training scenes as a tf.data pipeline (`parallel_batches`): composed in parallel
    (`scene_at`), kept in order, so the batches are those of `load_scenes("train", count, size,
    seed)`, and made while the model trains on the batches before them."""
    def compose(index):
        image, mask = scene_at("train", index, size, seed)
        return image[..., None].astype(np.float32), mask

    signature = (tf.TensorSpec((size, size, 1), tf.float32), tf.TensorSpec((size, size), tf.uint8))
    return parallel_batches(count, compose, signature, batch_size)


def training_data(spec, recipe, limit=None):
    """`(size_x, size_y, epoch_data, epoch_dataset, validation)` for a preset: fresh scenes (or
    crops) every epoch, as arrays (`epoch_data(rng)`) and, for scenes, as a pipeline that composes
    the same scenes while the model trains (`epoch_dataset(rng, batch_size)`, else None)."""
    epoch_dataset = None
    if spec["data"] == "scenes":
        count = int(limit or recipe["scenes_per_epoch"])

        def epoch_data(rng):
            scenes = load_scenes("train", count, recipe["scene_size"], seed=int(rng.integers(1, 2 ** 31)))
            return scenes.images.astype(np.float32), scenes.masks

        def epoch_dataset(rng, batch_size):
            return scene_pipeline(count, recipe["scene_size"], int(rng.integers(1, 2 ** 31)), batch_size)

        validation = load_scenes("validation", size=recipe["scene_size"])
    else:
        strip = load_nuclei("train")
        count = int(limit or recipe["tiles_per_epoch"])

        def epoch_data(rng):
            return random_tiles(strip.images[0].astype(np.float32), strip.masks[0], count, recipe["tile"], rng)

        validation = load_nuclei("validation")
    return np.zeros((count, 1), np.float32), np.zeros(count), epoch_data, epoch_dataset, validation


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the scene-labelling preset `name` by its recipe and saves `out_dir/model.keras`.

    Args:
        name: a key of `TRAINED` (`scenes_labeller`, `scenes_multiscale_refined`, `scenes_multiscale`,
            `nuclei_labeller`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Scenes (or tiles) per epoch instead of the recipe's (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device.

    Returns:
        `(model, report)`: the float32 model and a report with history, IoU and time.
    """
    from deepedge.training.compact import shipping_copy

    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    size_x, size_y, epoch_data, epoch_dataset, validation = training_data(spec, recipe, limit)
    seed_everything(recipe["seed"], deterministic=False)
    with distribution.scope(recipe):
        model = SceneLabeller.from_preset(spec["architecture"], class_names=validation.class_names,
                                          palette=validation.palette, metric=spec["metric"])
        steps = math.ceil(len(size_y) / recipe["batch_size"])
        class_weights = None
        if recipe.get("class_weight_power"):
            sample = epoch_data(np.random.default_rng([recipe["seed"], 10 ** 6]))[1]
            class_weights = balanced_class_weights(sample, model.num_classes, recipe["class_weight_power"])
            recipe["class_weights"] = class_weights
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"]),
                      loss=WeightedSparseCategoricalCrossentropy(class_weights) if class_weights else "auto",
                      **distribution.compile_options)
    record = distribution.record(model, recipe)
    model, history = fit_resumable(
        model, size_x, size_y, recipe["epochs"], checkpoint_dir, batch_size=recipe["batch_size"],
        seed=recipe["seed"], validation_data=(validation.images.astype(np.float32), validation.masks),
        verbose=verbose, epoch_data=epoch_data, epoch_dataset=epoch_dataset)
    model = shipping_copy(model, (1, *model.edge_input_shape))
    # Batch-norm statistics as an exact average over fresh training data: the moving averages of a
    # short run still remember the first batches (the first layers' maps have tiny variances here).
    started = time.perf_counter()
    recalibration_images = epoch_data(np.random.default_rng([recipe["seed"], 10 ** 6 + 1]))[0]
    recalibrate_batch_norm(model, recalibration_images, batch_size=recipe["batch_size"], max_batches=64)
    recalibration_seconds = time.perf_counter() - started
    started = time.perf_counter()
    confusion = model.confusion(validation)
    scores = segmentation_scores(confusion, model.class_names)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "recipe": recipe,
        "examples_per_epoch": int(len(size_y)), "params": int(model.count_params()),
        "validation": scores, "validation_metric": round(metric_from_confusion(confusion, model.metric), 3),
        "metric": model.metric, "history": history,
        "training_seconds": round(sum(history["epoch_seconds"]) + recalibration_seconds, 1),
        "evaluation_seconds": round(time.perf_counter() - started, 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": "Fresh training data every epoch (new scenes, or new random crops of the nuclei strip), drawn "
                "from (seed, epoch), so a resumed run sees the same data. Trained with oneDNN kernels on (their "
                "reductions depend on thread timing, so a resumed run agrees to float rounding, not bit for bit).",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, chief=distribution.is_chief)
