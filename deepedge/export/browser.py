"""Browser variants: the same int8 network with uint8 or float32 tensors at its boundary.

LiteRT.js (the LiteRT runtime compiled to WebAssembly, `deepedge serve`) takes float32, int32
and uint8 tensors only; a model with int8 inputs or outputs fails to load there ("Element
type INT8 is not supported"). A browser variant keeps every op, weight and quantization
parameter of the shipped `model.tflite` and only adds one op per int8 boundary tensor, as the
converter's `inference_input_type`/`inference_output_type` do:

- `io="uint8"`: a QUANTIZE op requantizes the uint8 input to int8 (same scale, zero point
  + 128, so the int8 values are bit for bit those the shipped model sees) and another
  requantizes each int8 output to uint8 (again + 128: `uint8 - 128` is the int8 output).
- `io="float32"`: QUANTIZE takes float32 in, DEQUANTIZE gives float32 out.

The variant is written as `model_browser.tflite` beside `model.tflite` and recorded in
`model.json` under `"browser"` (file, io, SHA-256, size, inputs and outputs); `model.tflite`
and the metrics measured at export stay as they were.
"""

import copy
from pathlib import Path

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.export.rewrite import opcode_index

BROWSER_TFLITE_NAME = "model_browser.tflite"
BROWSER_IO = ("uint8", "float32")

_CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")
_ACTIVATIONS = ("LOGISTIC", "RELU", "RELU6", "TANH", "HARD_SWISH")
FEATURE_MAPS = "feature_maps"


def needs_browser_variant(meta):
    """Whether a model described by `meta` (model.json) has a boundary tensor LiteRT.js refuses."""
    from deepedge.web.server import unsupported_tensors

    return bool(unsupported_tensors(meta))


def _boundary_tensor(subgraph, index, io, schema):
    """Appends the uint8/float32 twin of the int8 tensor `index`; returns the new index."""
    inner = subgraph.tensors[index]
    outer = copy.deepcopy(inner)
    outer.buffer = 0  # the empty buffer: an activation, not a constant
    if io == "uint8":
        outer.type = schema.TensorType.UINT8
        outer.quantization.zeroPoint = [z + 128 for z in inner.quantization.zeroPoint]
    else:
        outer.type = schema.TensorType.FLOAT32
        outer.quantization = None
    name = inner.name.decode() if isinstance(inner.name, bytes) else inner.name
    inner.name = f"{name}_int8"
    subgraph.tensors.append(outer)
    return len(subgraph.tensors) - 1


def _operator(opcode, inputs, outputs, schema, quantize):
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = opcode, [inputs], [outputs]
    op.builtinOptionsType = schema.BuiltinOptions.QuantizeOptions if quantize else \
        schema.BuiltinOptions.DequantizeOptions
    op.builtinOptions = schema.QuantizeOptionsT() if quantize else schema.DequantizeOptionsT()
    return op


def _first_feature_maps(model, subgraph, schema):
    """The index of the first convolution's output (after its activation when that is a separate
    op, as LeNet-5's tanh is), or None for a model without a convolution."""
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    convolutions = {getattr(schema.BuiltinOperator, name) for name in _CONVOLUTIONS}
    activations = {getattr(schema.BuiltinOperator, name) for name in _ACTIVATIONS}
    for position, op in enumerate(subgraph.operators):
        if codes[op.opcodeIndex] in convolutions:
            index = op.outputs[0]
            following = subgraph.operators[position + 1] if position + 1 < len(subgraph.operators) else None
            separate_activation = following is not None and codes[following.opcodeIndex] in activations
            if separate_activation and list(following.inputs) == [index]:
                index = following.outputs[0]
            return index if subgraph.tensors[index].type == schema.TensorType.INT8 else None
    return None


def _add_feature_maps(model, io, quantize, dequantize, schema):
    """Adds the first convolution's feature maps as an output `feature_maps` of the first
    signature (requantized like the other outputs): what the page draws; the network is unchanged."""
    subgraph = model.subgraphs[0]
    index = _first_feature_maps(model, subgraph, schema)
    if index is None:
        raise ModelFileError("The model has no int8 convolution whose feature maps could be shown. Leave out "
                             "--feature-maps for it.")
    outer = _boundary_tensor(subgraph, index, io, schema)
    inner = subgraph.tensors[index]
    inner.name = inner.name[:-len("_int8")]  # an activation inside the network keeps its name
    subgraph.tensors[outer].name = FEATURE_MAPS
    subgraph.outputs = [*subgraph.outputs, outer]
    subgraph.operators.append(_operator(dequantize, index, outer, schema, io == "uint8"))
    entry = schema.TensorMapT()
    entry.name, entry.tensorIndex = FEATURE_MAPS, outer
    signature = next(s for s in model.signatureDefs if s.subgraphIndex == 0)
    signature.outputs = [*signature.outputs, entry]


