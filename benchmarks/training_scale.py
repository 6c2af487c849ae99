"""Training at scale, measured on this machine: can the input pipelines feed an accelerator, what
do mixed precision and XLA do here, and what does a second worker cost per step.

For every shipped recipe that trains with `fit` (one or more per family, from
`training_scale_recipes.py`, on part of an epoch) it measures, in one run:

- pipeline: examples per second of one epoch's input alone, as `fit_resumable` draws it
  (`epoch_arrays` or the recipe's `epoch_dataset`: shuffle, augmentation, fresh scenes, clips or
  canvases, then the recipe's tf.data batches), iterated without a model;
- step: examples per second of the training step alone (`fit` on the epoch's first batches held
  in memory, their second pass), in the recipe's precision, and in the other precision and with
  XLA where asked;
- together: one epoch's input drawn, then trained on, as `deepedge train` runs it (arrays drawn
  before the epoch; streamed pipelines make their examples while the model trains), the first
  batch's time set to the others';
- pipeline / step, which the issue wants at 3 or more (an accelerator several times faster than
  this CPU would then still not wait for its input).

For the deep Q-networks, the environment's steps and the replay samples against the update and
the actions (`training_scale_recipes.dqn_rates`). Then one worker against two workers on
loopback (TF_CONFIG, `MultiWorkerMirroredStrategy`, `deepedge.training.multi_worker.StrategyLoop`)
on the edge net with the same global batch: seconds per step, and the all-reduce of every
gradient alone (the communication per step).

    .venv/bin/python benchmarks/training_scale.py --quick

writes `results/training_scale.json` and `.md`, with the load average at the start and the end.
`--quick` takes about 9 minutes on 2 idle cores (each recipe in a fresh process); without it, four
times the examples. `--recipes NAME ...` measures those alone and prints them.
"""

import argparse
import datetime
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # the kernels `deepedge train` uses
from deepedge.backend import keras, tf  # noqa: E402 (first: silences TensorFlow's logs)

import numpy as np  # noqa: E402

from deepedge.fileio import atomic_write_json, atomic_write_text  # noqa: E402
from deepedge.training.distribute import cpu_has_bfloat16  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_scale_recipes import RECIPES, dqn_rates, image_recipe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"fashion_edgenet": 2048, "fashion_lenet5": 2048, "austen_lstm_word": 256, "austen_nplm": 8192,
         "scenes_labeller": 192, "nuclei_labeller": 64, "kws_dscnn": 1536, "asr_ctc": 72, "de_en_attention": 1024,
         "scenes_captioner": 256, "scenes_captioner:encoder": 1024, "glimpse_cluttered": 512}
FULL = {name: 4 * count for name, count in QUICK.items()}
DQN = {"dqn_cartpole": 400, "dqn_minatar_breakout": 400}  # steps of play (and as many samples)
VARIANTS = {"fashion_edgenet": ("mixed_bfloat16", "xla"), "austen_lstm_word": ("float32",)}
WORKER_BATCH, WORKER_STEPS = 256, 12


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
    """Seconds from the end of the first batch to the end of the last (tracing excluded), and of
    the last epoch alone."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if batch == 0:
            self.first = now
        self.last, self.batches = now, batch

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds = time.perf_counter() - self.epoch_started

    def seconds(self):
        return self.last - self.first


def examples_in(batch):
    return int(tf.nest.flatten(batch)[0].shape[0])


def epoch_input(feed, recipe, seed=0, streamed=True):
    """One epoch's tf.data batches as `fit_resumable` makes them (streamed by `epoch_dataset`
    where the recipe has one, else drawn as arrays and batched by the recipe's `batches`), their
    count, and the seconds spent drawing arrays beforehand."""
    from deepedge.training.resumable import epoch_arrays, ordered_batches

    rng = np.random.default_rng([seed, 0])
    if streamed and feed.get("epoch_dataset"):
        return feed["epoch_dataset"](rng, recipe["batch_size"]), len(feed["train_labels"]), 0.0
    started = time.perf_counter()
    x, y = epoch_arrays(feed["train_images"], feed["train_labels"], rng, feed.get("augmentation"),
                        feed.get("epoch_data"))
    batches = feed.get("batches") or (lambda x, y, size, rng: ordered_batches(x, y, size))
    return batches(x, y, recipe["batch_size"], rng), len(y), time.perf_counter() - started


def pipeline_rate(feed, recipe, streamed=True):
    """Examples per second of one epoch's input, iterated without a model."""
    dataset, examples, draw_seconds = epoch_input(feed, recipe, streamed=streamed)
    started = time.perf_counter()
    for _ in dataset:
        pass
    return examples / (draw_seconds + time.perf_counter() - started), dataset, examples


