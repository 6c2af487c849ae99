"""The op graph of a `.tflite` flatbuffer, read without TensorFlow.

The accelerator and memory reports need the ops of each subgraph in execution order, and each
tensor's shape, type, size and whether it is a constant (its bytes are in the file) or an
activation (it lives in the tensor arena). This reads them with the flatbuffer schema that
ships inside `ai-edge-litert`, so it works with `deepedge[edge]` alone.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

from deepedge.errors import ModelFileError

_ITEM_BYTES = {"FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "BOOL": 1, "INT16": 2,
               "COMPLEX64": 8, "INT8": 1, "FLOAT64": 8, "COMPLEX128": 16, "UINT64": 8, "UINT32": 4,
               "UINT16": 2, "BFLOAT16": 2, "INT4": 0.5}


@dataclass(frozen=True)
class Tensor:
    """One tensor of a subgraph; `bytes` counts a dynamic dimension (-1 in the signature) as 1."""

    index: int
    name: str
    shape: tuple
    dtype: str
    bytes: int
    constant: bool
    variable: bool
    dynamic: bool


@dataclass(frozen=True)
class Op:
    """One operator, with its builtin name (`CUSTOM:<code>` for a custom op) and tensor indices."""

    index: int
    name: str
    inputs: tuple
    outputs: tuple
    fused_activation: str | None = None


@dataclass
class Subgraph:
    index: int
    name: str
    tensors: list
    ops: list
    inputs: tuple
    outputs: tuple
    signatures: list = field(default_factory=list)


@dataclass
class Graph:
    """A model's subgraphs (the first is the one an interpreter without signatures runs)."""

    subgraphs: list
    size_bytes: int

    @property
    def ops(self):
        return [op for subgraph in self.subgraphs for op in subgraph.ops]


def op_counts(names):
    """`{op name: how many}` of a list of op names, sorted by name."""
    return {name: names.count(name) for name in sorted(set(names))}


def format_op_counts(counts):
    """`"ADD, SELECT x3"` for `{op name: how many}`; `"-"` for none."""
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(counts.items())) or "-"


