"""Export a deepedge task to LiteRT: builtin ops only, int8 by default, parity checked.

`export(task, path, quantization="int8", calibration_data=..., evaluation_data=...)`
converts the task with a batch of one, refuses anything that would need Flex or custom
ops (naming the layer and the op), measures the task metric of the float Keras model and
of the exported model on held-out data, and writes `model.tflite` and `model.json` only
when the exported model is within the family's parity threshold (or `force=True`).
"""

import contextlib
import io
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from deepedge.backend import keras, tf
from deepedge.edge.metadata import FORMAT_VERSION, METADATA_NAME, TFLITE_NAME, sha256_of
from deepedge.errors import ConversionError, InvalidInputError, ParityError
from deepedge.fileio import atomic_write_bytes, atomic_write_json
from deepedge.quiet import native_output_silenced

QUANTIZATIONS = ("int8", "float16", "dynamic", "float32")


def _normalise_quantization(quantization):
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


def _layer_for_op(error_text, model):
    """The Keras layer named in a converter error's op location, if any."""
    names = {layer.name for layer in model._flatten_layers(include_self=False, recursive=True)}
    for location in re.findall(r'"([^"\s]+/[^"\s]+)"', error_text):
        for part in location.split("@")[0].split("/"):
            base = re.sub(r"_\d+$", "", part)
            if base in names:
                return base
    return None


def _converter_error(error, model):
    text = str(error)
    ops = set(re.findall(r"'tf\.(\w+)' op is neither", text))
    for listed in re.findall(r"TF Select ops: ([\w, ]+)", text):
        ops.update(op.strip() for op in listed.split(",") if op.strip())
    if not ops:
        first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        return ConversionError(f"LiteRT conversion of {model.name!r} failed: {first_line[:400]}")
    layer = _layer_for_op(text, model)
    where = f"Layer {layer!r}" if layer else "A layer of the model"
    return ConversionError(
        f"{where} uses TensorFlow op(s) {', '.join(sorted(ops))}, which LiteRT has no builtin kernel "
        "for. deepedge exports builtin ops only (no Flex, no custom ops), so nothing was written. "
        "Rewrite that layer with keras.ops that map to TFLite builtins.")


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
    quantization = _normalise_quantization(quantization)
    representative_dataset = None
    if quantization == "int8":
        if calibration_inputs is None or len(calibration_inputs) == 0:
            raise InvalidInputError("int8 export needs calibration inputs: real training samples "
                                    "(pass `calibration_data=`). Received none.")
        samples = np.asarray(calibration_inputs[:num_calibration], np.float32)

        def one_by_one():
            for sample in samples:
                yield [sample[None]]

        representative_dataset = one_by_one
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantization == "int8" and float_layers:
        return _convert_keeping_float(lambda: tf.lite.TFLiteConverter.from_keras_model(model), model, float_layers,
                                      representative_dataset)
    return _run_converter(converter, quantization, representative_dataset, model, int8_io=True)


def _tensors_of_layers(flatbuffer, layers):
    """Names of the tensors a converted model computes inside the Keras layers `layers`."""
    from ai_edge_litert.interpreter import Interpreter

    with native_output_silenced():
        interpreter = Interpreter(model_content=flatbuffer)
    patterns = [re.compile(rf"(^|/){re.escape(name)}(_\d+)?/") for name in layers]

    def inside(name):
        return any(p.search(part) for part in name.split(";") for p in patterns)

    names = {d["name"] for d in interpreter.get_tensor_details() if inside(d["name"])}
    # An op whose output is a model output carries the signature's name, not the layer's: it is
    # found by its weights.
    every = {d["name"] for d in interpreter.get_tensor_details()}
    for op in interpreter._get_ops_details():
        if any(i >= 0 and inside(interpreter._get_tensor_details(i, 0)["name"]) for i in op["inputs"]):
            for o in op["outputs"]:
                name = interpreter._get_tensor_details(o, 0)["name"]
                names.add(name)
                # The quantizer names the int8 copy of a float output "<name>1"; the node to keep
                # in float is the original.
                if name.endswith("1") and name[:-1] in every:
                    names.add(name[:-1])
    return sorted(names)


