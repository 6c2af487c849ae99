"""Memory budgets of an exported model: flash (the file) and RAM (the tensor arena).

Flash is the `.tflite` file's size: weights, constants and the graph, all read-only.
RAM is the tensor arena that holds the activations while the model runs. Two figures:

- LiteRT: the arena the interpreter's planner would need, computed from the flatbuffer. Each
  activation (a tensor with no bytes in the file) lives from the op that writes it to the last
  op that reads it; the model's inputs and outputs live for the whole run, as LiteRT's
  `ArenaPlanner` keeps them. Tensors are placed greedily, largest first, at the lowest 64-byte
  aligned offset that no tensor alive at the same time overlaps (the planner's "greedy by
  size" strategy). `peak_live_bytes`, the most bytes alive at one step, is the lower bound no
  planner can beat. Not counted: kernels' scratch buffers (im2col and the like), XNNPACK's own
  workspace, and variable tensors (reported apart as persistent). A model with several
  signatures gets one arena per subgraph; `arena_bytes` is their sum, as all stay allocated.
- TFLite Micro: the smallest arena with which the TFLM interpreter allocates and runs the
  model, found by trying sizes (see `deepedge.export.accelerators.micro_report`).

`check_budget(report, max_ram="256KB", max_flash="1MB")` raises `BudgetExceededError` naming
the budget, the measured value and the tensors that take the most of it.
"""

import re

from deepedge.errors import BudgetExceededError, InvalidInputError
from deepedge.export.graph import model_bytes, read_graph

LITERT_ALIGNMENT = 64  # bytes: TFLite's kDefaultTensorAlignment
_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(text):
    """Bytes in a size such as `"256KB"`, `"1.5 MiB"`, `"300000"` or `300000`.

    KB/MB/GB are powers of 1000 and KiB/MiB/GiB powers of 1024, as the SI and IEC say.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", str(text))
        if not match or match.group(2).lower() not in _UNITS:
            raise InvalidInputError(f"Cannot read {text!r} as a size. Use a number of bytes with an optional unit "
                                    "B, KB, MB, GB (x1000) or KiB, MiB, GiB (x1024), e.g. '256KB' or '1.5 MiB'.")
        value, unit = float(match.group(1)), match.group(2).lower()
    size = value * _UNITS[unit]
    if size <= 0:
        raise InvalidInputError(f"A size must be positive. Received: {text!r}.")
    return int(round(size))


def format_bytes(size):
    """`1583744 -> '1.58 MB'`: decimal units, three significant figures."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} B"


