"""A quantization-aware model on disk: its float `.keras` file and `qat_ranges.json` beside it.

A deepedge task saved after QAT loads as its float self with the fine-tuned weights
(`deepedge.training.qat`); the ranges it trained are what make its int8 export the model it
trained for. `save_ranges` writes them beside the `.keras` file with that file's SHA-256, and
`Task.load` puts them back (`quantize_aware(model, ranges=...)`) when they belong to the file it
loads, so `deepedge export` and `deepedge evaluate` of a QAT model use them without being told.
Ranges recorded for another file (the model retrained in float since) are ignored, with a warning.
"""

import hashlib
import json
import warnings
from pathlib import Path

from deepedge.errors import ModelFileError
from deepedge.fileio import atomic_write_json

RANGES_NAME = "qat_ranges.json"


def ranges_path(model_path):
    """Where the ranges of the `.keras` file `model_path` lie: `qat_ranges.json` beside it."""
    return Path(model_path).with_name(RANGES_NAME)


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_ranges(model_path, ranges, float_layers=(), record=None):
    """Writes `qat_ranges.json` (atomically) beside the saved `.keras` file `model_path`, for
    the model whose `strip_quantize_aware` returned `ranges`; `record` adds what the training
    run wants to keep (epochs, rate, command)."""
    atomic_write_json(ranges_path(model_path), {
        "model_file": Path(model_path).name, "model_sha256": _sha256(model_path),
        "float_layers": list(float_layers), "ranges": ranges, **(record or {})})


def load_ranges(model_path):
    """`(ranges, float_layers)` recorded for the `.keras` file `model_path`, or None when it
    has none (or they were recorded for another file: a warning says so)."""
    path = ranges_path(model_path)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
        ranges, float_layers, digest = saved["ranges"], list(saved["float_layers"]), saved["model_sha256"]
        if not isinstance(ranges, dict) or not all(isinstance(v, list) and len(v) == 2 for v in ranges.values()):
            raise ValueError("`ranges` must map names to [min, max]")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelFileError(f"{path} is not a quantization-aware model's ranges ({e}). Delete it to load "
                             f"{Path(model_path).name} as a float model, or train with --quantization-aware again.") \
            from e
    if digest != _sha256(model_path):
        warnings.warn(f"{path} records quantization-aware ranges for another version of {Path(model_path).name} "
                      "(its SHA-256 differs), so they are not used: the model loads as a float model. Delete the "
                      "file, or fine-tune again with --quantization-aware.", stacklevel=2)
        return None
    return ranges, float_layers


def fine_tuning_settings(recipes, name):
    """The `quantization_aware` settings of the recipe `name` in `recipes` (a family's `TRAINED`);
    raises `InvalidInputError` naming the recipes that have them when it has none."""
    from deepedge.errors import InvalidInputError

    settings = (recipes.get(name) or {}).get("quantization_aware")
    if settings is None:
        raise InvalidInputError(f"The recipe of {name!r} has no quantization-aware fine-tuning. Presets with one: "
                                f"{sorted(n for n, s in recipes.items() if 'quantization_aware' in s)}.")
    return settings


def check_fine_tunable(model_path, train_command):
    """Raises unless `model_path` is a trained float model that QAT can fine-tune: it exists
    (else: train it with `train_command` first) and has no ranges beside it yet."""
    from deepedge.errors import InvalidInputError

    path = Path(model_path)
    if not path.is_file():
        raise ModelFileError(f"Quantization-aware training fine-tunes a trained model, and {path} does not exist. "
                             f"Train it first: `{train_command}`.")
    if ranges_path(path).is_file():
        raise InvalidInputError(f"{path} is already quantization-aware ({ranges_path(path).name} lies beside it). "
                                "Export it as it is, or retrain it in float first.")


def save_quantization_aware(model, model_path, float_layers, record, save):
    """Ends a QAT fine-tuning run: takes the fake-quantizing layers out of `model` (keeping
    their ranges), saves the float model with `save(model, model_path)` (atomically), writes
    the ranges beside it, and adds `record` to `training.json` as `quantization_aware`.

    A kill before the end leaves the float model as it was, or the new one without ranges
    (`Task.load` then loads it as a float model); every file is written atomically."""
    from deepedge.training.qat import strip_quantize_aware

    model_path = Path(model_path)
    ranges = strip_quantize_aware(model)
    save(model, model_path)
    save_ranges(model_path, ranges, float_layers, {"fine_tuning": record})
    report_path = model_path.with_name("training.json")
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    atomic_write_json(report_path, {**report, "quantization_aware": record})


def fine_tuning_command(name, out_dir, epochs, default_epochs):
    """The command that repeats a QAT fine-tuning run (`deepedge train NAME --quantization-aware`)."""
    from deepedge.presets import train_command

    return (f"deepedge train {name} --quantization-aware"
            + (f" --out {out_dir}" if train_command(name, out_dir) != f"deepedge train {name}" else "")
            + (f" --epochs {epochs}" if epochs != default_epochs else ""))
