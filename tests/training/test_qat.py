"""deepedge.training.qat and fake_quant: quantization-aware training that converts to the same int8 model."""

import numpy as np
import pytest

from deepedge.backend import keras
from deepedge.errors import InvalidInputError, QuantizationAwareError
from deepedge.training import fake_quant
from deepedge.training.qat import (is_quantization_aware, quantization_ranges, quantize_aware,
                                   strip_quantize_aware)


def _tiny_model(seed=0):
    """Every covered layer type, batch norm after convolutions, a softmax head; batch of one."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1), batch_size=1, name="images")
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, name="stem")(x)
    x = keras.layers.ReLU(6.0)(keras.layers.BatchNormalization(name="stem_bn")(x))
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise")(x)
    x = keras.layers.Reshape((16, 48))(keras.layers.ReLU(6.0)(x))
    x = keras.layers.Conv1D(8, 3, padding="causal", activation="relu", name="temporal")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="head")(x), name="tiny")
    stem_bn = model.get_layer("stem_bn")  # a batch norm with scales far from 1, to make folding matter
    gamma = np.array([-2.0, -0.5, 0.25, 1.0, 2.0, 3.0])  # negative ones too: folding flips those channels
    stem_bn.set_weights([gamma, np.linspace(-0.5, 0.5, 6), np.zeros(6), np.linspace(0.1, 4.0, 6)])
    return model


def _images(n=96, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 1)).astype(np.float32)


def _run_tflite(flatbuffer, images):
    from ai_edge_litert.interpreter import Interpreter

    from deepedge.runtime import dequantize, quantize, tensor_spec

    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    inputs, outputs = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for image in images:
        interpreter.set_tensor(inputs["index"], quantize(image[None], tensor_spec(inputs)))
        interpreter.invoke()
        results.append(dequantize(interpreter.get_tensor(outputs["index"]), tensor_spec(outputs)))
    return interpreter, np.concatenate(results)


def _op_tensor(interpreter, op_name, position):
    """The details of input `position` of the first `op_name` op in the model."""
    op = next(op for op in interpreter._get_ops_details() if op["op_name"] == op_name)
    return interpreter._get_tensor_details(op["inputs"][position], 0)


# === Layers, hand-checked ===

def test_activation_quantizer_rounds_over_its_range_and_tracks_it():
    quantizer = fake_quant.ActivationQuantizer(momentum=0.5)
    quantizer.build(())
    quantizer.range_max.assign(2.55)  # [0, 2.55] in 255 steps of 0.01
    out = keras.ops.convert_to_numpy(quantizer(np.array([0.013, 1.0, 9.0, -1.0], np.float32)))
    np.testing.assert_allclose(out, [0.01, 1.0, 2.55, 0.0], atol=1e-6)
    quantizer(np.array([-1.0, 3.0], np.float32), training=True)  # halfway to the batch's min and max
    assert (float(quantizer.range_min.numpy()), float(quantizer.range_max.numpy())) == pytest.approx((-0.5, 2.775))
    quantizer(np.array([0.5, 0.6], np.float32), training=True)  # ranges keep 0 inside: min moves to 0, not 0.5
    assert float(quantizer.range_min.numpy()) == pytest.approx(-0.25)
    quantizer.calibrating = True
    out = keras.ops.convert_to_numpy(quantizer(np.array([0.1234, 7.0], np.float32)))
    np.testing.assert_allclose(out, [0.1234, 7.0])  # calibration widens the range and does not round
    assert float(quantizer.range_max.numpy()) == pytest.approx(7.0)


def test_kernels_round_per_output_channel_symmetrically_as_tflite_does():
    conv = fake_quant.Conv2D(2, 1, use_bias=False)
    conv.build((None, 1, 1, 2))
    conv.kernel.assign(np.array([[[[1.27, 0.1], [0.004, -0.127]]]], np.float32))  # channel maxima 1.27, 0.127
    np.testing.assert_allclose(keras.ops.convert_to_numpy(conv.quantized_kernel()),
                               [[[[1.27, 0.1], [0.0, -0.127]]]], atol=1e-7)  # steps 0.01 and 0.001
    # A depthwise kernel (h, w, in, multiplier) has in * multiplier channels in TFLite, one scale each.
    depthwise = fake_quant.DepthwiseConv2D((2, 1), depth_multiplier=2, use_bias=False)
    depthwise.build((None, 2, 1, 2))
    kernel = np.zeros((2, 1, 2, 2), np.float32)
    kernel[:, 0, 0, 0], kernel[:, 0, 0, 1] = [1.27, 0.004], [0.127, 0.0004]
    kernel[:, 0, 1, 0], kernel[:, 0, 1, 1] = [0.0127, 0.00004], [0.5, 0.3]
    depthwise.kernel.assign(kernel)
    rounded = keras.ops.convert_to_numpy(depthwise.quantized_kernel())
    np.testing.assert_allclose(rounded[:, 0, 0, 0], [1.27, 0.0], atol=1e-7)
    np.testing.assert_allclose(rounded[:, 0, 0, 1], [0.127, 0.0], atol=1e-8)
    np.testing.assert_allclose(rounded[:, 0, 1, 0], [0.0127, 0.0], atol=1e-9)  # not lost in 1.27's steps
    np.testing.assert_allclose(rounded[:, 0, 1, 1], [0.5, 76 * 0.5 / 127], rtol=1e-6)


# === Conversion ===

def test_qat_model_converts_to_builtin_int8_with_its_ranges_and_outputs():
    from deepedge.export.convert import analyze_ops, convert

    images = _images()
    model = quantize_aware(_tiny_model(), images)
    flatbuffer = convert(model, "int8", images)
    ops, _ = analyze_ops(flatbuffer)  # raises on anything but builtin ops
    interpreter, tflite = _run_tflite(flatbuffer, images[:48])
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(ops) and "DEQUANTIZE" not in ops
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    keras_out = keras.ops.convert_to_numpy(model(images[:48], training=False))
    difference = np.abs(tflite - keras_out)  # probabilities; int8 output steps are 1/256
    assert difference.max() < 0.03 and difference.mean() < 0.005, (difference.max(), difference.mean())
    # The converter took the head's input range from its FakeQuant op...
    low, high = quantization_ranges(model)["head/input_quantizer"]
    scale, _ = _op_tensor(interpreter, "FULLY_CONNECTED", 0)["quantization"]
    assert scale == pytest.approx((high - low) / 255, rel=1e-5)
    # ...and folded batch norm into the stem, scaling each channel as the QAT rounding assumed.
    stem, bn = model.get_layer("stem"), model.get_layer("stem_bn")
    fold = bn.gamma.numpy() / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
    expected = np.abs(stem.kernel.numpy() * fold).max(axis=(0, 1, 2)) / 127
    scales = _op_tensor(interpreter, "CONV_2D", 1)["quantization_parameters"]["scales"]
    np.testing.assert_allclose(scales, expected, rtol=1e-5)


@pytest.mark.slow
def test_export_of_a_quantization_aware_task_keeps_its_accuracy(trained_digits_classifier, digits, tmp_path):
    """`deepedge.export.export` of a task fine-tuned with QAT: builtin int8, within 0.5 points of its Keras self."""
    from deepedge.apps import ImageClassifier

    train = digits["train"]
    task = ImageClassifier.from_config(trained_digits_classifier.get_config())
    task.set_weights(trained_digits_classifier.get_weights())
    quantize_aware(task, train.images)
    task.compile(optimizer=keras.optimizers.Adam(3e-4))
    task.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=1, verbose=0)
    meta = task.export(tmp_path / "qat", calibration_data=train, evaluation_data=digits["test"], max_drop=0.5,
                       latency_runs=10)
    # keras_float is the fake-quant Keras model here: the int8 export computes what it computes.
    assert meta["metrics"]["passed"] and meta["metrics"]["litert_int8"] > 85.0, meta["metrics"]
    assert meta["inputs"][0]["dtype"] == "int8"
    # int8 throughout but the softmax rewritten so that XNNPACK takes it (deepedge.export.rewrite)
    assert [op["op"] for op in meta["float_ops"]] == ["SOFTMAX"]


# === Files ===

def test_a_quantization_aware_model_saves_and_loads_in_safe_mode(tmp_path):
    images = _images(32)
    model = quantize_aware(_tiny_model(), images)
    model.save(tmp_path / "qat.keras")
    loaded = keras.saving.load_model(tmp_path / "qat.keras", safe_mode=True)
    assert isinstance(loaded.get_layer("depthwise"), fake_quant.DepthwiseConv2D)
    assert quantization_ranges(loaded) == quantization_ranges(model)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(images[:4])),
                               keras.ops.convert_to_numpy(model(images[:4])), atol=1e-6)


def test_a_task_saved_during_qat_loads_as_its_float_self(tmp_path):
    from deepedge.apps import ImageClassifier
    from helpers import build_tiny_classifier

    task = build_tiny_classifier([str(i) for i in range(10)])
    quantize_aware(task, _images(32))
    task.save(tmp_path / "task.keras")
    loaded = ImageClassifier.load(tmp_path / "task.keras")
    assert not is_quantization_aware(loaded) and len(loaded.weights) == len(task.weights) - 2 * 6
    strip_quantize_aware(task)
    for saved, kept in zip(loaded.weights, task.weights):
        np.testing.assert_array_equal(saved.numpy(), kept.numpy())


def test_strip_returns_the_ranges_that_rebuild_the_same_model():
    images = _images(32)
    model = quantize_aware(_tiny_model(), images)
    before = keras.ops.convert_to_numpy(model(images[:8], training=False))
    float_weights = len(_tiny_model().weights)
    ranges = strip_quantize_aware(model)
    assert sorted(ranges) == [f"{name}/input_quantizer" for name in ("depthwise", "head", "stem", "temporal")]
    assert not is_quantization_aware(model) and len(model.weights) == float_weights
    assert type(model.get_layer("stem")) is keras.layers.Conv2D
    quantize_aware(model, ranges=ranges)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(images[:8], training=False)), before)


# === Errors ===

def test_refuses_layer_types_it_does_not_cover_and_changes_nothing():
    inputs = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 4, name="words")(inputs)
    x = keras.layers.GRU(8, name="gru")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(x))
    with pytest.raises(QuantizationAwareError, match=r"'words' \(Embedding\), 'gru/gru_cell' \(GRUCell\)"):
        quantize_aware(model, np.zeros((4, 6), np.int32))
    assert type(model.get_layer("head")) is keras.layers.Dense
    quantize_aware(model, np.zeros((4, 6), np.int32), float_layers=("words", "gru"))
    assert isinstance(model.get_layer("head"), fake_quant.Dense)
    with pytest.raises(QuantizationAwareError, match="already quantization-aware"):
        quantize_aware(model, np.zeros((4, 6)))


def test_argument_errors_say_what_to_pass():
    model = _tiny_model()
    with pytest.raises(InvalidInputError, match="exactly one of `calibration_inputs`"):
        quantize_aware(model)
    with pytest.raises(InvalidInputError, match="`calibration_inputs` is empty"):
        quantize_aware(model, np.zeros((0, 8, 8, 1)))
    with pytest.raises(QuantizationAwareError, match=r"does not have: \['front_end'\]"):
        quantize_aware(model, _images(4), float_layers=("front_end",))
    with pytest.raises(QuantizationAwareError, match="`ranges` has no range for"):
        quantize_aware(model, ranges={"stem/input_quantizer": [0.0, 1.0]})
    with pytest.raises(QuantizationAwareError, match="not quantization-aware"):
        strip_quantize_aware(model)
    assert not is_quantization_aware(model)


def test_lstm_step_converts_with_the_state_ranges_it_trained_with():
    """A step-wise recurrent export: the converter quantizes the carried state over QAT's tracked range."""
    from ai_edge_litert.interpreter import Interpreter

    from deepedge.export.convert import analyze_ops, convert_signatures

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    sequences = keras.Input((6, 3))
    lstm = keras.layers.LSTM(4, name="lstm")
    model = keras.Model(sequences, keras.layers.Dense(2, name="head")(lstm(sequences)))
    quantize_aware(model, rng.normal(size=(32, 6, 3)).astype(np.float32))
    inputs = [keras.Input((n,), batch_size=1, name=name) for name, n in (("x", 3), ("h", 4), ("c", 4))]
    output, (h, c) = lstm.cell(inputs[0], inputs[1:])
    step = keras.Model(inputs, [model.get_layer("head")(output), h, c])
    samples, state = [], [np.zeros((1, 4), np.float32)] * 2
    for x in rng.normal(size=(40, 1, 3)).astype(np.float32):
        samples.append(("step", {"x": x, "h": state[0], "c": state[1]}))
        state = [keras.ops.convert_to_numpy(t) for t in step([x, *state])[1:]]
    flatbuffer = convert_signatures({"step": {"model": step, "inputs": ["x", "h", "c"], "outputs": ["y", "h", "c"]}},
                                    "int8", samples)
    analyze_ops(flatbuffer)
    interpreter = Interpreter(model_content=flatbuffer)
    low, high = quantization_ranges(model)["lstm/lstm_cell/carry_quantizer"]
    quantize_ops = [op for op in interpreter._get_ops_details() if op["op_name"] == "QUANTIZE"]
    scales = {interpreter._get_tensor_details(op["inputs"][0], 0)["name"]:
              interpreter._get_tensor_details(op["outputs"][0], 0)["quantization"][0] for op in quantize_ops}
    carried = next(scale for name, scale in scales.items() if name.startswith("step_c"))
    assert carried == pytest.approx((high - low) / 255, rel=1e-5)
    runner = interpreter.get_signature_runner("step")
    x, h_in, c_in = samples[-1][1]["x"], samples[-1][1]["h"], samples[-1][1]["c"]
    litert = runner(x=x, h=h_in, c=c_in)
    keras_y, keras_h, keras_c = (keras.ops.convert_to_numpy(t) for t in step([x, h_in, c_in]))
    np.testing.assert_allclose(litert["c"], keras_c, atol=3 * (high - low) / 255)
    np.testing.assert_allclose(litert["h"], keras_h, atol=0.05)
    assert lstm.use_cudnn is False  # the fused kernel would skip the fake quantization
    strip_quantize_aware(model)
    assert lstm.use_cudnn == "auto" and type(lstm.cell) is keras.layers.LSTMCell
