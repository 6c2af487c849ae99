"""The recipe that trains the shipped keyword spotter (`deepedge train kws_dscnn`)."""

import math
import shutil
import time

import numpy as np

from deepedge.apps.image_recognition.training import build_optimizer
from deepedge.apps.speech.keyword_spotter import KeywordSpotter
from deepedge.apps.speech.presets import KWS_TRAINED
from deepedge.data.speech import KEYWORD_CLASSES, SpeechAugmentation, load_keywords
from deepedge.edge.keywords import calibrate_threshold, keyword_report
from deepedge.fileio import atomic_write_json
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import fit_resumable, recalibrate_batch_norm, seed_everything


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True):
    """Trains the keyword-spotting preset `name` by its recipe; saves `out_dir/model.keras`.

    Every epoch renders new 1-second clips from the synthesised utterances (placement,
    speed, room, telephone band, noise drawn from `(seed, epoch)`), so a resumed run sees the
    same data. After training, batch-norm statistics are re-estimated on clean and augmented
    clips and the rejection threshold is calibrated on validation voices.

    Args:
        name: a key of `KWS_TRAINED` (`kws_dscnn`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Utterances per keyword instead of the recipe's (quick trials).

    Returns:
        `(model, report)`.
    """
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(KWS_TRAINED, name, epochs, out_dir, checkpoint_dir)
    if limit:
        recipe["per_keyword"] = int(limit)
    per_keyword = recipe["per_keyword"]
    train = load_keywords("train", per_keyword, seed=recipe["seed"])
    validation = load_keywords("validation")
    augmentation = SpeechAugmentation()

    def epoch_data(rng):
        clips = train.clips(rng, augmentation)
        order = rng.permutation(len(clips))
        return clips[order], train.labels[order]

    seed_everything(recipe["seed"], deterministic=False)
    model = KeywordSpotter.from_preset(spec["architecture"], class_names=KEYWORD_CLASSES)
    started = time.perf_counter()
    adapt_clips = train.clips(np.random.default_rng([recipe["seed"], 10 ** 6]), augmentation)
    model.log_mel.adapt(adapt_clips)
    steps = math.ceil(len(train) / recipe["batch_size"])
    model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"]))
    setup_seconds = time.perf_counter() - started
    val_audio = validation.audio.astype(np.float32) / 32768.0
    model, history = fit_resumable(
        model, np.zeros((len(train), 1), np.float32), train.labels, recipe["epochs"], checkpoint_dir,
        batch_size=recipe["batch_size"], seed=recipe["seed"], validation_data=(val_audio, validation.labels),
        verbose=verbose, epoch_data=epoch_data)
    started = time.perf_counter()
    model.spec_augment.active = False
    try:
        clean = train.clips(np.random.default_rng([recipe["seed"], 10 ** 6 + 1]))
        recalibrate_batch_norm(model, np.concatenate([adapt_clips, clean]), batch_size=recipe["batch_size"],
                               max_batches=128)
    finally:
        model.spec_augment.active = True
    scores = model.scores(validation.audio)
    model.threshold = calibrate_threshold(scores, validation.labels, model.class_names,
                                          recipe["target_false_accepts"])
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "recipe": recipe,
        "train_examples": int(len(train)), "train_speakers": len(set(train.speakers)),
        "params": int(model.count_params()),
        "validation": keyword_report(scores, validation.labels, model.class_names, model.threshold),
        "validation_accuracy": keyword_report(scores, validation.labels, model.class_names)["accuracy"] / 100.0,
        "history": history,
        "training_seconds": round(setup_seconds + sum(history["epoch_seconds"]) + time.perf_counter() - started, 1),
        "command": train_command(name, out_dir, epochs, limit),
        "note": "Clips rendered anew every epoch from (seed, epoch): placement, speed 0.85-1.15, a synthetic room "
                "(30%), a telephone band (15%), gain, and white/pink/brown/babble noise at 0-30 dB SNR (80%). "
                "Validation and test voices never speak in training.",
    }
    model.save(out_dir / "model.keras")
    atomic_write_json(out_dir / "training.json", report)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return model, report
