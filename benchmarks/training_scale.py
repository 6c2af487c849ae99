"""Training at scale, measured on this machine: can the input pipelines feed an accelerator, what
do mixed precision and XLA do here, and what does a second worker cost per step.

For a few families' shipped recipes it measures, in one run:

- pipeline: examples per second of one epoch's input alone, as `fit_resumable` draws it
  (`epoch_arrays`: shuffle, augmentation or fresh scenes, then the recipe's tf.data batches),
  iterated without a model;
- step: examples per second of the training step alone (`fit` on one real batch repeated), in
  the recipe's precision, and in the other precision and with XLA where asked;
- together: one epoch's input drawn, then trained on (the draw does not overlap the training;
  the tf.data batches do), as `deepedge train` runs it, the first batch's time set to the others';
- pipeline / step, which the issue wants at 3 or more (an accelerator several times faster than
  this CPU would then still not wait for its input).

Then one worker against two workers on loopback (TF_CONFIG, `MultiWorkerMirroredStrategy`,
`deepedge.training.multi_worker.StrategyLoop`) on the edge net with the same global batch:
seconds per step, and the all-reduce of every gradient alone (the communication per step).

    .venv/bin/python benchmarks/training_scale.py --quick

writes `results/training_scale.json` and `.md`. `--quick` takes a few minutes: fewer examples,
four recipes, two variants; without it, more of each and two more recipes.
"""

import argparse
import datetime
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # the kernels `deepedge train` uses
from deepedge.backend import keras, tf  # noqa: E402 (first: silences TensorFlow's logs)

import numpy as np  # noqa: E402

from deepedge.fileio import atomic_write_json, atomic_write_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"fashion_edgenet": 2048, "fashion_lenet5": 2048, "austen_lstm_word": 512, "scenes_labeller": 96}
FULL = {**{k: 4 * v for k, v in QUICK.items()}, "austen_nplm": 65536, "kws_dscnn": 1024}
VARIANTS = {"fashion_edgenet": ("mixed_bfloat16", "xla"), "austen_lstm_word": ("float32",)}
WORKER_BATCH, WORKER_STEPS = 256, 12


# === What each recipe trains on ===
def image_recipe(name, count):
    from deepedge.apps import ImageClassifier
    from deepedge.apps.image_recognition.presets import TRAINED
    from deepedge.data import load_fashion_mnist
    from deepedge.training import ImageAugmentation
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_fashion_mnist("train").take(count)

    def build():
        model = ImageClassifier.from_preset(spec["architecture"], class_names=train.class_names,
                                            image_shape=train.images.shape[1:])
        smoothing = recipe.get("label_smoothing")
        return model, {"loss": SmoothedSparseCategoricalCrossentropy(smoothing) if smoothing else "auto"}

    augmentation = ImageAugmentation(flip=recipe["flip"], max_shift=recipe["max_shift"])
    return recipe, build, {"train_images": train.images, "train_labels": train.labels, "augmentation": augmentation}


def language_recipe(name, count):
    from deepedge.apps.language_modelling.presets import TRAINED
    from deepedge.apps.language_modelling.recipes import build_model, build_tokenizer, sequence_windows
    from deepedge.data.text import load_austen

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_austen("train")
    tokenizer = build_tokenizer(spec["tokenizer"], train)
    ids = np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32)

    def build():
        return build_model(spec["architecture"], tokenizer), {}

    if "sequence_length" not in recipe:  # the NPLM: fixed contexts, shuffled each epoch
        x, y = build()[0].contexts(ids)
        return recipe, build, {"train_images": x[:count], "train_labels": y[:count]}
    length = recipe["sequence_length"]
    ids = ids[: count * length + 1]
    return recipe, build, {"train_images": None, "train_labels": np.zeros(count),
                           "epoch_data": lambda rng: sequence_windows(ids, length, rng)}


