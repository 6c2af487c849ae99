"""Fake-quantizing Keras 3 layers: they compute in float what int8 LiteRT kernels compute.

`Dense`, `Conv1D`, `Conv2D` and `DepthwiseConv2D` here are Keras's layers with their input
rounded to 8 bits over a tracked range (`ActivationQuantizer`) and their kernel rounded to int8
per output channel, symmetric over `[-max|w|, max|w|]` (levels -127..127), as the TFLite
converter quantizes weights; `LSTMCell` rounds every tensor of an int8 LSTM step. Gradients
pass straight through the rounding. Activations go through
`keras.quantizers.fake_quant_with_min_max_vars`, on the TensorFlow backend TF's
`FakeQuantWithMinMaxVars` op, whose range the converter takes for that tensor. The kernels are
rounded with plain ops: the converter rejects a per-channel FakeQuant on a reshaped depthwise
kernel, and it rounds every kernel to the same values itself. `deepedge.training.qat` puts
these layers into a trained model.

The classes keep Keras's names on purpose: a `.keras` file finds a layer's weights by its class
name, so a model saved during QAT loads as its float self when its config names Keras's layers
(a deepedge task's does), and as these layers when it names them (`"deepedge>Conv2D"`).
"""

from deepedge.backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class ActivationQuantizer(keras.layers.Layer):
    """Rounds a tensor to 8 bits over a range it tracks, as int8 LiteRT stores an activation.

    In training the range follows an exponential moving average of each batch's minimum and
    maximum; in inference it is frozen. While `calibrating` is set, the range widens to the
    extremes it sees (what the converter's calibration records) and values pass unrounded.
    The range always contains 0, as TFLite's do, so zero (ReLU's floor, padding) stays exact.

    Args:
        momentum: float in [0, 1). Weight of the old range in each training update.
            Defaults to `0.99`.

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:

    >>> quantizer = ActivationQuantizer()
    >>> quantizer.build(())
    >>> quantizer.range_max.assign(2.55)
    >>> quantizer(np.array([0.013, 1.0, 9.0]))  # steps of 0.01, clipped at 2.55
    [0.01, 1.0, 2.55]
    """

    def __init__(self, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(momentum, (int, float)) or isinstance(momentum, bool) or not 0.0 <= momentum < 1.0:
            raise ValueError(f"`momentum` must be a float in [0, 1). Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.calibrating = False

    def build(self, input_shape):
        self.range_min = self.add_weight(shape=(), initializer="zeros", trainable=False, autocast=False,
                                         name="range_min")
        self.range_max = self.add_weight(shape=(), initializer="zeros", trainable=False, autocast=False,
                                         name="range_max")

    def call(self, inputs, training=None):
        if self.calibrating:
            self.range_min.assign(ops.minimum(self.range_min, ops.cast(ops.min(inputs), "float32")))
            self.range_max.assign(ops.maximum(self.range_max, ops.cast(ops.max(inputs), "float32")))
            return inputs
        if training:
            values = ops.cast(ops.stop_gradient(inputs), "float32")
            keep = self.momentum
            self.range_min.assign(keep * self.range_min + (1.0 - keep) * ops.minimum(ops.min(values), 0.0))
            self.range_max.assign(keep * self.range_max + (1.0 - keep) * ops.maximum(ops.max(values), 0.0))
        # An empty range (a layer that only ever saw zeros) would divide by zero in the rounding.
        upper = ops.maximum(self.range_max, self.range_min + 1e-6)
        return keras.quantizers.fake_quant_with_min_max_vars(inputs, self.range_min, upper)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


def round_per_channel(kernel, channel_axes=1):
    """`kernel` rounded to int8 per output channel, symmetric, as the converter stores it.

    The output channels are the last `channel_axes` axes (2 for a depthwise kernel
    `(h, w, in, multiplier)`, whose TFLite layout puts `in * multiplier` channels last). The
    gradient passes straight through the rounding (every weight is inside its range).
    """
    channels = 1
    for size in kernel.shape[-channel_axes:]:
        channels *= size
    columns = ops.reshape(kernel, (-1, channels))
    scale = ops.stop_gradient(ops.maximum(ops.max(ops.abs(columns), axis=0), 1e-8) / 127.0)
    rounded = ops.round(columns / scale) * scale
    return ops.reshape(columns + ops.stop_gradient(rounded - columns), kernel.shape)


class QuantizeAwareMixin:
    """What the quantization-aware layers share: `ActivationQuantizer` sublayers, one per name
    in `quantizer_names`, and kernels rounded per output channel.

    A feed-forward subclass defines `_apply(inputs, kernel)` and sets `per_channel_axes` (see
    `round_per_channel`).
    """

    quantizer_names = ("input_quantizer",)
    per_channel_axes = 1

    def build(self, input_shape):
        super().build(input_shape)
        self.build_quantizers()

    def build_quantizers(self):
        """Creates the quantizers as sublayers: their ranges are saved under their own names, so a
        deepedge task saved during QAT loads as its float self (with the tuned weights)."""
        for name in self.quantizer_names:
            quantizer = ActivationQuantizer(name=name)
            quantizer.build(())
            setattr(self, name, quantizer)

    def quantizers(self):
        return [getattr(self, name) for name in self.quantizer_names]

    def quantized_kernel(self):
        """The kernel rounded to int8 per output channel, as the converter will store it."""
        return round_per_channel(self.kernel, self.per_channel_axes)

    def call(self, inputs, training=None):
        outputs = self._apply(self.input_quantizer(inputs, training=training), self.quantized_kernel())
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="deepedge")
class Dense(QuantizeAwareMixin, keras.layers.Dense):
    """`keras.layers.Dense` computing as int8 LiteRT's FULLY_CONNECTED (see the module)."""

    def _apply(self, inputs, kernel):
        return ops.matmul(inputs, kernel)


@keras.saving.register_keras_serializable(package="deepedge")
class Conv1D(QuantizeAwareMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` (channels last) computing as int8 LiteRT's CONV_2D (see the module)."""

    def _apply(self, inputs, kernel):
        if self.padding == "causal":
            inputs = ops.pad(inputs, self._compute_causal_padding())
            return ops.conv(inputs, kernel, strides=list(self.strides), padding="valid",
                            dilation_rate=self.dilation_rate, data_format=self.data_format)
        return self.convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="deepedge")
class Conv2D(QuantizeAwareMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` (channels last) computing as int8 LiteRT's CONV_2D (see the module)."""

    def _apply(self, inputs, kernel):
        return self.convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="deepedge")
class DepthwiseConv2D(QuantizeAwareMixin, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` (channels last) computing as int8 LiteRT's DEPTHWISE_CONV_2D."""

    per_channel_axes = 2

    def _apply(self, inputs, kernel):
        return ops.depthwise_conv(inputs, kernel, strides=self.strides, padding=self.padding,
                                  data_format=self.data_format, dilation_rate=self.dilation_rate)


# int8 LiteRT's LOGISTIC and TANH write fixed scales: 1/256 from 0, and 1/128 around 0.
LOGISTIC_RANGE = (0.0, 255.0 / 256.0)
TANH_RANGE = (-1.0, 127.0 / 128.0)


def _fixed_range(x, bounds):
    return keras.quantizers.fake_quant_with_min_max_vars(x, bounds[0], bounds[1])


@keras.saving.register_keras_serializable(package="deepedge")
class LSTMCell(QuantizeAwareMixin, keras.layers.LSTMCell):
    """`keras.layers.LSTMCell` computing as an int8 LiteRT step (what a step-wise export runs).

    Each tensor the int8 step holds is rounded: the input `x`, the states `h` and `c`, the gate
    pre-activations `z = x W + h U + b`, the gates (over the fixed LOGISTIC and TANH ranges),
    the products `f * c` and `i * g`, and the new `c` and `h` (over the ranges of the old ones,
    since the runtime feeds them back). `W` and `U` are rounded per output unit. Only the
    default activations (tanh, sigmoid) and no dropout inside the cell are covered.
    """

    quantizer_names = ("input_quantizer", "state_quantizer", "carry_quantizer", "gate_quantizer",
                       "forget_quantizer", "update_quantizer")

    def call(self, inputs, states, training=False):
        h = self.state_quantizer(states[0], training=training)
        c = self.carry_quantizer(states[1], training=training)
        z = ops.matmul(self.input_quantizer(inputs, training=training), round_per_channel(self.kernel))
        z = ops.add(z, ops.matmul(h, round_per_channel(self.recurrent_kernel)))
        if self.use_bias:
            z = ops.add(z, self.bias)
        z_i, z_f, z_g, z_o = ops.split(self.gate_quantizer(z, training=training), 4, axis=-1)
        i, f, o = (_fixed_range(ops.sigmoid(gate), LOGISTIC_RANGE) for gate in (z_i, z_f, z_o))
        g = _fixed_range(ops.tanh(z_g), TANH_RANGE)
        c = ops.add(self.forget_quantizer(f * c, training=training), self.update_quantizer(i * g, training=training))
        c = self.carry_quantizer(c, training=training)
        h = self.state_quantizer(o * _fixed_range(ops.tanh(c), TANH_RANGE), training=training)
        return h, [h, c]


QUANTIZE_AWARE_LAYERS = {
    keras.layers.Dense: Dense,
    keras.layers.Conv1D: Conv1D,
    keras.layers.Conv2D: Conv2D,
    keras.layers.DepthwiseConv2D: DepthwiseConv2D,
    keras.layers.LSTMCell: LSTMCell,
}
"""Each layer type quantization-aware training covers, and the class that fake-quantizes it."""
