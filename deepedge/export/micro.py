"""TFLite Micro for an exported model: whether it loads and runs in the TFLM Python interpreter
(PyPI `tflite-micro`), the ops it has no kernel for, the smallest tensor arena that allocates
and runs (found by trying sizes upward from what TFLM's recording allocator reports, in child
processes, since some sizes just short of enough crash it), and, given test inputs, the largest
output difference against LiteRT. Part of `deepedge.export.accelerators.accelerator_report`.
"""

import importlib.util
import re
import select
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.export.graph import model_bytes, read_graph
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
_PROBE_SECONDS = 300  # one try of one arena size, at most


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
data, count = open(sys.argv[1], "rb").read(), int(sys.argv[2])
sizes = sys.stdin if len(sys.argv) < 4 else [sys.argv[3]]
for line in sizes:
    try:
        interpreter = runtime.Interpreter.from_bytes(data, arena_size=int(line))
        for index in range(count):
            detail = interpreter.get_input_details(index)
            interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
        interpreter.invoke()
        del interpreter
    except RuntimeError:
        if len(sys.argv) > 3:
            raise
        print("no", flush=True)
    else:
        print("ok", flush=True)
"""


def _probe(path, size, input_count):
    """The exit status of a child process in which TFLM allocates and runs the model at `path` with an
    arena of `size` bytes: 0 when it works, negative (the signal) when TFLM crashed."""
    return subprocess.run([sys.executable, "-c", _ARENA_PROBE, str(path), str(input_count), str(size)],
                          capture_output=True, timeout=_PROBE_SECONDS).returncode


class _ArenaProber:
    """Tries arena sizes in one child process that reads them from its stdin, and starts a new
    child after one that crashed: some sizes just short of enough crash TFLM (a segmentation
    fault, seen at 5,120 bytes for the cart-pole Q-network) instead of failing cleanly. A
    child's start (Python, numpy and TFLM) costs about a second; a try in a running child, a
    few milliseconds for small models."""

    def __init__(self, path, input_count):
        self.command = [sys.executable, "-c", _ARENA_PROBE, str(path), str(input_count)]
        self.child = None
        self.first_tries = set()  # sizes tried first in a fresh child

    def works(self, size):
        if self.child is None:
            self.child = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True)
            self.first_tries.add(int(size))
        try:
            self.child.stdin.write(f"{int(size)}\n")
            self.child.stdin.flush()
            ready, _, _ = select.select([self.child.stdout], [], [], _PROBE_SECONDS)
            answer = self.child.stdout.readline().strip() if ready else ""
        except (BrokenPipeError, OSError):
            answer = ""
        if answer not in ("ok", "no"):  # the child crashed (or hung) on this size
            self.close()
        return answer == "ok"

    def close(self):
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            self.child = None


def _crash_signal(data, input_count):
    """The signal that kills TFLM loading and running `data` with the probe arena, or None. TFLM aborts
    on some models it cannot take (keras.applications' MobileNetV2 at 96x96 in int8: SIGABRT, no
    message), which would end the exporting process; so the first load is tried in a child."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(data)
        status = _probe(path, MICRO_PROBE_ARENA, input_count)
    return -status if status < 0 else None


def _search(works, start):
    """The smallest size (to 16 bytes) at or above `start` for which `works(size)` holds, or None
    when even `MICRO_PROBE_ARENA` does not: up by a quarter at a time, then halving the gap."""
    low, high = start - _MICRO_ALIGNMENT, start
    while not works(high):
        if high >= MICRO_PROBE_ARENA:
            return None
        low, high = high, min(-(-int(high * 1.25) // _MICRO_ALIGNMENT) * _MICRO_ALIGNMENT, MICRO_PROBE_ARENA)
    while high - low > _MICRO_ALIGNMENT:
        middle = (low + high) // 2 // _MICRO_ALIGNMENT * _MICRO_ALIGNMENT
        if works(middle):
            high = middle
        else:
            low = middle
    return high


def _smallest_arena(data, start, input_count):
    """The smallest arena (to 16 bytes) with which TFLM allocates and runs `data`, searching up from
    `start`, what the recording allocator reported (the recorded total leaves out scratch memory
    that `Prepare` frees, so it can fall short; smaller sizes are never enough).

    The search tries sizes in one long-lived child (`_ArenaProber`); unless a fresh child tried it
    first, the size found is tried again in a fresh child, in case an earlier failed try left
    the child's memory in a state that let a later one pass. Should that fail, the search is
    repeated with a fresh child for every size.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(data)
        prober = _ArenaProber(path, input_count)
        try:
            found = _search(prober.works, start)
        finally:
            prober.close()

        def fresh(size):
            return _probe(path, size, input_count) == 0

        if found is None or found in prober.first_tries or fresh(found):
            return found
        return _search(fresh, start)


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
    input_count = len(graph.subgraphs[0].inputs)
    crash = None if missing else _crash_signal(data, input_count)
    if crash is not None:
        import signal

        report["reason"] = (f"TFLite Micro crashes ({signal.Signals(crash).name}) loading or running the model "
                            f"with a {MICRO_PROBE_ARENA:,}-byte arena; it does not take it.")
        return report
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



__all__ = ["MICRO_OPS", "micro_report"]
