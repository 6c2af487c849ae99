"""Run an exported model in TFLite Micro instead of LiteRT, behind the same runtime classes.

`with micro_backend(): deepedge.edge.load(folder).evaluate_metric(test)` measures the task
metric of the very `.tflite` file a microcontroller would flash, executed by TFLite Micro's own
kernels (PyPI `tflite-micro`, its Python interpreter: the reference and CMSIS-style int8 kernels
compiled for this CPU) with the tensor arena model.json records. `deepedge evaluate MODEL
--backend micro` does this from the command line.

`MicroInterpreter` stands in for LiteRT's `Interpreter` where the runtime classes use it (input
and output details, `set_tensor`, `invoke`, `get_tensor`); the details come from LiteRT reading
the same file, so model.json is checked exactly as for LiteRT. TFLM's Python interpreter has no
signature API and runs the first subgraph only: step-wise models (decoders) are refused.
"""

import contextlib
import contextvars

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.quiet import native_output_silenced

BACKENDS = ("litert", "micro")
_backend = contextvars.ContextVar("deepedge_runtime_backend", default="litert")
_ARENA_MARGIN = 1.25  # over the smallest arena recorded at export, for the allocator's alignment
_DEFAULT_ARENA = 64 * 1024 * 1024  # when model.json records none


def current_backend():
    """The interpreter `deepedge.edge.load` builds in this context: `"litert"` or `"micro"`."""
    return _backend.get()


@contextlib.contextmanager
def micro_backend(enabled=True):
    """Within this block (this thread and context), runtimes run their models in TFLite Micro."""
    token = _backend.set("micro" if enabled else "litert")
    try:
        yield
    finally:
        _backend.reset(token)


def arena_for(metadata):
    """The tensor arena to give TFLM: the smallest one the export found, with a margin."""
    micro = ((metadata or {}).get("accelerators") or {}).get("micro") or {}
    arena = micro.get("arena_bytes")
    return int(arena * _ARENA_MARGIN) if arena else _DEFAULT_ARENA


class MicroInterpreter:
    """TFLite Micro's Python interpreter with the LiteRT `Interpreter` methods the runtime uses.

    Args:
        litert: a LiteRT interpreter of the same file (its tensor details name the tensors).
        tflite_path: the `.tflite` file.
        arena_size: int. TFLM's tensor arena in bytes.
    """

    def __init__(self, litert, tflite_path, arena_size):
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError as e:
            raise ModelFileError("Running on TFLite Micro needs `tflite-micro`: pip install 'deepedge[train]' "
                                 "(or pip install tflite-micro).") from e
        self._signatures = litert.get_signature_list()
        if len(self._signatures) > 1:
            raise InvalidInputError(f"{tflite_path} has {len(self._signatures)} signatures; TFLite "
                                    "Micro's Python interpreter runs the first subgraph only. Run step-wise models "
                                    "with the LiteRT backend.")
        self._inputs, self._outputs = litert.get_input_details(), litert.get_output_details()
        self._input_position = {d["index"]: i for i, d in enumerate(self._inputs)}
        self._output_position = {d["index"]: i for i, d in enumerate(self._outputs)}
        try:
            with native_output_silenced():
                self._micro = runtime.Interpreter.from_file(str(tflite_path), arena_size=int(arena_size))
        except RuntimeError as e:
            raise ModelFileError(f"TFLite Micro cannot load {tflite_path} with a {int(arena_size):,}-byte arena "
                                 f"({e}); `deepedge report` says which ops it lacks and the arena it needs.") from e

    def get_input_details(self):
        return self._inputs

    def get_output_details(self):
        return self._outputs

    def get_signature_list(self):
        return self._signatures

    def get_signature_runner(self, name):
        raise InvalidInputError(f"TFLite Micro has no signature {name!r}: its Python interpreter runs the first "
                                "subgraph only. Use the LiteRT backend for step-wise models.")

    def set_tensor(self, index, value):
        if index not in self._input_position:
            raise InvalidInputError(f"Tensor {index} is not an input of the model.")
        self._micro.set_input(np.ascontiguousarray(value), self._input_position[index])

    def invoke(self):
        self._micro.invoke()

    def get_tensor(self, index):
        if index not in self._output_position:
            raise InvalidInputError(f"TFLite Micro reads the model's outputs only; tensor {index} is not one.")
        return np.asarray(self._micro.get_output(self._output_position[index]))


__all__ = ["BACKENDS", "MicroInterpreter", "arena_for", "current_backend", "micro_backend"]
