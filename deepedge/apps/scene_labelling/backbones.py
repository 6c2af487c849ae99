"""Fully convolutional backbones for scene labelling: any input size, dense features out.

A backbone maps a preprocessed image (batch, H, W, C) to features at `output_stride` times
less resolution; `SceneLabeller` puts the per-pixel classifier behind it and upsamples its
scores to the input size. H and W must be multiples of `size_multiple` (the task pads).
"""

from deepedge.backend import keras
from deepedge.layers import Backbone, DepthwiseSeparableConv
from deepedge.layers.normalization import FusedBatchNormalization


def _check_channels(channels):
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"`channels` must be a positive int. Received: channels={channels!r}")
    return channels


def _check_filters(name, filters):
    filters = tuple(filters)
    if not filters or not all(isinstance(f, int) and f > 0 for f in filters):
        raise ValueError(f"`{name}` must be a non-empty sequence of positive ints. Received: {name}={filters!r}")
    return filters


def _conv_bn_relu(x, filters, kernel_size, momentum, name, strides=1, batch_norm=True):
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=not batch_norm,
                            name=name)(x)
    if batch_norm:
        x = FusedBatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _refine(coarse, inputs, filters, stride, momentum):
    """Full-resolution refinement: coarse features (reduced to `filters` channels and upsampled
    `stride` times) concatenated with a 3x3 view of the image, mixed by a separable block."""
    # Both branches are batch-normalized, so the two halves of the concatenation have
    # similar ranges: int8 gives a concatenation one scale, and a branch ten times
    # smaller than the other would keep only a few of its 256 levels.
    coarse = _conv_bn_relu(coarse, filters, 1, momentum, "refine_reduce")
    coarse = keras.layers.UpSampling2D(stride, interpolation="bilinear", name="refine_upsample")(coarse)
    fine = _conv_bn_relu(inputs, filters, 3, momentum, "refine_fine")
    x = keras.layers.Concatenate(name="refine_concat")([coarse, fine])
    return DepthwiseSeparableConv(filters, batch_norm=False, name="refine")(x)


