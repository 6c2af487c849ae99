"""Image augmentation drawn from a seed per epoch, so a resumed run sees the same images."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ImageAugmentation:
    """Random horizontal flips and shifts of up to `max_shift` pixels (zero fill).

    Args:
        flip: bool. Mirror half of the images left-right. Only for classes that stay the
            same in a mirror (clothes yes, digits no).
        max_shift: int. Largest shift in pixels along each axis.
    """

    flip: bool = False
    max_shift: int = 0

    def __call__(self, images, rng):
        images = np.asarray(images)
        if self.flip:
            mirror = rng.random(len(images)) < 0.5
            images = np.where(mirror[:, None, None, None], images[:, :, ::-1], images)
        if self.max_shift:
            s = self.max_shift
            n, h, w = images.shape[:3]
            padded = np.pad(images, ((0, 0), (s, s), (s, s), (0, 0)))
            dy = rng.integers(0, 2 * s + 1, n)
            dx = rng.integers(0, 2 * s + 1, n)
            rows = (dy[:, None] + np.arange(h))[:, :, None]
            cols = (dx[:, None] + np.arange(w))[:, None, :]
            images = padded[np.arange(n)[:, None, None], rows, cols]
        return images
