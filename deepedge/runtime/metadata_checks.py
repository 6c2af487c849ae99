"""Checks of a `model.json` (numpy-free, TF-free): its structure, the fields a task's runtime
reads, and its agreement with the `.tflite` beside it.

A `model.json` that is not what an export writes (a key missing, a value of the wrong type,
NaN or zero quantization scales, another model's specs) raises `ModelFileError` naming the
file, the field, what it holds and what to do, before anything runs: the runtime trusts the
specs it reads here to quantize inputs and dequantize outputs, so a wrong one would give
wrong labels or NaN probabilities without an error.
"""

import math

from deepedge.errors import ModelFileError

DTYPES = {"bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64"}
REEXPORT = ("model.json must be the one exported with this .tflite: copy both from one export, or export the model "
            "again (`deepedge export`).")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strings(value):
    return isinstance(value, list) and len(value) > 0 and all(isinstance(s, str) for s in value)


def _colour(value):
    return isinstance(value, list) and len(value) == 3 and all(_is_int(x) and 0 <= x <= 255 for x in value)


# kind -> (test, what it must be)
KINDS = {
    "strings": (_strings, "a non-empty list of strings"),
    "names": (lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v), "a list of strings"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "text": (lambda v: isinstance(v, str), "a string"),
    "count": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "counts": (lambda v: isinstance(v, list) and len(v) > 0 and all(_is_int(n) and n > 0 for n in v),
               "a non-empty list of positive integers"),
    "integer": (_is_int, "an integer"),
    "dtype": (lambda v: isinstance(v, str) and v in DTYPES, f"one of {sorted(DTYPES)}"),
    "shape": (lambda v: isinstance(v, list) and all(_is_int(d) and d >= 0 for d in v),
              "a list of non-negative integers"),
    "number": (lambda v: _is_number(v) and math.isfinite(v), "a finite number"),
    "colours": (lambda v: isinstance(v, list) and len(v) > 0 and all(_colour(c) for c in v),
                "a non-empty list of [red, green, blue] colours of 0-255"),
}


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _wrong(json_path, field, kind, value):
    return ModelFileError(f"{json_path}: `{field}` must be {KINDS[kind][1]}. Received: {_shown(value)}. {REEXPORT}")


def check_fields(meta, fields, json_path, needed_by="this model"):
    """Checks the fields `{"key" or "key.subkey": kind}` of `meta` (a trailing `?` on a key
    makes it optional); raises `ModelFileError` naming the first that is missing or wrong."""
    for key, kind in fields.items():
        optional = key.endswith("?")
        path = key.rstrip("?").split(".")
        value, parent = meta, None
        for depth, part in enumerate(path):
            parent = ".".join(path[:depth])
            if not isinstance(value, dict):
                raise _wrong(json_path, parent, "object", value)
            if part not in value:
                if optional:
                    break
                raise ModelFileError(f"{json_path} lacks `{'.'.join(path)}` ({KINDS[kind][1]}), which "
                                     f"{needed_by} needs. {REEXPORT}")
            value = value[part]
        else:
            if not KINDS[kind][0](value):
                raise _wrong(json_path, ".".join(path), kind, value)


def _check_specs(specs, field, json_path):
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise ModelFileError(f"{json_path}: `{field}` must be a list of tensor specs (name, shape, dtype, scale, "
                             f"zero_point). Received: {_shown(specs)}. {REEXPORT}")
    for i, spec in enumerate(specs):
        scale = spec.get("scale")
        if _is_number(scale) and not (math.isfinite(scale) and scale >= 0):
            raise ModelFileError(f"{json_path}: the quantization scale of `{field}[{i}]` ({spec.get('name')!r}) "
                                 f"is {scale}; a scale is a finite number above zero (0 for a tensor that is not "
                                 f"quantized). {REEXPORT}")
        check_fields(spec, {"name": "text", "shape": "shape", "dtype": "dtype", "scale": "number",
                            "zero_point": "integer"}, json_path, f"`{field}[{i}]`")


