"""Rewrites of a converted flatbuffer that let LiteRT's XNNPACK delegate take every op.

The delegate runs int8 convolutions, fully connected layers, pooling by maximum, concatenation,
reshapes and most element-wise ops, but leaves ops that the converter emits for ordinary Keras
layers on TFLite's reference kernels. Each is rewritten into ops it takes:

- `SOFTMAX` on int8 tensors (every classifier's and labeller's last layer): DEQUANTIZE, float32
  SOFTMAX, QUANTIZE back to the op's own output scale and zero point. The model's inputs and
  outputs keep their types and quantization; the probabilities are a float softmax of the int8
  logits, rounded once. (The one op of the rewritten set the Edge TPU lacks: `--keep-ops`.)
- `AVERAGE_POOL_2D` on int8 tensors, VALID padding (LeNet-5's subsampling, the nuclei
  labeller's input pyramid): DEPTHWISE_CONV_2D with the pool's window, strides and activation,
  every weight 1/(window area) (int8 127 at the per-channel scale 1/(127 x area), exactly
  representable) and zero bias. The same average; ties at exactly .5 may round the other way.
- `TILE` with constant multiples (Keras `UpSampling2D`: RESHAPE, TILE, RESHAPE): CONCATENATION
  of copies along each tiled axis. Bit for bit.
- `STRIDED_SLICE` that shrinks axes (a time step sliced out of a sequence): the slice keeping
  them, then RESHAPE. `PACK` (`ops.stack`): RESHAPE per input, then CONCATENATION. Bit for bit.
- `CONCATENATION` of more than five inputs (XNNPACK's limit): a tree of at most five. Bit for bit.
- int8 `MINIMUM`/`MAXIMUM` against a constant at the int8 limit of tensors that share one scale
  (`ops.clip` to the range calibration gave the tensor: the recogniser's cell clip): dropped.
  Exact at the limit; one step inside it, values at the limit stay one step above.
- Keras `Embedding`'s negative-index wrap (`SELECT(ids < 0, ids + rows, ids)` on int32 before
  GATHER): dropped, the lookup reading the ids as given. deepedge's runtimes refuse ids outside
  the vocabulary before they reach the model.

`for_xnnpack(flatbuffer)` applies them all and says what it changed; `deepedge.export.exporter`
runs it on every export unless asked not to (`rewrite_for_xnnpack=False`, `--keep-ops`), so the
parity measured at export is that of the rewritten file. Ops it does not recognise (SAME-padded
pools, tiles with computed multiples, clips inside a tensor's range) are left as they were, and
the accelerator report still names what XNNPACK does not take: int32 and boolean arithmetic
(XNNPACK has no integer-index or integer ops). An embedding's GATHER is not rewritten but lifted
into the runtimes (`deepedge.export.lookups`, which the exporter runs after these rewrites).
"""

import copy

import numpy as np

_AREA_WEIGHT = 127  # the int8 weight of every tap of an averaging depthwise filter
_CONCATENATION_INPUTS = 5  # the most inputs XNNPACK's CONCATENATION takes (measured: 6 stay on the CPU)
_NAME_LENGTH = 64  # as `convert.compact_tensor_names` leaves internal names: their last 64 characters


def opcode_index(model, builtin, schema, version):
    """The index of the opcode `builtin` at `version` or above in `model` (a `ModelT`), added when
    missing (`deepedge.export.browser` adds its QUANTIZE and DEQUANTIZE ops through it too)."""
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin and code.version >= version:
            return index
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), version
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


