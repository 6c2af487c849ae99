"""Quantization-aware training benchmark: float vs post-training int8 vs QAT int8, on real data.

Each model is trained (briefly from scratch, or shipped), then measured on a held-out split: the
float Keras model; its post-training int8 export (PTQ, calibrated on training samples as
`deepedge export` does); the control, the float model fine-tuned more at a tenth of the learning
rate and exported with PTQ (as much training as QAT gets); and QAT, the same fine-tuning after
`deepedge.training.qat.quantize_aware`, exported to int8 with its ranges, with its fake-quant
Keras metric beside it. Then the QAT model is stripped to its float layers, saved, loaded in
safe mode, given its ranges back and exported again: the int8 results must be the same.

- Fashion-MNIST (test set, 10,000 images, accuracy): a MobileNet-style depthwise net with batch
  norm and ReLU6, and deepedge's edge net, one epoch each.
- Jane Austen (test chapters, perplexity), exported step-wise (`deepedge.export.export`): a
  small two-layer LSTM language model trained here, and the shipped `austen_lstm_word`, which
  loses 1.4% of its perplexity to PTQ, mostly in its int8 cell state, fine-tuned one epoch.

Results go to `benchmarks/results/qat.json` and `.md`.

    .venv/bin/python benchmarks/qat.py
"""

