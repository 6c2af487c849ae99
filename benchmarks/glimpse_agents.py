"""Glimpse agents against ConvNets of equal compute, on the same canvases, on this CPU.

Mnih et al. (2014) Table 2: on cluttered canvases a recurrent attention model beats a ConvNet,
and its cost per image does not grow with the canvas. For each shipped (or given) glimpse
agent this script trains a ConvNet on the same data set, with canvases composed anew every
epoch from the same training objects and the same number of epochs, its width chosen so that
its multiply-accumulates per image match the agent's (`deepedge.export.cost`), with the agent's
optimizer (AdamW at the recipe's learning rate, warm-up and cosine decay), and reports
test error and MACs of both, and the ConvNet's MACs on the other canvas sizes.

    .venv/bin/python benchmarks/glimpse_agents.py saved_models/glimpse_cluttered [more agents]

It also says where the agent's errors come from: on how many test canvases some glimpse's centre
lands inside the object's box, and the accuracy on those canvases and on the others.

Writes `results/glimpse_agents.json` and `.md` (rows of other data sets measured before are kept).
The ConvNet checkpoints every epoch under the user cache: a run cut off resumes.
"""

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path

from deepedge.backend import keras  # noqa: E402 (first: silences TensorFlow's logs)

import numpy as np

from deepedge.apps.agents.glimpse_agent import GlimpseAgent
from deepedge.data.glimpses import canvas_layout, compose_canvases, load_canvases, load_objects
from deepedge.export.card import machine_description
from deepedge.export.cost import multiply_accumulates
from deepedge.data.cache import cache_dir
from deepedge.fileio import atomic_path, atomic_write_json, atomic_write_text
from deepedge.training.optimizers import build_optimizer

RESULTS = Path(__file__).parent / "results"