def _convert_keeping_float(make_converter, model, float_layers, representative_dataset):
    """int8 everywhere except `float_layers` (a front end whose 8-bit version loses accuracy).

    The model is converted once with float fallback to learn the names of those layers'
    tensors, then again through LiteRT's selective quantization (`QuantizationDebugger`
    with those nodes deny-listed): they keep float32 weights and activations, a QUANTIZE op
    follows them, and everything after runs in int8. Inputs and outputs stay float32.

    Args:
        make_converter: callable returning a fresh `TFLiteConverter` for the model.
    """
    first = _run_converter(make_converter(), "int8", representative_dataset, model, int8_io=False, strict_int8=False)
    nodes = _tensors_of_layers(first, float_layers)
    if not nodes:
        raise ConversionError(f"No tensors of the layers {list(float_layers)} in the converted {model.name!r}; "
                              "cannot keep them in float. Check the layer names.")
    converter = make_converter()
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=nodes)
    try:
        with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()):
            debugger = tf.lite.experimental.QuantizationDebugger(
                converter=converter, debug_dataset=representative_dataset, debug_options=options)
            return debugger.get_nondebug_quantized_model()
    except Exception as e:
        raise _converter_error(e, model) from e


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
        outputs = model(list(tensors), training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(output_names, outputs))

    return signature


