"""The recipes that train the captioners (`deepedge train scenes_captioner`)."""

import math

import numpy as np

from deepedge.apps.captioning.captioner import Captioner
from deepedge.apps.captioning.presets import TRAINED
from deepedge.data.captions import load_captions
from deepedge.presets import resolve_recipe, train_command
from deepedge.tokenizers import WordTokenizer
from deepedge.training import fit_resumable, seed_everything
from deepedge.training.finish import finish_training
from deepedge.training.optimizers import build_optimizer


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True):
    """Trains the captioner preset `name` by its recipe; saves `out_dir/model.keras`.

    Every epoch pairs each training image with one of its five references, drawn anew.

    Args:
        name: a key of `TRAINED` (`scenes_captioner`, `scenes_show_and_tell`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Train on the first `limit` training images only (quick trials).

    Returns:
        `(model, report)`.
    """
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    train, validation = load_captions("train", recipe["train_images"]), load_captions("validation")
    if limit:
        train = train.take(limit)
    tokenizer = WordTokenizer.from_texts([c for refs in train.captions for c in refs])  # training split only
    seed_everything(recipe["seed"], deterministic=False)
    model = Captioner.from_preset(spec["architecture"], tokenizer=tokenizer, **spec.get("config", {}))

    def epoch_data(rng):
        order = rng.permutation(len(train))
        captions = [train.captions[i][rng.integers(len(train.captions[i]))] for i in order]
        x, y = model.teacher_forcing_data(train.images[order], captions)
        return tuple(x), y

    x, y = epoch_data(np.random.default_rng(recipe["seed"]))
    val_x, val_y = model.teacher_forcing_data(validation.images, [refs[0] for refs in validation.captions])
    steps = math.ceil(len(y) / recipe["batch_size"])
    model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], clipnorm=recipe["clipnorm"]))
    model, history = fit_resumable(model, x, y, recipe["epochs"], checkpoint_dir, batch_size=recipe["batch_size"],
                                   seed=recipe["seed"], validation_data=(tuple(val_x), val_y), verbose=verbose,
                                   epoch_data=epoch_data, batches=model.training_batches)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "train_examples": int(len(y)),
        "recipe": recipe, "params": int(model.count_params()), "vocabulary": tokenizer.vocabulary_size,
        "metric": "bleu4", "validation_metric": round(model.evaluate_metric(validation), 2),
        "history": history, "training_seconds": round(sum(history["epoch_seconds"]), 1),
        "command": train_command(name, out_dir, epochs, limit),
        "note": "Teacher forcing, one of the five references per image drawn anew each epoch; validation BLEU-4 "
                "greedy on the 500 validation images against all their references.",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (x[0][:1].shape, x[1][:1].shape),
                           half_precision=True)


__all__ = ["train_preset"]
