"""LiteRT.js, the LiteRT runtime compiled to WebAssembly, installed from the npm registry.

`install_litert_js()` runs `npm install @litertjs/core@<version>` (and its dependency
`@litertjs/wasm-utils`) into `cache_dir()/web`, once, at build time (`make setup`); the page
loads those files from `deepedge serve`, never from a CDN.
"""

import json
import shutil
import subprocess

from deepedge.data.cache import cache_dir
from deepedge.errors import WebAssetsError

LITERT_JS_VERSION = "2.5.3"
CORE, WASM_UTILS = "@litertjs/core", "@litertjs/wasm-utils"


def web_cache():
    """The folder npm installs into: `cache_dir()/web` (its `node_modules/` holds the packages)."""
    return cache_dir() / "web"


def package_dir(package):
    return web_cache() / "node_modules" / package


def installed_version():
    """The version of `@litertjs/core` in the cache, or None."""
    manifest = package_dir(CORE) / "package.json"
    try:
        return json.loads(manifest.read_text()).get("version")
    except (OSError, ValueError):
        return None


def _complete():
    return (installed_version() == LITERT_JS_VERSION and (package_dir(CORE) / "dist" / "index.js").is_file()
            and (package_dir(WASM_UTILS) / "dist" / "index.js").is_file()
            and any((package_dir(CORE) / "wasm").glob("*.wasm")))


def install_litert_js(npm=None):
    """Installs LiteRT.js into `web_cache()` unless that version is already there; returns the
    `node_modules` folder.

    Raises:
        WebAssetsError: npm is not installed, or `npm install` failed (the message has its output).
    """
    if _complete():
        return web_cache() / "node_modules"
    npm = npm or shutil.which("npm")
    if npm is None:
        raise WebAssetsError(f"The browser demo needs LiteRT.js ({CORE}@{LITERT_JS_VERSION}) from the npm registry, "
                             "and `npm` was not found on PATH. Install Node.js and npm (Debian: `apt-get install "
                             "npm`), then run `make setup` or `deepedge serve --install`.")
    web_cache().mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(web_cache()), "--no-audit", "--no-fund", "--ignore-scripts",
               "--no-save", f"{CORE}@{LITERT_JS_VERSION}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise WebAssetsError(f"`{' '.join(command)}` could not run: {e}. Check that npm works and the npm "
                             "registry is reachable, then try again.") from e
    if result.returncode != 0 or not _complete():
        tail = (result.stderr or result.stdout).strip()[-800:]
        raise WebAssetsError(f"`{' '.join(command)}` failed (exit code {result.returncode}): {tail}. Check that "
                             "the npm registry is reachable (`npm view @litertjs/core version`), then try again.")
    return web_cache() / "node_modules"


def litert_js_files():
    """`{url path: file}` for the runtime files the page loads: the two packages' ES modules
    and the core package's `.wasm` builds with their loaders.

    Raises:
        WebAssetsError: LiteRT.js is not installed (`install_litert_js`).
    """
    if not _complete():
        found = installed_version()
        raise WebAssetsError(f"LiteRT.js {LITERT_JS_VERSION} is not installed in {web_cache()} (found: "
                             f"{found or 'nothing'}). Run `make setup`, or `deepedge serve --install` to fetch it "
                             "from the npm registry with npm.")
    files = {"/litert/core/index.js": package_dir(CORE) / "dist" / "index.js",
             "/litert/wasm-utils/index.js": package_dir(WASM_UTILS) / "dist" / "index.js"}
    for path in sorted((package_dir(CORE) / "wasm").iterdir()):
        if path.suffix in (".js", ".wasm"):
            files[f"/litert/core/wasm/{path.name}"] = path
    return files


__all__ = ["LITERT_JS_VERSION", "install_litert_js", "installed_version", "litert_js_files", "web_cache"]
