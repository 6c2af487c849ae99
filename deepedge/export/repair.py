"""`deepedge export --repair`: keep the ops int8 hurts most in float until the task metric holds.

Which tensors to keep in float is decided by the task metric itself, not by a proxy. The
quantization debugger's per-op error (`rmse_steps`) says how far each int8 op is from its float
twin in units of its own quantization step, but a small error where precision matters (raw
audio rounded to 8 bits before a float front end) costs more than a large one where it does
not: on asr_ctc the four worst ops by that measure (cell-state additions, 11 steps off) change
nothing when kept in float, while the two concatenations of the audio window (0.27 steps,
pure rounding) hold half the loss. So the search is greedy over groups of tensors (all the
tensors one op type computes), each candidate measured on repair data; the per-op error is
reported beside it.
"""

import math
import re

import numpy as np


REPAIR_EXAMPLES = 200  # examples of the repair data each candidate is measured on


def subset(data, count):
    """The first `count` examples of a data set (its `take`), an `(x, y)` pair or an array."""
    if isinstance(data, tuple):
        return tuple(part[:count] for part in data)
    if isinstance(data, (list, np.ndarray)) or not hasattr(data, "take"):
        return data[:count]
    return data.take(count)


def _drop(reference, value, higher_is_better, relative, scale=None):
    drop = (reference - value) if higher_is_better else (value - reference)
    scale = abs(reference) if scale is None else scale
    return 100.0 * drop / scale if relative and scale else drop


def repair(quantizer, measure, reference, threshold, higher_is_better=True, relative=False, max_growth=0.10,
           max_rounds=6, evaluation_drop=None, on_candidate=None, scale=None):
    """Greedy selective quantization: adds the group of tensors whose float copy lowers the
    metric loss most, round after round, until the loss is within `threshold`.

    The repair data (training examples) may show a smaller loss than the held-out data the
    parity check uses (asr_ctc: 0.41 against 1.06 CER points). Given `evaluation_drop`, the
    loss measured there, the goal on the repair data is scaled by the same ratio: the search
    goes on until the repair data's loss is `threshold / evaluation_drop` of its plain loss.

    Args:
        quantizer: a `SelectiveQuantizer`.
        measure: callable `flatbuffer -> metric` on the repair data.
        reference: the float model's metric on the same data.
        threshold: the largest loss allowed (points, or percent with `relative`).
        max_growth: a candidate may make the model at most this fraction larger than plain int8
            (float weights take four times the room of int8 ones).
        max_rounds: most groups kept in float.
        evaluation_drop: the plain int8 model's loss on the held-out data, or None.
        on_candidate: callable `(description)` called before each measurement (a progress bar).
        scale: float or None. With `relative`, what the loss is a percentage of (the task's
            `parity_scale`); defaults to the size of `reference`.

    Returns:
        A dict: `float_nodes` (tensor names), `flatbuffer`, `kept` (the groups chosen, in
        order), `table` (every group's effect when kept in float alone, worst offender first),
        `drop_before`, `drop_after`, `size_before`, `size_after`, `passed`.
    """
    def note(text):
        if on_candidate is not None:
            on_candidate(text)

    note("plain int8")
    plain = quantizer.quantize()
    size_limit = len(plain) * (1.0 + max_growth)
    drop_before = _drop(reference, measure(plain), higher_is_better, relative, scale)
    goal = threshold
    if evaluation_drop is not None and evaluation_drop > max(threshold, 0.0):
        goal = threshold * drop_before / evaluation_drop
    errors = {row["tensor"]: row["rmse_steps"] for row in quantizer.op_errors()}
    groups = quantizer.groups()
    chosen, kept, table = [], [], {}
    best_flatbuffer, best_drop = plain, drop_before
    for _ in range(max_rounds):
        if best_drop <= goal:
            break
        round_best = None
        for op, tensors in groups.items():
            if op in kept:
                continue
            note(f"{op} in float" + (f" (with {', '.join(kept)})" if kept else ""))
            flatbuffer = quantizer.quantize(chosen + tensors)
            row = {"op": op, "tensors": len(tensors), "layers": layers_of(tensors, quantizer.model),
                   "max_rmse_steps": _finite_max(errors.get(t) for t in tensors),
                   "size_bytes": len(flatbuffer), "drop": None}
            if len(flatbuffer) <= size_limit:
                row["drop"] = round(_drop(reference, measure(flatbuffer), higher_is_better, relative, scale), 4)
                if round_best is None or row["drop"] < round_best[1]:
                    round_best = (op, row["drop"], flatbuffer)
            table.setdefault(op, row)  # the first round: each group alone
        if round_best is None or round_best[1] >= best_drop:
            break
        op, best_drop, best_flatbuffer = round_best
        kept.append(op)
        chosen += groups[op]
    rows = sorted(table.values(), key=lambda r: (r["drop"] is None, r["drop"] if r["drop"] is not None else 0))
    return {"float_nodes": chosen, "flatbuffer": best_flatbuffer, "kept": kept, "table": rows,
            "drop_before": round(drop_before, 4), "drop_after": round(best_drop, 4),
            "size_before": len(plain), "size_after": len(best_flatbuffer), "goal": round(goal, 4),
            "max_growth": max_growth, "examples": None}


def layers_of(tensors, model):
    """The Keras layers (of `model`, if any) whose name scope computes any of `tensors`."""
    if model is None:
        return []
    names = sorted({layer.name for layer in model._flatten_layers(include_self=False, recursive=True)},
                   key=len, reverse=True)
    found = []
    for name in names:
        pattern = re.compile(rf"(^|/){re.escape(name)}(_\d+)?/")
        if any(pattern.search(tensor) for tensor in tensors) and name not in found:
            found.append(name)
    return found


def _finite_max(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return round(max(values), 3) if values else None


def format_repair_table(result, unit="points"):
    """The repair's findings as markdown lines: each op group's metric loss when kept in float alone."""
    lines = [f"There plain int8 loses {result['drop_before']:.2f} {unit}, and {result['drop_after']:.2f} "
             f"with {', '.join(result['kept']) or 'nothing'} kept in float32 ({result['size_before'] / 1024:.1f} KiB "
             f"-> {result['size_after'] / 1024:.1f} KiB).", "",
             "| op kept in float32 | tensors | Keras layers | worst op error (steps) | loss after | size |",
             "| --- | ---: | --- | ---: | ---: | ---: |"]
    for row in result["table"]:
        loss = f"{row['drop']:.2f}" if row["drop"] is not None else "too large"
        steps = f"{row['max_rmse_steps']:.2f}" if row["max_rmse_steps"] is not None else "-"
        lines.append(f"| {row['op']} | {row['tensors']} | {', '.join(row['layers'][:3]) or '-'} | {steps} | "
                     f"{loss} | {row['size_bytes'] / 1024:.1f} KiB |")
    return lines


__all__ = ["REPAIR_EXAMPLES", "format_repair_table", "layers_of", "repair", "subset"]