def check_structure(meta, json_path):
    """Raises `ModelFileError` unless `meta` has the structure every `model.json` has: an
    object with `format_version`, `task`, `tflite_sha256`, tensor specs for `inputs` and
    `outputs` (and for each signature in `signature_io`), and `signatures` / `state` as
    objects where present. NaN, infinite and negative quantization scales are refused."""
    if not isinstance(meta, dict):
        held = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
                list: "a list"}.get(type(meta), type(meta).__name__)
        raise ModelFileError(f"{json_path} is not a deepedge model.json: it holds {held} ({_shown(meta, 40)}) "
                             f"instead of an object. {REEXPORT}")
    missing = [k for k in ("format_version", "task", "inputs", "outputs", "tflite_sha256") if k not in meta]
    if missing:
        raise ModelFileError(f"{json_path} is not a deepedge model.json: it lacks {missing}. "
                             "Re-export the model with `deepedge export`.")
    check_fields(meta, {"format_version": "count", "task": "text", "tflite_sha256": "text",
                        "signatures?": "object", "signature_io?": "object", "state?": "object",
                        "quantization?": "text"}, json_path)
    _check_specs(meta["inputs"], "inputs", json_path)
    _check_specs(meta["outputs"], "outputs", json_path)
    for name, io in meta.get("signature_io", {}).items():
        if not isinstance(io, dict) or not {"inputs", "outputs"} <= set(io):
            raise ModelFileError(f"{json_path}: `signature_io.{name}` must be an object with `inputs` and "
                                 f"`outputs`. Received: {_shown(io)}. {REEXPORT}")
        _check_specs(io["inputs"], f"signature_io.{name}.inputs", json_path)
        _check_specs(io["outputs"], f"signature_io.{name}.outputs", json_path)
    for name, layout in meta.get("state", {}).items():
        if not isinstance(layout, list) or not all(isinstance(s, dict) for s in layout):
            raise ModelFileError(f"{json_path}: `state.{name}` must be a list of (name, shape, dtype, initial). "
                                 f"Received: {_shown(layout)}. {REEXPORT}")
        for i, entry in enumerate(layout):
            check_fields(entry, {"name": "text", "shape": "shape", "dtype": "dtype", "initial": "number"},
                         json_path, f"`state.{name}[{i}]`")


def _same_scale(declared, actual):
    return math.isclose(declared, actual, rel_tol=1e-6, abs_tol=0.0)


def compare_specs(declared, actual, kind, json_path, tflite_path, signature=None):
    """Raises `ModelFileError` unless the tensor specs `declared` (model.json's `kind`s,
    "input" or "output", of `signature` if given) and `actual` (the interpreter's, in the same
    order) agree in count, and each in shape, dtype, quantization scale and zero point."""
    of = f" of signature {signature!r}" if signature else ""
    if len(declared) != len(actual):
        raise ModelFileError(f"{json_path} lists {len(declared)} {kind}(s){of}, but {tflite_path} has "
                             f"{len(actual)}. {REEXPORT}")
    for want, have in zip(declared, actual):
        name = f"{kind} {want['name']!r}{of}"
        for field in ("shape", "dtype", "zero_point"):
            if want[field] != have[field]:
                raise ModelFileError(f"{json_path} says {name} has {field} {want[field]}, but {tflite_path} has "
                                     f"{have[field]}. {REEXPORT}")
        if not _same_scale(want["scale"], have["scale"]):
            note = " (0: not quantized)" if want["scale"] == 0 else ""
            raise ModelFileError(f"{json_path} says {name} has quantization scale {want['scale']}{note}, but "
                                 f"{tflite_path} has {have['scale']}. {REEXPORT}")


