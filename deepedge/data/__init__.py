"""Real data sets, loaded from what package registries install, cached under a user folder."""

from deepedge.data.images import (
    IMAGE_DATASETS,
    ImageDataset,
    load_digits,
    load_fashion_mnist,
    load_image_dataset,
    load_mnist_subset,
)

__all__ = ["IMAGE_DATASETS", "ImageDataset", "load_digits", "load_fashion_mnist",
           "load_image_dataset", "load_mnist_subset"]
