"""Quantization-aware training (QAT) on Keras 3, with no Keras 2 inside.

Keras 2 had QAT through tensorflow-model-optimization (`tfmot.quantization.keras.quantize_model`),
which still works only with tf-keras: tensorflow/model-optimization#1119 ("Any plans to
support keras3?", open) and keras-team/keras#18930 ("Is QAT supported in Keras 3.0 for TFLite
quantisation?", closed without it). Keras 3's own `model.quantize` is post-training and its
models do not convert to TFLite. So deepedge writes QAT on Keras 3's layer API:

`quantize_aware(model, calibration_inputs)` turns, in place, every `Dense`, `Conv1D`, `Conv2D`,
`DepthwiseConv2D` and `LSTMCell` into its fake-quantizing twin (`deepedge.training.fake_quant`:
int8 activations over tracked ranges, int8 kernels per output channel) and calibrates the ranges
on real samples as the converter would, so the model starts out computing what its post-training
int8 export computes. `compile` and `fit` then fine-tune it (a few epochs of a trained float
model is the usual use). `deepedge.export.export` converts it as it is, whole or step-wise: the
converter takes the range of each FakeQuant op and calibrates only the tensors QAT does not
simulate (a classifier's logits, say), and quantizes the kernels exactly as training rounded them.
A deepedge task does all of this from its own `fit`: `task.fit(x, y, epochs=2,
quantization_aware=True)` calls `quantize_aware` once (calibrating on the first inputs of `x`,
or on `qat_calibration=`, and leaving the task's `edge_float_layers` in float), keeps the
task's compiled optimizer, loss and metrics, and fine-tunes; `task.export(...)` then writes the
int8 model it trained for.

Batch norm needs no folding first. The converter folds it by scaling each output channel of
the kernel by `s = gamma / sqrt(variance + epsilon)`, and symmetric per-channel rounding
commutes with that scaling: rounding `w * s` over `[-max|w * s|, max|w * s|]` gives `round(w) * s`.
Fake-quantizing the unfolded kernel is therefore fake-quantizing the folded one, and batch norm
trains as in float (batch statistics in training, moving ones in inference). What QAT does not
simulate: the int32 rounding of the folded biases, batch norm that the converter cannot fold
(one after an activation), which runs as its own int8 MUL and ADD, and the layers left in
`float_layers` (an embedding, and the logits of a softmax tied to it), which the converter
still quantizes after calibrating them.

Saving: the QAT layers are registered Keras layers (package "deepedge") and a plain functional
model of them saves and loads with `safe_mode=True`, ranges included. A deepedge task rebuilds
its layers from its constructor arguments, so a task saved during QAT loads as its float self
with the fine-tuned weights; `strip_quantize_aware` does the same in place and returns the
ranges, which `quantize_aware(model, ranges=...)` puts back to export exactly the same model later.
"""

import inspect
import types

import numpy as np

from deepedge.backend import keras, tf
from deepedge.errors import InvalidInputError, QuantizationAwareError
from deepedge.training.fake_quant import QUANTIZE_AWARE_LAYERS, QuantizeAwareMixin

CALIBRATION_BATCH = 64
NUM_CALIBRATION = 500
FLOAT_LAYERS = {twin: base for base, twin in QUANTIZE_AWARE_LAYERS.items()}


def _children(layer):
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _walk(layer, prefix=""):
    """`(path, layer)` for every layer below `layer`, parents first, each once; the layers of a
    fake-quantizing layer (its input quantizer) are not listed."""
    seen = set()

    def visit(parent, prefix):
        for child in _children(parent):
            if id(child) in seen:
                continue
            seen.add(id(child))
            path = f"{prefix}{child.name}"
            yield path, child
            if not isinstance(child, QuantizeAwareMixin):
                yield from visit(child, path + "/")

    yield from visit(layer, prefix)


def _has_own_weights(layer):
    return len(layer.weights) > sum(len(child.weights) for child in _children(layer))


