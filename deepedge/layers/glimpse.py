"""`GlimpseSensor`: the retina of the Recurrent Attention Model (Mnih et al. 2014) as a Keras layer.

The numbers are those of `deepedge.ops.glimpse.retina` (numpy, what the device runs): see
there for the geometry. The crop is a gather of rows and columns, so the sensor costs memory
reads and `scales * glimpse_size**2 * 4**i` additions, whatever the canvas's size.
"""

from deepedge.backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class GlimpseSensor(keras.layers.Layer):
    """Reads `scales` patches around a location, each averaged to `glimpse_size` square.

    Args:
        glimpse_size: int. Side of every patch after averaging (Mnih et al.: 8 or 12).
        scales: int. Patches of `glimpse_size * 2**i` pixels, `i < scales`.

    Call arguments:
        images: float `(batch, height, width, 1)`.
        locations: float `(batch, 2)`, `(y, x)` in [-1, 1].

    Returns:
        float32 `(batch, scales, glimpse_size, glimpse_size)`.
    """

    def __init__(self, glimpse_size=12, scales=3, **kwargs):
        super().__init__(**kwargs)
        if int(glimpse_size) < 1 or int(scales) < 1:
            raise ValueError(f"`glimpse_size` and `scales` must be positive. Received: glimpse_size={glimpse_size}, "
                             f"scales={scales}")
        self.glimpse_size, self.scales = int(glimpse_size), int(scales)

    def call(self, images, locations):
        images = ops.cast(images[..., 0], "float32")
        height, width = images.shape[1], images.shape[2]
        pad = self.glimpse_size * 2 ** (self.scales - 1) // 2
        padded = ops.pad(images, ((0, 0), (pad, pad), (pad, pad)))
        size = ops.convert_to_tensor([height, width], "float32")
        scaled = ops.floor((ops.clip(ops.cast(locations, "float32"), -1.0, 1.0) + 1.0) * 0.5 * size)
        centres = ops.cast(ops.minimum(scaled, size - 1.0), "int32") + pad
        patches = []
        for i in range(self.scales):
            factor = 2 ** i
            extent = self.glimpse_size * factor
            offsets = ops.arange(extent, dtype="int32") - extent // 2
            rows = centres[:, 0:1] + offsets[None, :]  # (batch, extent)
            cols = centres[:, 1:2] + offsets[None, :]
            crop = ops.take_along_axis(padded, rows[:, :, None], axis=1)  # (batch, extent, padded width)
            crop = ops.take_along_axis(crop, cols[:, None, :], axis=2)  # (batch, extent, extent)
            crop = ops.reshape(crop, (-1, self.glimpse_size, factor, self.glimpse_size, factor))
            patches.append(ops.mean(crop, axis=(2, 4)))
        return ops.stack(patches, axis=1)

    def compute_output_shape(self, images_shape, locations_shape=None):
        return (images_shape[0], self.scales, self.glimpse_size, self.glimpse_size)

    def get_config(self):
        return {**super().get_config(), "glimpse_size": self.glimpse_size, "scales": self.scales}


__all__ = ["GlimpseSensor"]
