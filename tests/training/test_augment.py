"""deepedge.training.augment: image augmentation is a function of the seed and keeps pixels."""

import numpy as np

from deepedge.training import ImageAugmentation


def test_augmentation_is_a_function_of_the_seed_and_keeps_pixels():
    images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1).astype(np.uint8)
    augment = ImageAugmentation(flip=True, max_shift=1)
    a = augment(images, np.random.default_rng([1, 0]))
    b = augment(images, np.random.default_rng([1, 0]))
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape and a.dtype == images.dtype
    for original, shifted in zip(images, a):  # a shift by at most 1 keeps the centre 2x2 pixels' values
        assert set(np.unique(shifted)) - {0} <= set(np.unique(original))
    flipped = ImageAugmentation(flip=True)(images, np.random.default_rng(0))
    for original, out in zip(images, flipped):
        assert np.array_equal(out, original) or np.array_equal(out, original[:, ::-1])