def _layers_to_quantize(model, float_layers):
    """`[(path, layer)]` of the layers to make quantization-aware; raises for what QAT cannot take."""
    covered, refused, names = [], [], set()
    for path, layer in _walk(model):
        names.add(layer.name)
        if any(part in float_layers for part in path.split("/")):
            continue
        if isinstance(layer, QuantizeAwareMixin):
            raise QuantizationAwareError(
                f"{model.name!r} is already quantization-aware (layer {path!r} is a {type(layer).__name__}). "
                "Fine-tune it as it is, or call `strip_quantize_aware(model)` first to start again.")
        if type(layer) in QUANTIZE_AWARE_LAYERS:
            _check_coverable(layer, path)
            covered.append((path, layer))
        elif _has_own_weights(layer) and not isinstance(layer, keras.layers.BatchNormalization):
            refused.append(f"{path!r} ({type(layer).__name__})")
    missing = sorted(set(float_layers) - names)
    if missing:
        raise QuantizationAwareError(f"`float_layers` names layers that {model.name!r} does not have: {missing}. "
                                     "Pass names of its layers (e.g. a task's `edge_float_layers`).")
    if refused:
        raise QuantizationAwareError(
            "Quantization-aware training covers Dense, Conv1D, Conv2D, DepthwiseConv2D and LSTMCell layers (and batch "
            f"norm, which the converter folds into them); {model.name!r} has weights in layers of other types: "
            f"{', '.join(refused)}. Nothing was changed. Name those layers in `float_layers=` (`qat_float_layers=` "
            "in a task's `fit`) to fine-tune them without fake quantization, or export this model with "
            "post-training quantization only.")
    if not covered:
        raise QuantizationAwareError(f"{model.name!r} has no Dense, Conv1D, Conv2D, DepthwiseConv2D or LSTMCell "
                                     "layer to fake-quantize. Nothing was changed; export it with post-training "
                                     "quantization.")
    return covered


def _check_coverable(layer, path):
    if not layer.built:
        raise QuantizationAwareError(f"Layer {path!r} is not built, so it has no kernel to quantize yet. "
                                     "Call the model on a batch (or `build` it) before `quantize_aware`.")
    if layer.quantization_mode is not None:
        raise QuantizationAwareError(f"Layer {path!r} is already quantized by Keras "
                                     f"(quantization_mode={layer.quantization_mode!r}). QAT starts from a float "
                                     "model: use the model from before `model.quantize(...)`.")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise QuantizationAwareError(f"Layer {path!r} is channels_first; LiteRT convolutions are channels_last. "
                                     "Rebuild the model with data_format='channels_last'.")
    if isinstance(layer, keras.layers.LSTMCell):
        activations = tuple(keras.activations.serialize(f) for f in (layer.activation, layer.recurrent_activation))
        if activations != ("tanh", "sigmoid") or layer.dropout or layer.recurrent_dropout:
            raise QuantizationAwareError(
                f"LSTM cell {path!r} has activations {activations}, dropout={layer.dropout}, "
                f"recurrent_dropout={layer.recurrent_dropout}; QAT covers cells with tanh and sigmoid (int8 LiteRT's "
                "fixed-range TANH and LOGISTIC) and no dropout inside the cell. Apply dropout between layers instead.")


def _swap_class(layer, cls):
    """Changes the class of a built layer in place (Keras's own `Layer.quantize` rewrites built layers too).

    Keras reads `call`'s signature once, in `Layer.__init__`, to decide whether to pass
    `training`; after the swap it must read the new `call`'s.
    """
    layer.__class__ = cls
    layer._call_signature = inspect.signature(layer.call)
    layer.call_signature_parameters = list(layer._call_signature.parameters)
    layer._call_has_training_arg = "training" in layer.call_signature_parameters
    layer._call_has_context_arg = {arg: arg in layer.call_signature_parameters for arg in layer._call_context_args}


def _forget_compiled_functions(model):
    """`fit`, `evaluate` and `predict` trace the layers again at their next call."""
    model.train_function = model.test_function = model.predict_function = None


