"""The Edge TPU for an exported model, from Coral's documented supported-op table and model
requirements (`EDGETPU_OPS`; there is no Edge TPU compiler for this machine): full 8-bit tensors,
static shapes, batch 1, and the compiler's rule that the first unsupported op sends it and every
later op to the CPU. Part of `deepedge.export.accelerators.accelerator_report`.
"""

from deepedge.export.graph import op_counts, read_graph

# The Edge TPU's supported operations and their documented limitations ("Supported operations",
# Table 1 of https://coral.ai/docs/edgetpu/models-intro/#supported-operations, the table for
# compiler and runtime version 14+; read December 2026, also reproduced by Axis for the
# ARTPEC-7 Edge TPU). Keys are TFLite builtin names; values are the limitation, or None.
EDGETPU_SOURCE = "https://coral.ai/docs/edgetpu/models-intro/#supported-operations (read 2026-12)"
EDGETPU_OPS = {
    "ADD": None,
    "AVERAGE_POOL_2D": "No fused activation function.",
    "CONCATENATION": "No fused activation function. If any input is a compile-time constant tensor, there must "
                     "be only 2 inputs, and this constant tensor must be all zeroes (effectively, a zero-padding op).",
    "CONV_2D": "Must use the same dilation in x and y dimensions.",
    "DEPTHWISE_CONV_2D": "Must use the same dilation in x and y dimensions.",
    "EXPAND_DIMS": None,
    "FULLY_CONNECTED": "Only the default format is supported for fully-connected weights. Output tensor is "
                       "one-dimensional.",
    "L2_NORMALIZATION": None,
    "LOGISTIC": None,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "Unidirectional LSTM only.",
    "MAXIMUM": None,
    "MAX_POOL_2D": "No fused activation function.",
    "MEAN": "No reduction in batch dimension. If a z-reduction, the z-dimension must be multiple of 4.",
    "MINIMUM": None,
    "MUL": None,
    "PACK": "No packing in batch dimension.",
    "PAD": "No padding in batch dimension.",
    "PRELU": "Alpha must be 1-dimensional (only the innermost dimension can be >1 size).",
    "QUANTIZE": None,
    "REDUCE_MAX": "Cannot operate on the batch dimension.",
    "REDUCE_MIN": "Cannot operate on the batch dimension.",
    "RELU": None,
    "RELU6": None,
    "RELU_N1_TO_1": None,
    "RESHAPE": "Certain reshapes might not be mapped for large tensor sizes.",
    "RESIZE_BILINEAR": "Input/output is a 3-dimensional tensor. Depending on input/output size, this operation "
                       "might not be mapped to the Edge TPU to avoid loss in precision.",
    "RESIZE_NEAREST_NEIGHBOR": "Input/output is a 3-dimensional tensor. Depending on input/output size, this "
                               "operation might not be mapped to the Edge TPU to avoid loss in precision.",
    "RSQRT": None,
    "SLICE": None,
    "SOFTMAX": "Supports only 1-D input tensor with a max of 16,000 elements.",
    "SPACE_TO_DEPTH": None,
    "SPLIT": "No splitting in batch dimension.",
    "SQUARED_DIFFERENCE": None,
    "SQUEEZE": "Supported only when input tensor dimensions that have leading 1s (that is, no relayout needed).",
    "STRIDED_SLICE": "Supported only when all strides are equal to 1 (that is, effectively a Stride op), and "
                     "with ellipsis-axis-mask == 0, and new-axis-max == 0.",
    "SUB": None,
    "SUM": "Cannot operate on the batch dimension.",
    "TANH": None,
    "TRANSPOSE_CONV": None,
}
_EIGHT_BIT = ("INT8", "UINT8")
_NO_FUSED_ACTIVATION = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION")



def _edgetpu_problems(op, subgraph):
    """Why the Edge TPU cannot take `op`, as a list of reasons (empty when the documented rules allow it)."""
    if op.name not in EDGETPU_OPS:
        return [f"{op.name} is not in the Edge TPU's supported-op table"]
    problems = []
    tensors = [subgraph.tensors[i] for i in (*op.inputs, *op.outputs) if i >= 0]
    activations = [t for t in tensors if not t.constant]
    wide = sorted({t.dtype for t in activations if t.dtype not in _EIGHT_BIT})
    if wide:
        problems.append(f"{'/'.join(wide).lower()} tensors: the Edge TPU runs only fully 8-bit quantized ops")
    if any(t.dynamic for t in tensors):
        problems.append("dynamic tensor shape: the Edge TPU needs static shapes")
    if any(len(t.shape) > 3 and any(d > 1 for d in t.shape[:-3]) for t in activations):
        problems.append("a tensor has more than 3 dimensions larger than 1 (only the 3 innermost may be)")
    if op.name in _NO_FUSED_ACTIVATION and op.fused_activation not in (None, "NONE"):
        problems.append(f"fused {op.fused_activation} activation: {EDGETPU_OPS[op.name]}")
    if op.name == "SOFTMAX":
        shape = subgraph.tensors[op.inputs[0]].shape
        if any(d > 1 for d in shape[:-1]) or (shape and shape[-1] > 16000):
            problems.append(f"input shape {list(shape)}: {EDGETPU_OPS['SOFTMAX']}")
    return problems


def _boundary_conversion(op, subgraph):
    """Whether `op` converts a float model input to int8 (QUANTIZE) or an int8 result to a float model
    output (DEQUANTIZE): these run on the CPU without cutting the graph, as the compiler leaves
    float inputs and outputs to the CPU."""
    if op.name == "QUANTIZE":
        return op.inputs[0] in subgraph.inputs and subgraph.tensors[op.inputs[0]].dtype not in _EIGHT_BIT
    return op.name == "DEQUANTIZE" and op.outputs[0] in subgraph.outputs


def edgetpu_report(source):
    """The ops the Edge TPU would run and those that fall back to the CPU, in graph order."""
    graph = read_graph(source)
    rows, first_unsupported = [], None
    for subgraph in graph.subgraphs:
        for op in subgraph.ops:
            problems = _edgetpu_problems(op, subgraph)
            if subgraph.index == 0 and _boundary_conversion(op, subgraph):
                reason = "float model input/output: the conversion to or from int8 runs on the CPU"
            elif subgraph.index > 0:
                reason = "the Edge TPU compiler maps one subgraph only (more than one subgraph is not supported)"
            elif problems and first_unsupported is None:
                first_unsupported = f"op #{op.index} {op.name}"
                reason = "; ".join(problems)
            elif first_unsupported is not None:
                reason = f"after the first unsupported op ({first_unsupported})" + (
                    f"; also {'; '.join(problems)}" if problems else "")
            else:
                reason = None
            row = {"subgraph": subgraph.name, "index": op.index, "op": op.name,
                   "target": "cpu" if reason else "edgetpu", "reason": reason}
            if reason is None and EDGETPU_OPS.get(op.name):
                row["limitation"] = EDGETPU_OPS[op.name]
            rows.append(row)
    on_tpu = [row["op"] for row in rows if row["target"] == "edgetpu"]
    return {"ops": len(rows), "edgetpu": len(on_tpu), "fraction": round(len(on_tpu) / len(rows), 4) if rows else 0.0,
            "first_unsupported": first_unsupported, "edgetpu_ops": op_counts(on_tpu),
            "cpu_ops": op_counts([row["op"] for row in rows if row["target"] == "cpu"]),
            "graph": rows, "source": EDGETPU_SOURCE}



__all__ = ["EDGETPU_OPS", "EDGETPU_SOURCE", "edgetpu_report"]
