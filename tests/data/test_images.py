"""deepedge.data.images: Fashion-MNIST, the MNIST subset and the 8x8 digits, their splits and their errors."""

import numpy as np
import pytest

from deepedge.data import images as image_data
from deepedge.data import load_digits, load_fashion_mnist, load_image_dataset, load_mnist_subset
from deepedge.errors import DataNotFoundError, InvalidInputError


@pytest.mark.parametrize("loader, sizes, shape", [
    (load_fashion_mnist, (55000, 5000, 10000), (28, 28, 1)),
    (load_mnist_subset, (3500, 500, 1000), (28, 28, 1)),
    (load_digits, (1257, 180, 360), (8, 8, 1)),
])
def test_splits_have_documented_sizes_and_do_not_overlap(loader, sizes, shape):
    splits = [loader(s) for s in ("train", "validation", "test")]
    assert tuple(len(s) for s in splits) == sizes
    for s in splits:
        assert s.images.dtype == np.uint8 and s.images.shape[1:] == shape
        assert s.labels.dtype == np.int64 and set(np.unique(s.labels)) == set(range(10))
        assert len(s.class_names) == 10
    hashes = [{hash(img.tobytes()) for img in s.images[:300]} for s in splits]
    # Fashion-MNIST has a handful of duplicate images across its official splits; a leak would share hundreds.
    assert len(hashes[0] & hashes[2]) <= 3 and len(hashes[0] & hashes[1]) <= 3


def test_splits_are_deterministic():
    a, b = load_mnist_subset("test"), load_mnist_subset("test")
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_digits_are_scaled_to_full_byte_range():
    d = load_digits("train")
    assert d.images.max() == 255 and d.images.min() == 0


def test_fashion_mnist_labels_match_known_first_examples():
    test = load_fashion_mnist("test")
    # The first five official test labels: Ankle boot, Pullover, Trouser, Trouser, Shirt.
    assert [test.class_names[i] for i in test.labels[:5]] == ["Ankle boot", "Pullover", "Trouser", "Trouser", "Shirt"]


def test_unknown_split_and_name_raise_clear_errors():
    with pytest.raises(InvalidInputError, match="split='dev'"):
        load_digits("dev")
    with pytest.raises(InvalidInputError, match="cifar"):
        load_image_dataset("cifar")


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(image_data, "FASHION_MNIST_DIR", tmp_path / "nowhere")

    def offline():
        raise DataNotFoundError("dataset-fashion-mnist offline")

    monkeypatch.setattr(image_data, "_fashion_mnist_from_keras", offline)
    with pytest.raises(DataNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist("train")


def test_keras_fallback_failure_names_the_debian_package(tmp_path, monkeypatch):
    import keras.datasets.fashion_mnist as keras_fashion

    def no_network():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras_fashion, "load_data", no_network)
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        image_data._fashion_mnist_from_keras()
