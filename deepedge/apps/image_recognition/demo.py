"""`deepedge demo images`: the shipped image models, on device, over held-out Fashion-MNIST images.

It prints a table (float vs int8 accuracy, size, latency) and draws two pictures per model:
the feature maps of every layer for one image, as in Fig. 2 of the review, and a grid of
on-device predictions.
"""

from pathlib import Path

import numpy as np

from deepedge.fileio import atomic_write_json
from deepedge.plots import draw_prediction_grid, pyplot
from deepedge.progress import map_in_chunks


def run_image_demo(family, out, limit=None, console=None):
    """Evaluates each shipped image model with the LiteRT runtime and writes the pictures."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Image recognition on device (Fashion-MNIST test set)")
    table.add_column("model", no_wrap=True)
    for column in ("params", "float acc %", "int8 acc %", "KiB", "int8 us"):
        table.add_column(column, justify="right")
    rows = []
    for name in family.shipped:
        folder = shipped_model_dir(name)
        runtime = load(folder)
        test = family.load_data(runtime.metadata.get("data", "fashion_mnist"), "test")
        if limit:
            test = test.take(limit)
        scores = map_in_chunks(runtime.predict, test.images, f"{name} on device")
        accuracy = 100.0 * float(np.mean(np.argmax(scores, -1) == test.labels))
        latency = measure_latency(runtime.interpreter, runs=1000)["median"]
        float_accuracy = (runtime.metadata.get("metrics") or {}).get("keras_float")
        table.add_row(name, f"{runtime.metadata.get('params', 0):,}",
                      f"{float_accuracy:.2f}" if float_accuracy is not None else "-",
                      f"{accuracy:.2f}", f"{runtime.tflite_path.stat().st_size / 1024:.1f}", f"{latency:.1f}")
        rows.append({"model": name, "float_accuracy": float_accuracy, "int8_accuracy": round(accuracy, 2),
                     "examples": len(test), "size_bytes": runtime.tflite_path.stat().st_size,
                     "latency_us": latency})
        pictures = [draw_prediction_grid(runtime, test, out / f"{name}_predictions.png", scores)]
        if (folder / "model.keras").exists():
            pictures.append(draw_feature_maps(folder / "model.keras", test.images[0], test.class_names,
                                              out / f"{name}_feature_maps.png"))
        for picture in pictures:
            console.print(f"wrote {picture}")
    console.print(table)
    atomic_write_json(out / "demo_results.json", rows)
    return rows


def draw_feature_maps(keras_path, image, class_names, path, max_maps=8):
    """Every layer's feature maps for one image, input at the top, class scores at the bottom."""
    from deepedge.apps import ImageClassifier
    from deepedge.backend import keras

    plt = pyplot()
    classifier = ImageClassifier.load(keras_path)
    backbone = classifier.backbone
    layers = [layer for layer in backbone.layers[1:] if len(layer.output.shape) == 4]
    probe = keras.Model(backbone.input, [layer.output for layer in layers])
    scaled = image[None].astype(np.float32) * classifier.image_scale + classifier.image_offset
    maps = [keras.ops.convert_to_numpy(m)[0] for m in probe(scaled, training=False)]
    probabilities = classifier.predict(image[None], verbose=0)[0]
    fig, axes = plt.subplots(len(maps) + 2, max_maps, figsize=(max_maps * 1.2, (len(maps) + 2) * 1.3))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image[..., 0], cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8)
    for row, (layer, fmap) in enumerate(zip(layers, maps), start=1):
        for c in range(min(max_maps, fmap.shape[-1])):
            axes[row, c].imshow(fmap[..., c], cmap="viridis")
        axes[row, 0].set_title(f"{layer.name} {fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[-1]}",
                               fontsize=7, loc="left")
    bar = axes[-1, 0]
    for ax in axes[-1]:
        ax.remove()
    bar = fig.add_subplot(len(maps) + 2, 1, len(maps) + 2)
    bar.barh(range(len(class_names)), probabilities, color="tab:blue")
    bar.set_yticks(range(len(class_names)), class_names, fontsize=6)
    bar.set_xlim(0, 1)
    bar.set_title("class probabilities", fontsize=8)
    fig.suptitle(f"{Path(keras_path).parent.name}: feature maps of every layer (cf. Fig. 2)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
