"""The recipes that train the captioners (`deepedge train scenes_captioner`)."""

import math

import numpy as np

from deepedge.apps.captioning.captioner import Captioner
from deepedge.apps.captioning.presets import TRAINED
from deepedge.data.captions import load_captions
from deepedge.presets import resolve_recipe, train_command
from deepedge.tokenizers import WordTokenizer
from deepedge.training import fit_resumable, parallel_batches, seed_everything
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.optimizers import build_optimizer


def pretrain_encoder(model, train, validation, recipe, verbose=True, distribution=None):
    """Teaches `model.encoder` to read the scenes before the decoder learns to write.

    A 1x1 convolution on the encoder's grid names, for every cell, the kind of object under
    the cell's centre (or the background) and its colour (`deepedge.data.captions.object_maps`),
    trained for `recipe["encoder_epochs"]` epochs on the training images, recoloured and
    zoomed anew every epoch (`recoloured_and_zoomed`) so that neither colour nor size gives a
    kind away; the captioner then starts from that encoder. This stands in for Xu et al.'s and
    Vinyals et al.'s ImageNet training of the ConvNet (no photo set installs offline). Both captioner presets of one
    recipe share the run (under the user cache, resumable, kept for the other preset), so
    `show_and_tell` and `show_attend_tell` start from the same encoder. The reader is built in
    `distribution`'s scope (default: one device).

    Returns:
        A dict for the training report (epochs, seconds, per-cell kind accuracy on the
        validation images), or None when the recipe has no encoder epochs.
    """
    import hashlib
    import json

    from deepedge.data.cache import cache_dir
    from deepedge.data.captions import object_maps

    epochs = int(recipe.get("encoder_epochs", 0))
    if not epochs:
        return None
    key = json.dumps(["hue_grey_zoom", model.encoder_config, model.image_size, epochs, recipe["seed"],
                      recipe["batch_size"], recipe["learning_rate"], len(train)], sort_keys=True)
    run_dir = cache_dir() / "runs" / f"captions_encoder-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    trainable = model.encoder.trainable
    model.encoder.trainable = True  # (the captioner may keep it fixed afterwards)
    distribution = distribution or Distribution()
    with distribution.scope(recipe):
        reader = scene_reader(model)
        steps = math.ceil(len(train) / recipe["batch_size"])
        reader.compile(optimizer=build_optimizer(recipe, steps, epochs, clipnorm=recipe["clipnorm"]),
                       **reader_compile_options(), **distribution.compile_options)
    epoch_dataset, batches = reader_epochs(model, train)
    validation_data = ((validation.images,), object_maps(validation, model.grid_shape))
    reader, history = fit_resumable(reader, (train.images,), np.zeros(len(train)), epochs, run_dir,
                                    batch_size=recipe["batch_size"], seed=recipe["seed"],
                                    validation_data=validation_data, verbose=verbose, epoch_dataset=epoch_dataset,
                                    batches=batches)
    model.encoder.set_weights(reader.get_layer("encoder").get_weights())
    model.encoder.trainable = trainable
    accuracy = {k: round(v[-1], 4) for k, v in history.items() if k.startswith("val_") and k.endswith("accuracy")}
    return {"epochs": epochs, "seconds": round(sum(history["epoch_seconds"]), 1), "validation": accuracy,
            "targets": "per grid cell: the kind under its centre or the background, and that object's colour; "
                       "training images recoloured (hues turned, or grey) and zoomed (0.5-2.0)"}


def scene_reader(model):
    """The encoder of the captioner `model` with two 1x1 convolutions on its grid: each cell's kind
    of object (or the background) and its colour, as logits (`pretrain_encoder`)."""
    from deepedge.backend import keras
    from deepedge.data.captions import COLOURS, KINDS

    image = keras.Input((model.image_size, model.image_size, 3), name="image")
    grid = model.encoder(keras.layers.Rescaling(1 / 255, name="scale")(image))
    outputs = [keras.layers.Conv2D(len(KINDS) + 1, 1, name="kinds")(grid),
               keras.layers.Conv2D(len(COLOURS) + 1, 1, name="colours")(grid)]
    return keras.Model(image, outputs, name="scene_reader")


def reader_compile_options():
    """`compile` arguments of the `scene_reader`: cross-entropy on the kinds (with their accuracy)
    and on the colours, unknown colours (-1) ignored."""
    from deepedge.backend import keras

    return {"loss": [keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)],
            "metrics": [["accuracy"], []]}


