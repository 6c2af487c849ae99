"""Where the data sets are cached, and the names of their splits."""

import os
from pathlib import Path

from deepedge.errors import InvalidInputError

SPLITS = ("train", "validation", "test")


def cache_dir():
    """Where deepedge caches decoded data: $DEEPEDGE_CACHE, else $XDG_CACHE_HOME/deepedge."""
    root = os.environ.get("DEEPEDGE_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deepedge"


def check_split(split):
    """Raises `InvalidInputError` unless `split` is one of `SPLITS`."""
    if split not in SPLITS:
        raise InvalidInputError(f"Unknown split. Expected one of {SPLITS}. Received: split={split!r}")


__all__ = ["SPLITS", "cache_dir", "check_split"]
