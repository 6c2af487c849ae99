"""The exporter's task interface around a Keras model that deepedge did not build.

`KerasModelTask` presents any built `keras.Model` (functional, sequential or subclassed, with
one or several inputs and outputs) as the task `deepedge.export.exporter.export` reads, so
such a model gets what deepedge's own tasks get: builtin ops only, int8 calibrated on real
samples, the parity gate on a metric, `model.json`, the device report and the card. It is
exported as one signature, `serving_default`, whose inputs and outputs carry the model's own
names. Preprocessing the user declares (`scale`, `offset`, `layout` per input) becomes layers
in front of the model (a `Permute`, a `Rescaling`), so the exported model takes raw inputs and
model.json says what they are.
"""

import math
import re

import numpy as np

from deepedge.backend import keras
from deepedge.errors import InvalidInputError
from deepedge.export.model_data import as_model_data
from deepedge.ops.metrics import METRICS
from deepedge.progress import ProgressIterable, progress_bar
from deepedge.runtime.keras_model import SIGNATURE, EdgeKerasModel

LAYOUTS = ("channels_last", "channels_first")
PREPROCESSING_KEYS = ("scale", "offset", "layout")


def _clean(name):
    """A Keras tensor or layer name as a signature key: `serving_default` takes word characters."""
    return re.sub(r"\W", "_", str(name).split(":")[0]) or "input"


def _unique(names):
    seen, result = {}, []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}_{seen[name] - 1}")
    return result


def input_specs(model, sample=None):
    """`[{"name", "shape", "dtype"}]` of the model's inputs (`shape` per example, None where free).
    A subclassed model has no symbolic inputs: they are read from `sample` (an array, a list or
    a dict of arrays, one row per example)."""
    try:
        tensors = model.inputs
    except AttributeError:
        tensors = None
    if tensors:
        names = _unique([_clean(t.name) for t in tensors])
        return [{"name": n, "shape": tuple(t.shape[1:]), "dtype": str(t.dtype)} for n, t in zip(names, tensors)]
    if sample is None:
        raise InvalidInputError(f"{type(model).__name__} {model.name!r} has no defined inputs (a subclassed or unbuilt "
                                "model). Pass calibration_data: its arrays give the inputs' names and shapes.")
    x = getattr(sample, "images", getattr(sample, "audio", sample))
    x = x[0] if isinstance(x, tuple) and len(x) == 2 else x
    named = x if isinstance(x, dict) else dict(zip([f"input_{i}" for i in range(len(x))], x)) \
        if isinstance(x, list) else {"input": x}
    return [{"name": _clean(n), "shape": tuple(np.shape(v)[1:]), "dtype": "int32" if np.asarray(v).dtype.kind in "iu"
             else "float32"} for n, v in named.items()]


def _numbers(value, key, name, channels):
    values = np.atleast_1d(np.asarray(value, np.float64)) if not isinstance(value, (str, bool)) else None
    if values is None or values.ndim != 1 or not np.isfinite(values).all() or len(values) not in (1, channels):
        raise InvalidInputError(f"preprocessing[{name!r}][{key!r}] must be a finite number or one per channel "
                                f"({channels}). Received: {value!r}.")
    return float(values[0]) if len(values) == 1 else [float(v) for v in values]


