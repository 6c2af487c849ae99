"""Data shipped in Debian packages, fetched without root: `apt-get download` + `dpkg-deb -x`."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from deepedge.data.cache import cache_dir
from deepedge.errors import DataNotFoundError


def fetch_debian_package(package, folder, what, keep="usr"):
    """Unpacks the Debian package `package` into `cache_dir()/folder`; returns that folder.

    The `.deb` is downloaded (not installed) with `apt-get download` and unpacked with
    `dpkg-deb -x`; its `keep` subfolder is moved into place atomically, so an interrupted
    fetch never leaves half a package behind.

    Args:
        package: str. Debian package name (`alsa-utils`).
        folder: str. Folder name under the deepedge cache.
        what: str. What the data is, for the error message ("Jane Austen's novels").
        keep: str. The part of the package's tree to keep. Defaults to `"usr"`.
    """
    target = cache_dir() / folder
    if (target / keep).exists():
        return target
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise DataNotFoundError(
            f"{what} come(s) from the Debian package {package}, and this machine has no "
            f"apt-get/dpkg-deb to fetch it. On Debian: `apt-get download {package} && "
            f"dpkg-deb -x {package}_*.deb {target}`.")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if result.returncode != 0 or not debs:
            raise DataNotFoundError(
                f"`apt-get download {package}` failed ({result.stderr.strip()[:300]}). Run "
                f"`apt-get update` (as root) and try again, or install the package: `apt-get install {package}`.")
        unpacked = Path(tmp) / "unpacked"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True, capture_output=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{folder}-"))
        staging.chmod(0o755)
        shutil.move(str(unpacked / keep), str(staging / keep))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target
