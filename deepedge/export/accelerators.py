"""Which accelerators take which ops of an exported model, and why the others fall back.

`accelerator_report(model)` answers, per target, with a plain JSON-serialisable dict:

- `xnnpack`: measured. LiteRT's interpreter applies the XNNPACK delegate by default; after
  `allocate_tensors` its op list (`_get_ops_details`) keeps every model op and appends one
  `DELEGATE` node per partition XNNPACK took. A partition's model ops are those its outputs
  depend on, back to its inputs; the ops in no partition run on LiteRT's reference CPU kernels.
  Each subgraph (signature) is measured by moving it first in the flatbuffer, because the
  Python op list shows only the first subgraph.
- `gpu`: LiteRT's model analyzer with `gpu_compatibility=True` (the same check as TensorFlow's
  `tf.lite.experimental.Analyzer`), with each op it rejects and its reason. Caveat measured
  here: the analyzer's GPU checks were removed upstream (tensorflow/tensorflow#77042), and in
  ai-edge-litert 2.3.0 and TensorFlow 2.21 it calls even RFFT2D and CUMSUM compatible. The
  report says so in `verified`/`note`; an empty list is not evidence that the delegate takes
  every op.
- `micro`: measured. The model is loaded and run in the TFLite Micro Python interpreter (PyPI
  `tflite-micro`): whether it loads, the ops it has no kernel for, the smallest tensor arena
  that allocates and runs (found by trying sizes upward from what TFLM's recording allocator
  reports, since the recorded total leaves out scratch memory freed after `Prepare`), and,
  given test inputs, the largest output difference against LiteRT.
- `edgetpu`: from Coral's documented supported-op table and model requirements (`EDGETPU_OPS`
  below; there is no Edge TPU compiler for this machine): full 8-bit tensors, static shapes,
  batch 1, and the compiler's rule that the first unsupported op sends it and every later op
  to the CPU.
"""

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.export.graph import model_bytes, read_graph, with_primary_subgraph
from deepedge.quiet import native_output_silenced

# Builtin ops with a kernel in the TFLite Micro Python interpreter: the `Register_*` kernels
# linked into PyPI tflite-micro 0.dev20261023182759 (`PythonOpsResolver`, read from
# `_runtime.so`'s symbols). The loader's error names only the first missing op; this table
# names them all. TFLM's signal-library ops (RFFT, FILTER_BANK, ...) are custom ops, not listed.
MICRO_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND
BROADCAST_ARGS BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTHWISE_CONV_2D
DEPTH_TO_SPACE DEQUANTIZE DIV DYNAMIC_UPDATE_SLICE ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL
FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND GREATER GREATER_EQUAL HARD_SWISH IF
L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG LOGICAL_AND LOGICAL_NOT LOGICAL_OR
LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2
PRELU QUANTIZE READ_VARIABLE REDUCE_ALL REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR
RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND
SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH
TRANSPOSE TRANSPOSE_CONV UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split())
MICRO_PROBE_ARENA = 64 * 1024 * 1024  # bytes tried first; a model that needs more is reported so
_MICRO_ALIGNMENT = 16  # TFLM aligns arena allocations to 16 bytes

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


def _counts(names):
    return {name: names.count(name) for name in sorted(set(names))}


# === XNNPACK ===

def _delegated_ops(ops_details, model_op_count):
    """Indices of the model ops inside the interpreter's DELEGATE partitions."""
    producer = {}
    for node in ops_details[:model_op_count]:
        for tensor in node["outputs"]:
            producer[int(tensor)] = node["index"]
    delegated = set()
    for node in ops_details[model_op_count:]:
        if node["op_name"] != "DELEGATE":
            continue
        boundary = {int(t) for t in node["inputs"]}
        pending = [int(t) for t in node["outputs"]]
        while pending:
            tensor = pending.pop()
            op = producer.get(tensor)
            if tensor in boundary or op is None or op in delegated:
                continue
            delegated.add(op)
            pending.extend(int(t) for t in ops_details[op]["inputs"] if t >= 0)
    return delegated


def xnnpack_report(source):
    """Which ops LiteRT's default XNNPACK delegate takes, per subgraph and by op name."""
    from ai_edge_litert.interpreter import Interpreter

    data = model_bytes(source)
    graph = read_graph(data)
    taken, kept, subgraphs = [], [], {}
    for subgraph in graph.subgraphs:
        error = None
        with native_output_silenced() as captured:
            try:
                interpreter = Interpreter(model_content=with_primary_subgraph(data, subgraph.index))
                interpreter.allocate_tensors()
                details = interpreter._get_ops_details()
            except (RuntimeError, ValueError) as e:
                error = e
        if error is not None:
            return {"error": f"LiteRT could not allocate subgraph {subgraph.name!r}: {error} "
                             f"{' '.join(''.join(captured).split())}".strip()}
        delegated = _delegated_ops(details, len(subgraph.ops))
        names = [op.name for op in subgraph.ops]
        taken += [names[i] for i in sorted(delegated)]
        kept += [name for i, name in enumerate(names) if i not in delegated]
        subgraphs[subgraph.name] = {"ops": len(names), "delegated": len(delegated),
                                    "partitions": sum(node["op_name"] == "DELEGATE" for node in details)}
    total = len(taken) + len(kept)
    return {"ops": total, "delegated": len(taken), "fraction": round(len(taken) / total, 4) if total else 1.0,
            "delegated_ops": _counts(taken), "cpu_ops": _counts(kept), "subgraphs": subgraphs}