def preprocessing_specs(preprocessing, specs):
    """`{input name: {"scale", "offset", "layout"}}` from what the user declared: one dict of
    those keys for a model with one input, or a dict of them by input name."""
    if not preprocessing:
        return {}
    if not isinstance(preprocessing, dict):
        raise InvalidInputError(f"`preprocessing` must be a dict ({PREPROCESSING_KEYS}, or those by input name). "
                                f"Received: {type(preprocessing).__name__}.")
    names = [spec["name"] for spec in specs]
    if set(preprocessing) <= set(PREPROCESSING_KEYS):
        if len(names) != 1:
            raise InvalidInputError(f"The model takes {len(names)} inputs {names}: pass `preprocessing` by input name, "
                                    f"e.g. {{{names[0]!r}: {{'scale': 1 / 255}}}}.")
        preprocessing = {names[0]: preprocessing}
    result = {}
    for name, declared in preprocessing.items():
        spec = next((s for s in specs if s["name"] == name), None)
        if spec is None or not isinstance(declared, dict) or not set(declared) <= set(PREPROCESSING_KEYS):
            raise InvalidInputError(f"`preprocessing` takes {list(PREPROCESSING_KEYS)} per input of {names}. "
                                    f"Received: {name!r}: {declared!r}.")
        if not spec["dtype"].startswith(("float", "bfloat")):
            raise InvalidInputError(f"Input {name!r} takes {spec['dtype']} values; only float inputs take a scale, an "
                                    "offset or a layout.")
        layout = declared.get("layout", "channels_last")
        if layout not in LAYOUTS or (layout == "channels_first" and len(spec["shape"]) < 2):
            raise InvalidInputError(f"preprocessing[{name!r}]['layout'] must be one of {LAYOUTS} (channels_first for "
                                    f"inputs with a channel axis). Received: {layout!r} for shape {spec['shape']}.")
        channels = spec["shape"][-1] if spec["shape"] else 1
        result[name] = {"scale": _numbers(declared.get("scale", 1.0), "scale", name, channels),
                        "offset": _numbers(declared.get("offset", 0.0), "offset", name, channels), "layout": layout}
    return result


def raw_shape(spec, preprocessing):
    """The per-example shape the exported model takes for an input: channels first when declared so."""
    shape = tuple(spec["shape"])
    return (shape[-1], *shape[:-1]) if preprocessing.get("layout") == "channels_first" else shape


def resolve_metric(metric, max_drop, higher_is_better):
    """`(name, function, higher is better, allowed loss, relative)` of a metric name or a callable."""
    if callable(metric):
        if max_drop is None:
            raise InvalidInputError("With a metric function, pass `max_drop`: the largest loss to quantization to "
                                    f"allow, in the function's own unit. Received: metric={metric!r}, max_drop=None.")
        return getattr(metric, "__name__", "metric"), metric, higher_is_better is not False, float(max_drop), False
    if metric not in METRICS:
        raise InvalidInputError(f"`metric` must be one of {sorted(METRICS)} or a function (y_true, y_pred) -> float. "
                                f"Received: metric={metric!r}.")
    function, higher, default, relative = METRICS[metric]
    return metric, function, higher, default if max_drop is None else float(max_drop), relative


