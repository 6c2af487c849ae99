"""`deepedge info [MODEL]`: describe an exported model, or list the shipped models and the families."""

import json

import click
from rich.table import Table

from deepedge.cli.common import console, resolve_model


@click.command("info")
@click.argument("model", required=False)
def command(model):
    """Describe an exported model, or list the shipped models, the families and their presets."""
    from deepedge.presets import saved_models_dir
    from deepedge.registry import families
    from deepedge.runtime.metadata import read_metadata, resolve_model_paths

    if model is not None:
        tflite, meta_path = resolve_model_paths(resolve_model(model))
        meta = read_metadata(meta_path, tflite)
        console.print_json(json.dumps({k: meta[k] for k in meta if k not in ("labels",)} | {
            "labels": meta.get("labels", [])[:20]}))
        return
    table = Table(title=f"Shipped models ({saved_models_dir()})")
    for column in ("name", "task", "quantization", "flash", "RAM (arena)", "latency", "metric", "float / exported"):
        table.add_column(column)
    for folder in sorted(p for p in saved_models_dir().glob("*") if (p / "model.json").exists()):
        meta = read_metadata(folder / "model.json")
        metrics = meta.get("metrics") or {}
        values = [metrics.get("keras_float"), metrics.get(f"litert_{meta['quantization']}")]
        latency = meta.get("latency_us", {}).get("median")
        table.add_row(folder.name, meta["task"], meta["quantization"], f"{meta['size_bytes'] / 1024:.1f} KiB",
                      _arena(folder, meta), "-" if latency is None else f"{latency:.0f} us",
                      metrics.get("metric", "-"), " / ".join("-" if v is None else f"{v:.2f}" for v in values))
    console.print(table)
    presets = Table(title="Families and presets (`deepedge train PRESET` for those with a recipe)")
    for column in ("task", "family", "data", "trained presets", "architectures"):
        presets.add_column(column)
    for family in families():
        presets.add_row(family.task_name, family.title, ", ".join(family.data_names),
                        ", ".join(family.recipes), ", ".join(family.architectures))
    console.print(presets)


def _arena(folder, meta):
    """The LiteRT tensor arena: from model.json, or planned from the file for an older export."""
    from deepedge.export.memory import format_bytes, memory_report

    arena = (meta.get("footprint") or {}).get("litert_arena_bytes")
    if arena is None:
        arena = memory_report(folder / "model.tflite", micro=False)["litert"]["arena_bytes"]
    return format_bytes(arena)
