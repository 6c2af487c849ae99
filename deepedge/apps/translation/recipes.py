"""The recipes that train the translators (`deepedge train de_en_attention`)."""

import math

import numpy as np

from deepedge.apps.translation.presets import TRAINED
from deepedge.apps.translation.translator import Translator
from deepedge.data.translation import load_parallel
from deepedge.presets import resolve_recipe, train_command
from deepedge.tokenizers import SubwordTokenizer, WordTokenizer
from deepedge.training import fit_resumable, seed_everything
from deepedge.training.distribute import Distribution
from deepedge.training.finish import finish_training
from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy
from deepedge.training.optimizers import build_optimizer


def build_tokenizers(spec, train, lexicon=None):
    """Tokenizers fitted on the training split only (words, or subword pieces with
    `"kind": "subword"`), and on the recipe's lexicon if it has one: the source lower-cased,
    the target keeping its case (what BLEU compares)."""
    sizes = spec["tokenizers"]
    min_count = sizes.get("min_count", 1)
    kind = SubwordTokenizer if sizes.get("kind") == "subword" else WordTokenizer  # BPE pieces, or whole words
    sources, targets = list(train.sources), list(train.targets)
    if lexicon is not None:
        sources, targets = sources + list(lexicon.sources), targets + list(lexicon.targets)
    return (kind.from_texts(sources, max_vocabulary=sizes["source_vocabulary"], min_count=min_count),
            kind.from_texts(targets, max_vocabulary=sizes["target_vocabulary"], min_count=min_count,
                            lowercase=False))


def fitting_pairs(model, data):
    """The pairs of `data` whose sentences fit the model's maximum lengths (and have words)."""
    keep = [i for i, (s, t) in enumerate(data.pairs())
            if 0 < len(model.source_tokenizer.encode(s)) < model.max_source_length
            and 0 < len(model.target_tokenizer.encode(t)) < model.max_target_length]
    return [data.sources[i] for i in keep], [data.targets[i] for i in keep]


def train_preset(name, out_dir, epochs=None, checkpoint_dir=None, limit=None, verbose=True, distribution=None):
    """Trains the translator preset `name` by its recipe; saves `out_dir/model.keras`.

    Args:
        name: a key of `TRAINED` (`de_en_attention`, `de_en_seq2seq`, `es_en_attention`, ...).
        out_dir: folder for `model.keras` and `training.json`.
        epochs: int. Overrides the recipe's epochs.
        checkpoint_dir: per-epoch checkpoints; rerunning the command resumes from there.
        limit: int. Train on the first `limit` training pairs only (quick trials).
        distribution: a `Distribution` (strategy, precision, XLA). Defaults to one device.

    Returns:
        `(model, report)`.
    """
    distribution = distribution or Distribution()
    spec, recipe, out_dir, checkpoint_dir = resolve_recipe(TRAINED, name, epochs, out_dir, checkpoint_dir)
    recipe = distribution.scale(recipe)
    train, validation = load_parallel(spec["data"], "train"), load_parallel(spec["data"], "validation")
    lexicon_spec = spec.get("lexicon")
    lexicon = load_parallel(lexicon_spec["data"], "train") if lexicon_spec else None
    if limit and lexicon is not None:  # a quick trial: BPE over the whole lexicon alone takes minutes
        train, lexicon = train.take(limit), lexicon.take(limit)
    source_tokenizer, target_tokenizer = build_tokenizers(spec, train, lexicon)
    if limit:
        train = train.take(limit)
    seed_everything(recipe["seed"], deterministic=False)
    with distribution.scope(recipe):
        model = Translator.from_preset(spec["architecture"], source_tokenizer=source_tokenizer,
                                       target_tokenizer=target_tokenizer, max_source_length=spec["max_source_length"],
                                       max_target_length=spec["max_target_length"], **spec.get("config", {}))
    x, y = model.teacher_forcing_data(*fitting_pairs(model, train))
    val_x, val_y = model.teacher_forcing_data(*fitting_pairs(model, validation))
    epoch_data = None
    if lexicon is not None:
        epoch_data, x, y = lexicon_epochs(model, x, y, lexicon, lexicon_spec["pairs_per_epoch"], recipe["seed"])
    steps = math.ceil(len(y) / recipe["batch_size"])
    loss = (SmoothedSparseCategoricalCrossentropy(recipe["label_smoothing"], from_logits=True)
            if recipe.get("label_smoothing") else "auto")
    with distribution.scope(recipe):
        model.compile(optimizer=build_optimizer(recipe, steps, recipe["epochs"], clipnorm=recipe["clipnorm"]),
                      loss=loss, **distribution.compile_options)
    record = distribution.record(model, recipe)
    model, history = fit_resumable(model, tuple(x), y, recipe["epochs"], checkpoint_dir,
                                   batch_size=recipe["batch_size"], seed=recipe["seed"],
                                   validation_data=(tuple(val_x), val_y), verbose=verbose,
                                   batches=model.training_batches, epoch_data=epoch_data)
    report = {
        "preset": name, "architecture": spec["architecture"], "data": spec["data"], "train_examples": int(len(y)),
        "recipe": recipe, "params": int(model.count_params()),
        "source_vocabulary": source_tokenizer.vocabulary_size, "target_vocabulary": target_tokenizer.vocabulary_size,
        "metric": "bleu",
        "validation_metric": round(model.evaluate_metric(validation.take(recipe.get("validation_pairs", 300))), 2),
        "history": history, "training_seconds": round(sum(history["epoch_seconds"]), 1),
        "command": train_command(name, out_dir, epochs, limit), "distribution": record,
        "note": "Teacher forcing on the training pairs that fit the model's maximum lengths"
                + (f", with {lexicon_spec['pairs_per_epoch']:,} pairs of the {lexicon_spec['data']} lexicon "
                   f"({len(lexicon):,} in all) drawn anew each epoch" if lexicon is not None else "")
                + "; validation BLEU greedy on the first 300 validation pairs.",
    }
    return finish_training(model, out_dir, report, checkpoint_dir, (x[0][:1].shape, x[1][:1].shape),
                           half_precision=True, chief=distribution.is_chief)


def lexicon_epochs(model, x, y, lexicon, pairs_per_epoch, seed):
    """`(epoch_data, x, y)`: every epoch trains on all sentence pairs `(x, y)` plus a fresh
    draw of `pairs_per_epoch` lexicon pairs (the whole lexicon each epoch would cost ten times
    the sentences' time for words that are one or two tokens long)."""
    lexicon_x, lexicon_y = model.teacher_forcing_data(*fitting_pairs(model, lexicon))

    def epoch_data(rng):
        chosen = rng.choice(len(lexicon_y), size=min(pairs_per_epoch, len(lexicon_y)), replace=False)
        order = rng.permutation(len(y) + len(chosen))
        xs = tuple(np.concatenate([a, b[chosen]])[order] for a, b in zip(x, lexicon_x))
        return xs, np.concatenate([y, lexicon_y[chosen]])[order]

    first_x, first_y = epoch_data(np.random.default_rng(seed))
    return epoch_data, first_x, first_y


__all__ = ["build_tokenizers", "fitting_pairs", "lexicon_epochs", "train_preset"]