class _Editor:
    """Adds opcodes, buffers and tensors to a `ModelT` as the rewrites need them."""

    def __init__(self, model, schema):
        self.model, self.schema = model, schema
        self.start_subgraph(None)

    def start_subgraph(self, subgraph):
        """Per subgraph: who makes and who reads each tensor (as converted), the outputs of dropped
        ops read from another tensor instead (`aliases`), and the ops to drop."""
        operators = subgraph.operators if subgraph is not None else []
        self.producer = {output: op for op in operators for output in op.outputs}
        self.consumers = {}
        for op in operators:
            for index in op.inputs:
                self.consumers.setdefault(index, []).append(op)
        self.aliases, self.dropped = {}, []

    def builtin(self, op):
        code = self.model.operatorCodes[op.opcodeIndex]
        return max(code.builtinCode, code.deprecatedBuiltinCode)

    def opcode(self, builtin, version):
        return opcode_index(self.model, builtin, self.schema, version)

    def constant(self, subgraph, name, array, quantization=None):
        """A new constant tensor holding `array`; returns its index."""
        buffer = self.schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(array).tobytes(), np.uint8)
        self.model.buffers.append(buffer)
        tensor = self.schema.TensorT()
        tensor.name, tensor.shape = name[-_NAME_LENGTH:].encode(), list(array.shape)
        tensor.type = {np.dtype(np.int8): self.schema.TensorType.INT8,
                       np.dtype(np.int32): self.schema.TensorType.INT32}[array.dtype]
        tensor.buffer, tensor.quantization = len(self.model.buffers) - 1, quantization
        subgraph.tensors.append(tensor)
        return len(subgraph.tensors) - 1

    def activation_like(self, subgraph, index, suffix, float32=False, shape=None):
        """A new activation tensor shaped like tensor `index` (float32, or with its quantization)."""
        tensor = copy.deepcopy(subgraph.tensors[index])
        tensor.name = (_name(tensor) + suffix)[-_NAME_LENGTH:].encode()
        tensor.buffer = 0
        if float32:
            tensor.type, tensor.quantization = self.schema.TensorType.FLOAT32, None
        if shape is not None:
            tensor.shape = list(shape)
            tensor.shapeSignature = None
        subgraph.tensors.append(tensor)
        return len(subgraph.tensors) - 1

    def operator(self, builtin, version, inputs, outputs, options_type=None, options=None):
        op = self.schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = self.opcode(builtin, version), list(inputs), list(outputs)
        if options_type is not None:
            op.builtinOptionsType, op.builtinOptions = options_type, options
        return op

    def constant_values(self, subgraph, index):
        """The values of an int8, int32 or int64 constant tensor (flat), or None for any other."""
        tensor = subgraph.tensors[index]
        data = self.model.buffers[tensor.buffer].data if tensor.buffer else None
        if data is None or len(data) == 0:
            return None
        types = self.schema.TensorType
        dtype = {types.INT8: np.int8, types.INT32: np.int32, types.INT64: np.int64}.get(tensor.type)
        return None if dtype is None else np.frombuffer(bytes(bytearray(data)), dtype)


def _name(tensor):
    return tensor.name.decode() if isinstance(tensor.name, bytes) else (tensor.name or "")


def _is_int8(subgraph, index, schema):
    return subgraph.tensors[index].type == schema.TensorType.INT8


def _softmax(edit, subgraph, op):
    """[DEQUANTIZE, SOFTMAX (float32), QUANTIZE] for an int8 SOFTMAX, or None."""
    s, B = edit.schema, edit.schema.BuiltinOperator
    (source,), (target,) = op.inputs, op.outputs
    if not (_is_int8(subgraph, source, s) and _is_int8(subgraph, target, s)):
        return None
    logits = edit.activation_like(subgraph, source, "_float", float32=True)
    probabilities = edit.activation_like(subgraph, target, "_float", float32=True)
    return [edit.operator(B.DEQUANTIZE, 2, [source], [logits], s.BuiltinOptions.DequantizeOptions,
                          s.DequantizeOptionsT()),
            edit.operator(B.SOFTMAX, 1, [logits], [probabilities], op.builtinOptionsType, op.builtinOptions),
            edit.operator(B.QUANTIZE, 2, [probabilities], [target], s.BuiltinOptions.QuantizeOptions,
                          s.QuantizeOptionsT())]