@keras.saving.register_keras_serializable(package="deepedge")
class MultiscaleBackbone(Backbone):
    """The multiscale ConvNet of Farabet, Couprie, Najman and LeCun (2013).

    The image is reduced to a pyramid (full, 1/2 and 1/4 size, by 2x2 averaging); one
    ConvNet with the *same convolution weights* runs on every level (batch norm is kept per
    level), so an object is seen with the same
    filters at three scales; each level's feature maps are upsampled to the finest one and
    concatenated, and a hidden 1x1 layer (the paper's two-layer classifier, first half) mixes
    them. Context grows with the pyramid, not with depth: at 1/4 size a 5x5 kernel covers
    the width of a car. Departures from the paper: ReLU and batch norm instead of tanh and
    local contrast normalisation, and 2x2 averaging instead of a Laplacian pyramid; the
    labels are upsampled bilinearly instead of smoothed over superpixels.

    Args:
        channels: int. Input channels. Defaults to `1`.
        filters: tuple of int. Filters of the three shared 5x5 convolutions (the first two
            are each followed by 2x2 max pooling). Defaults to `(16, 32, 64)`.
        scales: int. Pyramid levels. Defaults to `3`.
        hidden: int. Units of the 1x1 layer behind the concatenated features. Defaults to `64`.
        refine_filters: int. When positive, a departure for sharp boundaries: the coarse
            features (reduced to this many channels and upsampled) are concatenated with a
            3x3 convolution of the full-resolution image and mixed by a separable block, so
            the output stride is 1 instead of 4. Defaults to `0` (the paper's model).
        batch_norm_momentum: float. Defaults to `0.99`.
    """

    def __init__(self, channels=1, filters=(16, 32, 64), scales=3, hidden=64, refine_filters=0,
                 batch_norm_momentum=0.99, **kwargs):
        channels = _check_channels(channels)
        filters = _check_filters("filters", filters)
        if not isinstance(scales, int) or scales < 1:
            raise ValueError(f"`scales` must be a positive int. Received: scales={scales!r}")
        # === Layers ===
        shared = [keras.layers.Conv2D(f, 5, padding="same", use_bias=False, name=f"shared_conv{i + 1}")
                  for i, f in enumerate(filters)]
        # === Functional Model ===
        inputs = keras.Input(shape=(None, None, channels), name="images")
        level, features = inputs, []
        for s in range(scales):
            if s:
                level = keras.layers.AveragePooling2D(2, name=f"pyramid{s}")(level)
            x = level
            for i, conv in enumerate(shared):
                x = conv(x)
                # Batch norm per scale: each level's maps have their own statistics (a smoothed
                # image has weaker edges), and one shared moving average would fit none of them.
                x = FusedBatchNormalization(momentum=batch_norm_momentum, name=f"scale{s}_conv{i + 1}_bn")(x)
                x = keras.layers.ReLU(name=f"scale{s}_conv{i + 1}_relu")(x)
                if i < len(shared) - 1:
                    x = keras.layers.MaxPooling2D(2, name=f"scale{s}_pool{i + 1}")(x)
            if s:
                x = keras.layers.UpSampling2D(2 ** s, interpolation="bilinear", name=f"upsample_scale{s}")(x)
            features.append(x)
        x = keras.layers.Concatenate(name="scales")(features) if scales > 1 else features[0]
        outputs = _conv_bn_relu(x, hidden, 1, batch_norm_momentum, "hidden")
        output_stride = 2 ** (len(filters) - 1)
        if refine_filters:  # sharp boundaries: coarse context meets a full-resolution view of the image
            outputs = _refine(outputs, inputs, refine_filters, output_stride, batch_norm_momentum)
            output_stride = 1
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.channels = channels
        self.filters = filters
        self.scales = scales
        self.hidden = hidden
        self.refine_filters = refine_filters
        self.batch_norm_momentum = batch_norm_momentum
        self.output_stride = output_stride
        self.size_multiple = 2 ** (len(filters) - 1) * 2 ** (scales - 1)

    def _constructor_config(self):
        return {"channels": self.channels, "filters": self.filters, "scales": self.scales, "hidden": self.hidden,
                "refine_filters": self.refine_filters, "batch_norm_momentum": self.batch_norm_momentum}


