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
- `micro`: measured, the model loaded and run in the TFLite Micro Python interpreter
  (`deepedge.export.micro`).
- `edgetpu`: from Coral's documented supported-op table (`deepedge.export.edgetpu`).
"""

import re

from deepedge.export.edgetpu import EDGETPU_OPS, EDGETPU_SOURCE, edgetpu_report
from deepedge.export.graph import model_bytes, op_counts, read_graph, with_primary_subgraph
from deepedge.export.micro import MICRO_OPS, micro_report
from deepedge.quiet import native_output_silenced

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
            "delegated_ops": op_counts(taken), "cpu_ops": op_counts(kept), "subgraphs": subgraphs}


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


def device_summary(flatbuffer, max_ram=None, max_flash=None, side_bytes=0):
    """`{"footprint": ..., "accelerators": ...}` for model.json and the card: flash and RAM (LiteRT
    and TFLite Micro arenas, the largest tensors) and, per target, the ops it takes (XNNPACK
    measured, TFLite Micro loaded and run, Edge TPU from its documented op table, the GPU
    analyzer's verdict marked unverified); raises `BudgetExceededError` over a budget.
    `side_bytes`: files the model reads beside the .tflite (lifted lookup tables), counted as flash."""
    from deepedge.export.memory import check_budget, memory_report

    micro = micro_report(flatbuffer)
    memory = memory_report(flatbuffer, micro=micro)
    memory["flash_bytes"] += int(side_bytes)
    check_budget(memory, max_ram, max_flash)
    xnnpack, edgetpu, gpu = xnnpack_report(flatbuffer), edgetpu_report(flatbuffer), gpu_report(flatbuffer)
    return {
        "footprint": {"flash_bytes": memory["flash_bytes"], "litert_arena_bytes": memory["litert"]["arena_bytes"],
                   "micro_arena_bytes": memory["micro"]["arena_bytes"],
                   "largest_activations": memory["largest_activations"][:3]},
        "accelerators": {
            "xnnpack": {k: xnnpack[k] for k in ("ops", "delegated", "cpu_ops")},
            "micro": {k: micro.get(k) for k in ("loads", "unsupported_ops", "arena_bytes", "reason")},
            "edgetpu": {k: edgetpu[k] for k in ("ops", "edgetpu", "first_unsupported", "cpu_ops", "source")},
            "gpu": {k: gpu[k] for k in ("ops", "rejected", "verified")}},
    }


__all__ = ["EDGETPU_OPS", "EDGETPU_SOURCE", "MICRO_OPS", "accelerator_report", "device_summary", "edgetpu_report", "gpu_report",
           "micro_report", "parse_analyzer", "xnnpack_report"]