def reader_epochs(model, train):
    """`(epoch_dataset, batches)` for the `scene_reader` of `model` in `fit_resumable`: each epoch,
    the training images recoloured and zoomed anew (kinds apart from colour and size) with their
    object maps, shuffled, all drawn from `rng` as `recoloured_and_zoomed` then a permutation draw
    them, made in worker processes while the reader trains (`parallel_batches`); `batches` puts
    the validation arrays as `(image, (kinds, colours))`."""
    from deepedge.backend import tf
    from deepedge.data.captions import recolour_zoom_draws, recoloured_and_zoomed_at

    def batches(x, y, batch_size, rng=None):
        options = tf.data.Options()
        options.autotune.enabled = False
        return tf.data.Dataset.from_tensor_slices((x[0], (y[..., 0], y[..., 1]))).batch(batch_size).with_options(
            options)

    grid = tuple(model.grid_shape)

    def epoch_dataset(rng, batch_size):
        draws = recolour_zoom_draws(len(train), train.images.shape[1], rng)
        order = rng.permutation(len(train))

        def make(k):
            image, cells = recoloured_and_zoomed_at(train, int(order[k]), grid, draws[order[k]])
            return image, cells[..., 0], cells[..., 1]

        cells = tf.TensorSpec(grid, tf.int32)
        signature = (tf.TensorSpec(train.images.shape[1:], tf.uint8), cells, cells)
        return parallel_batches(len(train), make, signature, batch_size).map(
            lambda images, kinds, colours: (images, (kinds, colours)))

    return epoch_dataset, batches


def caption_epochs(model, train):
    """`epoch_data(rng)` for the captioner `model` in `fit_resumable`: the training images shuffled,
    each with one of its references drawn anew, as teacher-forcing data."""
    def epoch_data(rng):
        order = rng.permutation(len(train))
        captions = [train.captions[i][rng.integers(len(train.captions[i]))] for i in order]
        x, y = model.teacher_forcing_data(train.images[order], captions)
        return tuple(x), y

    return epoch_data


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the captioner preset `name` by its recipe; saves `out_dir/model.keras`.

    Every epoch pairs each training image with one of its five references, drawn anew.

    Args:
        name: a key of `TRAINED` (`scenes_captioner`, `scenes_show_and_tell`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Train on the first `limit` training images only (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device.

    Returns:
        `(model, report)`.
    """
    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    train, validation = load_captions("train", recipe["train_images"]), load_captions("validation")
    if limit:
        train = train.take(limit)
    tokenizer = WordTokenizer.from_texts([c for refs in train.captions for c in refs])  # training split only
    seed_everything(recipe["seed"], deterministic=False)
    with distribution.scope(recipe):
        model = Captioner.from_preset(spec["architecture"], tokenizer=tokenizer, **spec.get("config", {}))
    encoder_report = pretrain_encoder(model, train, validation, recipe, verbose=verbose, distribution=distribution)

    epoch_data = caption_epochs(model, train)
    x, y = epoch_data(np.random.default_rng(recipe["seed"]))
    val_x, val_y = model.teacher_forcing_data(validation.images, [refs[0] for refs in validation.captions])
    steps = math.ceil(len(y) / recipe["batch_size"])
    with distribution.scope(recipe):
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], clipnorm=recipe["clipnorm"]),
                      **distribution.compile_options)
    record = distribution.record(model, recipe)
    model, history = fit_resumable(model, x, y, recipe["epochs"], checkpoint_dir, batch_size=recipe["batch_size"],
                                   seed=recipe["seed"], validation_data=(tuple(val_x), val_y), verbose=verbose,
                                   epoch_data=epoch_data, batches=model.training_batches)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "train_examples": int(len(y)),
        "recipe": recipe, "params": int(model.count_params()), "encoder_pretraining": encoder_report,
        "vocabulary": tokenizer.vocabulary_size,
        "metric": "bleu4", "validation_metric": round(model.evaluate_metric(validation), 2),
        "history": history, "training_seconds": round(sum(history["epoch_seconds"]), 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": "Teacher forcing, one of the five references per image drawn anew each epoch; validation BLEU-4 "
                "greedy on the 500 validation images against all their references.",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (x[0][:1].shape, x[1][:1].shape),
                           half_precision=True, chief=distribution.is_chief)


__all__ = ["caption_epochs", "pretrain_encoder", "reader_compile_options", "reader_epochs", "scene_reader",
           "train_preset"]