def _average_pool(edit, subgraph, op):
    """[DEPTHWISE_CONV_2D] averaging as an int8 VALID AVERAGE_POOL_2D does, or None."""
    s, B = edit.schema, edit.schema.BuiltinOperator
    (source,), (target,) = op.inputs, op.outputs
    pool = op.builtinOptions
    if not (_is_int8(subgraph, source, s) and _is_int8(subgraph, target, s)) or pool.padding != s.Padding.VALID:
        return None
    channels = int(subgraph.tensors[source].shape[-1])
    area = pool.filterHeight * pool.filterWidth
    weight_scale = 1.0 / (_AREA_WEIGHT * area)
    name = _name(subgraph.tensors[target])
    weights = edit.constant(subgraph, f"{name}_average_weights",
                            np.full((1, pool.filterHeight, pool.filterWidth, channels), _AREA_WEIGHT, np.int8),
                            _per_channel(s, [weight_scale] * channels, dimension=3))
    input_scale = float(subgraph.tensors[source].quantization.scale[0])
    bias = edit.constant(subgraph, f"{name}_average_bias", np.zeros(channels, np.int32),
                         _per_channel(s, [input_scale * weight_scale] * channels, dimension=0))
    options = s.DepthwiseConv2DOptionsT()
    options.padding, options.strideW, options.strideH = pool.padding, pool.strideW, pool.strideH
    options.depthMultiplier, options.fusedActivationFunction = 1, pool.fusedActivationFunction
    options.dilationWFactor = options.dilationHFactor = 1
    return [edit.operator(B.DEPTHWISE_CONV_2D, 3, [source, weights, bias], [target],
                          s.BuiltinOptions.DepthwiseConv2DOptions, options)]


def _per_channel(schema, scales, dimension):
    quantization = schema.QuantizationParametersT()
    quantization.scale, quantization.zeroPoint = list(scales), [0] * len(scales)
    quantization.quantizedDimension = dimension
    return quantization


def _tile(edit, subgraph, op):
    """CONCATENATION ops (one per tiled axis) for a TILE with constant multiples, or None."""
    s, B = edit.schema, edit.schema.BuiltinOperator
    source, multiples_index = op.inputs
    (target,) = op.outputs
    multiples = edit.constant_values(subgraph, multiples_index)
    if multiples is None or (multiples < 1).any():
        return None
    shape = list(subgraph.tensors[source].shape)
    ops, current = [], source
    tiled = [axis for axis, times in enumerate(multiples) if times > 1]
    for position, axis in enumerate(tiled):
        shape[axis] *= int(multiples[axis])
        last = position == len(tiled) - 1
        output = target if last else edit.activation_like(subgraph, source, f"_tiled{axis}", shape=shape)
        ops += _concatenation(edit, subgraph, [current] * int(multiples[axis]), output, axis)
        current = output
    return ops or None


def _reshape(edit, subgraph, source, target, shape):
    s = edit.schema
    new_shape = edit.constant(subgraph, f"{_name(subgraph.tensors[target])}_shape", np.array(shape, np.int32))
    options = s.ReshapeOptionsT()
    options.newShape = list(shape)
    return edit.operator(s.BuiltinOperator.RESHAPE, 1, [source, new_shape], [target],
                         s.BuiltinOptions.ReshapeOptions, options)


def _strided_slice(edit, subgraph, op):
    """[STRIDED_SLICE keeping the sliced axes, RESHAPE dropping them] for a STRIDED_SLICE with
    constant bounds that shrinks axes (XNNPACK takes slices, not shrinking ones), or None."""
    s = edit.schema
    options = op.builtinOptions
    source, begin_index, end_index, strides_index = op.inputs
    (target,) = op.outputs
    begin, end, strides = (edit.constant_values(subgraph, i) for i in (begin_index, end_index, strides_index))
    if (not options.shrinkAxisMask or options.ellipsisMask or options.newAxisMask or options.offset
            or begin is None or end is None or strides is None or (strides != 1).any()):
        return None
    shrunk = [axis for axis in range(len(begin)) if options.shrinkAxisMask >> axis & 1]
    end, end_mask = end.copy(), options.endMask
    for axis in shrunk:
        if begin[axis] == -1:
            end_mask |= 1 << axis
        else:
            end[axis] = begin[axis] + 1
    kept = list(subgraph.tensors[target].shape)
    for axis in shrunk:
        kept.insert(axis, 1)
    name = _name(subgraph.tensors[target])
    sliced = edit.activation_like(subgraph, target, "_unshrunk", shape=kept)
    slice_options = s.StridedSliceOptionsT()
    slice_options.beginMask, slice_options.endMask = options.beginMask, end_mask
    slice_options.ellipsisMask = slice_options.newAxisMask = slice_options.shrinkAxisMask = 0
    slice_options.offset = False
    new_end = edit.constant(subgraph, f"{name}_end", end.astype(np.int32))
    return [edit.operator(s.BuiltinOperator.STRIDED_SLICE, 1, [source, begin_index, new_end, strides_index], [sliced],
                          s.BuiltinOptions.StridedSliceOptions, slice_options),
            _reshape(edit, subgraph, sliced, target, subgraph.tensors[target].shape)]