import argparse
import datetime
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
from deepedge.backend import keras  # noqa: E402 (first: silences TensorFlow's logs)

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from deepedge.apps import ImageClassifier
from deepedge.apps.language_modelling import LSTMLanguageModel
from deepedge.apps.language_modelling.presets import TRAINED
from deepedge.apps.language_modelling.recipes import sequence_windows
from deepedge.data import load_fashion_mnist
from deepedge.data.text import load_austen
from deepedge.export.card import machine_description
from deepedge.export.convert import analyze_ops, convert, single_batch_model
from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.runtime import quantize, tensor_spec
from deepedge.training import recalibrate_batch_norm
from deepedge.tokenizers import WordTokenizer
from deepedge.training.qat import quantize_aware, strip_quantize_aware

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CALIBRATION_IMAGES = 500
IMAGE_MODELS = ("mobilenet_relu6", "edgenet")
LANGUAGE_MODELS = ("lstm_lm", "austen_lstm_word")
SHIPPED_LM_TUNE_RATE = 2e-4  # a tenth of the recipe's
# The language model: chapters to train and test on, and how it is built and trained.
LM_CHAPTERS = {"train": 4, "test": 4}
LM_CONFIG = {"embedding_dim": 32, "lstm_units": [64, 48], "dropout": 0.1}
LM_TRAINING = {"vocabulary": 500, "window": 32, "epochs": 3, "batch_size": 32, "learning_rate": 3e-3}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=[*IMAGE_MODELS, *LANGUAGE_MODELS],
                        choices=[*IMAGE_MODELS, *LANGUAGE_MODELS], help="which models to train and measure")
    parser.add_argument("--epochs", type=int, default=1, help="image models: training epochs from scratch")
    parser.add_argument("--tune-epochs", type=int, default=1, help="image models: fine-tuning epochs")
    parser.add_argument("--lm-tune-epochs", type=int, default=2,
                        help="small language model: fine-tuning epochs (the shipped one is fine-tuned one)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="image models")
    parser.add_argument("--batch-size", type=int, default=128, help="image models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--note", default="", help="a sentence for the results (the machine's load, say)")
    parser.add_argument("--out", type=Path, default=RESULTS / "qat")
    return parser.parse_args(argv)


def mobilenet_relu6(class_names):
    """A MobileNet-v1-style net for 28x28: a stride-2 stem and five depthwise-separable blocks,
    each convolution followed by batch norm and ReLU6 (38k parameters)."""
    inputs = keras.Input((28, 28, 1), name="images")
    x = keras.layers.Rescaling(1 / 255.0, name="preprocess")(inputs)

    def conv_bn_relu6(layer, x):
        return keras.layers.ReLU(6.0)(keras.layers.BatchNormalization()(layer(x)))

    x = conv_bn_relu6(keras.layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False), x)
    for filters, strides in ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1)):
        x = conv_bn_relu6(keras.layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False), x)
        x = conv_bn_relu6(keras.layers.Conv2D(filters, 1, use_bias=False), x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(len(class_names), activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet_relu6")


def build(name, class_names):
    if name == "edgenet":
        return ImageClassifier.from_preset("edgenet", class_names=class_names)
    return mobilenet_relu6(class_names)


def compile_model(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


def keras_predictions(model, images, batch_size=500):
    scores = [keras.ops.convert_to_numpy(model(images[i:i + batch_size].astype(np.float32), training=False))
              for i in range(0, len(images), batch_size)]
    return np.concatenate(scores).argmax(-1)


def percent(hits):
    return round(float(100.0 * np.mean(hits)), 2)


def keras_accuracy(model, data):
    return percent(keras_predictions(model, data.images) == data.labels)


def int8_predictions(flatbuffer, images):
    """Class indices from the int8 LiteRT model, one image per invoke, as on device."""
    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    interpreter.allocate_tensors()
    inputs, outputs = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    spec = tensor_spec(inputs)
    predictions = np.empty(len(images), np.int64)
    for i, image in enumerate(images):
        interpreter.set_tensor(inputs["index"], quantize(image[None].astype(np.float32), spec))
        interpreter.invoke()
        predictions[i] = np.argmax(interpreter.get_tensor(outputs["index"]))
    return predictions


def to_int8(model, train):
    flatbuffer = convert(single_batch_model(model), "int8", train.images, CALIBRATION_IMAGES)
    analyze_ops(flatbuffer)  # raises on anything but builtin ops
    return flatbuffer


def int8_accuracy(model, train, test):
    return percent(int8_predictions(to_int8(model, train), test.images) == test.labels)


def fit_timed(model, train, epochs, batch_size):
    started = time.perf_counter()
    model.fit(train.images.astype(np.float32), train.labels, batch_size=batch_size, epochs=epochs, verbose=0)
    return round(time.perf_counter() - started, 1)


def measure(name, args, train, test):
    """One model: float, PTQ, the float fine-tuning control, QAT, and the re-export from saved ranges."""
    keras.utils.set_random_seed(args.seed)
    model = build(name, train.class_names)
    compile_model(model, args.learning_rate)
    row = {"model": name, "params": int(model.count_params()),
           "train_seconds": fit_timed(model, train, args.epochs, args.batch_size)}
    recalibrate_batch_norm(model, train.images)
    trained = model.get_weights()
    float_predictions = keras_predictions(model, test.images)
    ptq_predictions = int8_predictions(to_int8(model, train), test.images)
    row["float"] = percent(float_predictions == test.labels)
    row["ptq_int8"] = percent(ptq_predictions == test.labels)
    row["ptq_int8_agrees_with_float"] = percent(ptq_predictions == float_predictions)

    compile_model(model, args.learning_rate / 10)
    fit_timed(model, train, args.tune_epochs, args.batch_size)
    row["control_float"] = keras_accuracy(model, test)
    row["control_ptq_int8"] = int8_accuracy(model, train, test)

    model.set_weights(trained)
    quantize_aware(model, train.images, num_calibration=CALIBRATION_IMAGES)
    row["qat_start_fake_quant"] = keras_accuracy(model, test)
    compile_model(model, args.learning_rate / 10)
    row["qat_seconds"] = fit_timed(model, train, args.tune_epochs, args.batch_size)
    fake_quant_predictions = keras_predictions(model, test.images)
    qat_predictions = int8_predictions(to_int8(model, train), test.images)
    row["qat_fake_quant"] = percent(fake_quant_predictions == test.labels)
    row["qat_int8"] = percent(qat_predictions == test.labels)
    row["qat_int8_agrees_with_fake_quant"] = percent(qat_predictions == fake_quant_predictions)
    row["qat_int8_minus_ptq_int8"] = round(row["qat_int8"] - row["ptq_int8"], 2)
    row["qat_int8_minus_control_ptq_int8"] = round(row["qat_int8"] - row["control_ptq_int8"], 2)
    row["reexport_from_saved_ranges_identical"] = reexport_identical(model, train, test, qat_predictions)
    return row


def reexport_identical(model, train, test, qat_predictions):
    """Strip, save, load in safe mode, restore the ranges, convert: the same int8 predictions?"""
    ranges = strip_quantize_aware(model)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model.keras")
        loaded = keras.saving.load_model(Path(tmp) / "model.keras", safe_mode=True)
    quantize_aware(loaded, ranges=ranges)
    return bool(np.array_equal(int8_predictions(to_int8(loaded, train), test.images), qat_predictions))


def percent_worse(perplexity, reference):
    return round(100.0 * (perplexity - reference) / reference, 2)


def small_language_model(args):
    """The two-layer LSTM LM trained here from scratch: `(model, train, fine_tuning, row)`."""
    train = load_austen("train").take(LM_CHAPTERS["train"])
    tokenizer = WordTokenizer.from_texts(train.paragraphs, max_vocabulary=LM_TRAINING["vocabulary"])
    x, y = sequence_windows(np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32), LM_TRAINING["window"])
    keras.utils.set_random_seed(args.seed)
    model = LSTMLanguageModel(tokenizer, **LM_CONFIG)
    model.compile(optimizer=keras.optimizers.Adam(LM_TRAINING["learning_rate"]))
    started = time.perf_counter()
    model.fit(x, y, batch_size=LM_TRAINING["batch_size"], epochs=LM_TRAINING["epochs"], verbose=0)
    row = {"model": "lstm_lm", "params": int(model.count_params()), "train_tokens": int(x.size),
           "train_seconds": round(time.perf_counter() - started, 1)}
    fine_tuning = {"x": x, "y": y, "batch_size": LM_TRAINING["batch_size"], "epochs": args.lm_tune_epochs,
                   "optimizer": lambda: keras.optimizers.Adam(LM_TRAINING["learning_rate"] / 10)}
    return model, train, fine_tuning, row


def shipped_language_model(args):
    """The shipped `austen_lstm_word` (trained 30 epochs), fine-tuned one epoch as its recipe trains."""
    keras.utils.set_random_seed(args.seed)
    model = LSTMLanguageModel.from_preset("austen_lstm_word")
    recipe = TRAINED["austen_lstm_word"]["recipe"]
    train = load_austen("train")
    ids = np.asarray(model.tokenizer.encode_paragraphs(train.paragraphs), np.int32)
    x, y = sequence_windows(ids, recipe["sequence_length"], rng=np.random.default_rng(args.seed))
    fine_tuning = {"x": x, "y": y, "batch_size": recipe["batch_size"], "epochs": 1,
                   "optimizer": lambda: keras.optimizers.AdamW(
                       SHIPPED_LM_TUNE_RATE, weight_decay=recipe["weight_decay"], clipnorm=recipe["clipnorm"])}
    return model, train, fine_tuning, {"model": "austen_lstm_word", "params": int(model.count_params()),
                                       "train_tokens": int(x.size)}


def measure_language_model(name, args, folder):
    """A language model's perplexity on the test split (lower is better) for PTQ, control and QAT."""
    model, train, tuning, row = (shipped_language_model if name == "austen_lstm_word" else small_language_model)(args)
    test = load_austen("test") if name == "austen_lstm_word" else load_austen("test").take(LM_CHAPTERS["test"])
    row["test_chapters"] = len(test.chapters)

    def fit():
        model.compile(optimizer=tuning["optimizer"]())
        started = time.perf_counter()
        model.fit(tuning["x"], tuning["y"], batch_size=tuning["batch_size"], epochs=tuning["epochs"], verbose=0)
        return round(time.perf_counter() - started, 1)

    def export(tag):
        metrics = model.export(folder / tag, calibration_data=train, evaluation_data=test, force=True,
                               latency_runs=10)["metrics"]
        return metrics["keras_float"], metrics["litert_int8"]

    trained = model.get_weights()
    row["float"], row["ptq_int8"] = export("ptq")
    row["control_seconds"] = fit()
    row["control_float"], row["control_ptq_int8"] = export("control")
    model.set_weights(trained)
    # The tied embedding (input table and output projection) is not a covered layer: left as it is.
    quantize_aware(model, tuning["x"][:64], float_layers=("embedding",))
    row["qat_seconds"] = fit()
    row["qat_fake_quant"], row["qat_int8"] = export("qat")
    row["ptq_int8_loss_percent"] = percent_worse(row["ptq_int8"], row["float"])
    row["control_ptq_int8_loss_percent"] = percent_worse(row["control_ptq_int8"], row["control_float"])
    row["qat_int8_loss_percent"] = percent_worse(row["qat_int8"], row["qat_fake_quant"])
    row["qat_int8_better_than_ptq_int8_percent"] = -percent_worse(row["qat_int8"], row["ptq_int8"])
    row["qat_int8_better_than_control_ptq_int8_percent"] = -percent_worse(row["qat_int8"], row["control_ptq_int8"])
    ranges = strip_quantize_aware(model)
    model.save(folder / "stripped.keras")
    model = keras.saving.load_model(folder / "stripped.keras", safe_mode=True)
    quantize_aware(model, ranges=ranges, float_layers=("embedding",))
    row["reexport_from_saved_ranges_identical"] = bool(export("reexport")[1] == row["qat_int8"])
    return row


def write_results(rows, args, seconds):
    command = "python benchmarks/qat.py " + shlex.join(sys.argv[1:])
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "command": command.strip(),
              "note": args.note, "seed": args.seed, "image_models": {
                  "epochs": args.epochs, "tune_epochs": args.tune_epochs, "learning_rate": args.learning_rate,
                  "batch_size": args.batch_size, "calibration_images": CALIBRATION_IMAGES},
              "language_model": {"chapters": LM_CHAPTERS, "config": LM_CONFIG, "training": LM_TRAINING,
                                 "tune_epochs": args.lm_tune_epochs},
              "seconds": round(seconds, 1), "models": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out.with_suffix(".json"), result)
    lines = [f"# Quantization-aware training ({result['date']})", "",
             f"{result['machine']}; {seconds / 60:.1f} min in all. Command: `{result['command']}`", "",
             "Every int8 model is full integer with builtin ops only. *Control*: the float model fine-tuned as long "
             "as QAT, then post-training quantized (PTQ): *QAT - control PTQ* is what quantization-aware training "
             "itself adds. *Re-export*: the QAT model stripped, saved, loaded in safe mode, given its ranges back "
             "and converted again.", ""]
    images = [r for r in rows if r["model"] in IMAGE_MODELS]
    if images:
        lines += [f"Fashion-MNIST test set (10,000 images), accuracy %. Trained {args.epochs} epoch(s) from scratch "
                  f"(Adam {args.learning_rate:g}, batch {args.batch_size}, seed {args.seed}); control and QAT "
                  f"fine-tuned {args.tune_epochs} more at {args.learning_rate / 10:g}; {CALIBRATION_IMAGES} "
                  "calibration images. *Same class*: share of test images where PTQ int8 and float, and QAT int8 "
                  "and its fake-quant Keras model, predict the same class.", "",
                  "| model | params | float | PTQ int8 | control float | control PTQ int8 | QAT fake-quant | QAT int8 "
                  "| QAT - control PTQ | same class: PTQ, QAT | re-export |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in images:
            lines.append(f"| {r['model']} | {r['params']:,} | {r['float']:.2f} | {r['ptq_int8']:.2f} | "
                         f"{r['control_float']:.2f} | {r['control_ptq_int8']:.2f} | {r['qat_fake_quant']:.2f} | "
                         f"{r['qat_int8']:.2f} | {r['qat_int8_minus_control_ptq_int8']:+.2f} | "
                         f"{r['ptq_int8_agrees_with_float']:.2f}, {r['qat_int8_agrees_with_fake_quant']:.2f} | "
                         f"{'identical' if r['reexport_from_saved_ranges_identical'] else 'DIFFERENT'} |")
        lines.append("")
    language = [r for r in rows if r["model"] in LANGUAGE_MODELS]
    if language:
        lines += ["Jane Austen, perplexity on the test chapters (lower is better; the family's parity unit is "
                  "percent), exported step-wise (int8 weights and activations, float state between steps), "
                  "calibrated on training text. The embedding (tied to the softmax) is left out of QAT.", ""]
        for r in language:
            lines.append(f"- `{r['model']}`: " + (
                f"the shipped model ({r['params']:,} parameters, 30 epochs), fine-tuned 1 epoch ({r['train_tokens']:,} "
                f"tokens) with its recipe's AdamW at {SHIPPED_LM_TUNE_RATE:g}"
                if r["model"] == "austen_lstm_word" else
                f"{r['params']:,} parameters (LSTM units {LM_CONFIG['lstm_units']}, vocabulary "
                f"{LM_TRAINING['vocabulary']}), trained {LM_TRAINING['epochs']} epochs on {r['train_tokens']:,} tokens "
                f"of {LM_CHAPTERS['train']} chapters, fine-tuned {args.lm_tune_epochs} more at "
                f"{LM_TRAINING['learning_rate'] / 10:g}") + f"; tested on {r['test_chapters']} chapters.")
        lines += ["", "| model | float | PTQ int8 | control float | control PTQ int8 | QAT fake-quant | QAT int8 "
                  "| QAT vs PTQ | QAT vs control PTQ | re-export |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in language:
            lines.append(f"| {r['model']} | {r['float']:.2f} | {r['ptq_int8']:.2f} "
                         f"({r['ptq_int8_loss_percent']:+.2f}%) | "
                         f"{r['control_float']:.2f} | {r['control_ptq_int8']:.2f} "
                         f"({r['control_ptq_int8_loss_percent']:+.2f}%) | {r['qat_fake_quant']:.2f} | "
                         f"{r['qat_int8']:.2f} ({r['qat_int8_loss_percent']:+.2f}%) | "
                         f"{-r['qat_int8_better_than_ptq_int8_percent']:+.2f}% | "
                         f"{-r['qat_int8_better_than_control_ptq_int8_percent']:+.2f}% | "
                         f"{'identical' if r['reexport_from_saved_ranges_identical'] else 'DIFFERENT'} |")
        lines += ["", "In brackets: the int8 model's perplexity change over the Keras model it was converted from. "
                  "*QAT vs ...*: change of QAT int8 perplexity against the other int8 model (negative is better).", ""]
    if args.note:
        lines += [f"Note: {args.note}", ""]
    atomic_write_text(args.out.with_suffix(".md"), "\n".join(lines))


def main(argv=None):
    args = parse_args(argv)
    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    started = time.perf_counter()
    rows = []
    for name in args.models:
        if name in LANGUAGE_MODELS:
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(measure_language_model(name, args, Path(tmp)))
        else:
            rows.append(measure(name, args, train, test))
        print(rows[-1], flush=True)
    write_results(rows, args, time.perf_counter() - started)


if __name__ == "__main__":
    main()