def step_rate(model, dataset, steps):
    """Examples per second of `fit` on the first `steps` batches of `dataset` held in memory: the
    second pass over them, so that every batch shape (translators' lengths) is traced before."""
    held = dataset.take(steps).cache()
    clock = BatchClock()
    model.fit(held, epochs=2, verbose=0, callbacks=[clock])
    return sum(examples_in(b) for b in held) / clock.epoch_seconds


def measure_recipe(name, count, variants):
    recipe, build, feed = RECIPES[name](name, count)
    batch = recipe["batch_size"]
    pipeline_rate(feed, recipe)  # a first epoch loads what the data sets cache (textures, voices)
    pipeline, dataset, examples = pipeline_rate(feed, recipe)
    precision = recipe.get("precision", "float32")
    row = {"recipe": name, "examples": examples, "batch_size": batch, "precision": precision,
           "pipeline_examples_per_s": round(pipeline, 1)}
    if feed.get("epoch_dataset") and feed.get("epoch_data"):
        row["pipeline_examples_per_s_arrays"] = round(pipeline_rate(feed, recipe, streamed=False)[0], 1)
    steps = max(2, min(40, examples // batch))
    for variant in (precision, *variants):
        model = compiled(build, recipe, variant if variant != "xla" else precision, variant == "xla")
        rate = step_rate(model, dataset, steps)
        if variant == precision:
            row["step_examples_per_s"] = round(rate, 1)
            dataset, examples, draw_seconds = epoch_input(feed, recipe, seed=1)
            clock = BatchClock()
            model.fit(dataset, verbose=0, callbacks=[clock])
            batches = clock.batches + 1  # the first batch's time (and fit's set-up) scaled in from the others
            fit_seconds = clock.seconds() * batches / clock.batches
            row["together_examples_per_s"] = round(examples / (draw_seconds + fit_seconds), 1)
        else:
            row[f"step_examples_per_s_{variant}"] = round(rate, 1)
    row["pipeline_over_step"] = round(pipeline / row["step_examples_per_s"], 2)
    return row


def measure_dqn(name, steps):
    row = dqn_rates(name, steps)
    row["pipeline_over_step"] = round(row["pipeline_examples_per_s"] / row["step_examples_per_s"], 2)
    return row


def measured_apart(name, count):
    """`measure_recipe` (or `measure_dqn`) in a fresh process, as `deepedge train` runs one recipe:
    what the recipes measured before left behind (models, pipelines, their threads) then slows
    nothing; it had halved the encoder stage's streamed pipeline."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "row.json"
        subprocess.run([sys.executable, __file__, "--child", name, "--count", str(count), "--row", str(out)],
                       check=True)
        row = json.loads(out.read_text())
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
             f"{result['machine']} ({'with' if result.get('bfloat16_instructions') else 'without'} bfloat16 "
             f"instructions), {result['date']}; load average {result['load_average']} at the start, "
             f"{result.get('load_average_end', '-')} at the end (other jobs shared the cores: compare the numbers "
             "of one run with each other).", "",
             "| recipe | examples | batch | precision | pipeline ex/s | step ex/s | together ex/s | pipeline / step |"
             " other variants (step ex/s) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["recipes"]:
        others = ", ".join(f"{k.removeprefix('step_examples_per_s_')} {v:,.0f}" for k, v in r.items()
                           if k.startswith("step_examples_per_s_"))
        lines.append(f"| `{r['recipe']}` | {r['examples']:,} | {r['batch_size']} | {r['precision']} | "
                     f"{r['pipeline_examples_per_s']:,.0f} | {r['step_examples_per_s']:,.0f} | "
                     f"{r['together_examples_per_s']:,.0f} | {r['pipeline_over_step']:,.2f} | {others or '-'} |")
    streamed = [f"`{r['recipe']}` {r['pipeline_examples_per_s_arrays']:,.0f}" for r in result["recipes"]
                if "pipeline_examples_per_s_arrays" in r]
    below = [f"`{r['recipe']}` ({r['pipeline_over_step']:.2f})" for r in result["recipes"] + result.get("agents", [])
             if r["pipeline_over_step"] < 3]
    lines += ["", "Pipeline: one epoch's input as `fit_resumable` draws it (shuffle, augmentation, fresh scenes, "
              "clips or canvases, the recipe's batches: translators' length-trimmed, captioners' weighted), "
              "without a model. The keyword clips, the scenes and the captioner's encoder-stage images stream "
              "from pipelines that make them in worker processes while the model trains "
              "(`deepedge.training.parallel_batches`); made beforehand in this process as arrays, they come at "
              f"{', '.join(streamed) or '-'} ex/s. Step: `fit` on the "
              "epoch's first batches held in memory, the second pass over them timed (every batch shape traced "
              "in the first). Together: one epoch drawn, then trained on, as each epoch of `deepedge train` (the "
              "first batch timed as the others). `scenes_captioner:encoder` is the captioner recipe's first "
              "stage (the encoder reading object maps); `asr_ctc` and `kws_dscnn` measure the espeak-ng and "
              "flite utterances cached here (the neural voices cost the same to render). The issue's target is "
              f"pipeline / step >= 3; below it in this run: {', '.join(below) or 'none'}.", ""]
    if result.get("agents"):
        lines += ["Deep Q-networks (one update per `train_every` steps of play, as `dqn_training.train` runs them, "
                  "at the recipe's final epsilon):", "",
                  "| recipe | batch | environment ms / step | replay sample ms | act ms / step | update ms | "
                  "input ex/s | network ex/s | input / network |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in result["agents"]:
            lines.append(f"| `{r['recipe']}` | {r['batch_size']} | {r['environment_ms']:.3f} | {r['sample_ms']:.3f} | "
                         f"{r['act_ms']:.3f} | {r['update_ms']:.3f} | {r['pipeline_examples_per_s']:,.0f} | "
                         f"{r['step_examples_per_s']:,.0f} | {r['pipeline_over_step']:,.2f} |")
        lines += ["", "Input: the environment's steps (with the replay buffer's and frame stack's writes) and one "
                  "replay sample per update, in sampled transitions per second. Network: the update and the "
                  "epsilon-greedy actions, each a forward pass of the Q-network on one state (a `tf.function` "
                  "call, which would run on the accelerator with the network). The loop is serial: nothing "
                  "overlaps.", ""]
    if result.get("workers"):
        one, two = result["workers"]
        lines += [f"One worker against two on loopback, the edge net, global batch {one['global_batch']} "
                  f"(`StrategyLoop` in both):", "",
                  "| workers | replicas | s / step | all-reduce of every gradient, s | gradient bytes |",
                  "| --- | --- | --- | --- | --- |"]
        for w in (one, two):
            lines.append(f"| {w['workers']} | {w['replicas']} | {w['step_seconds']:.4f} | "
                         f"{w['all_reduce_seconds']:.5f} | {w['gradient_bytes']:,} |")
        lines += ["", "Both workers run on the same two cores, so two workers split the compute of one machine: "
                  "the step time shows the cost of the collectives, not a speed-up.", ""]
    lines += [f"    {result['command']}", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples (about 9 minutes on 2 cores)")
    parser.add_argument("--recipes", nargs="+", choices=[*QUICK, *DQN], metavar="NAME",
                        help="measure these recipes only, without the worker comparison, and print the results "
                             "instead of writing them")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=WORKER_STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--row", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.steps, args.worker)
    if args.child:
        row = (measure_dqn(args.child, args.count) if args.child in DQN
               else measure_recipe(args.child, args.count, VARIANTS.get(args.child, ())))
        return args.row.write_text(json.dumps(row))
    from deepedge.export.card import machine_description

    chosen = set(args.recipes or [*QUICK, *DQN])
    counts = QUICK if args.quick else FULL
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine_description(), "load_average": round(os.getloadavg()[0], 2),
              "bfloat16_instructions": cpu_has_bfloat16(),
              "tensorflow": tf.__version__, "keras": keras.__version__, "quick": args.quick,
              "command": shlex.join([".venv/bin/python", "benchmarks/training_scale.py", *(argv or sys.argv[1:])])}
    result["recipes"] = [measured_apart(name, count) for name, count in counts.items() if name in chosen]
    result["agents"] = [measured_apart(name, steps if args.quick else 4 * steps)
                        for name, steps in DQN.items() if name in chosen]
    if not args.recipes:
        args.out.mkdir(parents=True, exist_ok=True)
        result["workers"] = compare_workers(args.out, WORKER_STEPS if args.quick else 3 * WORKER_STEPS)
        for leftover in args.out.glob("workers*_*.json"):
            leftover.unlink()
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    if not args.recipes:
        atomic_write_json(args.out / "training_scale.json", result)
        atomic_write_text(args.out / "training_scale.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
