"""The interpreter under every on-device task: LiteRT and numpy only, never TensorFlow or Keras.

`EdgeModel` runs a model with one input tensor per argument, `EdgeStepModel` a step-wise model
with named signatures and carried state. Both send every input through `check_input` (shape,
dtype, finite values) before it reaches `set_tensor`, so bad input raises `InvalidInputError`
instead of crashing the interpreter.

Threads: a LiteRT `Interpreter` is not thread-safe (one shared by threads returns wrong
answers), so a model object holds one interpreter per thread that calls it, made on the
thread's first call. One loaded model can be shared by any number of threads; each runs in
parallel with the others (LiteRT releases the GIL while it computes) at the cost of one
interpreter's memory per thread.
"""

import threading

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.quiet import native_output_silenced
from deepedge.runtime.lookups import Lookups
from deepedge.runtime.metadata import check_tflite_file, read_metadata, resolve_model_paths
from deepedge.runtime.metadata_checks import (REEXPORT, check_class_count, check_fields, check_state,
                                              compare_signatures, compare_specs)


def _interpreter(tflite_path, num_threads=1, check=True):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise ModelFileError("The on-device runtime needs `ai-edge-litert`: "
                             "pip install 'deepedge[edge]'") from e
    if check:
        check_tflite_file(tflite_path)
    try:
        with native_output_silenced():
            interpreter = Interpreter(model_path=str(tflite_path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        raise ModelFileError(f"LiteRT cannot load {tflite_path}: it is truncated or corrupt ({e}). "
                             "Export it again.") from e
    return interpreter


def tensor_spec(detail):
    scale, zero_point = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def io_metadata(tflite_path):
    """The model's inputs and outputs (name, shape, dtype, quantization) and its signatures."""
    interpreter = _interpreter(tflite_path)
    return {"inputs": [tensor_spec(d) for d in interpreter.get_input_details()],
            "outputs": [tensor_spec(d) for d in interpreter.get_output_details()],
            "signatures": interpreter.get_signature_list()}


def signature_io(tflite_path):
    """`{signature: {"inputs": [spec], "outputs": [spec]}}`, each spec named by its signature key."""
    interpreter = _interpreter(tflite_path)
    result = {}
    for name in interpreter.get_signature_list():
        runner = interpreter.get_signature_runner(name)
        result[name] = {
            "inputs": [{**tensor_spec(d), "name": key} for key, d in sorted(runner.get_input_details().items())],
            "outputs": [{**tensor_spec(d), "name": key} for key, d in sorted(runner.get_output_details().items())],
        }
    return result


def quantize(values, spec):
    """Float values to the tensor's integer type with its scale and zero point (or a cast)."""
    dtype = np.dtype(spec["dtype"])
    if dtype.kind not in "iu" or spec["scale"] == 0:
        return np.asarray(values, dtype)
    info = np.iinfo(dtype)
    q = np.rint(np.asarray(values, np.float32) / spec["scale"]) + spec["zero_point"]
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values, spec):
    if np.dtype(spec["dtype"]).kind not in "iu" or spec["scale"] == 0:
        return np.asarray(values, np.float32)
    return (values.astype(np.float32) - spec["zero_point"]) * spec["scale"]


def check_input(value, spec, where):
    """`value` as an array the interpreter can take for the tensor `spec`, quantized; raises
    `InvalidInputError` naming `where` when its shape, dtype or values are wrong."""
    value = np.asarray(value)
    if tuple(value.shape) != tuple(spec["shape"]):
        raise InvalidInputError(f"{where} must have shape {tuple(spec['shape'])}. Received: shape={value.shape}.")
    kind = value.dtype.kind  # (`np.issubdtype` costs microseconds on every decoder step)
    if kind not in "biuf":
        raise InvalidInputError(f"{where} must be numeric (booleans, integers or real floats). "
                                f"Received: dtype={value.dtype}.")
    if kind == "f" and not np.isfinite(value).all():
        raise InvalidInputError(f"{where} holds NaN or infinite values.")
    return quantize(value, spec)


class _PerThreadInterpreter:
    """One interpreter per calling thread, behind one object (see the module docstring).

    Loading checks `model.json` once, on the loading thread (never per call or per thread):
    the fields the task reads (`metadata_fields`, `{key: kind}` as `validation.check_fields`
    takes them), and the inputs, outputs, quantization parameters and signatures against
    what the interpreter reports (`validation.compare_specs`, `compare_signatures`).
    """

    steps_run = 0
    metadata_fields = {}
    runs_signatures = False  # step-wise models call their signatures (LiteRT only, not TFLite Micro)

    def _read(self, path):
        self.tflite_path, self.json_path = resolve_model_paths(path)
        self.metadata = read_metadata(self.json_path, self.tflite_path)
        check_fields(self.metadata, self.metadata_fields, self.json_path, f"the {self.task_name or 'LiteRT'} runtime")

    def _check_signature_names(self, interpreter):
        if "signatures" in self.metadata:
            compare_signatures(self.metadata["signatures"], interpreter.get_signature_list(), self.json_path,
                               self.tflite_path)

    def _check_rank(self, spec, layout):
        """Raises `ModelFileError` unless the tensor `spec` has as many axes as `layout` names
        (`"(1, classes)"`): a model.json claiming another task for this .tflite is refused."""
        if len(spec["shape"]) != layout.count(",") + 1:
            raise ModelFileError(f"{self.json_path}: the {self.task_name} runtime takes {spec['name']!r} of shape "
                                 f"{layout}, but {self.tflite_path} has {spec['shape']} (another task's model?). "
                                 f"{REEXPORT}")

    def _check_classes(self, what, count, spec, extra=0):
        """Raises `ModelFileError` unless `count` names (labels...) and `extra` classes (a CTC
        blank) make the last dimension of the output `spec`."""
        check_class_count(count, what, spec["shape"][-1], repr(spec["name"]), self.json_path, self.tflite_path, extra)

    def _tokenizer(self, key="tokenizer"):
        """The tokenizer whose config model.json holds under `key`."""
        from deepedge.tokenizers import Tokenizer

        try:
            return Tokenizer.from_config(self.metadata[key])
        except (TypeError, ValueError, KeyError, AttributeError) as e:  # (InvalidInputError is a ValueError)
            raise ModelFileError(f"{self.json_path}: `{key}` is not a tokenizer's config ({e}). {REEXPORT}") from e

    def _open_interpreter(self, num_threads):
        from deepedge.runtime.micro import current_backend

        self.num_threads = int(num_threads)
        self.backend = current_backend()  # fixed at load: threads made later run the same backend
        self._local = threading.local()
        self._local.interpreter = self._new_interpreter()
        self._local.runners = {}
        self._count_lock = threading.Lock()
        return self._local.interpreter

    def _new_interpreter(self, check=True):
        interpreter = _interpreter(self.tflite_path, self.num_threads, check=check)
        if self.backend == "micro":  # TFLite Micro runs the file; LiteRT only names its tensors
            from deepedge.runtime.micro import MicroInterpreter, arena_for

            if self.runs_signatures:
                raise InvalidInputError(f"{self.tflite_path} is a step-wise model: its runtime calls the model's "
                                        "signatures, and TFLite Micro's Python interpreter has none (it runs the first "
                                        "subgraph only). Run it with the LiteRT backend.")

            interpreter = MicroInterpreter(interpreter, self.tflite_path, arena_for(self.metadata))
        return interpreter

    @property
    def interpreter(self):
        """The calling thread's interpreter (made on its first use): LiteRT's, or TFLite Micro's
        behind the same methods when the model was loaded under `micro_backend()`."""
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            # the file was checked when the model was loaded
            interpreter = self._local.interpreter = self._new_interpreter(check=False)
            self._local.runners = {}
        return interpreter

    def _count_step(self):
        """Adds one to `steps_run` (decoder steps, for speed figures), safely from any thread."""
        with self._count_lock:
            self.steps_run += 1

    def _runner(self, signature):
        interpreter = self.interpreter
        runner = self._local.runners.get(signature)
        if runner is None:
            runner = self._local.runners[signature] = interpreter.get_signature_runner(signature)
        return runner


class EdgeModel(_PerThreadInterpreter):
    """A LiteRT model with its `model.json`: float arrays in, float arrays out, one sample a call.

    Args:
        path: the model folder (or its `.tflite` or `model.json`).
        num_threads: int. Interpreter threads. Defaults to `1`.
    """

    task_name = None

    def __init__(self, path, num_threads=1):
        self._read(path)
        interpreter = self._open_interpreter(num_threads)
        self._inputs = interpreter.get_input_details()
        self._outputs = interpreter.get_output_details()
        for kind, details in (("input", self._inputs), ("output", self._outputs)):
            compare_specs(self.metadata[f"{kind}s"], [tensor_spec(d) for d in details], kind, self.json_path,
                          self.tflite_path)
        self._check_signature_names(interpreter)
        self.input_specs = self.metadata["inputs"]
        self.output_specs = self.metadata["outputs"]
        if self.metadata.get("lookups"):
            raise ModelFileError(f"{self.json_path} lists embedding lookups lifted out of the model, which only the "
                                 "step-wise runtime (named signatures) feeds. Load it with `deepedge.runtime.load`.")

    def invoke(self, *inputs):
        """Runs one sample: float inputs shaped like the model's inputs; returns float outputs."""
        if len(inputs) != len(self._inputs):
            raise InvalidInputError(f"The model takes {len(self._inputs)} input(s). Received: {len(inputs)}.")
        feeds = [check_input(value, spec, f"Input {spec['name']!r}") for value, spec in zip(inputs, self.input_specs)]
        interpreter = self.interpreter
        for value, detail in zip(feeds, self._inputs):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return [dequantize(interpreter.get_tensor(d["index"]), s) for d, s in zip(self._outputs, self.output_specs)]


class EdgeStepModel(_PerThreadInterpreter):
    """A step-wise LiteRT model: named signatures, state carried between calls by the caller.

    `model.json` records each signature's inputs and outputs and the layout of the state
    (`state`: name, shape, dtype, initial value). `step(inputs, state)` checks every input
    against the recorded spec before it reaches the interpreter and returns
    `(outputs, new_state)` as float/int numpy arrays.
    """

    task_name = None
    runs_signatures = True

    def __init__(self, path, num_threads=1):
        self._read(path)
        if "signature_io" not in self.metadata:
            raise ModelFileError(f"{self.json_path} describes no step-wise signatures. Export again.")
        interpreter = self._open_interpreter(num_threads)
        self.signatures = self.metadata["signature_io"]
        actual = interpreter.get_signature_list()
        if sorted(actual) != sorted(self.signatures):
            raise ModelFileError(f"{self.json_path} lists signatures {sorted(self.signatures)}, "
                                 f"{self.tflite_path} has {sorted(actual)}. {REEXPORT}")
        self._check_signature_names(interpreter)
        for name, io in self.signatures.items():
            runner = self._runner(name)
            for kind, details in (("input", runner.get_input_details()), ("output", runner.get_output_details())):
                declared = sorted(io[f"{kind}s"], key=lambda spec: spec["name"])
                if [spec["name"] for spec in declared] != sorted(details):
                    raise ModelFileError(f"{self.json_path} says signature {name!r} has {kind}s "
                                         f"{[spec['name'] for spec in declared]}, but {self.tflite_path} has "
                                         f"{sorted(details)}. {REEXPORT}")
                compare_specs(declared, [{**tensor_spec(details[key]), "name": key} for key in sorted(details)],
                              kind, self.json_path, self.tflite_path, signature=name)
        # looked up once here, not on every step of a decode loop
        self._input_specs = {name: {spec["name"]: spec for spec in io["inputs"]} for name, io in self.signatures.items()}
        self._tflite_inputs = {name: sorted(specs) for name, specs in self._input_specs.items()}
        # embedding rows the export lifted out of the graph (deepedge.export.lookups): callers give ids
        self.lookups = Lookups.from_metadata(self.metadata, self.json_path.parent, self.json_path)
        self._taken = dict(self._tflite_inputs)
        self._rows_ids = {name: {} for name in self.signatures}
        if self.lookups is not None:
            for name, specs in self._input_specs.items():
                self._rows_ids[name] = self.lookups.rows_inputs(name)
                specs.update(self.lookups.id_specs(name))
                self._taken[name] = sorted(n for n in specs if n not in self._rows_ids[name])
        self._output_specs = {name: {spec["name"]: spec for spec in io["outputs"]} for name, io in self.signatures.items()}
        self.state_layout = self.metadata.get("state", {})
        # as callers see the signatures: token ids in place of the lifted embedding rows
        check_state(self.state_layout, {name: {"inputs": [spec for key, spec in self._input_specs[name].items()
                                                          if key not in self._rows_ids[name]],
                                               "outputs": io["outputs"]} for name, io in self.signatures.items()},
                    self.json_path)

    def initial_state(self, signature="step"):
        return {s["name"]: np.full(s["shape"], s["initial"], s["dtype"]) for s in self.state_layout.get(signature, [])}

    def prepare(self, signature, **inputs):
        """Some inputs of `signature` checked and quantized once, for `run(..., prepared=)`: what
        stays the same over many steps (a translator's encoder memory) is not converted again."""
        if signature not in self.signatures:
            raise InvalidInputError(f"No signature {signature!r}; the model has {sorted(self.signatures)}.")
        specs = self._input_specs[signature]
        unknown = sorted(set(inputs) - set(self._taken[signature]))
        if unknown:
            raise InvalidInputError(f"Signature {signature!r} takes inputs {self._taken[signature]}. "
                                    f"Received: {unknown}.")
        inputs = self.lookups.expand(signature, inputs) if self.lookups is not None else inputs
        return {name: check_input(value, specs[name], f"Input {name!r} of {signature!r}")
                for name, value in inputs.items()}

    def bind(self, signature, **fixed):
        """A callable `(**inputs) -> outputs` that runs `signature` with `fixed` inputs (checked
        and quantized here, once) and the rest given per call: what a decoder reads at every
        step (a translator's encoder memory, a captioner's feature grid) is copied into the
        interpreter once instead of on every step, which is a fifth of a small decoder step.

        The fixed inputs stay in the calling thread's interpreter until another `bind` or `run`
        of the same signature on that thread replaces them; a bound callable that finds its
        inputs replaced sets them again, so interleaved decodes stay correct. The bound
        callable belongs to the thread that made it.
        """
        prepared = self.prepare(signature, **fixed)
        specs = self._input_specs[signature]
        runner = self._runner(signature)
        # LiteRT's SignatureRunner resizes, reallocates and sets every input on each call; its
        # wrapper (ai-edge-litert 2.x) lets the per-step inputs alone be set. Without it, plain `run`.
        wrapper, subgraph = getattr(runner, "_interpreter_wrapper", None), getattr(runner, "_subgraph_index", None)
        indices = dict(getattr(runner, "_inputs", {}) or {})
        outputs = list(getattr(runner, "_outputs", []) or [])
        if wrapper is None or subgraph is None or sorted(indices) != self._tflite_inputs[signature] or not outputs:
            return lambda **inputs: self.run(signature, prepared=prepared, **inputs)
        local = self._local
        owners = local.__dict__.setdefault("bound", {})
        token = object()

        def call(**inputs):
            feeds = self._feeds(signature, inputs, prepared)
            if owners.get(signature) is not token:  # first call, or another decode set its own
                runner(**feeds, **prepared)
                owners[signature] = token
            else:
                for name, value in feeds.items():
                    wrapper.SetTensor(indices[name], value, subgraph)
                wrapper.Invoke(subgraph)
            return self._dequantized(signature, {name: wrapper.GetTensor(index, subgraph) for name, index in outputs})

        return call

    def run(self, signature, prepared=None, **inputs):
        """Runs one signature on named inputs (and those `prepare` made); returns its named outputs."""
        if signature not in self.signatures:
            raise InvalidInputError(f"No signature {signature!r}; the model has {sorted(self.signatures)}.")
        prepared = prepared or {}
        feeds = self._feeds(signature, inputs, prepared)
        self._local.__dict__.get("bound", {}).pop(signature, None)  # a `bind` of it sets its inputs again
        return self._dequantized(signature, self._runner(signature)(**feeds, **prepared))

    def _feeds(self, signature, inputs, prepared):
        """`inputs` checked and quantized for `signature`, which takes them and `prepared`."""
        specs, rows_ids = self._input_specs[signature], self._rows_ids[signature]
        given = sorted([*inputs, *{rows_ids.get(name, name) for name in prepared}])  # prepared: .tflite names
        if given != self._taken[signature]:
            raise InvalidInputError(f"Signature {signature!r} takes inputs {self._taken[signature]}. "
                                    f"Received: {sorted([*inputs, *prepared])}.")
        if self.lookups is not None:
            inputs = self.lookups.expand(signature, inputs)
        return {name: check_input(value, specs[name], f"Input {name!r} of {signature!r}")
                for name, value in inputs.items()}

    def _dequantized(self, signature, outputs):
        out_specs = self._output_specs[signature]
        return {name: dequantize(value, out_specs[name]) if name in out_specs else value
                for name, value in outputs.items()}

    def step(self, inputs, state, signature="step"):
        """`(outputs, new_state)`: runs `signature` on `inputs` plus `state`.

        A state entry with `"shift": NAME` (an NPLM's window of the last ids) is not computed by
        the model: the input NAME (ids) is shifted into it here, oldest out, and the model reads
        the shifted window."""
        layout = self.state_layout.get(signature, [])
        shifted = {}
        for entry in layout:
            if entry.get("shift"):
                inputs = dict(inputs)
                shifted[entry["name"]] = _shift_in(state.get(entry["name"]), inputs.pop(entry["shift"], None), entry,
                                                   signature)
        outputs = self.run(signature, **inputs, **{**state, **shifted})
        new_state = {s["name"]: shifted[s["name"]] if s["name"] in shifted else outputs.pop(s["name"]) for s in layout}
        return outputs, new_state


def _shift_in(window, ids, entry, signature):
    """`window` (a state of shape (1, n)) with the integer `ids` shifted in at its end."""
    where = f"Input {entry['shift']!r} of {signature!r}"
    if ids is None or window is None:
        raise InvalidInputError(f"{where} and the state {entry['name']!r} are both needed: the runtime shifts the "
                                "first into the second.")
    ids, window = np.asarray(ids), np.asarray(window)
    if ids.dtype.kind not in "iu" or ids.ndim != 1 or not 0 < ids.size <= entry["shape"][-1]:
        raise InvalidInputError(f"{where} must be a 1-D array of integer ids (at most {entry['shape'][-1]}). "
                                f"Received: shape={ids.shape}, dtype={ids.dtype}.")
    if window.shape != tuple(entry["shape"]):
        raise InvalidInputError(f"The state {entry['name']!r} of {signature!r} must have shape {tuple(entry['shape'])}."
                                f" Received: shape={window.shape}.")
    return np.concatenate([window[:, ids.size:], ids.astype(entry["dtype"])[None]], axis=1)