def _pack(edit, subgraph, op):
    """[RESHAPE per input, CONCATENATION] for a PACK (stacking is concatenating along a new axis)."""
    s = edit.schema
    axis = op.builtinOptions.axis
    (target,) = op.outputs
    shape = list(subgraph.tensors[target].shape)
    axis = axis + len(shape) if axis < 0 else axis
    single = shape[:axis] + [1] + shape[axis + 1:]
    ops, pieces = [], []
    for source in op.inputs:
        piece = edit.activation_like(subgraph, source, "_stacked", shape=single)
        ops.append(_reshape(edit, subgraph, source, piece, single))
        pieces.append(piece)
    return ops + _concatenation(edit, subgraph, pieces, target, axis)


def _concatenation(edit, subgraph, pieces, target, axis, activation=None):
    """CONCATENATION ops joining `pieces` into `target` along `axis`, at most five inputs each (a
    tree: groups of five first, into tensors quantized as `target`)."""
    s = edit.schema
    ops = []
    while len(pieces) > _CONCATENATION_INPUTS:
        joined = []
        for start in range(0, len(pieces), _CONCATENATION_INPUTS):
            group = pieces[start:start + _CONCATENATION_INPUTS]
            if len(group) == 1:
                joined.append(group[0])
                continue
            shape = list(subgraph.tensors[target].shape)
            shape[axis] = sum(int(subgraph.tensors[i].shape[axis]) for i in group)
            part = edit.activation_like(subgraph, target, f"_part{len(subgraph.tensors)}", shape=shape)
            ops.append(_concatenate(edit, group, part, axis, s.ActivationFunctionType.NONE))
            joined.append(part)
        pieces = joined
    return ops + [_concatenate(edit, pieces, target, axis,
                               s.ActivationFunctionType.NONE if activation is None else activation)]


def _concatenate(edit, pieces, target, axis, activation):
    s = edit.schema
    options = s.ConcatenationOptionsT()
    options.axis, options.fusedActivationFunction = axis, activation
    return edit.operator(s.BuiltinOperator.CONCATENATION, 1, pieces, [target], s.BuiltinOptions.ConcatenationOptions,
                         options)


def _long_concatenation(edit, subgraph, op):
    """A tree of CONCATENATIONs of at most five inputs for one of more, or None."""
    if len(op.inputs) <= _CONCATENATION_INPUTS:
        return None
    (target,) = op.outputs
    axis = op.builtinOptions.axis
    axis = axis + len(subgraph.tensors[target].shape) if axis < 0 else axis
    return _concatenation(edit, subgraph, list(op.inputs), target, axis, op.builtinOptions.fusedActivationFunction)


def _saturating_bound(edit, subgraph, op):
    """[] (the op dropped, its output read from its input) for an int8 MINIMUM or MAXIMUM
    against a scalar constant at the int8 limit or one step inside it, between tensors of one
    scale and zero point: the clamp that the int8 range itself makes (`ops.clip` to the range
    calibration gave the tensor, as the recogniser's cell clip). Exact at the limit; one step
    inside it, the values at the limit stay one step (half a step from the float bound) above."""
    s = edit.schema
    (target,) = op.outputs
    if len(op.inputs) != 2 or target in subgraph.outputs:
        return None
    source, bound = op.inputs
    tensors = subgraph.tensors
    values = edit.constant_values(subgraph, bound)
    if values is None or values.size != 1 or not all(_is_int8(subgraph, i, s) for i in (source, target)):
        return None
    if not _same_quantization(tensors[source], tensors[target]) or \
            not _same_quantization(tensors[bound], tensors[target]):
        return None
    limit = {s.BuiltinOperator.MINIMUM: 127, s.BuiltinOperator.MAXIMUM: -128}[edit.builtin(op)]
    if abs(int(values[0]) - limit) > 1:
        return None
    edit.aliases[target] = source
    return []


