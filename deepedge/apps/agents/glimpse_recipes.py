"""The recipes that train the glimpse agents (`deepedge train glimpse_cluttered`)."""

import math

import numpy as np

from deepedge.apps.agents.glimpse_agent import GlimpseAgent
from deepedge.apps.agents.glimpse_presets import ARCHITECTURES, TRAINED
from deepedge.data.glimpses import canvas_layout, compose_canvases, load_canvases, load_objects
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import fit_resumable, seed_everything
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.optimizers import build_optimizer


def canvas_epochs(objects, size, distractors, curriculum_epochs=0):
    """`epoch_data(rng, epoch)` for `fit_resumable`: the training `objects` shuffled and placed
    anew on `size`-square canvases with `distractors` pieces of clutter, all drawn from `rng`.
    With `curriculum_epochs`, the clutter grows over those first epochs (epoch e of them has
    `distractors * e // curriculum_epochs` pieces: none at first), so that the location policy
    learns to find a lone object before it has to tell it from the clutter."""
    def epoch_data(rng, epoch=None):
        pieces = distractors
        if epoch is not None and epoch < curriculum_epochs:
            pieces = distractors * epoch // curriculum_epochs
        order = rng.permutation(len(objects))
        canvases, _ = compose_canvases(objects.images[order], size, pieces, rng)
        return canvases, objects.labels[order]

    epoch_data.takes_epoch = True
    return epoch_data


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the glimpse preset `name` by its recipe; saves `out_dir/model.keras`.

    Every epoch places the training objects anew (new positions, new clutter), so the agent
    never sees the same canvas twice; validation canvases are fixed.

    Args:
        name: a key of `TRAINED` (`glimpse_translated`, `glimpse_cluttered`, `glimpse_cluttered_100`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Train on the first `limit` training objects only (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device. Its
            own `train_step` (REINFORCE) trains on one machine's replicas, not across workers.

    Returns:
        `(model, report)`.
    """
    distribution = distribution or Distribution()
    distribution.check_supported("The glimpse agent's own REINFORCE step", ("default", "mirrored", "tpu"))
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    objects_name, size, distractors = canvas_layout(spec["data"])
    objects = load_objects(objects_name, "train")
    if limit:
        objects = objects.take(limit)
    validation = load_canvases(spec["data"], "validation")
    seed_everything(recipe["seed"], deterministic=False)
    config = {**ARCHITECTURES[spec["architecture"]]["config"], **spec.get("config", {})}
    with distribution.scope(recipe):
        model = GlimpseAgent(num_classes=len(objects.class_names), class_names=objects.class_names, name=name,
                             **config)
        model.build((None, size, size, 1))

    epoch_data = canvas_epochs(objects, size, distractors, recipe.get("curriculum_epochs", 0))
    steps = math.ceil(len(objects) / recipe["batch_size"])
    with distribution.scope(recipe):
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], clipnorm=recipe["clipnorm"]),
                      **distribution.compile_options)
    record = distribution.record(model, recipe)
    model, history = fit_resumable(model, objects.images, objects.labels, recipe["epochs"], checkpoint_dir,
                                   batch_size=recipe["batch_size"], seed=recipe["seed"],
                                   validation_data=(validation.images.astype(np.float32), validation.labels),
                                   verbose=verbose, epoch_data=epoch_data)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "train_examples": len(objects),
        "recipe": recipe, "params": int(model.count_params()), "config": config,
        "metric": "accuracy", "validation_accuracy": round(model.evaluate_metric(validation), 4),
        "multiply_accumulates": model.multiply_accumulates(),
        "history": history, "training_seconds": round(sum(history["epoch_seconds"]), 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": "Hybrid loss (cross-entropy, REINFORCE with a learned baseline); every epoch composes the training "
                "objects into new canvases; validation accuracy looks where the policy's means say (no noise).",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (1, size, size, 1), chief=distribution.is_chief)


__all__ = ["canvas_epochs", "train_preset"]