def compare_signatures(declared, actual, json_path, tflite_path):
    """`declared` (model.json's `signatures`) against `interpreter.get_signature_list()`: the
    same signature names, each with the same input and output names."""
    if sorted(declared) != sorted(actual):
        raise ModelFileError(f"{json_path} lists signatures {sorted(declared)}, but {tflite_path} has "
                             f"{sorted(actual)}. {REEXPORT}")
    for name, io in declared.items():
        for side in ("inputs", "outputs"):
            want = io.get(side) if isinstance(io, dict) else None
            if not isinstance(want, list) or sorted(map(str, want)) != sorted(actual[name][side]):
                raise ModelFileError(f"{json_path} says signature {name!r} has {side} {_shown(want)}, but "
                                     f"{tflite_path} has {sorted(actual[name][side])}. {REEXPORT}")


_RANGES = {"bool": (0, 1), "int8": (-2**7, 2**7 - 1), "uint8": (0, 2**8 - 1), "int16": (-2**15, 2**15 - 1),
           "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1), "float16": (-65504.0, 65504.0),
           "float32": (-3.4028234663852886e38, 3.4028234663852886e38), "float64": (-math.inf, math.inf)}


def check_state(state, signature_io, json_path):
    """Raises `ModelFileError` unless each signature's state (model.json's `state`, checked by
    `check_structure`) names distinct inputs of that signature (in `signature_io`) that it also
    outputs, with their shape and dtype, and an initial value the dtype holds. A state that does
    not match its signature would allocate any shape it claims, or lose its values between steps."""
    for signature, layout in state.items():
        io = signature_io.get(signature)
        if io is None:
            raise ModelFileError(f"{json_path}: `state` lists signature {signature!r}, but `signature_io` has "
                                 f"{sorted(signature_io)}. {REEXPORT}")
        inputs, outputs = {s["name"]: s for s in io["inputs"]}, {s["name"] for s in io["outputs"]}
        names = [entry["name"] for entry in layout]
        for i, entry in enumerate(layout):
            name, spec = entry["name"], inputs.get(entry["name"])
            shifted = entry.get("shift")  # the runtime shifts this input into it; the model does not give it
            if shifted is not None and (not isinstance(shifted, str) or len(entry["shape"]) != 2):
                raise ModelFileError(f"{json_path}: state {name!r} of {signature!r} has `shift` {shifted!r}; expected "
                                     f"the name of the input shifted into a (1, n) window. {REEXPORT}")
            if names.index(name) != i or spec is None or (name not in outputs and not shifted):
                problem = "twice" if names.index(name) != i else "but the signature does not both take and give it"
                raise ModelFileError(f"{json_path}: `state.{signature}` lists {name!r} {problem} (inputs "
                                     f"{sorted(inputs)}, outputs {sorted(outputs)}). {REEXPORT}")
            low, high = _RANGES[entry["dtype"]]
            matches = (entry["shape"], entry["dtype"]) == (spec["shape"], spec["dtype"])
            if not matches or not low <= entry["initial"] <= high:
                raise ModelFileError(
                    f"{json_path}: state {name!r} of signature {signature!r} has shape {_shown(entry['shape'])}, dtype "
                    f"{entry['dtype']} and initial value {entry['initial']}, but the signature's input has shape "
                    f"{spec['shape']} and dtype {spec['dtype']} (values {low:g} to {high:g}). {REEXPORT}")


def check_class_count(count, what, dimension, where, json_path, tflite_path, extra=0):
    """Raises `ModelFileError` unless `count` entries of `what` (labels, characters...) in
    model.json, plus `extra` classes the model adds (a CTC blank), make the `dimension`
    classes of the model's output `where`."""
    if count + extra != dimension:
        plus = f" (plus {extra} class(es) of the model's own)" if extra else ""
        raise ModelFileError(f"{json_path} lists {count} {what}{plus}, but the output {where} of {tflite_path} has "
                             f"{dimension} classes. {REEXPORT}")
