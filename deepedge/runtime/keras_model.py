"""On device, a model deepedge did not build: raw arrays in, named outputs out (LiteRT + numpy only).

`deepedge.export.export_model` writes such a model with one signature, `serving_default`,
whose inputs and outputs carry the Keras model's names, and `model.json`'s `keras_model`
section: each input's raw shape, dtype and declared preprocessing (done inside the graph,
so `predict` takes raw inputs), and the outputs in the model's order.
"""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.base import EdgeStepModel
from deepedge.runtime.metadata_checks import REEXPORT

SIGNATURE = "serving_default"


class EdgeKerasModel(EdgeStepModel):
    """An exported Keras model of any kind: `predict` on a batch of raw inputs.

    Attributes:
        input_names, output_names: list of str, in the Keras model's order.
        preprocessing: `{input name: {"scale", "offset", "layout"}}` declared at export
            (informative: the exported graph applies it).
        labels: the class names of the first output, or None.

    >>> model = deepedge.edge.load("my_model")
    >>> model.predict({"image": images, "metadata": rows})  # {"class": (N, 10), "box": (N, 4)}
    """

    task_name = "keras_model"
    metadata_fields = {"keras_model": "object", "keras_model.outputs": "names", "labels?": "strings"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        described = self.metadata["keras_model"]
        inputs = described.get("inputs")
        if SIGNATURE not in self.signatures or not isinstance(inputs, list) \
                or not all(isinstance(spec, dict) and isinstance(spec.get("name"), str) for spec in inputs):
            raise ModelFileError(f"{self.json_path}: a Keras model export has a {SIGNATURE!r} signature and "
                                 f"`keras_model.inputs` (a list of named inputs). {REEXPORT}")
        self.input_names = [spec["name"] for spec in inputs]
        self.output_names = list(described["outputs"])
        io = self.signatures[SIGNATURE]
        for kind, names in (("inputs", self.input_names), ("outputs", self.output_names)):
            if sorted(names) != sorted(spec["name"] for spec in io[kind]):
                raise ModelFileError(f"{self.json_path}: `keras_model.{kind}` lists {names}, but the signature has "
                                     f"{sorted(spec['name'] for spec in io[kind])}. {REEXPORT}")
        self._shapes = {spec["name"]: tuple(spec["shape"][1:]) for spec in io["inputs"]}
        self.preprocessing = {spec["name"]: spec["preprocessing"] for spec in inputs if "preprocessing" in spec}
        self.labels = self.metadata.get("labels")
        if self.labels is not None:
            first = next(spec for spec in io["outputs"] if spec["name"] == self.output_names[0])
            self._check_classes("labels", len(self.labels), first)

    def _named(self, inputs):
        """`inputs` (an array for a one-input model, a list in input order, a dict by name) as a
        dict of batches with one row count."""
        if isinstance(inputs, dict):
            if sorted(inputs) != sorted(self.input_names):
                raise InvalidInputError(f"The model takes the inputs {self.input_names}. Received: {sorted(inputs)}.")
            named = dict(inputs)
        elif isinstance(inputs, (list, tuple)) and len(self.input_names) > 1:
            if len(inputs) != len(self.input_names):
                raise InvalidInputError(f"The model takes {len(self.input_names)} inputs {self.input_names}. "
                                        f"Received: {len(inputs)}.")
            named = dict(zip(self.input_names, inputs))
        elif len(self.input_names) == 1:
            named = {self.input_names[0]: inputs}
        else:
            raise InvalidInputError(f"The model takes {len(self.input_names)} inputs {self.input_names}: pass a dict "
                                    f"by name or a list in that order. Received: {type(inputs).__name__}.")
        batches = {}
        for name, value in named.items():
            value, shape = np.asarray(value), self._shapes[name]
            if value.ndim != len(shape) + 1:
                raise InvalidInputError(f"Input {name!r} takes a batch of shape (N, {', '.join(map(str, shape))}). "
                                        f"Received: shape={value.shape}. Add a batch axis for one example (x[None]).")
            batches[name] = value
        counts = {name: len(value) for name, value in batches.items()}
        if len(set(counts.values())) != 1 or not next(iter(counts.values())):
            raise InvalidInputError(f"Every input needs the same number of rows, at least one. Received: {counts}.")
        return batches

    def predict_outputs(self, inputs):
        """`{output name: float array (N, ...)}` for a batch of raw inputs (see `predict`)."""
        batches = self._named(inputs)
        rows = [self.run(SIGNATURE, **{name: value[i:i + 1] for name, value in batches.items()})
                for i in range(len(next(iter(batches.values()))))]
        return {name: np.concatenate([row[name] for row in rows]) for name in self.output_names}

    def predict(self, inputs):
        """Outputs for a batch of raw inputs, preprocessing included.

        Args:
            inputs: an array `(N, ...)` for a model with one input; otherwise a dict by input
                name, or a list in the model's input order. Every input is checked (shape,
                numbers, finite values) before it reaches the interpreter.

        Returns:
            One float array `(N, ...)` for a model with one output, else `{output name: array}`.
        """
        outputs = self.predict_outputs(inputs)
        return outputs[self.output_names[0]] if len(self.output_names) == 1 else outputs


__all__ = ["SIGNATURE", "EdgeKerasModel"]
