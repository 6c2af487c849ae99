"""Keras -> LiteRT conversion with builtin ops only: one model, or several step-wise signatures.

`convert` and `convert_signatures` refuse anything that would need Flex or custom ops
(naming the layer and the op), quantize to int8 with real calibration samples (keeping named
layers in float where asked), and return the flatbuffer; `analyze_ops` lists its ops and
those the GPU delegate rejects. `deepedge.export.exporter.export` builds on them.
"""

import contextlib
import io
import re
import tempfile

import numpy as np

from deepedge.backend import keras, tf
from deepedge.errors import ConversionError, InvalidInputError
from deepedge.quiet import native_output_silenced

QUANTIZATIONS = ("int8", "float16", "dynamic", "float32")


def normalise_quantization(quantization):
    quantization = "float32" if quantization in (None, "none", "float") else quantization
    if quantization not in QUANTIZATIONS:
        raise InvalidInputError(f"Unknown quantization. Expected one of {QUANTIZATIONS}. "
                                f"Received: quantization={quantization!r}")
    return quantization


def single_batch_model(task):
    """The task behind fixed batch-1 inputs: static shapes, no SHAPE/PACK ops for Flatten.

    A task that takes any image size (`SceneLabeller`) names its export size in
    `edge_input_shape`.
    """
    fixed = getattr(task, "edge_input_shape", None)
    inputs = [keras.Input(shape=fixed if fixed and len(task.inputs) == 1 else t.shape[1:], batch_size=1,
                          dtype=t.dtype, name=t.name.split(":")[0])
              for t in task.inputs]
    outputs = task(inputs[0] if len(inputs) == 1 else inputs, training=False)
    return keras.Model(inputs, outputs, name=f"{task.name}_edge")


def _layer_in(location, names):
    """The innermost Keras layer (of `names`) on a converter error's op location
    ("functional_1/wave_1/Erf@__inference_..."), or None. Tracing suffixes scopes with `_1`."""
    parts = location.split("@")[0].split("/")[:-1]
    for part in reversed(parts):
        for candidate in (re.sub(r"_\d+$", "", part), part):
            if candidate in names:
                return candidate
    return None


def unsupported_ops(error_text, model):
    """`{TensorFlow op: the layer using it, or None}` for every op a converter error says has no
    builtin kernel."""
    names = {layer.name for layer in model._flatten_layers(include_self=False, recursive=True)}
    found = {}
    for location, op in re.findall(r"error: loc\((.*?)\): '(?:tf|tfl)\.(\w+)' op is neither", error_text):
        paths = re.findall(r'"([^"\s]+/[^"\s]+)"', location)
        found.setdefault(op, next((layer for path in paths if (layer := _layer_in(path, names))), None))
    for listed in re.findall(r"TF Select ops: ([\w, ]+)", error_text):
        for op in (op.strip() for op in listed.split(",")):
            if op:
                found.setdefault(op, None)
    return found


def ops_by_layer(ops):
    """`{layer or None: [ops]}` from `unsupported_ops`'s `{op: layer}`, ops sorted."""
    grouped = {}
    for op, layer in sorted(ops.items()):
        grouped.setdefault(layer, []).append(op)
    return grouped


def _converter_error(error, model):
    from deepedge.export.advice import advice_for

    text = str(error)
    ops = unsupported_ops(text, model)
    if not ops:
        first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        return ConversionError(f"LiteRT conversion of {model.name!r} failed: {first_line[:400]}")
    uses = "; ".join(f"{f'layer {layer!r}' if layer else 'a layer of the model'} uses TensorFlow op(s) "
                     f"{', '.join(layer_ops)}" for layer, layer_ops in ops_by_layer(ops).items())
    return ConversionError(
        f"{uses[0].upper()}{uses[1:]}, which LiteRT has no builtin kernel for. deepedge exports builtin ops only "
        f"(no Flex, no custom ops), so nothing was written. What to do: {' '.join(advice_for(ops))}", ops=ops)