def _same_quantization(a, b):
    qa, qb = a.quantization, b.quantization
    return (qa is not None and qb is not None and list(qa.scale) == list(qb.scale)
            and list(qa.zeroPoint) == list(qb.zeroPoint))


def _index_wrap(edit, subgraph, op):
    """[] for the SELECT of Keras's negative-index wrap feeding GATHER's indices only (with the
    LESS and ADD that only it reads); None for any other SELECT."""
    B = edit.schema.BuiltinOperator
    if len(op.inputs) != 3:
        return None
    condition, wrapped, ids = op.inputs
    (target,) = op.outputs
    less, add = edit.producer.get(condition), edit.producer.get(wrapped)
    if less is None or add is None or edit.builtin(less) != B.LESS or edit.builtin(add) != B.ADD:
        return None
    zero = edit.constant_values(subgraph, less.inputs[1])
    rows = [edit.constant_values(subgraph, i) for i in add.inputs if i != ids]
    if list(less.inputs[:1]) != [ids] or ids not in add.inputs or zero is None or zero.size != 1 or zero[0] != 0 \
            or len(rows) != 1 or rows[0] is None or rows[0].size != 1:
        return None
    readers = edit.consumers.get(target, [])
    for reader in readers:
        if edit.builtin(reader) != B.GATHER or list(reader.inputs).index(target) != 1:
            return None
        table = subgraph.tensors[reader.inputs[0]]
        axis = reader.builtinOptions.axis if reader.builtinOptions is not None else 0
        if not table.buffer or int(table.shape[axis]) != int(rows[0][0]):
            return None
    if not readers or target in subgraph.outputs:
        return None
    for helper in (less, add):
        if all(reader is op for output in helper.outputs for reader in edit.consumers.get(output, [])) \
                and not set(helper.outputs) & set(subgraph.outputs):
            edit.dropped.append(helper)
    edit.aliases[target] = ids
    return []


def _rewrites(schema):
    B = schema.BuiltinOperator
    return {B.SOFTMAX: ("SOFTMAX", _softmax), B.AVERAGE_POOL_2D: ("AVERAGE_POOL_2D", _average_pool),
            B.TILE: ("TILE", _tile), B.STRIDED_SLICE: ("STRIDED_SLICE", _strided_slice), B.PACK: ("PACK", _pack),
            B.MINIMUM: ("MINIMUM", _saturating_bound), B.MAXIMUM: ("MAXIMUM", _saturating_bound),
            B.SELECT: ("SELECT", _index_wrap), B.SELECT_V2: ("SELECT", _index_wrap),
            B.CONCATENATION: ("CONCATENATION", _long_concatenation)}


def for_xnnpack(flatbuffer):
    """`(flatbuffer, {op name: count rewritten})`: the rewrites of the module doc applied to
    every subgraph. Returns the input bytes unchanged (and `{}`) when nothing applies."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    edit, rewrites, counts = _Editor(model, schema), _rewrites(schema), {}
    for subgraph in model.subgraphs:
        operators = []
        edit.start_subgraph(subgraph)
        for op in subgraph.operators:
            op.inputs = [edit.aliases.get(i, i) for i in op.inputs]
            name, rewrite = rewrites.get(edit.builtin(op), (None, None))
            replacement = rewrite(edit, subgraph, op) if rewrite else None
            operators += [op] if replacement is None else replacement
            if replacement is not None:
                counts[name] = counts.get(name, 0) + 1
        dropped = {id(op) for op in edit.dropped}
        subgraph.operators = [op for op in operators if id(op) not in dropped]
    if not counts:
        return flatbuffer, {}
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), counts