def browser_flatbuffer(flatbuffer, io="uint8", feature_maps=False):
    """The browser variant of a LiteRT flatbuffer (bytes in, bytes out); see the module doc.

    With `feature_maps`, the first convolution's activations are an extra output,
    `feature_maps`, of the first signature (the page draws them).

    Raises:
        InvalidInputError: `io` is not one of `BROWSER_IO`.
        ModelFileError: the model has no int8 boundary tensor (it runs in the browser as it is).
    """
    # TensorFlow's flatbuffer tools: they write the buffers back as the converter laid them out
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    if io not in BROWSER_IO:
        raise InvalidInputError(f"A browser variant takes {' or '.join(BROWSER_IO)} tensors at its boundary. "
                                f"Received: io={io!r}. Pass --io uint8 (raw pixels) or --io float32.")
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    int8 = schema.TensorType.INT8
    # version 2: QUANTIZE requantizes int8 <-> uint8; DEQUANTIZE reads int8
    quantize = opcode_index(model, schema.BuiltinOperator.QUANTIZE, schema, version=2)
    dequantize = quantize if io == "uint8" else opcode_index(model, schema.BuiltinOperator.DEQUANTIZE, schema,
                                                             version=2)
    changed = 0
    for number, subgraph in enumerate(model.subgraphs):
        moved = {}
        for position, index in enumerate(subgraph.inputs):
            if subgraph.tensors[index].type == int8:
                outer = moved[index] = _boundary_tensor(subgraph, index, io, schema)
                subgraph.inputs[position] = outer
                subgraph.operators.insert(0, _operator(quantize, outer, index, schema, True))
        for position, index in enumerate(subgraph.outputs):
            if subgraph.tensors[index].type == int8:
                outer = moved[index] = _boundary_tensor(subgraph, index, io, schema)
                subgraph.outputs[position] = outer
                subgraph.operators.append(_operator(dequantize, index, outer, schema, io == "uint8"))
        for signature in model.signatureDefs or []:
            if signature.subgraphIndex == number:
                for entry in list(signature.inputs or []) + list(signature.outputs or []):
                    entry.tensorIndex = moved.get(entry.tensorIndex, entry.tensorIndex)
        changed += len(moved)
    if not changed:
        raise ModelFileError("The model has no int8 input or output, so LiteRT.js runs it as it is; no browser "
                             "variant is needed. Serve model.tflite (`deepedge serve`).")
    if feature_maps:
        _add_feature_maps(model, io, quantize, dequantize, schema)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def add_browser_variant(folder, io="uint8", feature_maps=False):
    """Writes `model_browser.tflite` (atomically) beside `folder/model.tflite` and records it in
    `folder/model.json` under `"browser"`; nothing else changes. Returns the `"browser"` entry."""
    from deepedge.fileio import atomic_write_bytes, atomic_write_json
    from deepedge.runtime import io_metadata, signature_io
    from deepedge.runtime.metadata import read_metadata, resolve_model_paths, sha256_of

    tflite, json_path = resolve_model_paths(Path(folder))
    meta = read_metadata(json_path, tflite)
    data = browser_flatbuffer(tflite.read_bytes(), io, feature_maps)
    target = tflite.with_name(BROWSER_TFLITE_NAME)
    atomic_write_bytes(target, data)
    specs = io_metadata(target)
    entry = {"file": BROWSER_TFLITE_NAME, "io": io, "sha256": sha256_of(target), "size_bytes": len(data),
             "inputs": specs["inputs"], "outputs": specs["outputs"],
             "signature_io": signature_io(target),
             "note": "the int8 network of model.tflite, with QUANTIZE/DEQUANTIZE ops at its boundary for LiteRT.js"
             + ("; the first convolution's activations are an extra output, feature_maps" if feature_maps else "")}
    meta["browser"] = entry
    atomic_write_json(json_path, meta)
    return entry


__all__ = ["BROWSER_IO", "BROWSER_TFLITE_NAME", "FEATURE_MAPS", "add_browser_variant", "browser_flatbuffer",
           "needs_browser_variant"]
