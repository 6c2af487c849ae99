"""`deepedge report MODEL`: which accelerators take the model's ops, and its flash and RAM."""

import click
from rich.table import Table

from deepedge.cli.common import console, err_console, print_json, resolve_model
from deepedge.export.graph import format_op_counts


def _percent(part, whole):
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "-"


def _accelerator_table(report):
    from deepedge.export.memory import format_bytes

    table = Table(title="Accelerators")
    for column in ("target", "ops taken", "falls back (why)"):
        table.add_column(column, overflow="fold")
    xnnpack = report["xnnpack"]
    if "error" in xnnpack:
        table.add_row("XNNPACK (CPU)", "-", xnnpack["error"])
    else:
        table.add_row("XNNPACK (CPU)", _percent(xnnpack["delegated"], xnnpack["ops"]),
                      f"{format_op_counts(xnnpack['cpu_ops'])} (reference CPU kernels)" if xnnpack["cpu_ops"] else "-")
    gpu = report["gpu"]
    rejected = "; ".join(f"{r['op']}: {r['reason']}" for r in gpu["rejected"])
    table.add_row("GPU delegate", f"unknown: the analyzer flags {len(gpu['rejected'])} of {gpu['ops']}",
                  rejected or gpu["note"])
    micro = report["micro"]
    if micro.get("loads"):
        parity = micro.get("parity")
        taken = f"loads, arena {format_bytes(micro['arena_bytes'])} ({micro['arena_bytes']} B)"
        if parity:
            taken += f"; max |diff| vs LiteRT {parity['max_abs_diff']:g} over {parity['examples']} inputs"
        table.add_row("TFLite Micro", taken, micro.get("note") or "-")
    else:
        table.add_row("TFLite Micro", "does not load" if micro.get("loads") is False else "not checked",
                      micro.get("reason") or "-")
    tpu = report["edgetpu"]
    cut = f"from {tpu['first_unsupported']} on: " if tpu["first_unsupported"] else ""
    table.add_row("Edge TPU (documented ops)", _percent(tpu["edgetpu"], tpu["ops"]),
                  (cut + format_op_counts(tpu["cpu_ops"])) if tpu["cpu_ops"] else "-")
    return table


def _memory_table(report):
    from deepedge.export.memory import format_bytes

    table = Table(title="Memory")
    for column in ("budget", "bytes", "note"):
        table.add_column(column, overflow="fold")
    litert = report["litert"]
    lifted = report.get("lookup_table_bytes")
    table.add_row("flash (file)" if not lifted else "flash (file and lookup tables)",
                  f"{format_bytes(report['flash_bytes'])} ({report['flash_bytes']})",
                  f"embedding tables read by the runtime: {format_bytes(lifted)}" if lifted else "")
    table.add_row("RAM, LiteRT arena", f"{format_bytes(litert['arena_bytes'])} ({litert['arena_bytes']})",
                  f"peak live {format_bytes(litert['peak_live_bytes'])}; planned from the graph, without kernel "
                  "scratch")
    micro = report.get("micro") or {}
    if micro.get("arena_bytes"):
        table.add_row("RAM, TFLite Micro arena", f"{format_bytes(micro['arena_bytes'])} ({micro['arena_bytes']})",
                      "smallest arena that loads and runs")
    tensors = Table(title="Largest tensors")
    for column in ("kind", "name", "shape", "dtype", "bytes"):
        tensors.add_column(column, overflow="fold")
    for kind, rows in (("activation", report["largest_activations"]), ("constant", report["largest_constants"])):
        for row in rows[:3]:
            tensors.add_row(kind, row["name"], str(row["shape"]), row["dtype"].lower(), format_bytes(row["bytes"]))
    return table, tensors


def _lookup_tables(path):
    """`{table file: bytes}` of the lookups model.json records beside `path`, if any."""
    import json

    from deepedge.errors import ModelFileError
    from deepedge.runtime.lookups import table_bytes
    from deepedge.runtime.metadata import resolve_model_paths

    try:
        meta = json.loads(resolve_model_paths(path)[1].read_text())
    except (ModelFileError, OSError, ValueError):  # a bare .tflite without model.json: no lookups to count
        return {}
    return table_bytes(meta.get("lookups"))


@click.command("report")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--update-card", is_flag=True,
              help="Also render the model's card again with these rows and Hugging Face front matter "
                   "(the export's own measurements are kept).")
def command(model, as_json, update_card):
    """Accelerator coverage (XNNPACK, GPU, TFLite Micro, Edge TPU) and flash/RAM of an exported model."""
    from deepedge.export.accelerators import accelerator_report
    from deepedge.export.memory import memory_report

    path = resolve_model(model)
    with err_console.status("Loading the model in LiteRT and TFLite Micro..."):
        accelerators = accelerator_report(path)
        memory = memory_report(path, micro=accelerators["micro"])
    tables = _lookup_tables(path)
    if tables:  # embedding tables the export lifted out of the .tflite (deepedge.export.lookups)
        memory["lookup_table_bytes"] = sum(tables.values())
        memory["flash_bytes"] += memory["lookup_table_bytes"]
    if update_card:
        from deepedge.export.card import refresh_card

        refresh_card(path)
        err_console.print(f"Rendered {path}/card.md again.")
    if as_json:
        print_json({"model": str(path), "accelerators": accelerators, "memory": memory})
        return
    console.print(_accelerator_table(accelerators))
    for table in _memory_table(memory):
        console.print(table)