# === GPU ===

_ANALYZER_NOTE = ("The model analyzer's GPU checks were removed upstream (tensorflow/tensorflow#77042); in "
                  "ai-edge-litert 2.3.0 it passes ops the GPU delegate lacks (RFFT2D, CUMSUM), so an empty "
                  "list does not show that the GPU delegate takes every op.")


def parse_analyzer(text):
    """`(ops, rejected)` from the model analyzer's text: every op as `(subgraph, index, name)`, and the
    ops it flags, each with its reason."""
    ops, rejected, subgraph = [], [], 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = re.match(r"Subgraph#(\d+)", line)
        if header:
            subgraph = int(header.group(1))
        match = re.match(r"\s*Op#(\d+) (\w+)\(", line)
        if not match:
            continue
        ops.append((subgraph, int(match.group(1)), match.group(2)))
        for following in lines[i + 1:i + 4]:
            if following.lstrip().startswith("Op#") or following.startswith("Subgraph#"):
                break
            warning = re.match(r"\s*GPU COMPATIBILITY WARNING: (.*)", following)
            if warning:
                rejected.append({"subgraph": subgraph, "index": int(match.group(1)), "op": match.group(2),
                                 "reason": warning.group(1).strip()})
    return ops, rejected


def gpu_report(source):
    """The GPU delegate compatibility check of LiteRT's model analyzer (see the module doc's caveat)."""
    from ai_edge_litert import _pywrap_analyzer_wrapper

    with native_output_silenced():
        text = _pywrap_analyzer_wrapper.ModelAnalyzer(model_bytes(source), False, True)
    ops, rejected = parse_analyzer(text)
    return {"ops": len(ops), "rejected": rejected, "compatible": len(ops) - len({(r["subgraph"], r["index"])
                                                                                 for r in rejected}),
            "checked_by": "LiteRT model analyzer, gpu_compatibility=True", "verified": False, "note": _ANALYZER_NOTE}


# === TFLite Micro ===

def _micro_interpreter(data, arena_size):
    """`(interpreter or None, captured stderr)` of TFLM loading `data` with an arena of `arena_size`."""
    from tflite_micro.python.tflite_micro import runtime

    with native_output_silenced() as captured:
        try:
            interpreter = runtime.Interpreter.from_bytes(data, arena_size=int(arena_size))
        except RuntimeError:
            interpreter = None
    return interpreter, "".join(captured)


def _recorded_arena(interpreter):
    with native_output_silenced() as captured:
        interpreter.print_allocations()
    match = re.search(r"Arena allocation total (\d+) bytes", "".join(captured))
    return int(match.group(1)) if match else None


_ARENA_PROBE = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=int(sys.argv[2]))
for index in range(int(sys.argv[3])):
    detail = interpreter.get_input_details(index)
    interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
