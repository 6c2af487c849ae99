"""`deepedge export MY_MODEL.keras --calibration calib.npz --evaluate test.npz --out FOLDER`: the export
of a Keras model deepedge did not build, its data read from files (`deepedge.export.data_files`)."""

import shlex
from pathlib import Path

import numpy as np

from deepedge.cli.common import console
from deepedge.errors import InvalidInputError, ModelFileError


def load_keras_file(path):
    """A user's `.keras` file, loaded in Keras's safe mode (nothing unpickled, no Lambda bytecode run)."""
    from deepedge.backend import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises ValueError, TypeError, KeyError, zipfile errors...
        reason = " ".join(str(e).split()).split(". ")[0][:400].rstrip(".")
        raise ModelFileError(f"Keras cannot load {path} in safe mode: {reason}. Run `deepedge doctor {path}` for "
                             "every problem of the model and how to fix each.") from e
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a keras.Model.")
    return model


def _preprocessing(specs, scale, offset, layout):
    """`--scale`, `--offset` and `--layout` for every float input of the model (None when not given)."""
    if scale is None and offset is None and layout is None:
        return None
    declared = {"scale": 1.0 if scale is None else scale, "offset": 0.0 if offset is None else offset,
                "layout": layout or "channels_last"}
    floats = [spec["name"] for spec in specs if spec["dtype"].startswith("float")]
    if not floats:
        raise InvalidInputError("--scale, --offset and --layout apply to float inputs; this model has none "
                                f"({[(s['name'], s['dtype']) for s in specs]}).")
    return {name: declared for name in floats}


def parse_number(text):
    """A float from `"0.5"` or a fraction `"1/255"`."""
    numerator, _, denominator = str(text).partition("/")
    try:
        value = float(numerator) / (float(denominator) if denominator else 1.0)
    except (ValueError, ZeroDivisionError) as e:
        raise InvalidInputError(f"Expected a number or a fraction such as 1/255. Received: {text!r}.") from e
    return value


def _command(path, out, **options):
    """The `deepedge export` command line that repeats this export, for the card."""
    parts = ["deepedge", "export", str(path)]
    for name, value in options.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None:
                parts += [f"--{name.replace('_', '-')}", str(item)]
    return " ".join(shlex.quote(part) for part in [*parts, "--out", str(out)])


def _output_classes(model):
    """How many classes the model's first output scores, or None when it does not say."""
    outputs = getattr(model, "outputs", None)
    return outputs[0].shape[-1] if outputs else None


def _labels_by_name(y, classes, known, count, folder):
    """Evaluation targets from class subfolders, as indices into the model's classes.

    Subfolder indices follow the sorted subfolders, so an evaluation folder that lacks a class
    would shift every later label; with the calibration folder's class names (`known`, when
    they name every output class) the targets are mapped by name, and without them the
    subfolders must name every class."""
    if classes is None:
        return y
    if known is not None and (count is None or len(known) == count):
        missing = sorted(set(classes) - set(known))
        if missing:
            raise InvalidInputError(f"--evaluate {folder} has class subfolders the calibration data does not: "
                                    f"{missing}. Expected a subset of {known}.")
        index = np.asarray([known.index(name) for name in classes], np.int64)
        return index[y]
    if count is not None and len(classes) != count:
        raise InvalidInputError(f"--evaluate {folder} has {len(classes)} class subfolder(s) but the model's output "
                                f"has {count} classes, so the labels cannot be read from the folder order. Add an "
                                "empty subfolder for each class without examples, or pass --calibration as a folder "
                                f"naming every class. Received the subfolders {classes}.")
    return y


def export_keras_file(path, out, calibration, evaluate, metric="accuracy", max_drop=None, quantization="int8",
                      force=False, scale=None, offset=None, layout=None, float_layers=(), num_calibration=None,
                      budgets=None):
    """Exports the user's `.keras` file at `path` into `out` with data read from files; returns model.json."""
    from deepedge.export.data_files import read_examples
    from deepedge.export.keras_model import input_specs, raw_shape
    from deepedge.export.model_export import export_model

    model = load_keras_file(path)
    if quantization == "int8" and calibration is None:
        raise InvalidInputError(f"int8 export of {path} needs real examples: pass --calibration (a .npz file, or a "
                                "folder of images or WAV files), or --quantization float32.")
    specs = input_specs(model)
    preprocessing = _preprocessing(specs, scale, offset, layout)
    raw = [{**spec, "shape": raw_shape(spec, (preprocessing or {}).get(spec["name"], {}))} for spec in specs]
    labels, calibration_data, evaluation_data = None, None, None
    if calibration is not None:
        inputs, _, labels = read_examples(calibration, raw, layout)
        calibration_data = inputs
    if evaluate is not None:
        inputs, y, classes = read_examples(evaluate, raw, layout)
        if y is None:
            raise InvalidInputError(f"--evaluate {evaluate} holds no targets: add an array `y` to the .npz file, or "
                                    "put the files in class subfolders.")
        y = _labels_by_name(y, classes, labels, _output_classes(model), evaluate)
        evaluation_data, labels = (inputs, y), labels or classes
    if labels and _output_classes(model) != len(labels):
        labels = None  # class subfolders that do not name every class of the output: indices only
    sources = "; ".join(f"{what} {Path(p).name}" for what, p in (("calibration", calibration), ("evaluation", evaluate))
                        if p is not None)
    card = {"data": {"name": Path(evaluate or calibration).name if (evaluate or calibration) else None,
                     "source": sources or "none", "licence": "the data owner's terms"},
            "export_command": _command(path, out, calibration=calibration, evaluate=evaluate,
                                       metric=metric if evaluate else None, max_drop=max_drop,
                                       quantization=None if quantization == "int8" else quantization, scale=scale,
                                       offset=offset, layout=layout, float_layer=float_layers)}
    meta = export_model(model, out, quantization, calibration_data, evaluation_data, metric, max_drop, preprocessing,
                        float_layers, labels, force=force, num_calibration=num_calibration or 500, card=card,
                        **(budgets or {}))
    metrics = meta.get("metrics") or {}
    line = f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, ops {', '.join(meta['ops'])}"
    if metrics:
        line += (f"; {metrics['metric']} float {metrics['keras_float']:.2f} vs {quantization} "
                 f"{metrics[f'litert_{quantization}']:.2f} (loss {metrics['drop']:.2f}, allowed {metrics['max_drop']})")
    console.print(line, soft_wrap=True, highlight=False)
    return meta


__all__ = ["export_keras_file", "load_keras_file", "parse_number"]