@keras.saving.register_keras_serializable(package="deepedge")
class EncoderDecoderBackbone(Backbone):
    """A compact encoder-decoder (U-Net shaped) of depthwise-separable blocks.

    A 3x3 stem at full resolution, then encoder levels that each halve the resolution (a
    strided separable block and a plain one), then a decoder that doubles it again level by
    level (bilinear upsampling, concatenation with the encoder's features at that size, one
    separable block), ending at full resolution. The encoder gives context, the skip
    connections give sharp object boundaries; everything converts to int8 builtins
    (`RESIZE_BILINEAR`, `CONCATENATION`, `DEPTHWISE_CONV_2D`, `CONV_2D`).

    Args:
        channels: int. Input channels. Defaults to `1`.
        stem_filters: int. Defaults to `16`.
        encoder_filters: tuple of int. Filters per encoder level; each level halves the size.
            Defaults to `(32, 64, 96, 128)`.
        decoder_filters: tuple of int. Filters per decoder level, coarse to fine, one per
            encoder level; the last runs at full resolution. Defaults to `(96, 64, 32, 16)`.
        upsampling: `"nearest"` (default) or `"bilinear"`: how the decoder doubles the size.
            Nearest trains faster on CPU (its gradient is a cheap sum) and the block after
            it smooths the steps.
        block: `"separable"` (default, depthwise-separable blocks) or `"conv"` (plain 3x3).
        batch_norm_levels: int. Batch norm only in the blocks of the coarsest this-many
            levels (0 = none; the stem is level 0, full resolution); the others carry biases.
            On a CPU, batch norm over large maps costs more than the convolutions. Defaults
            to all levels.
        stem_strides: int, 1 (default) or 2. With 2 the stem halves the image and the whole
            encoder-decoder runs at half resolution (a quarter of the work; 28-pixel objects
            are still 14 pixels wide), ending at output stride 2.
        refine_filters: int. When positive, the decoder's features (reduced to this many
            channels and upsampled to full size) meet a 3x3 convolution of the full-resolution
            image in a separable block, as in the refined multiscale net: sharp boundaries for
            a half-resolution network, output stride 1. Defaults to `0`.
        batch_norm_momentum: float. Defaults to `0.99`.
    """

    def __init__(self, channels=1, stem_filters=16, encoder_filters=(32, 64, 96, 128),
                 decoder_filters=(96, 64, 32, 16), upsampling="nearest", block="separable",
                 batch_norm_levels=None, stem_strides=1, refine_filters=0, batch_norm_momentum=0.99, **kwargs):
        channels = _check_channels(channels)
        encoder_filters = _check_filters("encoder_filters", encoder_filters)
        decoder_filters = _check_filters("decoder_filters", decoder_filters)
        if len(decoder_filters) != len(encoder_filters):
            raise ValueError("`decoder_filters` needs one entry per encoder level (the decoder climbs back to "
                             f"full resolution). Received: encoder_filters={encoder_filters}, "
                             f"decoder_filters={decoder_filters}")
        if block not in ("separable", "conv"):
            raise ValueError(f"`block` must be 'separable' or 'conv'. Received: block={block!r}")
        if stem_strides not in (1, 2):
            raise ValueError(f"`stem_strides` must be 1 or 2. Received: stem_strides={stem_strides!r}")

        levels = len(encoder_filters)
        batch_norm_levels = levels + 1 if batch_norm_levels is None else int(batch_norm_levels)

        def unit(x, filters, strides, name, level):
            """A block at `level` (0 = full resolution); batch norm only on the coarsest levels."""
            norm = level > levels - batch_norm_levels
            if block == "separable":
                return DepthwiseSeparableConv(filters, strides=strides, batch_norm_momentum=batch_norm_momentum,
                                              batch_norm=norm, name=name)(x)
            return _conv_bn_relu(x, filters, 3, batch_norm_momentum, name, strides, norm)

        # === Functional Model ===
        inputs = keras.Input(shape=(None, None, channels), name="images")
        x = _conv_bn_relu(inputs, stem_filters, 3, batch_norm_momentum, "stem", strides=stem_strides,
                          batch_norm=batch_norm_levels > levels)
        skips = [x]
        for i, f in enumerate(encoder_filters):
            x = unit(x, f, 2, f"down{i + 1}", i + 1)
            x = unit(x, f, 1, f"encode{i + 1}", i + 1)
            skips.append(x)
        skips.pop()  # the deepest level is the decoder's input, not a skip
        for i, (f, skip) in enumerate(zip(decoder_filters, reversed(skips))):
            x = keras.layers.UpSampling2D(2, interpolation=upsampling, name=f"up{i + 1}")(x)
            x = keras.layers.Concatenate(name=f"skip{i + 1}")([x, skip])
            x = unit(x, f, 1, f"decode{i + 1}", levels - 1 - i)
        output_stride = stem_strides
        if refine_filters:
            x = _refine(x, inputs, refine_filters, output_stride, batch_norm_momentum)
            output_stride = 1
        super().__init__(inputs=inputs, outputs=x, **kwargs)
        # === Config ===
        self.channels = channels
        self.stem_filters = stem_filters
        self.encoder_filters = encoder_filters
        self.decoder_filters = decoder_filters
        self.upsampling = upsampling
        self.block = block
        self.batch_norm_levels = batch_norm_levels
        self.stem_strides = stem_strides
        self.refine_filters = refine_filters
        self.batch_norm_momentum = batch_norm_momentum
        self.output_stride = output_stride
        self.size_multiple = 2 ** len(encoder_filters) * stem_strides

    def _constructor_config(self):
        return {"channels": self.channels, "stem_filters": self.stem_filters,
                "encoder_filters": self.encoder_filters, "decoder_filters": self.decoder_filters,
                "upsampling": self.upsampling, "block": self.block,
                "batch_norm_levels": self.batch_norm_levels, "stem_strides": self.stem_strides,
                "refine_filters": self.refine_filters, "batch_norm_momentum": self.batch_norm_momentum}


BACKBONES = {"multiscale": MultiscaleBackbone, "encoder_decoder": EncoderDecoderBackbone}
