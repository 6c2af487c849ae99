"""`Task`: what every deepedge Keras task shares, and what the exporter reads from it.

A family's task class mixes `Task` in before `keras.Model`
(`class ImageClassifier(ClassifierCompileMixin, Task, keras.Model)`) and binds its presets
and its metric. `Task` owns presets (`presets`, `from_preset`), quantization-aware `fit`
(`fit(..., quantization_aware=True)`), files (`save` atomically, `load` in safe mode) and
`export`, with explicit defaults for everything the exporter asks
(`edge_signatures`, `edge_calibration_inputs`, `edge_float_layers`, ...), so no code probes a
task with `hasattr`. It is a mixin, not a `keras.Model` subclass: Keras rewrites the bases of
functional subclasses, which must not reach the subclassed tasks sharing this class.
"""

from pathlib import Path

import numpy as np

from deepedge.backend import keras
from deepedge.errors import InvalidInputError, ModelFileError, PresetNotFoundError


class Task:
    """The deepedge task interface: presets, files, export and the task metric.

    Class attributes a task sets:
        family: str. The family folder under `deepedge/apps/` (`"image_recognition"`).
        task_name: str. The task as `model.json` records it (`"image_classification"`).
        metric_name: str. The task metric (`"accuracy"`, `"perplexity"`, `"cer"`, ...).
        metric_higher_is_better: bool.
        parity_threshold: float. How much of the metric an export may lose.
        parity_relative: bool. The threshold is a percentage of the float figure, or of what
            the task's optional `parity_scale(data, reference) -> (scale, basis)` says
            (`QNetwork`: the float network's gain over a random policy).
        architectures: dict. Untrained presets: name -> spec (the family's `presets.py`).
        trained: dict. Trained presets (shipped models and their recipes): name -> spec.
        edge_float_layers: tuple of layer names kept in float32 in an int8 export.
        edge_int8_io: bool. A step-wise int8 export also takes and returns int8 tensors
            (otherwise its float inputs and outputs, the carried state, stay float32).
    """

    family = None
    task_name = None
    metric_name = None
    metric_higher_is_better = True
    parity_threshold = 0.0
    parity_relative = False
    architectures = {}
    trained = {}
    edge_float_layers = ()
    edge_int8_io = False

    # === Presets ===
    @classmethod
    def presets(cls):
        """`{name: {"description": ..., "path": ...}}`: architectures build untrained models,
        trained presets (with a `path`) load a shipped model."""
        untrained = {name: {"description": spec.get("description", "")} for name, spec in cls.architectures.items()}
        shipped = {name: {"description": spec.get("description") or f"{spec['architecture']} trained on "
                                                                    f"{spec['data']}", "path": name}
                   for name, spec in cls.trained.items()}
        return {**untrained, **shipped}

    @classmethod
    def from_preset(cls, name, **kwargs):
        """A shipped trained model by name, or an untrained architecture built with `kwargs`."""
        if name in cls.trained:
            if kwargs:
                raise ValueError(f"{name!r} is a trained preset with a fixed configuration; pass "
                                 f"{sorted(kwargs)} to an architecture preset ({sorted(cls.architectures)}) instead.")
            from deepedge.presets import shipped_model_dir

            return cls.load(shipped_model_dir(name) / "model.keras")
        if name not in cls.architectures:
            raise PresetNotFoundError(f"Unknown {cls.__name__} preset. Expected one of {sorted(cls.presets())}. "
                                      f"Received: name={name!r}")
        return cls.from_architecture(name, **kwargs)

    @classmethod
    def from_architecture(cls, name, **kwargs):
        """An untrained model of the architecture preset `name`; each task defines its arguments."""
        raise NotImplementedError(f"{cls.__name__} has no architecture presets.")

    # === Training ===
    def fit(self, x=None, y=None, *args, quantization_aware=False, qat_calibration=None, qat_float_layers=(),
            **kwargs):
        """Keras's `fit`; with `quantization_aware=True`, fine-tunes as the int8 export will compute.

        With `quantization_aware=True`, a task that is not quantization-aware yet first becomes so,
        in place (`deepedge.training.qat.quantize_aware`): its `Dense`, convolution and LSTM
        cells fake-quantize over ranges calibrated on real inputs, and `export` then converts it
        with those ranges. Later calls (with the flag or without) train it as it is, ranges
        included, and leave `qat_calibration` and `qat_float_layers` unused. The compiled
        optimizer, loss and metrics are kept: QAT adds only non-trainable ranges, so the
        optimizer's variables still match the trainable ones.

        Args:
            x, y, *args, **kwargs: as Keras's `fit`, passed on unchanged.
            quantization_aware: bool. Fine-tune with quantization-aware training. Defaults to
                `False` (Keras's `fit`, nothing else).
            qat_calibration: real training inputs, raw as the model takes them (an array, or a
                list, tuple or dict of arrays); the first 500 set the starting ranges. Defaults
                to the first 500 inputs of `x` (arrays, a `tf.data.Dataset`, or a generator,
                whose batches read for this are still trained on).
            qat_float_layers: names of layers to fine-tune without fake quantization, besides
                the task's `edge_float_layers`: layers with weights of a type QAT does not
                cover, like a language model's `("embedding",)`.

        Example:

        >>> task.compile(optimizer=keras.optimizers.Adam(3e-4))
        >>> task.fit(train.images, train.labels, epochs=2, quantization_aware=True)
        >>> task.export("fashion_qat", calibration_data=train, evaluation_data=test)
        """
        if not quantization_aware:
            if qat_calibration is not None or qat_float_layers:
                raise InvalidInputError("`qat_calibration` and `qat_float_layers` apply only to quantization-aware "
                                        "training. Pass `quantization_aware=True` with them, or leave them out. "
                                        f"Received: quantization_aware={quantization_aware!r}.")
            return super().fit(x, y, *args, **kwargs)
        from deepedge.training.qat import first_training_inputs, is_quantization_aware, quantize_aware

        if not is_quantization_aware(self):
            if qat_calibration is None:
                qat_calibration, x = first_training_inputs(x)
            if not self.built:  # a subclassed task builds its layers on its first call
                self(keras.tree.map_structure(lambda inputs: inputs[:1], qat_calibration), training=False)
            quantize_aware(self, qat_calibration, float_layers=self._qat_float_layers(qat_float_layers))
        return super().fit(x, y, *args, **kwargs)

    def _qat_float_layers(self, extra):
        """`edge_float_layers` that are layers of this model (some name layers only the step-wise
        export builds), and `extra`."""
        if isinstance(extra, str):
            raise InvalidInputError("`qat_float_layers` takes a list of layer names. "
                                    f"Received: qat_float_layers={extra!r}. Pass [{extra!r}] for that one layer.")
        names = {layer.name for layer in self._flatten_layers()}
        return tuple(name for name in self.edge_float_layers if name in names) + tuple(extra)

    # === Files ===
    def compile_from_config(self, config):
        """Restores the compiled state (optimizer included) when a `.keras` file is loaded."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def save(self, filepath, overwrite=True, **kwargs):
        """Saves in the `.keras` format, atomically: a crash never leaves half a file."""
        from deepedge.fileio import atomic_path

        with atomic_path(filepath) as tmp:
            super().save(tmp, overwrite=True, **kwargs)

    @classmethod
    def load(cls, path):
        """Loads a `.keras` file saved by `save`, in Keras's safe mode (nothing unpickled); with
        the quantization-aware ranges recorded for it beside it (`qat_ranges.json`,
        `deepedge.training.qat_files`), as the quantization-aware model it was fine-tuned as."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"No model file at {path}. Expected a `.keras` file written by `save`.")
        try:
            model = keras.saving.load_model(path, safe_mode=True)
        except Exception as e:  # Keras raises ValueError, KeyError, zipfile errors...
            raise ModelFileError(f"Could not load {path} as a deepedge `.keras` model: {e}") from e
        if not isinstance(model, cls):
            raise ModelFileError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}.")
        from deepedge.training.qat_files import load_ranges

        saved = load_ranges(path)  # a quantization-aware fine-tune's ranges, beside the file
        if saved is not None:
            from deepedge.training.qat import quantize_aware

            ranges, float_layers = saved
            quantize_aware(model, ranges=ranges, float_layers=float_layers)
        return model

    # === Export ===
    def export(self, path, quantization="int8", **kwargs):
        """Writes `model.tflite` and `model.json` (and, with `card=`, the model card) into the
        folder `path`; see `deepedge.export.exporter.export` for the arguments."""
        from deepedge.export.exporter import export

        return export(self, path, quantization=quantization, **kwargs)

    def edge_signatures(self):
        """Step-wise signatures for a recurrent task (`StepwiseExportMixin`); `None` exports the
        whole model with a batch of one."""
        return None

    def edge_calibration_inputs(self, data):
        """Raw model inputs for int8 calibration from a data set (`.images`) or an array."""
        return getattr(data, "images", data)

    def edge_metadata(self):
        """What the on-device runtime needs beyond the `.tflite` (labels, the input's meaning)."""
        return {"params": int(self.count_params())}

    def evaluate_metric(self, data):
        """The task metric on held-out `data`."""
        raise NotImplementedError(f"{type(self).__name__} does not define its metric.")

    def evaluate_metric_as_exported(self, data):
        """The float metric measured the way the runtime feeds the exported model (tiles, say)."""
        return self.evaluate_metric(data)

    def evaluate_metric_on_device(self, runtime, data):
        """The task metric of the exported model (`runtime`, its on-device class) on `data`."""
        return runtime.evaluate_metric(data)

    def count_examples(self, data):
        """How many examples `evaluate_metric(data)` scores, for `model.json`."""
        labels = data.labels if hasattr(data, "labels") else data[1]
        return int(len(labels))


