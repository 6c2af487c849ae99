"""Selective quantization: int8 everywhere except chosen tensors, which stay float32.

LiteRT's converter quantizes a whole graph. TensorFlow's quantization debugger
(`tf.lite.experimental.QuantizationDebugger`, the documented tool for "Inspecting quantization
errors") calibrates a model once and can then quantize the calibrated graph again with any set
of nodes deny-listed: those ops keep float32 weights and activations, with a DEQUANTIZE before
and a QUANTIZE after them. It also measures every quantized op's own error (its NumericVerify
twin runs the float op on the same dequantized inputs). `SelectiveQuantizer` wraps it: one
calibration, then as many candidate models as a search needs, each a cheap re-quantization.
"""

import contextlib
import csv
import io

import numpy as np

from deepedge.backend import tf
from deepedge.errors import ConversionError
from deepedge.quiet import native_output_silenced


def _converted(call, model):
    from deepedge.export.convert import _converter_error

    try:
        with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()):
            return call()
    except ConversionError:
        raise
    except Exception as e:  # ConverterError and friends; re-raised with the layer named
        raise _converter_error(e, model) from e


class SelectiveQuantizer:
    """One int8 calibration of a model, quantized again with any tensors kept in float32.

    Args:
        make_converter: callable returning a fresh `TFLiteConverter` for the float model.
        representative_dataset: callable returning an iterator of calibration samples, as the
            converter takes them: lists of arrays, or `(signature, {input name: array})` pairs.
        model: the Keras model (named in conversion errors).
        float_layers: names of Keras layers always kept in float32 (a task's `edge_float_layers`).
        int8_io: bool. The quantized model also takes and returns int8 tensors.
    """

    def __init__(self, make_converter, representative_dataset, model, float_layers=(), int8_io=False):
        from deepedge.export.convert import _run_converter, _tensors_of_layers

        self.model, self.int8_io, self._dataset = model, bool(int8_io), representative_dataset
        self.base_nodes = []
        if float_layers:  # a first conversion with float fallback names those layers' tensors
            first = _run_converter(make_converter(), "int8", representative_dataset, model, int8_io=False,
                                   strict_int8=False)
            self.base_nodes = _tensors_of_layers(first, float_layers)
            if not self.base_nodes:
                raise ConversionError(f"No tensors of the layers {list(float_layers)} in the converted "
                                      f"{model.name!r}; cannot keep them in float. Check the layer names.")
        converter = make_converter()
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        self._debugger = _converted(lambda: tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=self._debug_samples,
            debug_options=self._options(())), model)
        self._errors = None

    def _options(self, float_nodes):
        return tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=list(dict.fromkeys([*self.base_nodes, *float_nodes])), fully_quantize=self.int8_io)

    def quantize(self, float_nodes=()):
        """The int8 flatbuffer with `float_nodes` (tensor names) and the float layers in float32,
        its internal tensor names shortened as shipped (`compact_tensor_names`)."""
        from deepedge.export.convert import compact_tensor_names

        def quantized():
            self._debugger.options = self._options(float_nodes)
            return self._debugger.get_nondebug_quantized_model()

        return compact_tensor_names(_converted(quantized, self.model))

    def _debug_samples(self):
        """The calibration samples as the debugger's interpreter takes them: arrays in the order of
        its inputs. Signature samples (`(name, {input: array})`) are matched by input name; the
        debugger runs the first subgraph only, so samples of other signatures are skipped."""
        details = self._debugger._quant_interpreter.get_input_details()
        for sample in self._dataset():
            if not (isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[1], dict)):
                yield list(sample)
                continue
            signature, feeds = sample
            arrays = []
            for detail in details:
                match = [key for key in feeds if detail["name"] in (f"{signature}_{key}:0", key, f"{key}:0")]
                if not match:
                    break
                arrays.append(np.asarray(feeds[match[0]], detail["dtype"] if detail["dtype"] != np.int8
                                         else np.float32))
            if len(arrays) == len(details):
                yield arrays

    def op_errors(self):
        """Every quantized op's own error on the calibration samples, worst first: dicts with
        `op`, `tensor`, `rmse_steps` (root-mean-square error in quantization steps; rounding
        alone gives 0.29) and `scale`."""
        if self._errors is None:
            with native_output_silenced(), contextlib.redirect_stdout(io.StringIO()), \
                    np.errstate(all="ignore"):
                self._debugger.options = self._options(())
                self._debugger.run()
                dump = io.StringIO()
                self._debugger.layer_statistics_dump(dump)
            rows = []
            for row in csv.DictReader(io.StringIO(dump.getvalue())):
                scale = float(row["scale"] or "nan")
                rmse = float(np.sqrt(float(row["mean_squared_error"] or "nan")))
                rows.append({"op": row["op_name"], "tensor": row["tensor_name"], "scale": scale,
                             "rmse_steps": rmse / scale if scale > 0 else float("nan")})
            self._errors = sorted(rows, key=lambda r: -np.nan_to_num(r["rmse_steps"], nan=-1.0, posinf=1e30))
        return self._errors

    def groups(self):
        """`{op name: [tensor names]}`: the quantized tensors grouped by the op that computes
        them, the unit a repair keeps in float (all of an LSTM step's concatenations, say)."""
        groups = {}
        for row in self.op_errors():
            if row["tensor"] not in self.base_nodes:
                groups.setdefault(row["op"], []).append(row["tensor"])
        return groups


__all__ = ["SelectiveQuantizer"]