def quantize_aware(model, calibration_inputs=None, ranges=None, float_layers=(), num_calibration=NUM_CALIBRATION):
    """Makes `model` train and compute as its int8 LiteRT export will, in place; returns it.

    Every `Dense`, `Conv1D`, `Conv2D`, `DepthwiseConv2D` and `LSTMCell` layer, nested ones
    included, becomes its fake-quantizing twin (`deepedge.training.fake_quant`); an `LSTM`
    holding such a cell stops using the fused cuDNN kernel (which would bypass it) until
    stripped. Call `compile` after this, then `fit`; `deepedge.export.export(model, ...)`
    converts it with the ranges it tracked. Batch norm needs no folding (see the module).

    Args:
        model: a built float Keras model, for example a deepedge task.
        calibration_inputs: array of real training inputs, raw as the model takes them
            (images, token windows), or a list, tuple or dict of arrays for a model with several
            inputs; the first `num_calibration` set the starting ranges, which are then the
            converter's post-training ranges. Pass this or `ranges`.
        ranges: dict `{"layer path/quantizer": [min, max]}` from `strip_quantize_aware` or
            `quantization_ranges`: the ranges of an earlier QAT run, frozen until trained on.
        float_layers: names of layers (and their sublayers) to leave as they are, like a
            task's `edge_float_layers`.
        num_calibration: int. Calibration samples to use. Defaults to `500`.

    Example:

    >>> quantize_aware(task, train.images)
    >>> task.compile(optimizer=keras.optimizers.Adam(1e-4))
    >>> task.fit(train.images, train.labels, epochs=1)
    >>> task.export("fashion_qat", calibration_data=train, evaluation_data=test)
    """
    if (calibration_inputs is None) == (ranges is None):
        raise InvalidInputError("`quantize_aware` needs exactly one of `calibration_inputs` (real training inputs, "
                                "to start from the post-training ranges) and `ranges` (from an earlier QAT run). "
                                f"Received: calibration_inputs={'None' if calibration_inputs is None else '...'}, "
                                f"ranges={'None' if ranges is None else '...'}.")
    layers = _layers_to_quantize(model, tuple(float_layers))
    samples = None if calibration_inputs is None else _calibration_samples(calibration_inputs, num_calibration)
    if ranges is not None:
        expected = [f"{path}/{name}" for path, layer in layers
                    for name in QUANTIZE_AWARE_LAYERS[type(layer)].quantizer_names]
        missing = [key for key in expected if key not in ranges]
        if missing:
            raise QuantizationAwareError(f"`ranges` has no range for {missing[:5]} ({len(missing)} of "
                                         f"{len(expected)}). Pass the ranges saved from this model's QAT run.")
    for _, layer in layers:
        _swap_class(layer, QUANTIZE_AWARE_LAYERS[type(layer)])
        # Built layers refuse new state; Keras's own `Layer.quantize` opens them the same way.
        layer._tracker.unlock()
        layer.build_quantizers()
        layer._tracker.lock()
    for _, layer in _walk(model):
        if isinstance(layer, keras.layers.LSTM) and isinstance(layer.cell, QuantizeAwareMixin):
            layer.use_cudnn_before_qat, layer.use_cudnn = layer.use_cudnn, False  # cuDNN would bypass the cell
    if ranges is not None:
        for path, layer in layers:
            for quantizer in layer.quantizers():
                low, high = ranges[f"{path}/{quantizer.name}"]
                quantizer.range_min.assign(float(low))
                quantizer.range_max.assign(float(high))
    else:
        _calibrate(model, [quantizer for _, layer in layers for quantizer in layer.quantizers()], samples)
    _forget_compiled_functions(model)
    return model


def _calibration_samples(calibration_inputs, num_calibration):
    from deepedge.validation import positive_int

    num_calibration = positive_int("num_calibration", num_calibration, hint="Pass a few hundred.")
    samples = keras.tree.map_structure(lambda inputs: np.asarray(inputs[:num_calibration]), calibration_inputs)
    if _count(samples) == 0:
        raise InvalidInputError("`calibration_inputs` is empty. Pass real training inputs (a few hundred).")
    return samples


def _count(inputs):
    """How many examples a batch of model inputs (an array, or a structure of arrays) holds."""
    return len(keras.tree.flatten(inputs)[0])


def _calibrate(model, quantizers, samples):
    """Widens each input range to the extremes of the float model's activations on the samples."""
    for quantizer in quantizers:
        quantizer.calibrating = True
    try:
        for start in range(0, _count(samples), CALIBRATION_BATCH):
            model(keras.tree.map_structure(lambda inputs: inputs[start:start + CALIBRATION_BATCH], samples),
                  training=False)
    finally:
        for quantizer in quantizers:
            quantizer.calibrating = False


