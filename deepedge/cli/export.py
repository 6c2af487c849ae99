"""`deepedge export MODEL.keras --out FOLDER`: LiteRT with builtin ops only, parity checked, carded."""

from pathlib import Path

import click

from deepedge.cli.common import console, err_console, family_of_model
from deepedge.fileio import check_output_path


def export_model(model_path, out, quantization="int8", force=False, data=None, calibration_samples=None,
                 max_ram=None, max_flash=None):
    """Exports a `.keras` model through its family; returns model.json as a dict."""
    model_path, out = Path(model_path), Path(out)
    family = family_of_model(model_path)
    budgets = {key: value for key, value in (("max_ram", max_ram), ("max_flash", max_flash)) if value is not None}
    with err_console.status(f"Converting to {quantization}, checking parity and measuring on held-out data..."):
        meta = family.export(model_path, out, quantization=quantization, force=force, data_name=data,
                             calibration_samples=calibration_samples, **({"budgets": budgets} if budgets else {}))
    console.print(family.export_summary(meta, out, quantization))
    return meta


@click.command("export")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for model.tflite and model.json.")
@click.option("--quantization", type=click.Choice(["int8", "float16", "dynamic", "float32"]), default="int8",
              show_default=True)
@click.option("--force", is_flag=True, help="Write the model even if it fails the parity check.")
@click.option("--data", help="Data set for calibration and parity (default: the one it was trained on).")
@click.option("--calibration-samples", type=click.IntRange(min=1),
              help="Calibration samples for int8 (default: the family's, e.g. 500 images).")
@click.option("--max-ram", help="Fail when the model needs a larger tensor arena (LiteRT or TFLite Micro), "
                                "e.g. 256KB; nothing is written.")
@click.option("--max-flash", help="Fail when the model file is larger, e.g. 1MB; nothing is written.")
def command(model, out, quantization, force, data, calibration_samples, max_ram, max_flash):
    """Export a .keras model to LiteRT (builtin ops only) with model.json and a model card.

    Every export reports flash and RAM (tensor arenas) and which ops XNNPACK, TFLite Micro and
    the Edge TPU take, in model.json and the card (`deepedge report MODEL` shows them in full).
    """
    check_output_path(out)
    from deepedge.export.memory import parse_size

    for value in (max_ram, max_flash):
        if value is not None:
            parse_size(value)  # a bad size fails before minutes of conversion
    export_model(model, out, quantization, force, data, calibration_samples, max_ram, max_flash)
