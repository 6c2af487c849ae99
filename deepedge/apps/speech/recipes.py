"""The recipe that trains the shipped keyword spotter (`deepedge train kws_dscnn`)."""

import json
import math
import time

import numpy as np

from deepedge.apps.speech.keyword_spotter import KeywordSpotter
from deepedge.apps.speech.presets import KWS_TRAINED
from deepedge.backend import tf
from deepedge.data.speech import (KEYWORD_CLASSES, SAMPLE_RATE, SpeechAugmentation, join_keywords, load_keywords,
                                  load_neural_keywords)
from deepedge.data.speech.keywords import render_clip
from deepedge.ops.keywords import calibrate_threshold, keyword_report
from deepedge.fileio import atomic_write_json
from deepedge.presets import resolve_recipe, train_command
from deepedge.training import fit_resumable, parallel_batches, recalibrate_batch_norm, seed_everything
from deepedge.training.compact import save_for_shipping, shipping_copy
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.optimizers import build_optimizer


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
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
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device.

    Returns:
        `(model, report)`.
    """
    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(KWS_TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    if limit:
        recipe["per_keyword"] = int(limit)
    per_keyword = recipe["per_keyword"]
    train = load_keywords("train", per_keyword, seed=recipe["seed"])
    validation = load_keywords("validation")
    if recipe.get("neural_per_keyword"):  # Kokoro's neural voices speak a share of training and validation
        neural = recipe["neural_per_keyword"] if not limit else max(1, int(limit) // 4)
        train = join_keywords(train, load_neural_keywords("train", neural, seed=recipe["seed"],
                                                          unknown_factor=recipe.get("neural_unknown_factor", 1.25)))
        validation = join_keywords(validation, load_neural_keywords("validation"))
    augmentation = SpeechAugmentation(noise_probability=recipe.get("noise_probability", 0.8),
                                      snr_db=tuple(recipe.get("snr_db", (0.0, 30.0))))

    epoch_dataset = keyword_epochs(train, augmentation)
    seed_everything(recipe["seed"], deterministic=False)
    started = time.perf_counter()
    with distribution.scope(recipe):
        model = KeywordSpotter.from_preset(spec["architecture"], class_names=KEYWORD_CLASSES)
        adapt_clips = train.clips(np.random.default_rng([recipe["seed"], 10 ** 6]), augmentation)
        model.log_mel.adapt(adapt_clips)
        steps = math.ceil(len(train) / recipe["batch_size"])
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"]), **distribution.compile_options)
    setup_seconds = time.perf_counter() - started
    val_audio = validation.audio.astype(np.float32) / 32768.0
    model, history = fit_resumable(
        model, np.zeros((len(train), 1), np.float32), train.labels, recipe["epochs"], checkpoint_dir,
        batch_size=recipe["batch_size"], seed=recipe["seed"], validation_data=(val_audio, validation.labels),
        verbose=verbose, epoch_dataset=epoch_dataset)
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
        "command": train_command(name, out_dir, epochs, limit), "distribution": distribution.record(model, recipe),
        "note": "Clips rendered anew every epoch from (seed, epoch): placement, speed 0.85-1.15, a synthetic room "
                "(30%), a telephone band (15%), gain, and white/pink/brown/babble noise at "
                f"{augmentation.snr_db[0]:g}-{augmentation.snr_db[1]:g} dB SNR ({augmentation.noise_probability:.0%}). "
                + _spec_augment_note(model.spec_augment)
                + "Speakers drawn evenly from the training voices (3 of 411 are flite's). "
                + _neural_note(recipe.get("neural_per_keyword"), train)
                + ("Front end: each clip's mean log-mel spectrum subtracted (cepstral mean normalisation). "
                   if model.log_mel.utterance_norm else "")
                + "Validation and test voices never speak in training.",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (1, train.audio.shape[1]),
                           chief=distribution.is_chief)


def keyword_epochs(train, augmentation):
    """`epoch_dataset(rng, batch_size)` for `fit_resumable`: every utterance of `train`, in an order
    drawn from `rng` (made from `(seed, epoch)`), rendered into a fresh augmented clip while the
    model trains, in worker processes (`parallel_batches`). Clip `k` of the epoch draws its
    placement, speed, room, line and noise from its own generator, seeded by `rng` and `k`, so the
    batches are the same however many processes make them, and a resumed run sees the same clips."""

    def epoch_dataset(rng, batch_size):
        order = rng.permutation(len(train))
        seed = int(rng.integers(1, 2 ** 31))

        def render(k):
            i = int(order[k])
            clip = render_clip(train.utterances, i, np.random.default_rng([seed, int(k)]), augmentation)
            return clip, train.labels[i]

        signature = (tf.TensorSpec((SAMPLE_RATE,), tf.float32), tf.TensorSpec((), tf.int64))
        return parallel_batches(len(train), render, signature, batch_size)

    return epoch_dataset


def _neural_note(count, train, in_validation=True):
    """One sentence on the neural voices among the training speakers, for the card."""
    if not count:
        return ""
    from deepedge.data.kokoro import kokoro_voices

    neural = sum(s.startswith("kokoro:") for s in train.speakers)
    voices = len({s for s in train.speakers if s.startswith("kokoro:")})
    english = sum(v[0] in "ab" for v in kokoro_voices("train"))  # af_, am_, bf_, bm_: American and British
    return (f"{neural} of the {len(train)} training utterances ({neural / len(train):.0%}) spoken by {voices} of "
            f"Kokoro-82M's neural voices ({english} English, the rest other languages' voices speaking English)"
            + (f", validation by {len(kokoro_voices('validation'))} more; " if in_validation else "; ")
            + f"the {len(kokoro_voices('test'))} test voices "
            "never speak in training. ")


def _spec_augment_note(layer):
    """One sentence on the `SpecAugment` layer (or None) a keyword spotter trained with, for its card."""
    if layer is None:
        return ""
    parts = [f"{layer.freq_masks} band and {layer.time_masks} frame masks"]
    if layer.band_warp:
        parts.append(f"band warping of up to {layer.band_warp:.0%}")
    if layer.tilt:
        parts.append(f"spectral tilt of up to {layer.tilt:g}")
    return "SpecAugment: " + ", ".join(parts) + ". "


# === Speech recognition ===

RECOGNIZER_AUGMENTATION = SpeechAugmentation(speed=(0.9, 1.1), noise_probability=0.5, snr_db=(5.0, 30.0),
                                             reverb_probability=0.2, telephone_probability=0.1, gain_db=(-30.0, -1.0))


def sentence_batch(data, indices, length, rng=None, augmentation=None):
    """`(N, length)` float32 audio of the utterances `indices`, each placed at a small random
    offset (with `rng`) and augmented; longer audio is cut."""
    from deepedge.ops.audio import resample

    out = np.zeros((len(indices), length), np.float32)
    for row, i in enumerate(indices):
        audio = data.waveform(int(i))
        if augmentation is not None and rng is not None:
            factor = rng.uniform(*augmentation.speed)
            audio = resample(audio, SAMPLE_RATE, int(SAMPLE_RATE / factor))
        offset = int(rng.integers(0, max(1, min(3200, length - len(audio) + 1)))) if rng is not None else 0
        clip = np.zeros(length, np.float32)
        piece = audio[:length - offset]
        clip[offset:offset + len(piece)] = piece
        if augmentation is not None and rng is not None:
            clip = augmentation(clip, rng, data.utterances)
        out[row] = clip
    return out


def recognizer_epochs(train, usable, labels, length):
    """`epoch_data(rng)` for `fit_resumable`: the sentences `usable` of `train` (with their `labels`)
    shuffled and rendered anew into `length` samples of augmented audio, all drawn from `rng`."""
    def epoch_data(rng):
        order = rng.permutation(len(usable))
        return sentence_batch(train, usable[order], length, rng, RECOGNIZER_AUGMENTATION), labels[order]

    return epoch_data


def trainable_sentences(data, model, max_seconds):
    """Indices of the sentences that fit `max_seconds` with room for CTC (steps >= 1.25 x characters)."""
    step = model.time_stride * model.hop
    lengths = np.diff(data.utterances.offsets)
    return np.array([i for i in range(len(data)) if lengths[i] <= 0.95 * max_seconds * SAMPLE_RATE
                     and 1.25 * len(data.texts[i]) <= lengths[i] / step], np.int64)


def train_recognizer(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the speech-recognition preset `name` (`asr_ctc`) by its recipe; saves `out_dir/model.keras`.

    Every epoch renders the training sentences anew (offset, speed, room, phone line, noise
    drawn from `(seed, epoch)`), padded to `max_seconds`. `limit` trains on that many sentences.
    `distribution`: a `Distribution` (strategy, precision, XLA); defaults to one device.
    With a `fine_tune` stage in the recipe, the model first trains on the espeak-ng and flite
    sentences, is kept as `checkpoints/first_stage.keras` (a rerun starts from there), then
    trains on, at a lower learning rate, with Kokoro's neural voices reading a share of the
    sentences.
    """
    from deepedge.apps.speech.presets import ASR_ARCHITECTURES, ASR_TRAINED
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.data.speech import CHARACTERS, load_sentences

    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(ASR_TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    train = load_sentences("train", recipe["sentences"], seed=recipe["seed"])
    if limit:
        train = train.take(int(limit))
    validation = load_sentences("validation")
    seed_everything(recipe["seed"], deterministic=False)
    fine_tune = recipe.get("fine_tune")
    first_path, first_record = checkpoint_dir / "first_stage.keras", checkpoint_dir / "first_stage.json"
    if fine_tune and first_path.exists() and first_record.exists():
        with distribution.scope(recipe):
            model = SpeechRecognizer.load(first_path)
        first = json.loads(first_record.read_text())
        if verbose:
            print(f"Starting the fine-tuning stage from {first_path}.")
    else:
        with distribution.scope(recipe):
            model = SpeechRecognizer(CHARACTERS, **ASR_ARCHITECTURES[spec["architecture"]]["config"])
        model, history, length, usable, setup_seconds = _fit_recognizer(
            model, recipe, train, validation, checkpoint_dir / ("first_stage_epochs" if fine_tune else ""), verbose,
            distribution)
        first = {**_stage_record(history, usable, setup_seconds),
                 "train_speakers": len({train.speakers[i] for i in usable})}
        if fine_tune:
            save_for_shipping(model, first_path, (1, length))
            atomic_write_json(first_record, first)
    report_stage = None
    if fine_tune:
        neural = fine_tune["neural_sentences"] if not limit else max(1, int(limit) // 5)
        # seed + 1: other sentences than the espeak-ng/flite ones, not the same texts in new voices
        train = train.concatenate(load_sentences("train", neural, seed=recipe["seed"] + 1, neural=True),
                                  name="sentences+neural_sentences")
        stage = {**recipe, "epochs": fine_tune["epochs"],
                 "learning_rate": fine_tune["learning_rate"] * distribution.replicas}
        model, history, length, usable, setup_seconds = _fit_recognizer(
            model, stage, train, validation, checkpoint_dir / "fine_tune_epochs", verbose, distribution, adapt=False)
        report_stage = {"epochs": fine_tune["epochs"], "learning_rate": fine_tune["learning_rate"],
                        **_stage_record(history, usable, setup_seconds)}
    record = distribution.record(model, recipe)
    model = shipping_copy(model, (1, length))  # without the optimizer state
    started = time.perf_counter()
    cer = model.evaluate_metric(validation)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "recipe": recipe,
        "train_examples": first["train_examples"], "train_speakers": first["train_speakers"],
        "params": int(model.count_params()), "validation_metric": round(cer, 3), "metric": "cer",
        "history": first["history"],
        "training_seconds": round(first["training_seconds"]
                                  + (report_stage["training_seconds"] if report_stage else 0.0), 1),
        "evaluation_seconds": round(time.perf_counter() - started, 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": f"Sentences up to {recipe['max_seconds']} s, rendered anew every epoch from (seed, epoch): offset, "
                "speed 0.9-1.1, a synthetic room (20%), a telephone band (10%), noise at 5-30 dB SNR (50%). "
                + (f"After {recipe['epochs']} epochs on the espeak-ng and flite sentences "
                   f"({first['training_seconds'] / 60:.1f} min), {fine_tune['epochs']} more at learning rate "
                   f"{fine_tune['learning_rate']:g} ({report_stage['training_seconds'] / 60:.1f} min) on "
                   f"{report_stage['train_examples']:,} sentences: "
                   + _neural_note(fine_tune["neural_sentences"], train, in_validation=False) if fine_tune else "")
                + "Validation and test voices and chapters never appear in training.",
    }
    if report_stage:
        report["fine_tune"] = report_stage
    return finish_training(model, out_dir, report, checkpoint_dir, half_precision=True, chief=distribution.is_chief)


def _stage_record(history, usable, setup_seconds):
    """What `training.json` keeps of one `_fit_recognizer` run."""
    return {"train_examples": int(len(usable)), "history": history,
            "training_seconds": round(setup_seconds + sum(history["epoch_seconds"]), 1)}


def _fit_recognizer(model, recipe, train, validation, checkpoint_dir, verbose, distribution, adapt=True):
    """Adapts the front end (with `adapt`) and fits `model` (built in `distribution`'s scope) on
    `train` by `recipe` (resumable); returns
    `(model, history, padded length, indices of the sentences used, setup seconds)`."""
    length = int(round(recipe["max_seconds"] * SAMPLE_RATE / model.chunk_samples)) * model.chunk_samples
    usable = trainable_sentences(train, model, recipe["max_seconds"])
    max_label = max(len(train.texts[i]) for i in usable)
    labels = model.labels([train.texts[i] for i in usable], max_label)
    started = time.perf_counter()
    with distribution.scope(recipe):
        if adapt:
            model.log_mel.adapt(sentence_batch(train, usable[:500], length, np.random.default_rng(1),
                                               RECOGNIZER_AUGMENTATION))
        steps = math.ceil(len(usable) / recipe["batch_size"])
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], clipnorm=5.0),
                      **distribution.compile_options)

    epoch_data = recognizer_epochs(train, usable, labels, length)
    val_usable = trainable_sentences(validation, model, recipe["max_seconds"])
    val_x = sentence_batch(validation, val_usable, length)
    val_y = model.labels([validation.texts[i] for i in val_usable], max_label)
    setup_seconds = time.perf_counter() - started
    model, history = fit_resumable(model, np.zeros((len(usable), 1), np.float32), labels[:, 0], recipe["epochs"],
                                   checkpoint_dir, batch_size=recipe["batch_size"], seed=recipe["seed"],
                                   validation_data=(val_x, val_y), verbose=verbose, epoch_data=epoch_data)
    return model, history, length, usable, setup_seconds
