"""`deepedge export MODEL --out FOLDER`: LiteRT with builtin ops only, parity checked, carded.

MODEL is a `.keras` file or a shipped model's name. A deepedge task goes through its family
(calibrated and measured on the data it was trained on); any other Keras model goes through
`deepedge.export.export_model` with the data given in `--calibration` and `--evaluate`.
"""

from pathlib import Path

import click

from deepedge.cli.common import console, err_console, family_of_model, resolve_model
from deepedge.errors import InvalidInputError
from deepedge.fileio import check_output_path


def export_model(model_path, out, quantization="int8", force=False, data=None, calibration_samples=None,
                 max_ram=None, max_flash=None, max_drop=None, repair=False, keep_ops=False):
    """Exports a deepedge `.keras` model through its family; returns model.json as a dict."""
    model_path, out = Path(model_path), Path(out)
    family = family_of_model(model_path)
    budgets = _options(max_ram, max_flash, max_drop, repair, keep_ops)
    with err_console.status(f"Converting to {quantization}, checking parity and measuring on held-out data..."):
        meta = family.export(model_path, out, quantization=quantization, force=force, data_name=data,
                             calibration_samples=calibration_samples, **({"budgets": budgets} if budgets else {}))
    console.print(family.export_summary(meta, out, quantization))
    return meta


def _options(max_ram=None, max_flash=None, max_drop=None, repair=False, keep_ops=False):
    """The export options given, for `deepedge.export.exporter.export` (the families' `budgets`)."""
    options = {"max_ram": max_ram, "max_flash": max_flash, "max_drop": max_drop, "repair": repair or None,
               "rewrite_for_xnnpack": False if keep_ops else None}
    return {key: value for key, value in options.items() if value is not None}


def is_deepedge_model(path):
    """Whether the `.keras` file at `path` holds a deepedge task (one a family serves)."""
    from deepedge.apps.family import keras_class_of
    from deepedge.registry import families

    class_name = keras_class_of(path)
    return any(class_name in family.keras_classes for family in families())


def _keras_file(model):
    """The `.keras` file MODEL names: a path, a folder holding `model.keras`, or a shipped model's name."""
    from deepedge.apps.family import keras_path

    path = keras_path(resolve_model(model))
    if not path.is_file():
        raise InvalidInputError(f"No .keras file at {path}. Pass a .keras file or a shipped model's name "
                                "(`deepedge info` lists them).")
    return path


def _scale(context, parameter, value):
    from deepedge.cli.export_keras import parse_number

    try:
        return None if value is None else parse_number(value)
    except InvalidInputError as e:
        raise click.BadParameter(str(e)) from e


@click.command("export")
@click.argument("model")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for model.tflite and model.json (required "
              "unless --io adds a browser variant to an exported model).")
@click.option("--quantization", type=click.Choice(["int8", "float16", "dynamic", "float32"]), default="int8",
              show_default=True)
@click.option("--force", is_flag=True, help="Write the model even if it fails the parity check.")
@click.option("--data", help="deepedge models: data set for calibration and parity (default: the one it was "
                             "trained on).")
@click.option("--calibration-samples", type=click.IntRange(min=1),
              help="Calibration samples for int8 (default: the family's, e.g. 500 images; 500 for your own model).")
@click.option("--max-ram", help="Fail when the model needs a larger tensor arena (LiteRT or TFLite Micro), "
                                "e.g. 256KB; nothing is written.")
@click.option("--max-flash", help="Fail when the model file is larger, e.g. 1MB; nothing is written.")
@click.option("--calibration", type=click.Path(exists=True),
              help="Your own model: real examples for int8 calibration: a .npz file (one array per model input, "
                   "named after it), a folder of images, or a folder of WAV files.")
@click.option("--evaluate", type=click.Path(exists=True),
              help="Your own model: held-out examples with targets (`y` in the .npz, or class subfolders) on which "
                   "float and exported models are compared.")
@click.option("--metric", type=click.Choice(["accuracy", "mae", "mean_iou"]), default="accuracy", show_default=True,
              help="Your own model: the metric of the parity check.")
@click.option("--max-drop", type=float, help="The largest loss to quantization allowed (default: the family's; for "
                                             "your own model 1 point of accuracy or mean IoU, 5 percent of the MAE).")
@click.option("--repair", is_flag=True,
              help="When int8 loses more than allowed, keep the groups of ops that lose most in float32, chosen by "
                   "the task metric on training data, until it holds (at most 10 percent larger).")
@click.option("--keep-ops", is_flag=True,
              help="Keep the converter's ops as they are instead of rewriting the ones XNNPACK leaves on reference "
                   "kernels (int8 SOFTMAX, AVERAGE_POOL_2D, TILE, ...): for an NPU that runs them itself (Edge TPU).")
@click.option("--scale", callback=_scale, help="Your own model: raw float inputs are multiplied by this in the "
                                               "exported graph (e.g. 1/255).")
