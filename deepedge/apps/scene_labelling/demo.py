"""`deepedge demo scene`: the shipped labellers on device over held-out composed scenes and the
held-out microscopy strip, with IoU per class and coloured overlays."""

from pathlib import Path

from deepedge.fileio import atomic_write_json
from deepedge.plots import draw_label_maps




def segmentation_scores_with_progress(runtime, dataset, description):
    """Pixel accuracy, mean IoU and IoU per class of an on-device labeller, with a progress bar."""
    from deepedge.ops.dense import segmentation_scores
    from deepedge.progress import progress_bar

    confusion = 0
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(dataset))
        for i in range(len(dataset)):
            confusion = confusion + runtime.confusion((dataset.images[i:i + 1], dataset.masks[i:i + 1]))
            progress.advance(bar)
    return segmentation_scores(confusion, runtime.class_names), confusion


def run_scene_demo(family, out, limit=None, console=None):
    """The shipped scene labellers on device over held-out scenes and the held-out nuclei strip."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency
    from deepedge.ops.dense import metric_from_confusion
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Scene labelling on device (held-out test data)")
    table.add_column("model", no_wrap=True)
    for column in ("data", "metric", "float", "int8", "pixel acc %", "KiB", "int8 ms / tile"):
        table.add_column(column, justify="right")
    rows = []
    for name in family.shipped:
        folder = shipped_model_dir(name)
        runtime = load(folder)
        data = runtime.metadata.get("data", "scenes")
        test = family.load_data(data, "test")
        if limit:
            test = test.take(limit)
        scores, confusion = segmentation_scores_with_progress(runtime, test, f"{name} on device")
        value = metric_from_confusion(confusion, runtime.metric_name)
        latency = measure_latency(runtime.interpreter, runs=200)["median"] / 1000
        float_value = (runtime.metadata.get("metrics") or {}).get("keras_float")
        table.add_row(name, f"{data}/test", runtime.metric_name.replace("_", " "),
                      f"{float_value:.2f}" if float_value is not None else "-", f"{value:.2f}",
                      f"{100 * scores['pixel_accuracy']:.2f}", f"{runtime.tflite_path.stat().st_size / 1024:.1f}",
                      f"{latency:.2f}")
        rows.append({"model": name, "data": data, "metric": runtime.metric_name, "float": float_value,
                     "int8": round(value, 2), "scores": scores, "images": len(test),
                     "size_bytes": runtime.tflite_path.stat().st_size, "latency_ms": latency})
        path = draw_label_maps(runtime, test, out / f"{name}_overlay.png")
        console.print(f"wrote {path}")
    console.print(table)
    for row in rows:
        iou = ", ".join(f"{k} {v:.2f}" for k, v in row["scores"]["iou"].items() if v is not None)
        console.print(f"{row['model']} IoU per class: {iou}")
    atomic_write_json(out / "scene_demo_results.json", rows)
    return rows