def scene_recipe(name, count):
    from deepedge.apps.scene_labelling.presets import TRAINED
    from deepedge.apps.scene_labelling.recipes import training_data
    from deepedge.apps.scene_labelling.scene_labeller import SceneLabeller

    spec, recipe = TRAINED[name], dict(TRAINED[name]["recipe"])
    size_x, size_y, epoch_data, epoch_dataset, validation = training_data(spec, recipe, limit=count)

    def build():
        return SceneLabeller.from_preset(spec["architecture"], class_names=validation.class_names,
                                         palette=validation.palette, metric=spec["metric"]), {}

    return recipe, build, {"train_images": size_x, "train_labels": size_y, "epoch_data": epoch_data,
                           "epoch_dataset": epoch_dataset}


def keyword_recipe(name, count):
    from deepedge.apps.speech.keyword_spotter import KeywordSpotter
    from deepedge.apps.speech.presets import KWS_TRAINED
    from deepedge.data.speech import KEYWORD_CLASSES, SpeechAugmentation, load_keywords

    spec, recipe = KWS_TRAINED[name], KWS_TRAINED[name]["recipe"]
    train = load_keywords("train", recipe["per_keyword"], seed=recipe["seed"]).take(count)
    augmentation = SpeechAugmentation(noise_probability=recipe["noise_probability"], snr_db=tuple(recipe["snr_db"]))

    def build():
        return KeywordSpotter.from_preset(spec["architecture"], class_names=KEYWORD_CLASSES), {}

    def epoch_data(rng):
        clips = train.clips(rng, augmentation)
        order = rng.permutation(len(clips))
        return clips[order], train.labels[order]

    return recipe, build, {"train_images": None, "train_labels": train.labels, "epoch_data": epoch_data}


RECIPES = {"fashion_edgenet": image_recipe, "fashion_lenet5": image_recipe, "austen_lstm_word": language_recipe,
           "austen_nplm": language_recipe, "scenes_labeller": scene_recipe, "kws_dscnn": keyword_recipe}


# === Measuring ===
def compiled(build, recipe, precision, jit_compile):
    from deepedge.training.optimizers import build_optimizer

    keras.config.set_dtype_policy(precision)
    try:
        model, options = build()
        model.compile(optimizer=build_optimizer(recipe, 100, recipe["epochs"], clipnorm=recipe.get("clipnorm")),
                      jit_compile=jit_compile, **options)
    finally:
        keras.config.set_dtype_policy("float32")
    return model


class BatchClock(keras.callbacks.Callback):
    """Seconds from the end of the first batch to the end of the last (tracing excluded)."""

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if batch == 0:
            self.first = now
        self.last, self.batches = now, batch

    def seconds(self):
        return self.last - self.first


def epoch_input(arrays, recipe, seed=0, streamed=True):
    """One epoch's tf.data batches as `fit_resumable` makes them (streamed by `epoch_dataset`
    where the recipe has one), their count, and the seconds spent drawing arrays beforehand."""
    from deepedge.training.resumable import epoch_arrays, ordered_batches

    rng = np.random.default_rng([seed, 0])
    if streamed and arrays.get("epoch_dataset"):
        return arrays["epoch_dataset"](rng, recipe["batch_size"]), len(arrays["train_labels"]), 0.0
    started = time.perf_counter()
    x, y = epoch_arrays(arrays["train_images"], arrays["train_labels"], rng, arrays.get("augmentation"),
                        arrays.get("epoch_data"))
    return ordered_batches(x, y, recipe["batch_size"]), len(y), time.perf_counter() - started


def pipeline_rate(arrays, recipe, streamed=True):
    """Examples per second of one epoch's input, iterated without a model."""
    dataset, examples, draw_seconds = epoch_input(arrays, recipe, streamed=streamed)
    started = time.perf_counter()
    for _ in dataset:
        pass
    return examples / (draw_seconds + time.perf_counter() - started), dataset, examples