def representative_inputs(calibration_inputs, num_calibration=500, model=None):
    """The converter's representative dataset for a one-input model: the first `num_calibration`
    real inputs, one at a time with a batch of one, in `model`'s input dtype (int32 token ids
    stay integers; float32 without a model)."""
    if calibration_inputs is None or len(calibration_inputs) == 0:
        raise InvalidInputError("int8 export needs calibration inputs: real training samples "
                                "(pass `calibration_data=`). Received none.")
    dtype = "float32" if model is None else keras.backend.standardize_dtype(model.inputs[0].dtype)
    samples = np.asarray(calibration_inputs[:num_calibration], dtype)

    def one_by_one():
        for sample in samples:
            yield [sample[None]]

    return one_by_one


def convert(model, quantization="int8", calibration_inputs=None, num_calibration=500, float_layers=()):
    """Converts a Keras model to a LiteRT flatbuffer with builtin ops only; returns bytes.

    Args:
        model: a Keras model with a fixed batch of one (see `single_batch_model`).
        quantization: `"int8"` (int8 weights, activations, input and output), `"float16"`,
            `"dynamic"` (int8 weights, float activations) or `"float32"`.
        calibration_inputs: for int8, an array of real training inputs (raw, as the model
            takes them); the first `num_calibration` are used.
        float_layers: names of layers to keep in float32 inside an int8 model (a task's
            `edge_float_layers`, e.g. the speech front end); the model's inputs and outputs
            then stay float32 too.
    """
    quantization = normalise_quantization(quantization)
    representative_dataset = None
    if quantization == "int8":
        representative_dataset = representative_inputs(calibration_inputs, num_calibration, model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantization == "int8" and float_layers:
        return _convert_keeping_float(lambda: tf.lite.TFLiteConverter.from_keras_model(model), model, float_layers,
                                      representative_dataset)
    return _run_converter(converter, quantization, representative_dataset, model, int8_io=True)


def _tensors_of_layers(flatbuffer, layers):
    """Names of the tensors a converted model computes inside the Keras layers `layers`, in
    every signature's subgraph (a translator's encoder cells live in `encode`, not the first)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    patterns = [re.compile(rf"(^|/){re.escape(name)}(_\d+)?/") for name in layers]

    def inside(name):
        return any(p.search(part) for part in name.split(";") for p in patterns)

    names = set()
    for subgraph in model.subgraphs:
        tensor_names = [t.name.decode() if isinstance(t.name, bytes) else t.name for t in subgraph.tensors]
        names |= {name for name in tensor_names if inside(name)}
        # An op whose output is a model output carries the signature's name, not the layer's: it
        # is found by its inputs (its weights, or the layer's tensors it reads).
        outputs = {tensor_names[o] for o in subgraph.outputs}
        for op in subgraph.operators:
            if any(i >= 0 and inside(tensor_names[i]) for i in op.inputs):
                for name in (tensor_names[o] for o in op.outputs):
                    # The quantizer names the int8 copy of a float output "<name>1"; the node to
                    # keep in float is the original.
                    if name in outputs:
                        names.add(name)
                    elif name.endswith("1") and name[:-1] in outputs:
                        names |= {name, name[:-1]}
    return sorted(names)


def _convert_keeping_float(make_converter, model, float_layers, representative_dataset):
    """int8 everywhere except `float_layers` (a front end whose 8-bit version loses accuracy).

    Through LiteRT's selective quantization (`deepedge.export.selective`): those layers keep
    float32 weights and activations, a QUANTIZE op follows them, and everything after runs in
    int8. Inputs and outputs stay float32.

    Args:
        make_converter: callable returning a fresh `TFLiteConverter` for the model.
    """
    from deepedge.export.selective import SelectiveQuantizer

    return SelectiveQuantizer(make_converter, representative_dataset, model, float_layers).quantize()


def _run_converter(converter, quantization, representative_dataset, model, int8_io, strict_int8=True):
    """Sets the converter up for `quantization` with builtin ops only and converts; returns bytes.

    With `int8_io`, an int8 model also takes and returns int8 tensors (image models); without,
    float inputs and outputs stay float at the boundary (the state of step-wise models).
    Without `strict_int8`, ops with no int8 kernel fall back to float instead of failing.
    """
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        if strict_int8:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    elif quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()):
            return converter.convert()
    except Exception as e:  # ConverterError and friends; re-raised with the layer named
        raise _converter_error(e, model) from e


def _signature_function(model, input_names, output_names):
    specs = [tf.TensorSpec(t.shape, t.dtype, name=name) for t, name in zip(model.inputs, input_names)]

    @tf.function(input_signature=specs)
    def signature(*tensors):
        outputs = model(tensors[0] if len(tensors) == 1 else list(tensors), training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(output_names, outputs))

    return signature


def convert_signatures(signatures, quantization="int8", calibration_samples=None, float_layers=(), int8_io=False):
    """Converts several batch-1 Keras models into one LiteRT flatbuffer, one signature each.

    This is how recurrent models ship (DESIGN.md, edge contract 4): `step(token, *state) ->
    (logits, *state)` and, where a model has one, `encode(...)`. Weights are shared through
    the Keras layers the signature models reuse, and frozen by the Keras export.

    Args:
        signatures: `{name: {"model": keras.Model, "inputs": [names], "outputs": [names]}}`.
        quantization: as in `convert`. For int8, weights and activations are int8 while
            float inputs and outputs (the carried state) stay float32 at the boundary, so the
            runtime loop never re-quantizes its state by hand.
        calibration_samples: for int8, a list of `(signature name, {input name: array})`
            pairs drawn from real data (see `LanguageModel.calibration_samples`).
        float_layers: names of layers kept in float32 in an int8 model (see `convert`).
        int8_io: bool. For int8 without `float_layers`, float inputs and outputs become int8
            too (a model deepedge did not build, `deepedge.export.export_model`); integer
            inputs (token ids) stay as they are.
    """
    quantization = normalise_quantization(quantization)
    if quantization == "int8" and not calibration_samples:
        raise InvalidInputError("int8 export needs calibration samples from real data. Received none.")
    with saved_signatures(signatures) as make_converter:
        model = next(iter(signatures.values()))["model"]
        if quantization == "int8" and float_layers:
            return _convert_keeping_float(make_converter, model, float_layers, lambda: iter(calibration_samples))
        return _run_converter(make_converter(), quantization, lambda: iter(calibration_samples), model,
                              int8_io=int8_io)


@contextlib.contextmanager
def saved_signatures(signatures):
    """The signature models exported together as a SavedModel in a temporary folder (one
    endpoint each); yields a callable returning a fresh `TFLiteConverter` for it.

    Args:
        signatures: as in `convert_signatures`.
    """
    with tempfile.TemporaryDirectory() as tmp:
        archive = keras.export.ExportArchive()
        for name, signature in signatures.items():
            archive.track(signature["model"])
            archive.add_endpoint(name, _signature_function(signature["model"], signature["inputs"],
                                                           signature["outputs"]))
        with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()):
            archive.write_out(tmp, verbose=False)
        yield lambda: tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=list(signatures))


def compact_tensor_names(flatbuffer, max_length=64):
    """The flatbuffer with its internal tensor names shortened (inputs, outputs and signatures keep
    theirs). The converter names a fused tensor after every op fused into it, one long path
    each: a tenth of a small model's file. Nothing at run time reads them."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    for subgraph in model.subgraphs:
        keep = set(subgraph.inputs) | set(subgraph.outputs)
        for index, tensor in enumerate(subgraph.tensors):
            if index not in keep and tensor.name:
                name = tensor.name.decode() if isinstance(tensor.name, bytes) else tensor.name
                tensor.name = name.split(";")[0][-max_length:].encode()
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def analyze_ops(flatbuffer):
    """`(ops, gpu_incompatible)`: the model's op names in order, and those the GPU delegate rejects."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tf.lite.experimental.Analyzer.analyze(model_content=flatbuffer, gpu_compatibility=True)
    ops, rejected = [], set()
    lines = buffer.getvalue().splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"\s*Op#\d+ (\w+)\(", line)
        if not match:
            continue
        ops.append(match.group(1))
        following = line + (lines[i + 1] if i + 1 < len(lines) else "")
        if "GPU COMPATIBILITY WARNING" in following:
            rejected.add(match.group(1))
    custom = [op for op in ops if op.startswith("Flex") or op == "CUSTOM"]
    if custom:
        raise ConversionError(f"The converted model contains non-builtin ops {custom}; "
                              "deepedge ships builtin ops only.")
    return ops, sorted(rejected)