def convert_signatures(signatures, quantization="int8", calibration_samples=None, float_layers=()):
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
    """
    quantization = _normalise_quantization(quantization)
    with tempfile.TemporaryDirectory() as tmp:
        archive = keras.export.ExportArchive()
        for name, signature in signatures.items():
            archive.track(signature["model"])
            archive.add_endpoint(name, _signature_function(signature["model"], signature["inputs"],
                                                           signature["outputs"]))
        with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()):
            archive.write_out(tmp, verbose=False)
        if quantization == "int8" and not calibration_samples:
            raise InvalidInputError("int8 export needs calibration samples from real data. Received none.")
        model = next(iter(signatures.values()))["model"]
        if quantization == "int8" and float_layers:
            return _convert_keeping_float(
                lambda: tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=list(signatures)), model,
                float_layers, lambda: iter(calibration_samples))
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=list(signatures))
        return _run_converter(converter, quantization, lambda: iter(calibration_samples), model, int8_io=False)


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


def export(task, path, quantization="int8", calibration_data=None, evaluation_data=None,
           force=False, max_drop=None, num_calibration=None, latency_runs=1000, extra_metadata=None):
    """Exports `task` into the folder `path` as `model.tflite` + `model.json`.

    Args:
        task: a deepedge task (for example `ImageClassifier`).
        path: output folder; created if needed. Existing files there are replaced only when
            the export succeeds.
        quantization: `"int8"` (default), `"float16"`, `"dynamic"` or `"float32"`/None.
        calibration_data: real training samples for int8 calibration (a data set with
            `.images`, or an array of raw inputs).
        evaluation_data: held-out data (`.images`/`.labels`, or an `(x, y)` tuple) on which
            the task metric of the float Keras model and of the exported model are compared.
        force: bool. Write the files even when the exported model fails the parity check.
        max_drop: float. Largest allowed metric drop, in the metric's points; defaults to the
            family's threshold (`task.parity_threshold`).

    Returns:
        The `model.json` contents as a dict.
    """
    from deepedge.edge.bench import measure_latency
    from deepedge.edge.runtime import io_metadata, load

    from deepedge.edge.runtime import signature_io

    quantization = _normalise_quantization(quantization)
    path = Path(path)
    started = time.perf_counter()
    stepwise = hasattr(task, "edge_signatures")
    if stepwise:  # recurrent models: one signature per entry point, state carried by the runtime
        signatures = task.edge_signatures()
        samples = (task.calibration_samples(calibration_data, **({"num_samples": num_calibration}
                                                                   if num_calibration else {}))
                   if quantization == "int8" and calibration_data is not None else None)
        flatbuffer = convert_signatures(signatures, quantization, samples,
                                        float_layers=getattr(task, "edge_float_layers", ()))
    else:
        if hasattr(task, "edge_calibration_inputs"):  # tasks whose raw inputs need scaling (int16 audio)
            calibration_inputs = task.edge_calibration_inputs(calibration_data)
        else:
            calibration_inputs = getattr(calibration_data, "images", calibration_data)
        flatbuffer = convert(single_batch_model(task), quantization, calibration_inputs, num_calibration or 500,
                             float_layers=getattr(task, "edge_float_layers", ()))
    flatbuffer = compact_tensor_names(flatbuffer)
    convert_seconds = time.perf_counter() - started
    ops, gpu_rejected = analyze_ops(flatbuffer)
    meta = {
        "format_version": FORMAT_VERSION,
        "task": task.task_name,
        "family": task.family,
        "name": path.name,
        "quantization": quantization,
        **task.edge_metadata(),
        "ops": sorted(set(ops)),
        "op_count": len(ops),
        "gpu_delegate": {"incompatible_ops": gpu_rejected,
                         "compatible_op_count": sum(op not in gpu_rejected for op in ops)},
        "size_bytes": len(flatbuffer),
        "convert_seconds": round(convert_seconds, 2),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_tflite = Path(tmp) / TFLITE_NAME
        tmp_tflite.write_bytes(flatbuffer)
        meta["tflite_sha256"] = sha256_of(tmp_tflite)
        meta.update(io_metadata(tmp_tflite))
        if stepwise:
            sig_io = signature_io(tmp_tflite)
            meta["signature_io"] = sig_io
            meta["state"] = {name: sig["state"] for name, sig in signatures.items() if "state" in sig}
            first = next(iter(signatures))
            meta["inputs"], meta["outputs"] = sig_io[first]["inputs"], sig_io[first]["outputs"]
        atomic_write_json(Path(tmp) / METADATA_NAME, meta)
        runtime = load(tmp, num_threads=1)
        signature = next(iter(signatures)) if stepwise else None
        meta["latency_us"] = {**measure_latency(runtime.interpreter, runs=latency_runs, signature=signature),
                              "threads": 1, **({"signature": signature} if signature else {})}
        if evaluation_data is not None:
            meta["metrics"] = _parity(task, runtime, evaluation_data, quantization, force, max_drop)
    if extra_metadata:
        meta.update(extra_metadata)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path / TFLITE_NAME, flatbuffer)
    atomic_write_json(path / METADATA_NAME, meta)
    return meta


def _num_examples(task, data):
    if hasattr(data, "labels"):
        return int(len(data.labels))
    if hasattr(data, "texts"):  # spoken sentences
        return int(len(data.texts))
    if hasattr(task, "tokenizer"):
        from deepedge.edge.decoding import as_token_ids

        return int(len(as_token_ids(task.tokenizer, data)))
    return int(len(data[1]))


def _parity(task, runtime, evaluation_data, quantization, force, max_drop):
    # Tasks whose runtime feeds the model differently (tiles) are compared the same way.
    keras_value = getattr(task, "evaluate_metric_as_exported", task.evaluate_metric)(evaluation_data)
    edge_value = runtime.evaluate_metric(evaluation_data)
    higher_is_better = task.metric_higher_is_better
    drop = (keras_value - edge_value) if higher_is_better else (edge_value - keras_value)
    relative = getattr(task, "parity_relative", False)
    if relative:  # e.g. perplexity: the allowed loss is a percentage of the float figure
        drop = 100.0 * drop / keras_value
    threshold = task.parity_threshold if max_drop is None else max_drop
    metrics = {
        "metric": task.metric_name,
        "split": getattr(evaluation_data, "split", "held-out"),
        "examples": _num_examples(task, evaluation_data),
        "keras_float": round(keras_value, 4),
        f"litert_{quantization}": round(edge_value, 4),
        "drop": round(drop, 4),
        "drop_unit": "percent" if relative else "points",
        "max_drop": threshold,
        "passed": bool(drop <= threshold),
    }
    if not metrics["passed"] and not force:
        raise ParityError(
            f"The {quantization} model's {task.metric_name} is {edge_value:.2f}, the float Keras model's "
            f"{keras_value:.2f}: a loss of {drop:.2f} {'percent' if relative else 'points'}, more than the "
            f"{threshold} allowed. Nothing "
            "was written. Calibrate on more (or more representative) training samples, train longer, "
            "or pass force=True (`--force`) to write it anyway.")
    return metrics