def measure_recipe(name, count, variants):
    recipe, build, arrays = RECIPES[name](name, count)
    batch = recipe["batch_size"]
    pipeline_rate(arrays, recipe)  # a first epoch loads what the data sets cache (textures, voices)
    pipeline, dataset, examples = pipeline_rate(arrays, recipe)
    precision = recipe.get("precision", "float32")
    row = {"recipe": name, "examples": examples, "batch_size": batch, "precision": precision,
           "pipeline_examples_per_s": round(pipeline, 1)}
    if arrays.get("epoch_dataset"):
        row["pipeline_examples_per_s_arrays"] = round(pipeline_rate(arrays, recipe, streamed=False)[0], 1)
    first = next(iter(dataset))
    steps = max(4, min(40, examples // batch))
    for variant in (precision, *variants):
        model = compiled(build, recipe, variant if variant != "xla" else precision, variant == "xla")
        clock = BatchClock()
        model.fit(tf.data.Dataset.from_tensors(first).repeat(steps + 1), verbose=0, callbacks=[clock])
        rate = clock.batches * batch / clock.seconds()
        if variant == precision:
            row["step_examples_per_s"] = round(rate, 1)
            dataset, examples, draw_seconds = epoch_input(arrays, recipe, seed=1)
            model.fit(dataset, verbose=0, callbacks=[clock])
            batches = clock.batches + 1  # the first batch's time (and fit's set-up) scaled in from the others
            fit_seconds = clock.seconds() * batches / clock.batches
            row["together_examples_per_s"] = round(examples / (draw_seconds + fit_seconds), 1)
        else:
            row[f"step_examples_per_s_{variant}"] = round(rate, 1)
    row["pipeline_over_step"] = round(pipeline / row["step_examples_per_s"], 2)
    print(json.dumps(row), flush=True)
    return row


# === One worker against two ===
def worker(steps, out):
    """A process of the worker comparison: the edge net under the strategy TF_CONFIG implies."""
    from deepedge.training.distribute import Distribution
    from deepedge.training.multi_worker import StrategyLoop

    # Before TensorFlow runs anything: a multi-worker strategy sets up its collectives at start.
    distribution = Distribution("multi-worker" if os.environ.get("TF_CONFIG") else "default")

    recipe, build, arrays = image_recipe("fashion_edgenet", WORKER_BATCH)
    with distribution.scope(recipe):
        model = compiled(build, recipe, "float32", False)
    loop = StrategyLoop(model, distribution.strategy)
    x = arrays["train_images"].astype(np.float32)
    batches = tf.data.Dataset.from_tensors((x, arrays["train_labels"])).repeat()
    loop.run_epoch(batches.take(2))
    started = time.perf_counter()
    loop.run_epoch(batches.take(steps))
    step_seconds = (time.perf_counter() - started) / steps
    gradients = [tf.zeros_like(v) for v in model.trainable_variables]
    strategy = distribution.strategy

    @tf.function
    def all_reduce():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", gradients))

    all_reduce()
    started = time.perf_counter()
    for _ in range(steps):
        all_reduce()
    result = {"workers": distribution.workers, "replicas": distribution.replicas, "global_batch": WORKER_BATCH,
              "step_seconds": round(step_seconds, 4),
              "all_reduce_seconds": round((time.perf_counter() - started) / steps, 5),
              "gradient_bytes": int(sum(4 * int(np.prod(v.shape)) for v in model.trainable_variables))}
    Path(out).write_text(json.dumps(result))


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def compare_workers(folder, steps):
    """`[one worker, two workers]` results, each from fresh processes."""
    results = []
    for count in (1, 2):
        ports = [free_port() for _ in range(count)]
        processes = []
        for index in range(count):
            env = dict(os.environ)
            env.pop("TF_CONFIG", None)
            if count > 1:
                env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                               "task": {"type": "worker", "index": index}})
            out = (folder / f"workers{count}_{index}.json").resolve()
            processes.append((subprocess.Popen([sys.executable, __file__, "--worker", str(out), "--steps",
                                                str(steps)], env=env), out))
        for process, _ in processes:
            if process.wait(timeout=600) != 0:
                raise RuntimeError(f"a worker of the {count}-worker run failed (exit {process.returncode})")
        results.append(json.loads(processes[0][1].read_text()))
        print(json.dumps(results[-1]), flush=True)
    return results


