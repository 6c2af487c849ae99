"""ConvNet backbones for image recognition: LeNet-5 and a depthwise-separable edge net.

A backbone maps preprocessed images to one feature vector per image; the task class adds
the preprocessing in front and the classifier head behind.
"""

from deepedge.backend import keras
from deepedge.layers import Backbone, DepthwiseSeparableConv, Subsampling


def _check_image_shape(image_shape, min_side):
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3
            or not all(isinstance(d, int) and d > 0 for d in image_shape)):
        raise ValueError("`image_shape` must be (height, width, channels) with positive ints. "
                         f"Received: image_shape={image_shape!r}")
    if min(image_shape[:2]) < min_side:
        raise ValueError(f"Images must be at least {min_side}x{min_side} for this backbone. "
                         f"Received: image_shape={tuple(image_shape)}")
    return tuple(image_shape)


@keras.saving.register_keras_serializable(package="deepedge")
class LeNet5Backbone(Backbone):
    """LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998), up to its 84-unit F6 layer.

    Images are zero-padded to 32x32 as in the paper, then C1 (6 maps, 5x5), S2 (2x2
    subsampling with a trainable coefficient and bias per map), C3 (16 maps, 5x5), S4, C5
    (120 maps, 5x5) and F6 (84 units), all with the paper's scaled tanh 1.7159 tanh(2x/3).
    One departure, standard today: C3 connects to all six S2 maps instead of the paper's
    sparse table. The task adds the output layer (softmax in place of the paper's Euclidean
    RBF units).

    Args:
        image_shape: tuple. `(height, width, channels)`, at least 28x28. Defaults to
            `(28, 28, 1)`.
    """

    def __init__(self, image_shape=(28, 28, 1), **kwargs):
        image_shape = _check_image_shape(image_shape, 28)
        # === Layers / Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        x = inputs
        pad_h, pad_w = max(0, 32 - image_shape[0]), max(0, 32 - image_shape[1])
        if pad_h or pad_w:
            x = keras.layers.ZeroPadding2D(((pad_h // 2, pad_h - pad_h // 2),
                                            (pad_w // 2, pad_w - pad_w // 2)), name="pad_to_32")(x)
        x = keras.layers.Conv2D(6, 5, activation=scaled_tanh, name="c1")(x)
        x = Subsampling(2, activation=scaled_tanh, name="s2")(x)
        x = keras.layers.Conv2D(16, 5, activation=scaled_tanh, name="c3")(x)
        x = Subsampling(2, activation=scaled_tanh, name="s4")(x)
        x = keras.layers.Conv2D(120, 5, activation=scaled_tanh, name="c5")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        outputs = keras.layers.Dense(84, activation=scaled_tanh, name="f6")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.image_shape = image_shape

    def _constructor_config(self):
        return {"image_shape": self.image_shape}


@keras.saving.register_keras_serializable(package="deepedge")
def scaled_tanh(x):
    """LeNet-5's squashing function, f(a) = 1.7159 tanh(2a/3)."""
    return 1.7159 * keras.ops.tanh(x * (2.0 / 3.0))


@keras.saving.register_keras_serializable(package="deepedge")
class EdgeNetBackbone(Backbone):
    """A compact depthwise-separable ConvNet for small images on phones and MCUs.

    A 3x3 stem convolution at full resolution, then depthwise-separable blocks (see
    `DepthwiseSeparableConv`) that halve the resolution where `strides` is 2, and global
    average pooling. The default (about 90k parameters) works at 28x28, 14x14, 7x7 and 4x4.
    Where int8 LiteRT spends its time on one CPU thread decides the shape (the README gives
    the measurements):
    - The stem is narrow (16 filters): it is the only layer at full resolution, and a 3x3
      kernel on one grey channel has only nine inputs to mix.
    - The two widest blocks (192) run at 4x4, not 7x7: less latency for the same accuracy.
    - A stride-2 stem (`stem_strides=2`) is faster still but loses accuracy.

    Args:
        image_shape: tuple. `(height, width, channels)`. Defaults to `(28, 28, 1)`.
        stem_filters: int. Filters of the stem convolution. Defaults to `16`.
        stem_strides: int. Stride of the stem convolution. Defaults to `1`.
        block_filters: tuple of int. Output filters of each separable block.
        block_strides: tuple of int. Stride of each block, same length as `block_filters`.
        batch_norm_momentum: float. Defaults to `0.99`.
        pooling: `"avg"` (default) pools the last feature map into one vector; `None` returns
            the feature map itself `(height, width, channels)`, a grid for attention (captioning).
    """

    def __init__(self, image_shape=(28, 28, 1), stem_filters=16, block_filters=(48, 96, 128, 192, 192),
                 block_strides=(2, 1, 2, 2, 1), batch_norm_momentum=0.99, stem_strides=1, pooling="avg", **kwargs):
        image_shape = _check_image_shape(image_shape, 8)
        block_filters, block_strides = tuple(block_filters), tuple(block_strides)
        if len(block_filters) != len(block_strides):
            raise ValueError("`block_filters` and `block_strides` must have the same length. Received: "
                             f"block_filters={block_filters}, block_strides={block_strides}")
        # === Layers / Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        x = keras.layers.Conv2D(stem_filters, 3, strides=stem_strides, padding="same", use_bias=False,
                                name="stem")(inputs)
        x = keras.layers.BatchNormalization(momentum=batch_norm_momentum, name="stem_bn")(x)
        x = keras.layers.ReLU(name="stem_relu")(x)
        for i, (filters, strides) in enumerate(zip(block_filters, block_strides)):
            x = DepthwiseSeparableConv(filters, strides=strides, batch_norm_momentum=batch_norm_momentum,
                                       name=f"block{i + 1}")(x)
        if pooling not in ("avg", None):
            raise ValueError(f"`pooling` must be 'avg' or None. Received: pooling={pooling!r}")
        outputs = keras.layers.GlobalAveragePooling2D(name="pool")(x) if pooling == "avg" else x
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.pooling = pooling
        self.image_shape = image_shape
        self.stem_filters = stem_filters
        self.stem_strides = stem_strides
        self.block_filters = block_filters
        self.block_strides = block_strides
        self.batch_norm_momentum = batch_norm_momentum

    def _constructor_config(self):
        return {"image_shape": self.image_shape, "stem_filters": self.stem_filters,
                "stem_strides": self.stem_strides,
                "block_filters": self.block_filters, "block_strides": self.block_strides,
                "batch_norm_momentum": self.batch_norm_momentum, "pooling": self.pooling}


BACKBONES = {"lenet5": LeNet5Backbone, "edgenet": EdgeNetBackbone}