def _round_up(value, alignment):
    return -(-value // alignment) * alignment


def lifetimes(subgraph):
    """`{tensor index: (first step, last step)}` for the activations of a subgraph (see module doc)."""
    last_step = max(len(subgraph.ops) - 1, 0)
    spans = {}
    for step, op in enumerate(subgraph.ops):
        for index in op.outputs:
            spans.setdefault(index, [step, step])
        for index in op.inputs:
            if index >= 0 and index in spans:
                spans[index][1] = step
            elif index >= 0:
                spans[index] = [0, step]  # read before any op writes it: a subgraph input
    for index in (*subgraph.inputs, *subgraph.outputs):
        spans[index] = [0, last_step]
    tensors = subgraph.tensors
    return {index: tuple(span) for index, span in spans.items()
            if not tensors[index].constant and not tensors[index].variable}


def plan_arena(sizes_and_spans, alignment=LITERT_ALIGNMENT):
    """Arena bytes of a greedy-by-size placement of `(bytes, first step, last step)` tensors."""
    placed, end = [], 0
    for size, first, last in sorted(sizes_and_spans, key=lambda item: -item[0]):
        offset = 0
        overlapping = sorted((o, s) for o, s, f, l in placed if f <= last and first <= l)
        for other_offset, other_size in overlapping:
            if offset + size <= other_offset:
                break
            offset = max(offset, _round_up(other_offset + other_size, alignment))
        placed.append((offset, size, first, last))
        end = max(end, offset + size)
    return _round_up(end, alignment) if end else 0


def subgraph_arena(subgraph):
    """`{"arena_bytes", "peak_live_bytes", "persistent_bytes"}` of one subgraph's activations."""
    spans = lifetimes(subgraph)
    items = [(subgraph.tensors[i].bytes, first, last) for i, (first, last) in spans.items()]
    live = [sum(size for size, first, last in items if first <= step <= last) for step in range(len(subgraph.ops))]
    return {"arena_bytes": plan_arena(items), "peak_live_bytes": max(live, default=0),
            "persistent_bytes": sum(t.bytes for t in subgraph.tensors if t.variable)}


def _tensor_row(subgraph, tensor):
    return {"name": tensor.name, "subgraph": subgraph.name, "shape": list(tensor.shape), "dtype": tensor.dtype,
            "bytes": tensor.bytes}


def largest_tensors(graph, constant, count=5):
    """The `count` largest constants (`constant=True`, flash) or activations (RAM) of a graph."""
    rows = [(tensor.bytes, subgraph.index, tensor.index, _tensor_row(subgraph, tensor))
            for subgraph in graph.subgraphs for tensor in subgraph.tensors
            if tensor.constant == constant and not tensor.variable]
    return [row for *_, row in sorted(rows, key=lambda r: (-r[0], r[1], r[2]))[:count]]


def memory_report(source, micro=True):
    """Flash and RAM of a model (bytes, a `.tflite` path or an exported folder), as a plain dict.

    `micro=False` skips TFLite Micro (it loads the model several times to find the arena); a
    `micro_report` result already at hand may be given instead of `True`.
    """
    data = model_bytes(source)
    graph = read_graph(data)
    arenas = {subgraph.name: subgraph_arena(subgraph) for subgraph in graph.subgraphs}
    report = {
        "flash_bytes": len(data),
        "litert": {"arena_bytes": sum(a["arena_bytes"] for a in arenas.values()),
                   "peak_live_bytes": max(a["peak_live_bytes"] for a in arenas.values()),
                   "persistent_bytes": sum(a["persistent_bytes"] for a in arenas.values()),
                   "subgraphs": arenas,
                   "method": "greedy-by-size plan over the flatbuffer's op order (deepedge.export.memory)"},
        "largest_activations": largest_tensors(graph, constant=False),
        "largest_constants": largest_tensors(graph, constant=True),
    }
    if micro is not False:
        from deepedge.export.micro import micro_report

        result = micro_report(data) if micro is True else micro
        report["micro"] = {key: result.get(key) for key in ("loads", "arena_bytes", "reason")}
    return report


def _ram_bytes(report):
    """`(bytes, what)`: the largest arena the report measured, LiteRT's or TFLite Micro's."""
    candidates = [(report["litert"]["arena_bytes"] + report["litert"]["persistent_bytes"], "LiteRT tensor arena")]
    micro = report.get("micro") or {}
    if micro.get("arena_bytes"):
        candidates.append((micro["arena_bytes"], "TFLite Micro arena"))
    return max(candidates)


def _describe(tensors):
    return "; ".join(f"{t['name'] or '(unnamed)'} {t['dtype'].lower()}{t['shape']} {format_bytes(t['bytes'])}"
                     for t in tensors[:3])


def check_budget(report, max_ram=None, max_flash=None):
    """Raises `BudgetExceededError` when `report` (from `memory_report`) exceeds a budget.

    Budgets are bytes or size strings (`parse_size`); `None` skips that budget. RAM is the
    larger of the LiteRT and TFLite Micro arenas the report holds.
    """
    problems = []
    if max_ram is not None:
        budget = parse_size(max_ram)
        ram, what = _ram_bytes(report)
        if ram > budget:
            problems.append(f"RAM budget {format_bytes(budget)} exceeded: peak {what} {format_bytes(ram)} "
                            f"({ram} bytes); largest activations: {_describe(report['largest_activations'])}; "
                            "reduce the input size, the width of the layers that write these tensors, "
                            "or downsample earlier")
    if max_flash is not None:
        budget = parse_size(max_flash)
        if report["flash_bytes"] > budget:
            problems.append(f"Flash budget {format_bytes(budget)} exceeded: model file "
                            f"{format_bytes(report['flash_bytes'])} ({report['flash_bytes']} bytes); "
                            f"largest constants: {_describe(report['largest_constants'])}; "
                            "shrink the layers that own these weights (fewer units, a smaller vocabulary "
                            "or embedding) or export with int8 weights")
    if problems:
        raise BudgetExceededError(". ".join(problems) + ".")


__all__ = ["check_budget", "format_bytes", "largest_tensors", "lifetimes", "memory_report", "parse_size",
           "plan_arena", "subgraph_arena"]
