"""Examples for a model with named inputs, as `deepedge.export.export_model` takes them (numpy only).

Calibration and evaluation data arrive as an array (a model with one input), a list of arrays
in the model's input order, a dict by input name, an `(x, y)` pair, or a deepedge data set
(`.images` or `.audio`, with `.labels`). `as_model_data` turns any of them into `ModelData`
after checking every array against the model's inputs: numbers, not strings; one row per
example; the per-example shape the model takes; as many rows in every array and in `y`.
"""

import dataclasses

import numpy as np

from deepedge.errors import InvalidInputError


@dataclasses.dataclass(frozen=True)
class ModelData:
    """Raw model inputs `{input name: array (N, ...)}`, and targets: None, an array (for the
    first output) or `{output name: array}`; `split` names them in model.json."""

    inputs: dict
    targets: object = None
    split: str = "held-out"

    def __len__(self):
        return len(next(iter(self.inputs.values())))

    def rows(self, index):
        """The inputs of the examples at `index` (a slice or an index array)."""
        return {name: array[index] for name, array in self.inputs.items()}

    def take(self, n):
        """The first `n` examples, inputs and targets (the repair search measures on them)."""
        targets = self.targets
        if isinstance(targets, dict):
            targets = {name: array[:n] for name, array in targets.items()}
        elif targets is not None:
            targets = targets[:n]
        return dataclasses.replace(self, inputs=self.rows(slice(0, n)), targets=targets)


def _shape_text(shape):
    return "(N, " + ", ".join("any" if d is None else str(d) for d in shape) + ")"


def _split_pair(data):
    """`(x, y, split)` of a data set, an `(x, y)` pair, or inputs alone."""
    for attribute in ("images", "audio"):
        if hasattr(data, attribute):
            return getattr(data, attribute), getattr(data, "labels", None), getattr(data, "split", "held-out")
    if isinstance(data, tuple) and len(data) == 2:
        return data[0], data[1], "held-out"
    return data, None, "held-out"


def _named_inputs(x, names, what):
    """`x` as `{input name: value}` for a model whose inputs are `names`."""
    if isinstance(x, dict):
        unknown, missing = sorted(set(x) - set(names)), [n for n in names if n not in x]
        if unknown or missing:
            raise InvalidInputError(f"{what} must hold one array per model input, named {names}. Received the names "
                                    f"{sorted(x)} (missing {missing}, unknown {unknown}).")
        return {name: x[name] for name in names}
    if isinstance(x, list):
        if len(x) != len(names):
            raise InvalidInputError(f"{what} must hold one array per model input ({len(names)}: {names}). "
                                    f"Received a list of {len(x)}. Pass a dict by input name.")
        return dict(zip(names, x))
    if len(names) != 1:
        raise InvalidInputError(f"The model takes {len(names)} inputs {names}; {what} must be a dict by input name or "
                                f"a list in that order. Received: {type(x).__name__}.")
    return {names[0]: x}


def _checked_array(value, shape, where):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise InvalidInputError(f"{where} must hold numbers. Received: dtype={array.dtype}. Text must be turned into "
                                "token ids before the model (`deepedge.tokenizers`); strings do not run on device.")
    fits = array.ndim == len(shape) + 1 and all(d is None or d == a for d, a in zip(shape, array.shape[1:]))
    if not fits:
        raise InvalidInputError(f"{where} must have shape {_shape_text(shape)}, one row per example. Received: "
                                f"shape={array.shape}.")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidInputError(f"{where} holds NaN or infinite values.")
    return array


def _check_targets(y, count, output_names, what):
    if isinstance(y, dict):
        unknown = sorted(set(y) - set(output_names))
        if unknown:
            raise InvalidInputError(f"The targets of {what} are named after the model's outputs {output_names}. "
                                    f"Received unknown names {unknown}.")
        targets = {name: np.asarray(value) for name, value in y.items()}
    else:
        targets = {output_names[0]: np.asarray(y)}
    for name, value in targets.items():
        if value.ndim == 0 or len(value) != count:
            raise InvalidInputError(f"{what} has {count} examples but {len(value) if value.ndim else 0} targets for "
                                    f"output {name!r}. Pass one target per example.")
    return targets if isinstance(y, dict) else targets[output_names[0]]


def as_model_data(data, specs, output_names, what, needs_targets=False):
    """`data` as `ModelData` for a model whose inputs are `specs` (`[{"name", "shape"}]`, the
    raw per-example shape, None for a free dimension); raises `InvalidInputError` naming `what`
    (`"calibration_data"`) and the array that is wrong."""
    if isinstance(data, ModelData):
        return data
    x, y, split = _split_pair(data)
    names = [spec["name"] for spec in specs]
    named = _named_inputs(x, names, what)
    inputs = {spec["name"]: _checked_array(named[spec["name"]], spec["shape"], f"{what}[{spec['name']!r}]")
              for spec in specs}
    counts = {name: len(array) for name, array in inputs.items()}
    if len(set(counts.values())) > 1:
        raise InvalidInputError(f"Every input of {what} must have one row per example; the counts differ: {counts}.")
    count = next(iter(counts.values()))
    if count == 0:
        raise InvalidInputError(f"{what} holds no examples. Pass real examples (a few hundred for calibration).")
    if needs_targets and y is None:
        raise InvalidInputError(f"{what} must be an (x, y) pair (or a data set with labels) to measure the metric on. "
                                f"Received inputs without targets ({type(data).__name__}).")
    targets = None if y is None else _check_targets(y, count, output_names, what)
    return ModelData(inputs, targets, split)


__all__ = ["ModelData", "as_model_data"]