@click.option("--offset", callback=_scale, help="Your own model: then this is added (e.g. -1).")
@click.option("--layout", type=click.Choice(["channels_last", "channels_first"]),
              help="Your own model: the raw inputs' layout (channels_first is transposed in the graph).")
@click.option("--float-layer", "float_layers", multiple=True,
              help="Your own model: a layer to keep in float32 inside the int8 model (repeatable).")
@click.option("--io", "browser_io", type=click.Choice(["uint8", "float32"]),
              help="Also write model_browser.tflite: the same int8 network with uint8 or float32 inputs and outputs, "
                   "for LiteRT.js (`deepedge serve`). Without --out, adds it to the exported model MODEL.")
@click.option("--feature-maps", is_flag=True, help="With --io: the browser variant also outputs the first "
              "convolution's activations (the demo page draws them).")
def command(model, out, quantization, force, data, calibration_samples, max_ram, max_flash, calibration, evaluate,
            metric, max_drop, repair, keep_ops, scale, offset, layout, float_layers, browser_io, feature_maps):
    """Export a .keras model to LiteRT (builtin ops only) with model.json and a model card.

    MODEL is a .keras file (a deepedge model, or any Keras model of yours) or a shipped model's
    name. Your own model needs --calibration for int8, and --evaluate for the parity check:

        deepedge export my_model.keras --calibration calib.npz --evaluate test.npz --metric accuracy --out my_model/

    Every export reports flash and RAM (tensor arenas) and which ops XNNPACK, TFLite Micro and
    the Edge TPU take, in model.json and the card (`deepedge report MODEL` shows them in full).
    Ops XNNPACK would leave on reference kernels are rewritten into ones it takes (--keep-ops
    keeps them, for the Edge TPU).
    Run `deepedge doctor MODEL.keras` first to list every problem of a model at once.

    --io uint8 adds a browser variant (model_browser.tflite, recorded in model.json) for
    LiteRT.js, which refuses int8 inputs and outputs: `deepedge export fashion_edgenet --io uint8`
    adds one to a shipped model without converting it again.
    """
    if feature_maps and browser_io is None:
        raise click.UsageError("--feature-maps belongs to a browser variant: pass --io uint8 (or float32) as well.")
    if out is None:
        if browser_io is None:
            raise click.UsageError("Missing option '--out' (only --io without --out works on an exported model).")
        _add_browser_variant(model, browser_io, feature_maps)
        return
    check_output_path(out)
    _export(model, out, quantization, force, data, calibration_samples, max_ram, max_flash, calibration, evaluate,
            metric, max_drop, repair, scale, offset, layout, float_layers, keep_ops)
    if browser_io is not None:
        _add_browser_variant(out, browser_io, feature_maps)


def _add_browser_variant(model, browser_io, feature_maps=False):
    from deepedge.apps.family import is_exported
    from deepedge.export.browser import add_browser_variant

    folder = resolve_model(model)
    if not is_exported(folder):
        raise InvalidInputError(f"--io without --out adds a browser variant to an exported model (model.tflite + "
                                f"model.json). Received: {model!r}, which is not one. Pass --out to export it first.")
    entry = add_browser_variant(folder, browser_io, feature_maps)
    console.print(f"Wrote {Path(folder) / entry['file']} ({entry['size_bytes']:,} bytes, {browser_io} inputs and "
                  "outputs) and recorded it in model.json.")


def _export(model, out, quantization, force, data, calibration_samples, max_ram, max_flash, calibration, evaluate,
            metric, max_drop, repair, scale, offset, layout, float_layers, keep_ops=False):
    from deepedge.export.memory import parse_size

    for value in (max_ram, max_flash):
        if value is not None:
            parse_size(value)  # a bad size fails before minutes of conversion
    path = _keras_file(model)
    own = {"--calibration": calibration, "--evaluate": evaluate, "--scale": scale,
           "--offset": offset, "--layout": layout, "--float-layer": float_layers or None}
    if is_deepedge_model(path):
        given = [name for name, value in own.items() if value is not None]
        if given or metric != "accuracy":
            raise InvalidInputError(f"{path} is a deepedge model: it is calibrated and measured on its own data "
                                    f"(choose it with --data). Received: {given or ['--metric']}, which apply to "
                                    "models deepedge did not build.")
        export_model(path, out, quantization, force, data, calibration_samples, max_ram, max_flash, max_drop, repair,
                     keep_ops)
        return
    if data is not None:
        raise InvalidInputError(f"--data names a deepedge data set; {path} is your own model. Pass --calibration and "
                                f"--evaluate instead. Received: --data {data!r}.")
    from deepedge.cli.export_keras import export_keras_file

    budgets = _options(max_ram, max_flash, repair=repair, keep_ops=keep_ops)
    export_keras_file(path, out, calibration, evaluate, metric, max_drop, quantization, force, scale, offset, layout,
                      float_layers, calibration_samples, budgets)