interpreter.invoke()
"""


def _arena_works(path, size, input_count):
    """Whether TFLM allocates and runs the model at `path` with an arena of `size` bytes. In a child
    process: some sizes just short of enough crash TFLM (a segmentation fault, seen at 5,120 bytes for
    the cart-pole Q-network) instead of failing cleanly."""
    result = subprocess.run([sys.executable, "-c", _ARENA_PROBE, str(path), str(size), str(input_count)],
                            capture_output=True, timeout=300)
    return result.returncode == 0


def _smallest_arena(data, start, input_count):
    """The smallest arena (to 16 bytes) with which TFLM allocates and runs `data`, searching up from
    `start`, what the recording allocator reported (the recorded total leaves out scratch memory
    that `Prepare` frees, so it can fall short; smaller sizes are never enough)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(data)
        low, high = start - _MICRO_ALIGNMENT, start
        while not _arena_works(path, high, input_count):
            if high >= MICRO_PROBE_ARENA:
                return None
            low, high = high, min(-(-int(high * 1.25) // _MICRO_ALIGNMENT) * _MICRO_ALIGNMENT, MICRO_PROBE_ARENA)
        while high - low > _MICRO_ALIGNMENT:
            middle = (low + high) // 2 // _MICRO_ALIGNMENT * _MICRO_ALIGNMENT
            if _arena_works(path, middle, input_count):
                high = middle
            else:
                low = middle
    return high


def _example_inputs(example, details):
    arrays = list(example) if isinstance(example, (list, tuple)) else [example]
    if len(arrays) != len(details):
        raise InvalidInputError(f"Each test input needs {len(details)} array(s), one per model input. "
                                f"Received {len(arrays)}.")
    for array, detail in zip(arrays, details):
        array = np.asarray(array)
        if tuple(array.shape) != tuple(detail["shape"]) or array.dtype != detail["dtype"]:
            shape = [int(d) for d in detail["shape"]]
            raise InvalidInputError(f"Test input for {detail['name']!r} must have shape {shape} "
                                    f"and dtype {np.dtype(detail['dtype']).name}. Received shape {list(array.shape)}, "
                                    f"dtype {array.dtype.name}; pass one example (batch 1) per item, already "
                                    "quantized to the model's input type.")
    return [np.asarray(a) for a in arrays]


def _micro_parity(data, micro, test_inputs):
    """The largest absolute output difference, in the outputs' own units (quantization steps for
    int8), between TFLM and LiteRT over `test_inputs`."""
    from ai_edge_litert.interpreter import Interpreter

    with native_output_silenced():
        litert = Interpreter(model_content=data)
        litert.allocate_tensors()
    inputs, outputs = litert.get_input_details(), litert.get_output_details()
    largest = 0.0
    for example in test_inputs:
        arrays = _example_inputs(example, inputs)
        for i, (array, detail) in enumerate(zip(arrays, inputs)):
            litert.set_tensor(detail["index"], array)
            micro.set_input(array, i)
        litert.invoke()
        micro.invoke()
        for i, detail in enumerate(outputs):
            difference = np.abs(litert.get_tensor(detail["index"]).astype(np.float64)
                                - np.asarray(micro.get_output(i)).astype(np.float64))
            largest = max(largest, float(difference.max(initial=0.0)))
    return {"examples": len(test_inputs), "max_abs_diff": largest}


def _zeros_run(interpreter, input_count):
    # TFLM's get_input_details does not check its index (one past the end crashes): count from the graph.
    for index in range(input_count):
        detail = interpreter.get_input_details(index)
        interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
    interpreter.invoke()


def micro_report(source, test_inputs=None):
    """Loads and runs the model in TFLite Micro's Python interpreter (see the module doc)."""
    if importlib.util.find_spec("tflite_micro") is None:
        return {"loads": None, "reason": "tflite-micro is not installed: pip install deepedge[train] "
                                         "(or pip install tflite-micro) to check TFLite Micro."}
    data = model_bytes(source)
    graph = read_graph(data)
    missing = sorted({op.name for op in graph.ops if op.name not in MICRO_OPS})
    report = {"loads": False, "unsupported_ops": missing, "arena_bytes": None, "subgraphs": len(graph.subgraphs)}
    if len(graph.subgraphs) > 1:
        report["note"] = (f"{len(graph.subgraphs)} subgraphs (signatures {[s.name for s in graph.subgraphs]}): the "
                          "TFLM Python interpreter has no signature API and runs the first subgraph only.")
    interpreter, log = _micro_interpreter(data, MICRO_PROBE_ARENA)
    if interpreter is None:
        first = re.search(r"Didn't find op for builtin opcode '(\w+)'", log)
        if first:
            report["unsupported_ops"] = sorted(set(missing) | {first.group(1)})
            report["reason"] = (f"no TFLite Micro kernel for {', '.join(report['unsupported_ops'])} "
                                f"(TFLM stops at the first: {first.group(1)})")
        else:
            report["reason"] = f"TFLite Micro could not allocate the model in {MICRO_PROBE_ARENA} bytes: " + \
                " ".join(log.split())[:500]
        return report
    input_count = len(graph.subgraphs[0].inputs)
    error = None
    with native_output_silenced() as captured:
        try:
            _zeros_run(interpreter, input_count)
        except RuntimeError as e:
            error = e
    if error is not None:
        report["reason"] = (f"TFLite Micro loads the model but cannot run it: {error} "
                            f"{' '.join(''.join(captured).split())}").strip()
        return report
    recorded = _recorded_arena(interpreter) or _MICRO_ALIGNMENT
    report.update(loads=True, arena_bytes=_smallest_arena(data, recorded, input_count),
                  recorded_arena_bytes=recorded, reason=None)
    if test_inputs is not None:
        report["parity"] = _micro_parity(data, interpreter, test_inputs)
    return report


# === Edge TPU ===

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
            "first_unsupported": first_unsupported, "edgetpu_ops": _counts(on_tpu),
            "cpu_ops": _counts([row["op"] for row in rows if row["target"] == "cpu"]),
            "graph": rows, "source": EDGETPU_SOURCE}


def accelerator_report(source, test_inputs=None):
    """Per target (`xnnpack`, `gpu`, `micro`, `edgetpu`): which ops it takes, which not and why.

    Args:
        source: the model: a `.tflite` path, an exported folder, or the flatbuffer's bytes.
        test_inputs: optional list of examples, each an array (or a tuple, one per model input)
            with the model's input shape and dtype; TFLite Micro's outputs on them are compared
            with LiteRT's.
    """
    data = model_bytes(source)
    return {"xnnpack": xnnpack_report(data), "gpu": gpu_report(data), "micro": micro_report(data, test_inputs),
            "edgetpu": edgetpu_report(data)}


__all__ = ["EDGETPU_OPS", "EDGETPU_SOURCE", "MICRO_OPS", "accelerator_report", "edgetpu_report", "gpu_report",
           "micro_report", "parse_analyzer", "xnnpack_report"]
