"""`diagnose`: every reason a Keras model will not export to builtin-only int8, found before converting.

It walks the model's layers (or, for a `.keras` file Keras cannot load in safe mode, the
layer configs inside the file) and lists, at once, each problem with the layer, what is wrong
and what to do: recurrent layers over whole sequences (their int8 calibration crashes the
converter), free input dimensions, string inputs and text layers with no builtin kernel,
half-precision policies, Lambda layers, front ends whose ops stay float, custom layers. With
`convert=True` it also converts the model to float32 with builtin ops only and lists every
TensorFlow op that would need Flex, with the layer using it. `export_model` runs the same
checks first and stops on the errors.
"""

import dataclasses
import json
import zipfile

from deepedge.errors import ConversionError, InvalidInputError, ModelFileError
from deepedge.export.advice import FLOAT_FALLBACK, RECURRENT, TEXT, advice_for

RECURRENT_LAYERS = ("LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
TEXT_LAYERS = ("TextVectorization", "StringLookup", "IntegerLookup", "Hashing", "HashedCrossing")
FRONT_ENDS = ("MelSpectrogram", "STFTSpectrogram")
HALF_PRECISION = ("float16", "bfloat16")
FLOAT32 = ("Rebuild the model under float32 (`keras.config.set_dtype_policy('float32')` before building it) and copy "
           "the weights over (`float32_model.set_weights(model.get_weights())`).")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason the model will not export (`error`), or will with a cost (`warning`), or a
    thing to check (`note`)."""

    severity: str
    layer: str | None
    what: str
    fix: str

    def __str__(self):
        where = f"layer {self.layer!r}: " if self.layer else ""
        return f"[{self.severity}] {where}{self.what} Fix: {self.fix}"


@dataclasses.dataclass(frozen=True)
class _Layer:
    """What the checks read of a layer, from the layer itself or from its config in a file."""

    class_name: str
    name: str
    config: dict
    module: str


def _policy(config):
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        return str((dtype.get("config") or {}).get("name", ""))
    return str(dtype or "")


def _input_problems(layer):
    shape = layer.config.get("batch_shape") or layer.config.get("batch_input_shape") or []
    dtype = str(layer.config.get("dtype") or "float32")
    if isinstance(layer.config.get("dtype"), dict):
        dtype = _policy(layer.config)
    problems = []
    if dtype == "string":
        problems.append(Problem("error", layer.name, "takes strings; LiteRT builtins have no string ops.", TEXT))
    elif dtype in HALF_PRECISION + ("float64", "complex64", "complex128"):
        problems.append(Problem("error", layer.name, f"takes {dtype} values; the int8 export takes float32 or "
                                                      "integer inputs.", FLOAT32 if dtype in HALF_PRECISION else
                                "Make the input float32 (`keras.Input(..., dtype='float32')`)."))
    free = [i + 1 for i, d in enumerate(shape[1:]) if d is None]
    if free:
        problems.append(Problem("warning", layer.name, f"has free dimension(s) {free} in shape {tuple(shape)}; the "
                                                        "exported model has static shapes.",
                                "The export fixes them to the calibration data's sizes: pad or cut inputs to "
                                "one length (or declare it in `keras.Input(shape=...)`)."))
    return problems


def _layer_problems(layer, int8=True):
    """The problems of one layer (from its class name and config) for an int8 export (`int8`) or a
    float one."""
    kind, name, config = layer.class_name, layer.name, layer.config
    if kind == "InputLayer":
        return _input_problems(layer)
    problems = []
    if kind in RECURRENT_LAYERS and not config.get("unroll"):
        problems.append(Problem("error" if int8 else "warning", name, f"{kind} runs over a whole sequence "
                                "(unroll=False): a WHILE loop, which converts in float but not to int8.", RECURRENT))
    elif kind in TEXT_LAYERS:
        problems.append(Problem("error", name, f"{kind} uses string or hash-table ops with no builtin kernel.", TEXT))
    elif kind in FRONT_ENDS:
        problems.append(Problem("warning", name, f"{kind} converts (RFFT2D, LOG), but those ops have no int8 kernel: "
                                                 "they run in float between QUANTIZE and DEQUANTIZE ops, and an 8-bit "
                                                 "front end lost 6-13 accuracy points in a trial.",
                                f"Keep the whole front end in float: `float_layers=[{name!r}]`."))
    elif kind == "Lambda":
        problems.append(Problem("warning", name, "is a Lambda layer: Python code that a .keras file keeps only as "
                                                 "bytecode, which safe mode refuses to load.",
                                "Rewrite it as a Layer subclass using keras.ops, registered with "
                                "`@keras.saving.register_keras_serializable()`."))
    elif not layer.module.startswith("keras"):
        problems.append(Problem("note", name, f"{kind} is a custom layer ({layer.module}): it converts only if its "
                                              "`call` uses ops with builtin kernels.",
                                "Run `deepedge doctor MODEL --convert` to convert it once in float and list any op "
                                "that needs Flex."))
    if _policy(config).split("_")[-1] in HALF_PRECISION:
        problems.append(Problem("error", name, f"computes in {_policy(config)}; the converter has no builtin "
                                               "half-precision Conv2D/MatMul kernels.", FLOAT32))
    return problems


def _layers_of(model):
    """`_Layer`s of every layer of a built model; a Bidirectional wrapper stands for its two RNNs."""
    result, inner = [], set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if id(layer) in inner:
            continue
        try:
            config = layer.get_config()
        except (NotImplementedError, TypeError, ValueError):
            config = {}
        kind = type(layer).__name__
        if kind == "Bidirectional":
            inner |= {id(sub) for sub in layer._flatten_layers(include_self=False, recursive=True)}
            kind, config = type(layer.forward_layer).__name__, {**layer.forward_layer.get_config(),
                                                                 "dtype": config.get("dtype")}
        result.append(_Layer(kind, layer.name, config, type(layer).__module__))
    return result


def _layers_in_config(config):
    """`_Layer`s of every layer config nested in a `.keras` file's `config.json`."""
    found = []
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(config.get("class_name"), str) and isinstance(inner, dict) and isinstance(inner.get("name"), str):
            found.append(_Layer(config["class_name"], inner["name"], inner, str(config.get("module") or "keras")))
        for value in config.values():
            found += _layers_in_config(value)
    elif isinstance(config, list):
        for value in config:
            found += _layers_in_config(value)
    return found


def _conversion_problems(model):
    """Converts the model once in float32, builtin ops only; each op needing Flex is an error."""
    from deepedge.export.convert import convert_signatures, ops_by_layer
    from deepedge.export.keras_model import KerasModelTask

    try:
        task = KerasModelTask(model)
    except InvalidInputError as e:
        return [Problem("note", None, f"The float conversion check was skipped: {e}",
                        "Export it with calibration data.")]
    free = [spec["name"] for spec in task.inputs if None in spec["shape"]]
    if free:
        return [Problem("note", None, f"The float conversion check was skipped: inputs {free} have free dimensions.",
                        "Declare their sizes in `keras.Input(shape=...)`, or export with calibration data.")]
    try:
        convert_signatures(task.edge_signatures(), "float32")
    except ConversionError as e:
        if not e.ops:
            return [Problem("error", None, str(e), FLOAT_FALLBACK)]
        return [Problem("error", layer, f"uses TensorFlow op(s) {', '.join(ops)} with no builtin LiteRT kernel "
                                        "(they would need Flex).", " ".join(advice_for(ops)))
                for layer, ops in ops_by_layer(e.ops).items()]
    return []


def diagnose(model, convert=False, quantization="int8"):
    """Every problem of `model` (a built `keras.Model`) for a builtin-only export, at once.

    Args:
        model: the Keras model.
        convert: bool. Also convert it once to float32 with builtin ops only and list each
            TensorFlow op that would need Flex, with its layer (seconds to a minute).
        quantization: the export's quantization; a recurrent loop stops only an int8 export.

    Returns:
        A list of `Problem`s, errors first.
    """
    if not getattr(model, "built", False):
        return [Problem("error", None, f"{type(model).__name__} {model.name!r} is not built.",
                        "Call it on a batch (or build it with an input shape) before exporting.")]
    problems = [p for layer in _layers_of(model) for p in _layer_problems(layer, quantization == "int8")]
    if convert and not any(p.severity == "error" and p.fix == FLOAT32 for p in problems):
        problems += _conversion_problems(model)
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(problems, key=lambda p: order[p.severity])


def diagnose_file(path, convert=False):
    """`(model or None, problems)` for a `.keras` file, loaded in safe mode. A file Keras cannot
    load that way (a Lambda layer, an unregistered custom class) is diagnosed from its config."""
    from deepedge.backend import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises ValueError, TypeError, zipfile errors...
        try:
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as read_error:
            raise ModelFileError(f"{path} is not a readable .keras file ({read_error}). Save the model with "
                                 "`model.save('model.keras')`.") from read_error
        found = [p for layer in _layers_in_config(config) for p in _layer_problems(layer)]
        found = [Problem("error" if p.what.startswith("is a Lambda") else p.severity, p.layer, p.what, p.fix)
                 for p in found]
        reason = " ".join(str(e).split()).split(". ")[0][:400].rstrip(".")
        return None, [Problem("error", None, f"Keras cannot load the file in safe mode: {reason}",
                              "Replace Lambda layers and register custom classes "
                              "(`@keras.saving.register_keras_serializable()`), then save the model again."), *found]
    if not isinstance(model, keras.Model):
        raise InvalidInputError(f"{path} holds a {type(model).__name__}, not a keras.Model.")
    return model, diagnose(model, convert)


def format_problems(problems):
    """The problems as one paragraph per line, for an error message or the terminal."""
    return "\n".join(f"{i}. {problem}" for i, problem in enumerate(problems, 1))


__all__ = ["Problem", "diagnose", "diagnose_file", "format_problems"]