def model_bytes(source):
    """The flatbuffer of `source`: bytes, a `.tflite` path, or a folder holding `model.tflite`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if path.is_dir():
            path = path / "model.tflite"
        if not path.is_file():
            raise ModelFileError(f"No .tflite file at {path}. Pass a .tflite path, an exported model folder "
                                 "or the flatbuffer's bytes.")
        data = path.read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelFileError(f"Not a TFLite flatbuffer (expected the identifier 'TFL3' at bytes 4-8). "
                             f"Received {len(data)} bytes starting {data[:8]!r}.")
    return data


def _names(enum_class):
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _read_object(data):
    from ai_edge_litert.tools import flatbuffer_utils

    return flatbuffer_utils.read_model_from_bytearray(bytearray(data))


def _text(value):
    return value.decode() if isinstance(value, bytes) else (value or "")


def _op_name(model, opcode_index, builtin_names):
    opcode = model.operatorCodes[opcode_index]
    code = max(opcode.builtinCode, opcode.deprecatedBuiltinCode)
    name = builtin_names.get(code, f"BUILTIN_{code}")
    return f"CUSTOM:{_text(opcode.customCode)}" if name == "CUSTOM" else name


def _tensor(model, index, tensor, type_names):
    buffer = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
    constant = buffer is not None and ((buffer.data is not None and len(buffer.data) > 0)
                                       or (getattr(buffer, "offset", 0) or 0) > 1)
    shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ()))
    signature = tuple(int(d) for d in (tensor.shapeSignature if tensor.shapeSignature is not None else shape))
    dtype = type_names.get(tensor.type, str(tensor.type))
    size = math.ceil(math.prod(max(d, 1) for d in shape) * _ITEM_BYTES.get(dtype, 1))
    return Tensor(index, _text(tensor.name), shape, dtype, int(size), bool(constant), bool(tensor.isVariable),
                  any(d < 0 for d in signature))


def _fused_activation(op, activation_names):
    options = op.builtinOptions
    value = getattr(options, "fusedActivationFunction", None) if options is not None else None
    return None if value is None else activation_names.get(value)


def read_graph(source):
    """The `Graph` of `source` (bytes, a `.tflite` path or an exported folder)."""
    data = model_bytes(source)
    schema = _schema()
    builtin_names, type_names = _names(schema.BuiltinOperator), _names(schema.TensorType)
    activation_names = _names(schema.ActivationFunctionType)
    model = _read_object(data)
    subgraphs = []
    for s, subgraph in enumerate(model.subgraphs or []):
        tensors = [_tensor(model, i, t, type_names) for i, t in enumerate(subgraph.tensors or [])]
        ops = [Op(i, _op_name(model, op.opcodeIndex, builtin_names),
                  tuple(int(t) for t in (op.inputs if op.inputs is not None else ())),
                  tuple(int(t) for t in (op.outputs if op.outputs is not None else ())),
                  _fused_activation(op, activation_names))
               for i, op in enumerate(subgraph.operators or [])]
        subgraphs.append(Subgraph(s, _text(subgraph.name) or f"subgraph_{s}", tensors, ops,
                                  tuple(int(t) for t in subgraph.inputs), tuple(int(t) for t in subgraph.outputs)))
    for signature in model.signatureDefs or []:
        subgraphs[signature.subgraphIndex].signatures.append(_text(signature.signatureKey))
    return Graph(subgraphs, len(data))


def float_ops(source):
    """The ops of an int8 model that compute in float: `[{"op": name, "tensor": its output's name}]`.

    The converter keeps an op with no int8 kernel (SIN, RFFT2D, LOG, ...) in float32 even when
    asked for int8 only, with QUANTIZE / DEQUANTIZE around it; model.json and the card record
    where. QUANTIZE and DEQUANTIZE themselves (the boundaries) are not counted."""
    found = []
    for subgraph in read_graph(source).subgraphs:
        for op in subgraph.ops:
            if op.name in ("QUANTIZE", "DEQUANTIZE"):
                continue
            floating = [subgraph.tensors[t] for t in op.outputs if t >= 0 and subgraph.tensors[t].dtype == "FLOAT32"]
            if floating:
                found.append({"op": op.name, "tensor": floating[0].name})
    return found


_SUBGRAPH_FIELDS = (("WhileOptions", ("condSubgraphIndex", "bodySubgraphIndex")),
                    ("IfOptions", ("thenSubgraphIndex", "elseSubgraphIndex")),
                    ("CallOnceOptions", ("initSubgraphIndex",)))


def with_primary_subgraph(source, index):
    """The flatbuffer with subgraph `index` moved first (the one interpreters without a signature
    API run), and every reference to a subgraph (signatures, WHILE, IF, CALL_ONCE) renumbered."""
    from ai_edge_litert.tools import flatbuffer_utils

    data = model_bytes(source)
    if index == 0:
        return data
    model = _read_object(data)
    order = [index] + [i for i in range(len(model.subgraphs)) if i != index]
    new_index = {old: new for new, old in enumerate(order)}
    model.subgraphs = [model.subgraphs[i] for i in order]
    for signature in model.signatureDefs or []:
        signature.subgraphIndex = new_index[signature.subgraphIndex]
    option_classes = tuple(getattr(_schema(), f"{name}T") for name, _ in _SUBGRAPH_FIELDS)
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            if isinstance(op.builtinOptions, option_classes):
                for name, fields in _SUBGRAPH_FIELDS:
                    if type(op.builtinOptions).__name__ == f"{name}T":
                        for attribute in fields:
                            setattr(op.builtinOptions, attribute, new_index[getattr(op.builtinOptions, attribute)])
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


__all__ = ["Graph", "Op", "Subgraph", "Tensor", "model_bytes", "read_graph", "with_primary_subgraph"]
