"""What every deepedge Keras task shares: atomic saving, safe loading, restoring its compile state."""

from pathlib import Path

import numpy as np

from deepedge.backend import keras
from deepedge.errors import ModelFileError


class TaskFilesMixin:
    """`save` (atomic), `load` (safe mode, type-checked) and `compile_from_config` for a task model.

    Mix in before `keras.Model`: `class MyTask(TaskFilesMixin, keras.Model)`.
    """

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
        """Loads a `.keras` file saved by `save`, in Keras's safe mode (nothing unpickled)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"No model file at {path}. Expected a `.keras` file written by `save`.")
        try:
            model = keras.saving.load_model(path, safe_mode=True)
        except Exception as e:  # Keras raises ValueError, KeyError, zipfile errors...
            raise ModelFileError(f"Could not load {path} as a deepedge `.keras` model: {e}") from e
        if not isinstance(model, cls):
            raise ModelFileError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}.")
        return model


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
    (a batch-1 model `[step input, *state] -> [output, *state]`) and the class attributes
    `step_input` and `step_output` (the signature's names for them).
    """

    step_input = "input"
    step_output = "output"

    def initial_state(self):
        return {name: np.full(shape, fill, dtype) for name, shape, dtype, fill in self.state_spec()}

    def edge_signatures(self):
        """What `deepedge.edge.export` converts: one `step` signature and its state layout."""
        state = [{"name": name, "shape": list(shape), "dtype": np.dtype(dtype).name, "initial": float(fill)}
                 for name, shape, dtype, fill in self.state_spec()]
        return {"step": {"model": self.step_model(), "inputs": [self.step_input] + [s["name"] for s in state],
                         "outputs": [self.step_output] + [s["name"] for s in state], "state": state}}
