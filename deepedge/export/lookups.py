"""Embedding lookups lifted out of the graph into the runtimes, so XNNPACK takes the ops left.

XNNPACK has no GATHER (it has no integer-index ops at all), so every token model's embedding,
a GATHER of int32 ids from a constant int8 table, stays on TFLite's reference kernels and
splits the delegated graph in two. A lookup is a memory read, not arithmetic: `lift_lookups`
moves it into the runtime. Each GATHER whose table is a constant int8 tensor (per-tensor scale,
rows on axis 0) and whose ids are an input of its signature is replaced by

- a float32 input named `<ids>_rows`, shaped like the GATHER's output, and
- a QUANTIZE of it to the table's scale and zero point (XNNPACK takes QUANTIZE),

and the table goes out of the flatbuffer into a sidecar `lookup_<signature>_<ids>.npy` (int8,
`(rows, width)`) beside `model.tflite`. When nothing else in the graph reads the ids (an
embedding in a decoder step), the ids input leaves the signature too; when something does (a
translator's encoder reads its source ids for the padding mask as well), it stays.

model.json's `lookups` lists each lift (`signature`, `ids`, `rows_input`, `table`, `rows`,
`scale`, `zero_point`, `ids_kept`, the table's SHA-256). The runtimes (`deepedge.runtime`, the
page's runtime.js) take the ids as before, refuse ids outside `[0, rows)`, and feed the
dequantized rows: `(q - zero_point) * scale` in float32, which QUANTIZE rounds back to exactly
`q`, so the lifted model computes bit for bit what the GATHER did. Flash is unchanged (the
table moves from the .tflite into the sidecar); the runtime holds the int8 table once.

A GATHER with computed ids (the NPLM's context window, built inside its step from the previous
window and the new token) or a float table is left as it was.
"""

import hashlib

import numpy as np

from deepedge.export.rewrite import opcode_index

TABLE_PREFIX = "lookup_"


def _text(name):
    return name.decode() if isinstance(name, bytes) else (name or "")


def _unique(name, taken):
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


class _Lifter:
    def __init__(self, model, schema):
        self.model, self.schema = model, schema
        codes = model.operatorCodes
        self.builtins = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in codes]
        self.lookups, self.tables, self.files, self.lifted_buffers = [], {}, {}, set()
        self._quantize = None

    def quantize_opcode(self):
        if self._quantize is None:
            self._quantize = opcode_index(self.model, self.schema.BuiltinOperator.QUANTIZE, self.schema, version=1)
        return self._quantize

    def table(self, subgraph, op):
        """The int8 array of a GATHER's constant table, or None when the op is not a liftable lookup."""
        tensor = subgraph.tensors[op.inputs[0]]
        data = self.model.buffers[tensor.buffer].data if tensor.buffer else None
        options = op.builtinOptions
        axis = getattr(options, "axis", 0) or 0
        batch_dims = getattr(options, "batchDims", 0) or 0
        quantization = tensor.quantization
        if data is None or len(data) == 0 or tensor.type != self.schema.TensorType.INT8 or axis != 0 \
                or batch_dims != 0 or quantization is None or quantization.scale is None \
                or len(quantization.scale) != 1 or len(tensor.shape) != 2:
            return None
        return np.frombuffer(bytes(bytearray(data)), np.int8).reshape([int(n) for n in tensor.shape])

    def lift(self, subgraph, signature):
        key = _text(signature.signatureKey)
        names = {entry.tensorIndex: _text(entry.name) for entry in signature.inputs}
        taken = set(names.values())
        readers = {}
        for op in subgraph.operators:
            for index in op.inputs:
                readers.setdefault(index, []).append(op)
        gather = self.schema.BuiltinOperator.GATHER
        for position, op in enumerate(subgraph.operators):
            if self.builtins[op.opcodeIndex] != gather or len(op.inputs) != 2:
                continue
            ids = op.inputs[1]
            ids_tensor = subgraph.tensors[ids]
            if ids not in names or ids not in list(subgraph.inputs) \
                    or ids_tensor.type not in (self.schema.TensorType.INT32, self.schema.TensorType.INT64):
                continue
            table = self.table(subgraph, op)
            if table is None:
                continue
            (output,) = op.outputs
            ids_name = names[ids]
            rows_name = _unique(f"{ids_name}_rows", taken)
            rows = self._rows_input(subgraph, output, rows_name)
            subgraph.operators[position] = self._quantize_op(rows, output)
            subgraph.inputs = [*subgraph.inputs, rows]
            entry = self.schema.TensorMapT()
            entry.name, entry.tensorIndex = rows_name, rows
            signature.inputs = [*signature.inputs, entry]
            kept = any(reader is not op for reader in readers.get(ids, [])) or ids in list(subgraph.outputs)
            if not kept:
                subgraph.inputs = [i for i in subgraph.inputs if i != ids]
                signature.inputs = [e for e in signature.inputs if e.tensorIndex != ids]
            quantization = subgraph.tensors[output].quantization
            buffer = subgraph.tensors[op.inputs[0]].buffer
            # signatures with the same table (a translator's encoders, which the converter may give
            # a copy each) share one file
            content = (table.shape, hashlib.sha256(table.tobytes()).hexdigest())
            file = self.files.get(content)
            if file is None:
                file = self.files[content] = _unique(f"{TABLE_PREFIX}{key}_{ids_name}.npy", set(self.tables))
                self.tables[file] = table
            self.lifted_buffers.add(buffer)
            self.lookups.append({
                "signature": key, "ids": ids_name, "ids_shape": [int(n) for n in ids_tensor.shape],
                "rows_input": rows_name, "rows_shape": [int(n) for n in subgraph.tensors[output].shape],
                "table": file, "rows": int(table.shape[0]), "width": int(table.shape[1]),
                "scale": float(quantization.scale[0]), "zero_point": int(quantization.zeroPoint[0]),
                "ids_kept": kept})

    def _rows_input(self, subgraph, output, name):
        tensor = self.schema.TensorT()
        tensor.name = name.encode()
        tensor.shape = list(subgraph.tensors[output].shape)
        tensor.type, tensor.buffer, tensor.quantization = self.schema.TensorType.FLOAT32, 0, None
        subgraph.tensors.append(tensor)
        return len(subgraph.tensors) - 1

    def _quantize_op(self, source, target):
        op = self.schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = self.quantize_opcode(), [source], [target]
        op.builtinOptionsType = self.schema.BuiltinOptions.QuantizeOptions
        op.builtinOptions = self.schema.QuantizeOptionsT()
        return op

    def drop_lifted_tables(self):
        """Removes the lifted tables' tensors that nothing reads any more (the arena planners
        would count them) and empties their buffers when no subgraph reads them."""
        signatures = {}
        for signature in self.model.signatureDefs or []:
            signatures.setdefault(signature.subgraphIndex, []).append(signature)
        for number, subgraph in enumerate(self.model.subgraphs):
            _drop_unreferenced_tensors(subgraph, signatures.get(number, []), self.lifted_buffers)
        still_read = {tensor.buffer for subgraph in self.model.subgraphs for tensor in subgraph.tensors}
        for buffer in self.lifted_buffers - still_read:
            self.model.buffers[buffer].data = None