# === Report ===
def markdown(result):
    lines = ["# Training at scale: input pipelines, precision, XLA, workers", "",
             f"{result['machine']}, {result['date']}; load average at the start {result['load_average']} "
             "(other jobs shared the cores: compare the numbers of one run with each other).", "",
             "| recipe | examples | batch | precision | pipeline ex/s | step ex/s | together ex/s | pipeline / step |"
             " other variants (step ex/s) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["recipes"]:
        others = ", ".join(f"{k.removeprefix('step_examples_per_s_')} {v:,.0f}" for k, v in r.items()
                           if k.startswith("step_examples_per_s_"))
        lines.append(f"| `{r['recipe']}` | {r['examples']:,} | {r['batch_size']} | {r['precision']} | "
                     f"{r['pipeline_examples_per_s']:,.0f} | {r['step_examples_per_s']:,.0f} | "
                     f"{r['together_examples_per_s']:,.0f} | {r['pipeline_over_step']:.1f} | {others or '-'} |")
    one, two = result["workers"]
    streamed = [f"`{r['recipe']}` {r['pipeline_examples_per_s_arrays']:,.0f}" for r in result["recipes"]
                if "pipeline_examples_per_s_arrays" in r]
    lines += ["", "Pipeline: one epoch's input as `fit_resumable` draws it (shuffle, augmentation or freshly "
              "composed scenes, the recipe's batches), without a model. The scenes stream from a tf.data "
              "pipeline that composes them in parallel while the model trains (`scene_pipeline`); composed "
              f"beforehand as arrays, as before, they come at {', '.join(streamed) or '-'} ex/s. Step: `fit` on "
              "one real batch repeated (the first batch, tracing excluded). Together: one epoch drawn, then "
              "trained on, as each epoch of `deepedge train` (the first batch timed as the others). The issue's "
              "target is pipeline / step >= 3.", "",
              f"One worker against two on loopback, the edge net, global batch {one['global_batch']} "
              f"(`StrategyLoop` in both):", "",
              "| workers | replicas | s / step | all-reduce of every gradient, s | gradient bytes |",
              "| --- | --- | --- | --- | --- |"]
    for w in (one, two):
        lines.append(f"| {w['workers']} | {w['replicas']} | {w['step_seconds']:.4f} | "
                     f"{w['all_reduce_seconds']:.5f} | {w['gradient_bytes']:,} |")
    lines += ["", "Both workers run on the same two cores, so two workers split the compute of one machine: the "
              "step time shows the cost of the collectives, not a speed-up.", "", f"    {result['command']}", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples and recipes (a few minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=WORKER_STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.steps, args.worker)
    from deepedge.export.card import machine_description

    args.out.mkdir(parents=True, exist_ok=True)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine_description(), "load_average": round(os.getloadavg()[0], 2),
              "tensorflow": tf.__version__, "keras": keras.__version__, "quick": args.quick,
              "command": shlex.join([".venv/bin/python", "benchmarks/training_scale.py", *(argv or sys.argv[1:])])}
    result["recipes"] = [measure_recipe(name, count, VARIANTS.get(name, ()))
                         for name, count in (QUICK if args.quick else FULL).items()]
    result["workers"] = compare_workers(args.out, WORKER_STEPS if args.quick else 3 * WORKER_STEPS)
    for leftover in args.out.glob("workers*_*.json"):
        leftover.unlink()
    atomic_write_json(args.out / "training_scale.json", result)
    atomic_write_text(args.out / "training_scale.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
