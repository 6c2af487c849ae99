"""Depthwise-separable convolution block (Howard et al. 2017), the edge net's unit."""

from deepedge.backend import keras


@keras.saving.register_keras_serializable(package="deepedge")
class DepthwiseSeparableConv(keras.layers.Layer):
    """A depthwise 3x3 convolution and a pointwise 1x1 convolution, each with BN and ReLU.

    A standard KxK convolution from C to F channels costs K*K*C*F multiply-adds per pixel;
    this block costs K*K*C + C*F, which is what makes it cheap on phones. Batch norm folds
    into the convolutions when the model is converted to LiteRT.

    Args:
        filters: int. Output channels of the pointwise convolution.
        kernel_size: int. Size of the depthwise kernel. Defaults to `3`.
        strides: int. Stride of the depthwise convolution. Defaults to `1`.
        batch_norm_momentum: float. Momentum of the batch-norm moving statistics.
            Defaults to `0.99`.
        batch_norm: bool. Normalize after each convolution (default). Without, the
            convolutions carry biases instead: faster training on large maps on a CPU.

    Input shape:
        4D tensor `(batch, height, width, channels)`.

    Output shape:
        4D tensor `(batch, ceil(height / strides), ceil(width / strides), filters)`.

    Example:

    >>> block = DepthwiseSeparableConv(16, strides=2)
    >>> block(np.zeros((1, 28, 28, 8))).shape
    (1, 14, 14, 16)
    """

    def __init__(self, filters, kernel_size=3, strides=1, batch_norm_momentum=0.99, batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("filters", filters), ("kernel_size", kernel_size), ("strides", strides)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm = bool(batch_norm)
        # === Layers ===
        # (Creation order fixes the order of the weights, which saved optimizer states rely on.)
        self.depthwise = keras.layers.DepthwiseConv2D(
            kernel_size, strides=strides, padding="same", use_bias=not batch_norm, name="depthwise")
        if batch_norm:
            self.depthwise_bn = keras.layers.BatchNormalization(momentum=batch_norm_momentum, name="depthwise_bn")
        self.pointwise = keras.layers.Conv2D(filters, 1, use_bias=not batch_norm, name="pointwise")
        if batch_norm:
            self.pointwise_bn = keras.layers.BatchNormalization(momentum=batch_norm_momentum, name="pointwise_bn")

    def build(self, input_shape):
        self.depthwise.build(input_shape)
        mid_shape = self.depthwise.compute_output_shape(input_shape)
        self.pointwise.build(mid_shape)
        if self.batch_norm:
            self.depthwise_bn.build(mid_shape)
            self.pointwise_bn.build(self.pointwise.compute_output_shape(mid_shape))

    def call(self, inputs, training=None):
        x = self.depthwise(inputs)
        if self.batch_norm:
            x = self.depthwise_bn(x, training=training)
        x = self.pointwise(keras.ops.relu(x))
        if self.batch_norm:
            x = self.pointwise_bn(x, training=training)
        return keras.ops.relu(x)

    def compute_output_shape(self, input_shape):
        return self.pointwise.compute_output_shape(self.depthwise.compute_output_shape(input_shape))

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "batch_norm_momentum": self.batch_norm_momentum,
                "batch_norm": self.batch_norm}
