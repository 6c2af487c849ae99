"""`Family`: everything the CLI, the demo, the exporter and the card need to know of one task.

`deepedge.registry` maps the task name that `model.json` records to a `Family` subclass in
the family's folder. The command-line tools only ever talk to this interface, so a new family
is its own folder plus one registry line. Importing a family module must not import
TensorFlow: Keras comes in inside the methods that need it (`keras_task`, `train`, `export`).
"""

import json
import zipfile
from pathlib import Path

from deepedge.errors import InvalidInputError, ModelFileError


def keras_class_of(path):
    """The task class name a `.keras` file records (read from its `config.json`, no Keras)."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path} is not a readable `.keras` file ({e}). Train or export it again.") from e
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if not isinstance(class_name, str):
        raise ModelFileError(f"{path} is not a deepedge `.keras` file: its config.json names no model class "
                             f"(received {type(config).__name__} {str(config)[:60]!r}). Train or save it again.")
    return class_name


def is_exported(path):
    """Whether `path` is an exported model (`model.tflite` + `model.json`), not a `.keras` file."""
    path = Path(path)
    return path.suffix in (".tflite", ".json") or (path.is_dir() and (path / "model.json").exists())


def keras_path(path):
    path = Path(path)
    return path / "model.keras" if path.is_dir() else path


class Family:
    """One task of a family, as the tools see it. Subclasses set the attributes and methods below.

    Attributes:
        family: str. The folder under `deepedge/apps/`.
        task_name: str. The task as `model.json` records it (the registry's key).
        title: str. A heading for tables ("Image recognition").
        keras_classes: tuple of str. The Keras task classes (`.keras` files name them).
        data_names: tuple of str. The data sets `evaluate`/`export --data` accept; the first
            is the default when a model records none.
        unit: str. What one evaluation example is, for the card.
        demo_name: str. `deepedge demo NAME` runs this family's demo (several tasks may share it).
        predict_name: str. `deepedge predict NAME FILE` uses `default_model`.
        default_model: str. The shipped model `predict` uses by default.
        shipped: tuple of str. The shipped models the demo runs.
        beam_search: bool. `evaluate --beam` applies.
        task_class: str. The Keras task class as an import string ("package.module:Class").
        architectures: dict. Untrained presets, `{name: spec}` (the family's plain-data presets).
        recipes: dict. Trained presets with the recipes that retrain them, `{name: spec}`.
    """

    family = None
    task_name = None
    title = None
    keras_classes = ()
    data_names = ()
    unit = "examples"
    demo_name = None
    predict_name = None
    default_model = None
    shipped = ()
    beam_search = False
    task_class = None
    architectures = {}
    recipes = {}
    quantization_aware_training = False  # whether `deepedge train PRESET --quantization-aware` fine-tunes its presets

    # === Presets ===
    def keras_task(self):
        """The Keras task class (imports Keras)."""
        import importlib

        module, _, name = self.task_class.partition(":")
        return getattr(importlib.import_module(module), name)

    def presets(self):
        """Every preset of this task: architectures and trained ones."""
        return {**self.architectures, **self.recipes}

    # === Data ===
    def data_name(self, path, data=None):
        """The data set to measure `path` on: `data` if given, else what model.json or
        training.json beside it records, else the family's first data set."""
        if data is not None:
            if data not in self.data_names:
                raise InvalidInputError(f"{self.title} models are measured on {list(self.data_names)}. "
                                        f"Received: --data {data!r}.")
            return data
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        for name in ("model.json", "training.json"):
            candidate = folder / name
            if candidate.exists():
                try:
                    recorded = json.loads(candidate.read_text())
                except (OSError, UnicodeDecodeError, ValueError, RecursionError):
                    continue  # (a damaged model.json is reported by whoever loads the model)
                recorded = recorded.get("data") if isinstance(recorded, dict) else None
                if isinstance(recorded, dict):
                    recorded = recorded.get("name")
                if recorded in self.data_names:
                    return recorded
        return self.data_names[0]

    def load_data(self, name, split):
        """The data set `name`, split `split` ("train", "validation", "test")."""
        raise NotImplementedError

    # === Models ===
    def load_keras(self, path):
        """A `.keras` file of this task, loaded in safe mode."""
        return self.keras_task().load(keras_path(path))

    def open_model(self, path):
        """`(model, kind)`: the on-device runtime of an exported folder, or the float `.keras` model."""
        if is_exported(path):
            from deepedge.runtime import load

            model = load(path)
            return model, f"litert_{model.metadata['quantization']}"
        model = self.load_keras(path)
        from deepedge.training.qat import is_quantization_aware

        return model, "keras_fake_quant" if is_quantization_aware(model) else "keras_float"

    # === What the tools call ===
    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        """The task metric of the model at `path` on a data set: a dict for `--json`
        (`model`, `kind`, `data`, `split`, `examples`, `metric`, `value`, ...)."""
        raise NotImplementedError

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None,
               budgets=None):
        """Exports the `.keras` model at `model_path` into `out` with the family's report and card;
        returns model.json as a dict. `budgets`: export options (`{"max_ram": ..., "max_flash": ...,
        "max_drop": ..., "repair": True}`) for
        `deepedge.export.exporter.export`."""
        raise NotImplementedError

    def export_summary(self, meta, out, quantization):
        """One line for the terminal after an export."""
        metrics = meta.get("metrics") or {}
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, {metrics.get('metric')} float "
                f"{metrics.get('keras_float', float('nan')):.2f} vs {quantization} "
                f"{metrics.get(f'litert_{quantization}', float('nan')):.2f}")

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        """Trains the trained preset `preset` by its recipe into `out`; returns one line to print.

        `distribution`: a `deepedge.training.Distribution` (strategy, precision, XLA), or None
        for one device as the recipe ships; the recipe scales its batch and learning rate by it,
        builds its model in `distribution.scope(recipe)` and records it in `training.json`."""
        raise NotImplementedError

    def predict_file(self, runtime, file, out=None, top_k=3, console=None):
        """Runs the on-device `runtime` over a user's file and prints what it finds."""
        raise InvalidInputError(f"`deepedge predict` does not take {self.title} models yet.")

    def installed_models(self):
        """The names of this family's shipped models present in `saved_models/`; raises
        `PresetNotFoundError` (saying how to train one) when there is none."""
        from deepedge.errors import PresetNotFoundError
        from deepedge.presets import saved_models_dir

        names = [n for n in self.shipped if (saved_models_dir() / n / "model.json").exists()]
        if not names:
            raise PresetNotFoundError(f"No shipped {self.title.lower()} model in {saved_models_dir()}; train one "
                                      f"with `deepedge train {self.default_model or next(iter(self.recipes), '')}`.")
        return names

    def demo(self, out, limit=None, console=None):
        """Runs the shipped models of this task on device over held-out data; returns result rows."""
        return []

    def commands(self):
        """Click commands of this family's own (`deepedge translate`), added to the CLI."""
        return []

    def card_sections(self, card):
        """The family's own Markdown lines for the model card (after the common table)."""
        return []

    def card_info(self, data, export_command):
        """The `card=` argument of `Task.export`."""
        return {"data": data, "export_command": export_command, "unit": self.unit, "sections": self.card_sections}

    def describe(self):
        """A line for `deepedge info`."""
        return f"{self.title}: task {self.task_name}, data {', '.join(self.data_names)}"