class ClassifierCompileMixin:
    """`compile` defaults for a task that outputs class probabilities: AdamW, sparse
    cross-entropy, accuracy. Mix in before `keras.Model`."""

    def default_metrics(self):
        """The metrics `compile` uses when given none; a task may report others."""
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with AdamW, sparse cross-entropy and `default_metrics()` unless told otherwise."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy()
        if metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)


class StepwiseExportMixin:
    """What a recurrent task needs for the step-wise export (DESIGN.md, edge contract 4).

    The task defines `state_spec()` -> `[(name, shape, dtype, initial value)]`, `step_model()`
    (a batch-1 model `[step input, *state] -> [output, *state]`), `calibration_samples(data)`
    and the class attributes `step_input` and `step_output` (the signature's names for them).
    Mix in before `Task`.
    """

    step_input = "input"
    step_output = "output"

    def initial_state(self):
        return {name: np.full(shape, fill, dtype) for name, shape, dtype, fill in self.state_spec()}

    def edge_signatures(self):
        """What the exporter converts: one `step` signature and its state layout."""
        state = [{"name": name, "shape": list(shape), "dtype": np.dtype(dtype).name, "initial": float(fill)}
                 for name, shape, dtype, fill in self.state_spec()]
        return {"step": {"model": self.step_model(), "inputs": [self.step_input] + [s["name"] for s in state],
                         "outputs": [self.step_output] + [s["name"] for s in state], "state": state}}