def convnet(size, width, num_classes=10):
    """Three strided 5x5/3x3 convolutions (`width`, 2x, 4x channels), global pooling, a classifier."""
    layers = keras.layers
    inputs = keras.Input((size, size, 1))
    x = layers.Rescaling(1 / 255.0)(inputs)
    for channels, kernel in ((width, 5), (2 * width, 5), (4 * width, 3)):
        x = layers.Conv2D(channels, kernel, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(8 * width, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def width_for(size, macs):
    """The ConvNet width whose MACs per image on `size` canvases come closest to `macs`."""
    return min(range(2, 129), key=lambda w: abs(multiply_accumulates(convnet(size, w)) - macs))


def train_convnet(data_name, width, epochs, batch_size=128, seed=2014, recipe=None):
    """The ConvNet trained on canvases composed anew every epoch. With the agent's `recipe`
    (learning rate, weight decay, clipnorm) it gets the agent's optimizer too: AdamW on one
    epoch of warm-up and a cosine decay (`build_optimizer`); without, AdamW at a constant 1e-3
    (the rows measured before 2026-12-08)."""
    objects_name, size, distractors = canvas_layout(data_name)
    objects = load_objects(objects_name, "train")
    keras.utils.set_random_seed(seed)
    model = convnet(size, width)
    if recipe is None:
        optimizer, schedule = keras.optimizers.AdamW(1e-3, weight_decay=1e-5), ""
    else:
        optimizer = build_optimizer(recipe, math.ceil(len(objects) / batch_size), epochs, clipnorm=recipe.get("clipnorm"))
        schedule = f"-cosine{recipe['learning_rate']:g}"
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # One checkpoint per epoch under the user cache: a run cut off resumes where it stopped.
    runs = cache_dir() / "runs" / f"glimpse_convnet-{data_name}-w{width}-e{epochs}{schedule}"
    runs.mkdir(parents=True, exist_ok=True)
    done = sorted(runs.glob("epoch_*.keras"))
    first, seconds = 0, 0.0
    if done:
        model = keras.saving.load_model(done[-1], safe_mode=True)
        first = int(done[-1].stem.split("_")[1])
        seconds = json.loads((runs / "seconds.json").read_text())["seconds"]
    for epoch in range(first, epochs):
        started = time.perf_counter()
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(objects))
        canvases, _ = compose_canvases(objects.images[order], size, distractors, rng)
        history = model.fit(canvases.astype(np.float32), objects.labels[order], batch_size=batch_size, epochs=1,
                            verbose=0)
        seconds += time.perf_counter() - started
        with atomic_path(runs / f"epoch_{epoch + 1:03d}.keras") as tmp:
            model.save(tmp)
        atomic_write_json(runs / "seconds.json", {"seconds": seconds})
        for old in runs.glob("epoch_*.keras"):
            if old.name != f"epoch_{epoch + 1:03d}.keras":
                old.unlink()
        print(f"ConvNet {data_name} width {width}: epoch {epoch + 1}/{epochs} accuracy "
              f"{history.history['accuracy'][-1]:.4f} ({seconds:.0f} s)", flush=True)
    return model, seconds


def search_report(agent, test):
    """Where the agent's errors come from: the share of test canvases on which some glimpse's
    centre falls inside the object's box (`found`), and the accuracy on those and on the rest."""
    paths, predicted = [], []
    for i in range(0, len(test), 500):
        images = test.images[i:i + 500]
        paths.append(agent.glimpse_path(images))
        predicted.append(np.argmax(keras.ops.convert_to_numpy(agent(images)), axis=-1))
    paths, correct = np.concatenate(paths), np.concatenate(predicted) == test.labels
    size = test.images.shape[1]
    centres = np.minimum(np.floor((np.clip(paths, -1, 1) + 1) * 0.5 * size), size - 1)  # as the retina places them
    boxes = test.boxes[:, None]
    inside = ((centres[..., 0] >= boxes[..., 0]) & (centres[..., 0] < boxes[..., 2]) &
              (centres[..., 1] >= boxes[..., 1]) & (centres[..., 1] < boxes[..., 3]))
    found = inside.any(axis=1)
    share = lambda mask: round(100 * float(np.mean(correct[mask])), 2) if mask.any() else None  # noqa: E731
    return {"found": round(100 * float(np.mean(found)), 2), "accuracy_found": share(found),
            "accuracy_not_found": share(~found), "glimpses_inside": round(float(inside.sum(axis=1).mean()), 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agents", nargs="+", help="Folders holding a trained glimpse agent (model.keras).")
    parser.add_argument("--epochs", type=int, help="ConvNet epochs (default: the agent's).")
    args = parser.parse_args()
    rows = []
    for folder in map(Path, args.agents):
        agent = GlimpseAgent.load(folder / "model.keras")
        training = json.loads((folder / "training.json").read_text())
        data_name = training["data"]
        test = load_canvases(data_name, "test")
        agent_error = 100 * (1 - agent.evaluate_metric(test))
        search = search_report(agent, test)
        size = canvas_layout(data_name)[1]
        width = width_for(size, agent.multiply_accumulates())
        epochs = args.epochs or training["recipe"]["epochs"]
        model, seconds = train_convnet(data_name, width, epochs, batch_size=training["recipe"]["batch_size"],
                                       recipe=training["recipe"])
        predicted = np.argmax(model.predict(test.images.astype(np.float32), verbose=0), -1)
        rows.append({"data": data_name, "agent": str(folder), "agent_error": round(agent_error, 2),
                     "agent_macs": agent.multiply_accumulates(), "agent_training_seconds": training["training_seconds"],
                     "agent_search": search,
                     "convnet_width": width, "convnet_error": round(100 * float(np.mean(predicted != test.labels)), 2),
                     "convnet_macs": multiply_accumulates(model), "convnet_training_seconds": round(seconds, 1),
                     "convnet_macs_by_canvas": {s: multiply_accumulates(convnet(s, width)) for s in (28, 60, 100)},
                     "epochs": epochs, "convnet_optimizer": "the agent's recipe: AdamW, warm-up and cosine decay"})
    command = " ".join([".venv/bin/python", *sys.argv])
    for row in rows:
        row.update(date=datetime.date.today().isoformat(), command=command)
    # rows of other canvases measured before are kept (each row says when and by which command)
    previous = json.loads((RESULTS / "glimpse_agents.json").read_text()) if (RESULTS / "glimpse_agents.json").exists() else {}
    measured = {row["data"] for row in rows}
    kept = [{"date": previous.get("date"), "command": previous.get("command"), **row}
            for row in previous.get("rows", []) if row["data"] not in measured]
    for row in kept:  # the search report is cheap: added to a kept row that lacks it
        if "agent_search" not in row and (Path(row["agent"]) / "model.keras").is_file():
            agent = GlimpseAgent.load(Path(row["agent"]) / "model.keras")
            row.update(agent_search=search_report(agent, load_canvases(row["data"], "test")),
                       agent_search_date=datetime.date.today().isoformat())
    rows = sorted(kept + rows, key=lambda row: canvas_layout(row["data"])[1])
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "command": command,
              "rows": rows}
    lines = ["| data | glimpse agent error | MACs | ConvNet error | MACs | ConvNet MACs at 28 / 60 / 100 px "
             "| agent finds the object (accuracy then / else) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        by = {int(k): v for k, v in r["convnet_macs_by_canvas"].items()}  # (JSON keys are strings)
        search = r.get("agent_search")
        found = (f"{search['found']:.1f}% ({search['accuracy_found']}% / {search['accuracy_not_found']}%)"
                 if search else "-")
        lines.append(f"| {r['data']} | {r['agent_error']:.2f}% | {r['agent_macs']:,} | {r['convnet_error']:.2f}% | "
                     f"{r['convnet_macs']:,} | {by[28]:,} / {by[60]:,} / {by[100]:,} | {found} |")
    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / "glimpse_agents.json", result)
    atomic_write_text(RESULTS / "glimpse_agents.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
