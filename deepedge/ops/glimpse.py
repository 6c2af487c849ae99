"""The glimpse sensor in numpy (Mnih et al. 2014): what the on-device runtime crops from an image.

A retina centred on `location` (`(y, x)` in [-1, 1], the canvas's corners at +-1) reads
`scales` square patches, `glimpse_size * 2**i` pixels wide for `i = 0..scales-1`, each
averaged down to `glimpse_size x glimpse_size`: sharp at the centre, coarser further out.
Pixels outside the image read 0. `deepedge.layers.GlimpseSensor` computes the same numbers
in Keras for training; a test holds the two together.
"""

import numpy as np

from deepedge.errors import InvalidInputError


def glimpse_centres(locations, height, width):
    """Pixel `(row, column)` centres of locations in [-1, 1]: `floor((l + 1) / 2 * size)`, clipped."""
    locations = np.asarray(locations, np.float32)
    scaled = np.floor((np.clip(locations, -1.0, 1.0) + 1.0) * 0.5 * np.array([height, width], np.float32))
    return np.minimum(scaled, np.array([height - 1, width - 1], np.float32)).astype(np.int64)


def retina(images, locations, glimpse_size=12, scales=3):
    """Glimpses `(batch, scales, glimpse_size, glimpse_size)` float32 of `images` `(batch, height,
    width[, 1])` (floats, as the model reads them) at `locations` `(batch, 2)`."""
    images = np.asarray(images, np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    locations = np.asarray(locations, np.float32)
    if images.ndim != 3 or locations.shape != (images.shape[0], 2):
        raise InvalidInputError(f"Expected images (batch, height, width[, 1]) and locations (batch, 2). "
                                f"Received: images {images.shape}, locations {locations.shape}.")
    batch, height, width = images.shape
    pad = glimpse_size * 2 ** (scales - 1) // 2
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    centres = glimpse_centres(locations, height, width) + pad
    out = np.empty((batch, scales, glimpse_size, glimpse_size), np.float32)
    for i in range(scales):
        factor = 2 ** i
        size = glimpse_size * factor
        for b in range(batch):
            top, left = centres[b] - size // 2
            crop = padded[b, top:top + size, left:left + size]
            out[b, i] = crop.reshape(glimpse_size, factor, glimpse_size, factor).mean(axis=(1, 3))
    return out


__all__ = ["glimpse_centres", "retina"]
