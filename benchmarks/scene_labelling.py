"""Scene-labelling benchmark: the shipped labellers and the three architectures, on this CPU.

In one run it measures, for each shipped labeller (`scenes_labeller`, `nuclei_labeller`):
its task metric on the held-out test data as float Keras, LiteRT float32 and LiteRT int8;
the file sizes; and the batch-1 latency of one 128x128 tile in Keras (`model(x)`), LiteRT
float32 and LiteRT int8 (one thread, median of rounds of invokes, the rounds interleaved
over the models so a slow stretch of the machine hits every row alike). It also times a
512x512 image end to end on device (tiling and stitching included) and, for the three
architecture presets (the paper's multiscale ConvNet, the refined one we ship, the compact
encoder-decoder), the int8 latency of a tile with weights as initialised (latency does not
depend on the weights' values) calibrated on real scenes. Results go to
`results/scene_labelling.json` and `.md`.

    .venv/bin/python benchmarks/scene_labelling.py
"""

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from deepedge.backend import keras  # first: silences TensorFlow's start-up logs

import numpy as np

from deepedge.apps import SceneLabeller
from deepedge.data.scenes import SCENE_CLASSES, load_segmentation_dataset
from deepedge.edge import load
from deepedge.runtime.bench import call_latency_us, interleaved_latency
from deepedge.export.card import machine_description
from deepedge.export.convert import convert, single_batch_model
from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.presets import shipped_model_dir

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("scenes_labeller", "nuclei_labeller")
ARCHITECTURES = ("multiscale", "multiscale_refined", "encoder_decoder")


def keras_latency_us(model, tile, runs=30):
    x = np.asarray(tile[None], np.float32)
    return call_latency_us(lambda: model(x, training=False), runs=runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="Evaluate on the first N test images only.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    rows, interpreters, keep = [], {}, []
    for name in MODELS:
        folder = shipped_model_dir(name)
        model = SceneLabeller.load(folder / "model.keras")
        data = "scenes" if name.startswith("scenes") else "nuclei"
        test = load_segmentation_dataset(data, "test")
        if args.limit:
            test = test.take(args.limit)
        tmp = tempfile.TemporaryDirectory()
        keep.append(tmp)
        model.export(Path(tmp.name) / "f32", quantization="float32", latency_runs=10)
        f32, int8 = load(Path(tmp.name) / "f32"), load(folder)
        row = {"model": name, "data": f"{data}/test", "images": len(test), "metric": model.metric_name,
               "params": int(model.count_params()),
               "keras_float": round(model.evaluate_metric(test), 2),
               "litert_float32": round(f32.evaluate_metric(test), 2),
               "litert_int8": round(int8.evaluate_metric(test), 2),
               "float32_kib": round(f32.tflite_path.stat().st_size / 1024, 1),
               "int8_kib": round(int8.tflite_path.stat().st_size / 1024, 1),
               "keras_us": round(keras_latency_us(model, test.images[0][:128, :128]), 1)}
        interpreters[f"{name}/float32"], interpreters[f"{name}/int8"] = f32.interpreter, int8.interpreter
        if data == "scenes":
            big = load_segmentation_dataset("scenes", "test", num_scenes=3, size=512).images
            int8.label(big[0])
            started = time.perf_counter()
            for image in big:
                int8.label(image)
            row["int8_512x512_ms"] = round((time.perf_counter() - started) / len(big) * 1000, 1)
        rows.append(row)
    # Architectures: int8 latency of one 128x128 tile, weights as initialised, calibrated on real scenes.
    calibration = load_segmentation_dataset("scenes", "train", num_scenes=64, seed=7).images
    arch_rows = []
    for arch in ARCHITECTURES:
        keras.utils.set_random_seed(0)
        model = SceneLabeller.from_preset(arch, class_names=SCENE_CLASSES)
        flatbuffer = convert(single_batch_model(model), "int8", calibration, 64)
        path = Path(keep[0].name) / f"{arch}.tflite"
        path.write_bytes(flatbuffer)
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
        interpreters[f"arch/{arch}"] = interpreter
        arch_rows.append({"architecture": arch, "params": int(model.count_params()),
                          "int8_kib": round(len(flatbuffer) / 1024, 1)})
    latency = interleaved_latency(interpreters, args.rounds, args.runs)
    for row in rows:
        row["float32_us"] = round(latency[f"{row['model']}/float32"]["median"], 1)
        row["int8_us"] = round(latency[f"{row['model']}/int8"]["median"], 1)
    for row in arch_rows:
        row["int8_us"] = round(latency[f"arch/{row['architecture']}"]["median"], 1)
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
              "latency": f"one thread, median of {args.rounds} interleaved rounds of {args.runs} invokes",
              "models": rows, "architectures": arch_rows}
    out = ROOT / "benchmarks" / "results"
    atomic_write_json(out / "scene_labelling.json", result)
    lines = ["# Scene labelling benchmark", "", f"{result['date']}, {result['machine']}; latency: {result['latency']}.",
             "", "| model | test data | metric | params | Keras float | LiteRT f32 | LiteRT int8 | f32 KiB | int8 KiB "
                 "| Keras model(x) us | LiteRT f32 us | LiteRT int8 us |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['data']} ({r['images']} images) | {r['metric']} | {r['params']:,} | "
                     f"{r['keras_float']:.2f} | {r['litert_float32']:.2f} | {r['litert_int8']:.2f} | "
                     f"{r['float32_kib']} | {r['int8_kib']} | {r['keras_us']:,.0f} | {r['float32_us']:,.0f} | "
                     f"{r['int8_us']:,.0f} |")
    big = [r for r in rows if "int8_512x512_ms" in r]
    if big:
        lines += ["", f"A 512x512 scene on device, tiled into overlapping 128x128 tiles and stitched: "
                      f"{big[0]['int8_512x512_ms']} ms (int8, one thread)."]
    lines += ["", "Architectures (int8, one 128x128 tile, weights as initialised):", "",
              "| architecture | params | int8 KiB | int8 us |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['architecture']} | {r['params']:,} | {r['int8_kib']} | {r['int8_us']:,.0f} |" for r in arch_rows]
    atomic_write_text(out / "scene_labelling.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
