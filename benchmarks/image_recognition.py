"""Image recognition benchmark: deepedge's shipped models against MobileNetV3-Small, on this CPU.

For each model it measures, in one run: parameters, training time, Fashion-MNIST test
accuracy of the float Keras model and of its LiteRT float32 and int8 conversions, the int8
file size, and batch-1 latency of Keras `model(x, training=False)` and of both LiteRT models
on one interpreter thread. The peer, keras.applications' MobileNetV3-Small (minimalistic),
is trained here on the same data with the edge net's recipe, its epochs replaced by the
edge net's wall-clock training time. Results go to `image_recognition.json` and `.md`.

    .venv/bin/python benchmarks/image_recognition.py
"""

import argparse
import datetime
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # the peer trains with the kernels `deepedge train` uses
from deepedge.backend import keras, tf  # noqa: E402 (first: silences TensorFlow's logs)

import ai_edge_litert
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from deepedge.apps import ImageClassifier
from deepedge.apps.image_recognition.presets import TRAINED
from deepedge.data import load_fashion_mnist
from deepedge.runtime.bench import interleaved_latency
from deepedge.export.card import machine_description
from deepedge.export.convert import convert, single_batch_model
from deepedge.runtime import dequantize, quantize, tensor_spec
from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.quiet import native_output_silenced
from deepedge.training import ImageAugmentation, ordered_batches, recalibrate_batch_norm
from deepedge.training.batchnorm import batch_norm_layers

ROOT = Path(__file__).resolve().parent.parent
SAVED_MODELS = ROOT / "saved_models"
PEER_RECIPE = TRAINED["fashion_edgenet"]["recipe"]
PEER_BATCH_NORM_MOMENTUM = 0.99  # the edge net's; keras.applications builds 0.999
KERAS_RUNS = 200
CALIBRATION_IMAGES = 500
QUANTIZATIONS = ("float32", "int8")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lenet", type=Path, default=SAVED_MODELS / "fashion_lenet5" / "model.keras",
                        help="LeNet-5 `.keras` file (its training.json beside it gives the training time)")
    parser.add_argument("--edgenet", type=Path, default=SAVED_MODELS / "fashion_edgenet" / "model.keras",
                        help="edge net `.keras` file (its training.json gives the peer's time budget)")
    parser.add_argument("--peer-seconds", type=float,
                        help="the peer's training budget; defaults to the edge net's training_seconds")
    parser.add_argument("--runs", type=int, default=2000, help="LiteRT invokes timed per model per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds over all models")
    parser.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.peer_seconds is not None and args.peer_seconds <= 0:
        parser.error(f"--peer-seconds must be positive. Received: {args.peer_seconds}")
    if args.peer_seconds is None:
        args.peer_seconds = training_seconds(args.edgenet)
        if args.peer_seconds is None:
            parser.error(f"No training_seconds in {args.edgenet.with_name('training.json')} to give the "
                         "peer the edge net's training time. Pass --peer-seconds.")
    return args


def training_seconds(model_path):
    """`training_seconds` from the training.json beside a `.keras` file, or None."""
    path = Path(model_path).with_name("training.json")
    return json.loads(path.read_text()).get("training_seconds") if path.exists() else None


# === The peer ===
def build_peer(num_classes):
    """MobileNetV3-Small (minimalistic, untrained) for raw 28x28 grey pixels.

    Rescaling to 0..1 and zero padding to MobileNetV3's smallest input, 32x32, are layers
    of the model, so the exported model takes raw 0..255 pixels like deepedge's.
    """
    inputs = keras.Input((28, 28, 1), name="images")
    x = keras.layers.Rescaling(1.0 / 255.0, name="preprocess")(inputs)
    x = keras.layers.ZeroPadding2D(2, name="pad_to_32")(x)
    backbone = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 1), minimalistic=True, weights=None, include_top=True,
        classes=num_classes, include_preprocessing=False)
    for layer in batch_norm_layers(backbone):
        layer.momentum = PEER_BATCH_NORM_MOMENTUM
    return keras.Model(inputs, backbone(x), name="mobilenet_v3_small_minimalistic")


class WallClockBudget(keras.callbacks.Callback):
    """Stops training when `seconds` of fit time are spent, counted across `fit` calls.

    It also sets the learning rate from the share of the budget spent, as the edge net's
    recipe does from its steps: a linear warm-up from `peak / 10` over the first `warmup`
    share, then cosine decay to zero at the end of the budget.
    """

    def __init__(self, seconds, peak_learning_rate, warmup=0.05):
        super().__init__()
        self.seconds = seconds
        self.peak_learning_rate = peak_learning_rate
        self.warmup = warmup
        self.spent = 0.0
        self.steps = 0
        self._fit_started = None

    def learning_rate(self, share):
        if share < self.warmup:
            return self.peak_learning_rate * (0.1 + 0.9 * share / self.warmup)
        progress = min(1.0, (share - self.warmup) / (1.0 - self.warmup))
        return 0.5 * self.peak_learning_rate * (1.0 + math.cos(math.pi * progress))

    def _elapsed(self):
        return self.spent + time.perf_counter() - self._fit_started

    def on_train_begin(self, logs=None):
        self._fit_started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.spent = self._elapsed()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.learning_rate(self._elapsed() / self.seconds)

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self._elapsed() >= self.seconds:
            self.model.stop_training = True