def first_training_inputs(x, count=NUM_CALIBRATION):
    """`(inputs, x)`: the first `count` model inputs in `fit`'s `x`, and the `x` to train on.

    `x` is what Keras's `fit` takes: an array, or a list, tuple or dict of arrays; a
    `tf.data.Dataset` of `(inputs, targets)` batches, read afresh here and returned as it is; or
    a Python generator of such batches, returned as a generator that yields the batches read
    here first, so training still sees every batch.
    """
    if isinstance(x, tf.data.Dataset):
        return _inputs_of(_first_batches(iter(x), count), count), x
    if isinstance(x, types.GeneratorType):
        batches = _first_batches(x, count)
        return _inputs_of(batches, count), _replayed(batches, x)
    leaves = [] if x is None else keras.tree.flatten(x)
    if leaves and all(len(getattr(leaf, "shape", ())) > 0 for leaf in leaves):
        return keras.tree.map_structure(lambda inputs: np.asarray(inputs[:count]), x), x
    raise InvalidInputError(
        "`fit(quantization_aware=True)` calibrates the starting ranges on the first inputs of `x`, which must be "
        "an array, a list, tuple or dict of arrays, a `tf.data.Dataset` or a generator of `(inputs, targets)` "
        f"batches. Received: x of type {type(x).__name__}. Pass real training inputs, raw as the model takes "
        "them (a few hundred), as `qat_calibration=`.")


def _first_batches(batches, count):
    """Batches read from the iterator `batches` until they hold `count` examples (or it ends)."""
    first, examples = [], 0
    for batch in batches:
        first.append(batch)
        examples += _count(keras.utils.unpack_x_y_sample_weight(batch)[0])
        if examples >= count:
            break
    return first


def _inputs_of(batches, count):
    if not batches:
        raise InvalidInputError("`fit(quantization_aware=True)` found no batch in `x` to calibrate on. Pass a data "
                                "set that yields `(inputs, targets)` batches, or real training inputs as "
                                "`qat_calibration=`.")
    inputs = [keras.tree.map_structure(np.asarray, keras.utils.unpack_x_y_sample_weight(batch)[0])
              for batch in batches]
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts)[:count], *inputs)


def _replayed(batches, generator):
    yield from batches
    yield from generator


def quantization_ranges(model):
    """`{"layer path/quantizer": [min, max]}`: every range the fake-quantizing layers of `model` hold."""
    return {f"{path}/{quantizer.name}": [float(quantizer.range_min.numpy()), float(quantizer.range_max.numpy())]
            for path, layer in _walk(model) if isinstance(layer, QuantizeAwareMixin)
            for quantizer in layer.quantizers()}


def is_quantization_aware(model):
    """Whether `model` holds fake-quantizing layers (`quantize_aware` was applied)."""
    return any(isinstance(layer, QuantizeAwareMixin) for _, layer in _walk(model))


def strip_quantize_aware(model):
    """Turns the fake-quantizing layers of `model` back into float layers, in place.

    The weights stay as QAT tuned them. Returns `quantization_ranges(model)` from before,
    which `quantize_aware(model, ranges=...)` restores; save them beside the model.
    """
    ranges = quantization_ranges(model)
    if not ranges:
        raise QuantizationAwareError(f"{model.name!r} is not quantization-aware; there is nothing to strip.")
    for _, layer in list(_walk(model)):
        if isinstance(layer, keras.layers.LSTM) and hasattr(layer, "use_cudnn_before_qat"):
            layer.use_cudnn = layer.use_cudnn_before_qat
            del layer.use_cudnn_before_qat
        if isinstance(layer, QuantizeAwareMixin):
            for quantizer in layer.quantizers():
                layer._tracker.untrack(quantizer)
                delattr(layer, quantizer.name)
            _swap_class(layer, FLOAT_LAYERS[type(layer)])
    _forget_compiled_functions(model)
    return ranges


__all__ = ["first_training_inputs", "is_quantization_aware", "quantization_ranges", "quantize_aware",
           "strip_quantize_aware"]