def _drop_unreferenced_tensors(subgraph, signatures, buffers):
    """Removes the tensors holding one of `buffers` that no op, input, output or signature of
    `subgraph` names, and renumbers the references to the rest."""
    referenced = {i for op in subgraph.operators for i in [*op.inputs, *op.outputs, *(op.intermediates or [])]}
    referenced |= {*subgraph.inputs, *subgraph.outputs}
    referenced |= {e.tensorIndex for s in signatures for e in [*s.inputs, *s.outputs]}
    keep = [i for i, tensor in enumerate(subgraph.tensors) if i in referenced or tensor.buffer not in buffers]
    if len(keep) == len(subgraph.tensors):
        return
    number = {old: new for new, old in enumerate(keep)}

    def renumber(indices):
        return [number[i] if i >= 0 else i for i in indices]

    subgraph.tensors = [subgraph.tensors[i] for i in keep]
    for op in subgraph.operators:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates is not None and len(op.intermediates):
            op.intermediates = renumber(op.intermediates)
    subgraph.inputs, subgraph.outputs = renumber(subgraph.inputs), renumber(subgraph.outputs)
    for signature in signatures:
        for entry in [*signature.inputs, *signature.outputs]:
            entry.tensorIndex = number[entry.tensorIndex]


def lift_lookups(flatbuffer):
    """`(flatbuffer, lookups, tables)`: the lifts of the module doc applied to every signature.

    `lookups` is model.json's list (empty, with the input bytes returned unchanged, when no
    GATHER qualifies) and `tables` maps each sidecar file name to its int8 array.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    lifter = _Lifter(model, schema)
    for signature in model.signatureDefs or []:
        lifter.lift(model.subgraphs[signature.subgraphIndex], signature)
    if not lifter.lookups:
        return flatbuffer, [], {}
    lifter.drop_lifted_tables()
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), lifter.lookups, lifter.tables


def write_tables(folder, lookups, tables):
    """Writes each sidecar table into `folder` (the export's workspace, swapped in whole) and
    records its SHA-256 in its `lookups` entry."""
    digests = {}
    for file, table in tables.items():
        path = folder / file
        with open(path, "wb") as f:
            np.save(f, table, allow_pickle=False)
        digests[file] = hashlib.sha256(path.read_bytes()).hexdigest()
    for entry in lookups:
        entry["sha256"] = digests[entry["table"]]


__all__ = ["TABLE_PREFIX", "lift_lookups", "write_tables"]