def train_peer(train, validation, seconds):
    """Trains the peer like the edge net (AdamW, batch, augmentation, seed) for `seconds`.

    Batch-norm statistics are then re-estimated on the training images, as the edge net's
    recipe does; that time counts as training time too. Returns `(model, report)`.
    """
    recipe = PEER_RECIPE
    keras.utils.set_random_seed(recipe["seed"])
    model = build_peer(len(train.class_names))
    model.compile(optimizer=keras.optimizers.AdamW(recipe["learning_rate"], weight_decay=recipe["weight_decay"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    budget = WallClockBudget(seconds, recipe["learning_rate"])
    augmentation = ImageAugmentation(flip=recipe["flip"], max_shift=recipe["max_shift"])
    validation_data = ordered_batches(validation.images.astype(np.float32), validation.labels, recipe["batch_size"])
    epoch = 0
    while budget.spent < seconds:
        rng = np.random.default_rng([recipe["seed"], epoch])
        order = rng.permutation(len(train))
        images = augmentation(train.images[order], rng).astype(np.float32)
        history = model.fit(ordered_batches(images, train.labels[order], recipe["batch_size"]), epochs=1,
                            shuffle=False, validation_data=validation_data, callbacks=[budget], verbose=0).history
        epoch += 1
        print(f"peer: epoch {epoch}, {budget.spent:.0f}/{seconds:.0f} s, "
              f"validation accuracy {100 * history['val_accuracy'][-1]:.2f}% (before BN re-estimation)")
    started = time.perf_counter()
    recalibrate_batch_norm(model, train.images)
    steps_per_epoch = math.ceil(len(train) / recipe["batch_size"])
    report = {
        "budget_seconds": seconds,
        "training_seconds": round(budget.spent + time.perf_counter() - started, 1),
        "epochs": round(budget.steps / steps_per_epoch, 2),
        "steps": budget.steps,
        "recipe": {**recipe, "epochs": None, "schedule": "warm-up then cosine over the wall-clock budget"},
        "batch_norm": f"momentum set to {PEER_BATCH_NORM_MOMENTUM} before training; moving statistics "
                      "re-estimated on the training images after training (recalibrate_batch_norm)",
        "validation_accuracy_before_bn_reestimation": round(100 * history["val_accuracy"][-1], 2),
        "validation_accuracy": round(keras_accuracy(model, validation.images, validation.labels), 2),
    }
    return model, report


# === Measurements ===
def keras_accuracy(model, images, labels, batch_size=256):
    """Accuracy in percent of the float Keras model, in batches."""
    predictions = [np.argmax(keras.ops.convert_to_numpy(model(images[i:i + batch_size].astype(np.float32),
                                                              training=False)), axis=-1)
                   for i in range(0, len(images), batch_size)]
    return float(100.0 * np.mean(np.concatenate(predictions) == labels))


def keras_latency(model, image, runs=KERAS_RUNS, warmup=10):
    """Median, p10 and p90 in microseconds of `model(x, training=False)` on one image."""
    x = tf.constant(image[None].astype(np.float32))
    for _ in range(warmup):
        model(x, training=False)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        model(x, training=False)
        times[i] = (time.perf_counter_ns() - start) / 1000.0
    return {"median": round(float(np.median(times)), 2), "p10": round(float(np.percentile(times, 10)), 2),
            "p90": round(float(np.percentile(times, 90)), 2), "runs": runs}


def litert_interpreter(flatbuffer):
    with native_output_silenced():
        interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        interpreter.allocate_tensors()
    return interpreter


def litert_accuracy(interpreter, images, labels):
    """Accuracy in percent, one image per invoke, inputs and outputs (de)quantized as the tensors say."""
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    input_spec, output_spec = tensor_spec(input_detail), tensor_spec(output_detail)
    predictions = np.empty(len(images), np.int64)
    for i, image in enumerate(images):
        interpreter.set_tensor(input_detail["index"], quantize(image[None].astype(np.float32), input_spec))
        interpreter.invoke()
        predictions[i] = np.argmax(dequantize(interpreter.get_tensor(output_detail["index"]), output_spec))
    return float(100.0 * np.mean(predictions == labels))


def measure(name, model, training_seconds, calibration_images, test, interpreters):
    """One row of the benchmark: size and accuracies of `model` and its conversions, and the
    Keras latency; the LiteRT interpreters go into `interpreters` to be timed together."""
    print(f"measuring {name} ...")
    row = {"model": name, "params": int(model.count_params()), "training_seconds": training_seconds,
           "keras_float": {"accuracy": round(keras_accuracy(model, test.images, test.labels), 2),
                           "latency_us": keras_latency(model, test.images[0])}}
    edge_model = single_batch_model(model)
    for quantization in QUANTIZATIONS:
        flatbuffer = convert(edge_model, quantization, calibration_inputs=calibration_images)
        interpreter = litert_interpreter(flatbuffer)
        row[f"litert_{quantization}"] = {
            "accuracy": round(litert_accuracy(interpreter, test.images, test.labels), 2),
            "size_bytes": len(flatbuffer),
        }
        interpreters[(name, quantization)] = interpreter
    return row


# === Report ===
TABLE_HEADER = ("| model | params | train min | float acc | LiteRT f32 acc | int8 acc | int8 KiB "
                "| Keras model(x) us | LiteRT f32 us | LiteRT int8 us |\n" + "| --- " * 10 + "|")


def table_row(row):
    seconds = row["training_seconds"]
    cells = [row["model"], f"{row['params']:,}", f"{seconds / 60:.1f}" if seconds is not None else "-",
             f"{row['keras_float']['accuracy']:.2f}", f"{row['litert_float32']['accuracy']:.2f}",
             f"{row['litert_int8']['accuracy']:.2f}", f"{row['litert_int8']['size_bytes'] / 1024:.1f}",
             f"{row['keras_float']['latency_us']['median']:,.0f}",
             f"{row['litert_float32']['latency_us']['median']:.1f}",
             f"{row['litert_int8']['latency_us']['median']:.1f}"]
    return "| " + " | ".join(cells) + " |"


def render_markdown(results):
    table = "\n".join([TABLE_HEADER, *(table_row(row) for row in results["models"])])
    peer = results["peer_training"]
    return "\n".join([
        "# Image recognition benchmark", "",
        f"Fashion-MNIST test set ({results['test_examples']:,} images), batch 1, on "
        f"{results['machine']}, {results['date']}.", "",
        table, "",
        "Accuracies in percent. Latencies are medians in microseconds: Keras `model(x, training=False)` "
        f"over {KERAS_RUNS} calls (TensorFlow's own thread pools); LiteRT on one interpreter thread "
        f"(XNNPACK), the median of {results['rounds']} rounds of {results['runs']} invokes, the rounds "
        "taken in turn over every model so a slow stretch of the machine cannot skew one row. int8 is "
        "full-integer: int8 weights, activations, "
        f"input and output, calibrated on {CALIBRATION_IMAGES} training images.", "",
        "The peer, MobileNetV3-Small (minimalistic, no pretrained weights), was trained here with the "
        f"edge net's recipe for a budget of {peer['budget_seconds']:.0f} s of fit time (by default the "
        f"edge net's training time; {peer['epochs']} epochs). Batch norm: {peer['batch_norm']}; its train "
        "time includes that re-estimation, as ours does. Our models' training times are those "
        "recorded in their training.json. Everything trains with TensorFlow's oneDNN kernels "
        f"(TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}), as `deepedge train` does.", "",
        f"    {results['command']}", ""])


def main(argv=None):
    args = parse_args(argv)
    train = load_fashion_mnist("train")
    validation = load_fashion_mnist("validation")
    test = load_fashion_mnist("test")
    if args.limit:
        test = test.take(args.limit)
    lenet, edgenet = ImageClassifier.load(args.lenet), ImageClassifier.load(args.edgenet)
    peer, peer_report = train_peer(train, validation, args.peer_seconds)
    calibration_images = train.images[:CALIBRATION_IMAGES]
    interpreters = {}
    candidates = [("LeNet-5", lenet, training_seconds(args.lenet)),
                  ("edge net", edgenet, training_seconds(args.edgenet)),
                  ("MobileNetV3-Small", peer, peer_report["training_seconds"])]
    results = {
        "benchmark": "image_recognition",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(sys.orig_argv),
        "machine": machine_description(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "ai_edge_litert": ai_edge_litert.__version__},
        "data": "fashion_mnist", "test_examples": len(test), "runs": args.runs, "rounds": args.rounds,
        "models": [measure(name, model, seconds, calibration_images, test, interpreters)
                   for name, model, seconds in candidates],
        "peer_training": peer_report,
    }
    # LiteRT latency in interleaved rounds over every model, so no row gets a slow stretch alone.
    print(f"timing {len(interpreters)} LiteRT models in {args.rounds} interleaved rounds ...")
    latency = interleaved_latency(interpreters, rounds=args.rounds, runs=args.runs)
    for row in results["models"]:
        for quantization in QUANTIZATIONS:
            row[f"litert_{quantization}"]["latency_us"] = {**latency[(row["model"], quantization)], "threads": 1}
    markdown = render_markdown(results)
    atomic_write_json(args.out / "image_recognition.json", results)
    atomic_write_text(args.out / "image_recognition.md", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
