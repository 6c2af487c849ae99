"""The recipes that train the shipped language models (`deepedge train austen_lstm_word`)."""

import math
import time

import numpy as np

from deepedge.apps.language_modelling import language_model
from deepedge.apps.language_modelling.presets import ARCHITECTURES, TRAINED
from deepedge.data.text import load_austen
from deepedge.presets import resolve_recipe, train_command
from deepedge.tokenizers import CharTokenizer, WordTokenizer
from deepedge.training import fit_resumable, seed_everything
from deepedge.training.compact import shipping_copy
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.optimizers import build_optimizer


def build_tokenizer(spec, corpus):
    cls = WordTokenizer if spec["kind"] == "word" else CharTokenizer
    return cls.from_texts(corpus.paragraphs, max_vocabulary=spec["max_vocabulary"])


def build_model(architecture, tokenizer):
    spec = ARCHITECTURES[architecture]
    return getattr(language_model, spec["class"])(tokenizer, **spec["config"], name=architecture)


def sequence_windows(ids, length, rng=None):
    """`(x, y)` windows of `length` tokens, y shifted by one; a random start offset and order with `rng`."""
    offset = int(rng.integers(0, length)) if rng is not None else 0
    count = (len(ids) - 1 - offset) // length
    x = ids[offset: offset + count * length].reshape(count, length)
    y = ids[offset + 1: offset + 1 + count * length].reshape(count, length)
    if rng is not None:
        order = rng.permutation(count)
        x, y = x[order], y[order]
    return x, y


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the language-model preset `name` by its recipe; saves `out_dir/model.keras`.

    Args:
        name: a key of `TRAINED` (`austen_lstm_word`, `austen_nplm`, `austen_lstm_char`).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Train on the first `limit` training chapters only (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device, in the
            recipe's precision (mixed bfloat16, on a CPU only where it has bfloat16 instructions).

    Returns:
        `(model, report)`: the float32 model and a report with history, perplexities and time.
    """
    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    train, validation = load_austen("train"), load_austen("validation")
    tokenizer = build_tokenizer(spec["tokenizer"], train)  # the vocabulary comes from all training chapters
    if limit:
        train = train.take(limit)
    train_ids = np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32)
    val_ids = np.asarray(tokenizer.encode_paragraphs(validation.paragraphs), np.int32)

    seed_everything(recipe["seed"], deterministic=False)
    with distribution.scope(recipe):
        model = build_model(spec["architecture"], tokenizer)
        if isinstance(model, language_model.NPLM):
            x, y = model.contexts(train_ids)
            val = model.contexts(val_ids)
            epoch_data = None
        else:
            length = recipe["sequence_length"]
            x, y = sequence_windows(train_ids, length)
            val = sequence_windows(val_ids, length)

            def epoch_data(rng):
                return sequence_windows(train_ids, length, rng)

        model.build(x.shape)
        steps = math.ceil(len(x) / recipe["batch_size"])
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], alpha=0.02,
                                                clipnorm=recipe["clipnorm"]), **distribution.compile_options)
    record = distribution.record(model, recipe)
    model, history = fit_resumable(model, x, y, recipe["epochs"], checkpoint_dir, batch_size=recipe["batch_size"],
                                   seed=recipe["seed"], validation_data=val, verbose=verbose, epoch_data=epoch_data)
    model = shipping_copy(model, x[:1].shape)
    started = time.perf_counter()
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"],
        "train_tokens": int(len(train_ids)), "vocabulary_size": tokenizer.vocabulary_size, "recipe": recipe,
        "params": int(model.count_params()),
        "validation_perplexity": round(model.perplexity(val_ids), 3),
        "history": {**history, "validation_perplexity_windows": [round(math.exp(v), 3)
                                                                 for v in history.get("val_loss", [])]},
        "training_seconds": round(sum(history["epoch_seconds"]), 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": f"Trained in {record['precision']} with oneDNN kernels on; the saved model computes in float32. "
                "Resuming after a kill continues from the last epoch's checkpoint (results agree to "
                "float rounding, not bit for bit, since oneDNN's reductions depend on thread timing).",
    }
    report["evaluation_seconds"] = round(time.perf_counter() - started, 1)
    return finish_training(model, out_dir, report, checkpoint_dir, half_precision=True, chief=distribution.is_chief)


def fine_tune_quantization_aware(name, out_dir, epochs=None, verbose=True, limit=None):
    """Fine-tunes the trained `out_dir/model.keras` of the preset `name` with quantization-aware
    training (`Task.fit(..., quantization_aware=True)`), by the preset's `quantization_aware`
    settings: the recipe's optimizer at their rate, their epochs (or `epochs`), their float
    layers (the embedding tied to the softmax is no layer QAT covers). Saves the fine-tuned
    float weights over `model.keras`, the ranges in `qat_ranges.json` beside it
    (`deepedge.training.qat_files`), and adds a `quantization_aware` record to `training.json`.

    A kill before the end leaves the float model as it was (each file is written atomically);
    the command then starts the fine-tuning again. `limit`: fine-tune on the first `limit`
    training chapters and measure on as many validation chapters (quick checks).

    Returns:
        `(model, record)`: the quantization-aware model and what `training.json` records.
    """
    from pathlib import Path

    from deepedge.backend import keras
    from deepedge.training.compact import save_half_precision
    from deepedge.training.qat_files import (check_fine_tunable, fine_tuning_command, fine_tuning_settings,
                                             save_quantization_aware)

    spec, settings = TRAINED[name], fine_tuning_settings(TRAINED, name)
    out_dir = Path(out_dir)
    path = out_dir / "model.keras"
    check_fine_tunable(path, train_command(name, out_dir))
    recipe, epochs = spec["recipe"], epochs or settings["epochs"]
    model = language_model.LSTMLanguageModel.load(path)
    train, validation = load_austen("train"), load_austen("validation")
    if limit:
        train, validation = train.take(limit), validation.take(limit)
    ids = np.asarray(model.tokenizer.encode_paragraphs(train.paragraphs), np.int32)
    x, y = sequence_windows(ids, recipe["sequence_length"], rng=np.random.default_rng(settings["seed"]))
    seed_everything(settings["seed"], deterministic=False)
    model.compile(optimizer=keras.optimizers.AdamW(settings["learning_rate"], weight_decay=recipe["weight_decay"],
                                                   clipnorm=recipe["clipnorm"]))
    started = time.perf_counter()
    history = model.fit(x, y, batch_size=recipe["batch_size"], epochs=epochs, quantization_aware=True,
                        qat_calibration=x[:64], qat_float_layers=settings["float_layers"], verbose=int(verbose))
    seconds = round(time.perf_counter() - started, 1)
    val_ids = np.asarray(model.tokenizer.encode_paragraphs(validation.paragraphs), np.int32)
    record = {"epochs": epochs, "learning_rate": settings["learning_rate"], "float_layers": settings["float_layers"],
              "train_tokens": int(x.size), "training_seconds": seconds,
              "validation_perplexity_fake_quant": round(model.perplexity(val_ids), 3),
              "loss": [round(float(v), 4) for v in history.history["loss"]],
              "command": fine_tuning_command(name, out_dir, epochs, settings["epochs"])}
    # without the optimizer's state, as training ships it
    save_quantization_aware(model, path, settings["float_layers"], record,
                            lambda m, p: save_half_precision(shipping_copy(m, x[:1].shape), p))
    return language_model.LSTMLanguageModel.load(path), record