class KerasModelTask:
    """A plain `keras.Model` behind the exporter's task interface (see `deepedge.apps.task.Task`).

    Args:
        model: a built `keras.Model`.
        metric: `"accuracy"`, `"mae"`, `"mean_iou"` (see `deepedge.ops.metrics`) or a function
            `(y_true, y_pred) -> float`, scored on the first output (or on each output that the
            targets name, averaged).
        max_drop: float. The largest loss to quantization allowed (the metric's default if None).
        higher_is_better: bool. For a metric function; the named metrics know their direction.
        preprocessing: what the model expects done to raw inputs (`preprocessing_specs`).
        float_layers: names of layers kept in float32 in an int8 export.
        labels: names of the classes of the first output, for model.json.
        calibration_data: real examples; they fix any free input dimension (a sequence length).
        console: the rich console progress bars are drawn on.
    """

    task_name = EdgeKerasModel.task_name
    family = "generic"

    def __init__(self, model, metric="accuracy", max_drop=None, higher_is_better=None, preprocessing=None,
                 float_layers=(), labels=None, calibration_data=None, console=None):
        self.model, self.console = model, console
        (self.metric_name, self._metric, self.metric_higher_is_better, self.parity_threshold,
         self.parity_relative) = resolve_metric(metric, max_drop, higher_is_better)
        self.edge_float_layers = tuple(float_layers or ())
        self.edge_int8_io = not self.edge_float_layers
        specs = input_specs(model, calibration_data)
        self.preprocessing = preprocessing_specs(preprocessing, specs)
        self.inputs = [{**spec, "shape": raw_shape(spec, self.preprocessing.get(spec["name"], {}))} for spec in specs]
        self._specs = specs
        self.output_names, self.output_shapes = self._outputs()
        if calibration_data is not None:
            self._fix_free_dimensions(self.data(calibration_data, "calibration_data"))
        self.labels = None if labels is None else [str(label) for label in labels]
        if self.labels is not None and len(self.labels) != self.output_shapes[0][-1]:
            raise InvalidInputError(f"{len(self.labels)} labels for output {self.output_names[0]!r}, which scores "
                                    f"{self.output_shapes[0][-1]} classes. Pass one label per class.")

    # === Data ===
    def data(self, data, what, needs_targets=False):
        """`data` checked against the model's raw inputs, as `ModelData`."""
        return as_model_data(data, self.inputs, self.output_names, what, needs_targets)

    def _fix_free_dimensions(self, data):
        """Free input dimensions (None, a sequence length) take the calibration data's sizes: the
        exported model has static shapes."""
        for raw, spec in zip(self.inputs, self._specs):
            sizes = data.inputs[raw["name"]].shape[1:]
            raw["shape"] = tuple(sizes)
            declared = self.preprocessing.get(spec["name"], {})
            spec["shape"] = (*sizes[1:], sizes[0]) if declared.get("layout") == "channels_first" else tuple(sizes)
        self.output_names, self.output_shapes = self._outputs()

    # === Functional Model ===
    def keras_model(self, batch_size=None):
        """The model behind raw inputs: `Permute` and `Rescaling` for the declared preprocessing,
        then the user's model; its outputs listed in `output_names` order."""
        raw = [keras.Input(shape=spec["shape"], batch_size=batch_size, dtype=spec["dtype"], name=spec["name"])
               for spec in self.inputs]
        fed = [self._preprocess(tensor, self.preprocessing.get(spec["name"]), spec["name"])
               for tensor, spec in zip(raw, self.inputs)]
        _, outputs = self._flat(self.model(self._structured(fed), training=False))
        return keras.Model(raw, outputs, name=f"{_clean(self.model.name)}_edge")

    @staticmethod
    def _preprocess(tensor, declared, name):
        if not declared:
            return tensor
        if declared["layout"] == "channels_first":
            rank = len(tensor.shape) - 1
            tensor = keras.layers.Permute((*range(2, rank + 1), 1), name=f"{name}_channels_last")(tensor)
        if declared["scale"] != 1.0 or declared["offset"] != 0.0:
            scale, offset = (np.asarray(declared[key], np.float32) for key in ("scale", "offset"))
            tensor = keras.layers.Rescaling(scale, offset, name=f"{name}_rescaling")(tensor)
        return tensor

    def _structured(self, tensors):
        """The inputs in the structure the model was built with (one tensor, a list, a dict)."""
        try:
            structure = self.model.input
        except (AttributeError, ValueError):
            structure = None
        if isinstance(structure, dict):
            return dict(zip(structure, tensors))
        return tensors[0] if len(tensors) == 1 else tensors

    def _flat(self, outputs):
        """`(names, tensors)` of a model's outputs (one, a list or a dict)."""
        if isinstance(outputs, dict):
            return _unique([_clean(n) for n in outputs]), list(outputs.values())
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        names = list(getattr(self.model, "output_names", None) or [])
        if len(names) != len(outputs):
            names = [f"output_{i}" for i in range(len(outputs))]
        return _unique([_clean(n) for n in names]), outputs

    def _outputs(self):
        symbolic = [keras.Input(shape=spec["shape"], dtype=spec["dtype"]) for spec in self._specs]
        names, tensors = self._flat(self.model(self._structured(symbolic), training=False))
        return names, [tuple(t.shape[1:]) for t in tensors]

    # === What the exporter reads ===
    @property
    def name(self):
        return self.model.name

    def edge_signatures(self):
        """One signature, `serving_default`: the raw inputs and the outputs by their Keras names."""
        return {SIGNATURE: {"model": self.keras_model(batch_size=1), "inputs": [s["name"] for s in self.inputs],
                            "outputs": self.output_names}}

    def calibration_samples(self, data, num_samples=500):
        """Up to `num_samples` examples of `data`, spread evenly over it, one by one as the
        converter reads them (with a progress bar)."""
        data = self.data(data, "calibration_data")
        rows = np.unique(np.linspace(0, len(data) - 1, min(num_samples, len(data))).round().astype(int))
        samples = [(SIGNATURE, {name: np.asarray(array[i:i + 1], np.dtype(spec["dtype"]))
                                for (name, array), spec in zip(data.inputs.items(), self.inputs)}) for i in rows]
        return ProgressIterable(samples, f"calibrating int8 on {len(samples)} examples", self.console)

    def edge_calibration_inputs(self, data):
        return data

    def edge_metadata(self):
        """model.json's description of the model: parameters, inputs (raw shape, dtype, declared
        preprocessing), outputs, layers kept in float, and the class labels if given."""
        inputs = [{"name": spec["name"], "shape": [int(d) for d in spec["shape"]], "dtype": spec["dtype"]}
                  for spec in self.inputs]
        for spec in inputs:
            if spec["name"] in self.preprocessing:
                spec["preprocessing"] = self.preprocessing[spec["name"]]
        return {"params": int(self.model.count_params()),
                "keras_model": {"name": self.model.name, "class": type(self.model).__name__, "signature": SIGNATURE,
                                "inputs": inputs, "outputs": self.output_names,
                                "output_shapes": [[None if d is None else int(d) for d in shape]
                                                  for shape in self.output_shapes],
                                "float_layers": list(self.edge_float_layers)},
                "licence": "the model owner's terms (none stated at export)",
                **({"labels": self.labels} if self.labels else {})}

    # === Metric ===
    def score(self, outputs, targets):
        """The metric of `outputs` (`{output name: array}`) against the targets (an array for the first
        output, or `{output name: array}`, averaged)."""
        pairs = targets.items() if isinstance(targets, dict) else [(self.output_names[0], targets)]
        values = [float(self._metric(y, outputs[name])) for name, y in pairs]
        value = float(np.mean(values))
        if not math.isfinite(value):
            raise InvalidInputError(f"The metric {self.metric_name!r} gave {value}; it must be a finite number.")
        return value

    def _predict_in_chunks(self, predict, data, description, chunk):
        parts = {name: [] for name in self.output_names}
        with progress_bar(self.console) as progress:
            bar = progress.add_task(description, total=len(data))
            for start in range(0, len(data), chunk):
                for name, value in predict(data.rows(slice(start, start + chunk))).items():
                    parts[name].append(np.asarray(value, np.float32))
                progress.advance(bar, min(chunk, len(data) - start))
        return {name: np.concatenate(values) for name, values in parts.items()}

    def evaluate_metric(self, data):
        """The metric of the float Keras model (raw inputs, preprocessing included) on `data`."""
        data = self.data(data, "evaluation_data", needs_targets=True)
        model = self.keras_model()

        def predict(rows):
            arrays = [np.asarray(rows[spec["name"]], spec["dtype"]) for spec in self.inputs]
            outputs = model(arrays[0] if len(arrays) == 1 else arrays, training=False)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            return dict(zip(self.output_names, (keras.ops.convert_to_numpy(o) for o in outputs)))

        return self.score(self._predict_in_chunks(predict, data, "float Keras model", 256), data.targets)

    def evaluate_metric_as_exported(self, data):
        return self.evaluate_metric(data)

    def evaluate_metric_on_device(self, runtime, data):
        """The metric of the exported model (an `EdgeKerasModel`) on `data`."""
        data = self.data(data, "evaluation_data", needs_targets=True)
        outputs = self._predict_in_chunks(runtime.predict_outputs, data, "exported model", 100)
        return self.score(outputs, data.targets)

    def count_examples(self, data):
        return len(data)


__all__ = ["KerasModelTask", "input_specs", "preprocessing_specs", "resolve_metric"]
