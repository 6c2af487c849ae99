"""`deepedge serve`: a static site that lets the visitor's browser run the shipped models.

Standard library only (no TensorFlow, no numpy, no inference here): the server hands out the
page (`static/`), LiteRT.js (`assets`), and each shipped model's `model.json` with the
`.tflite` the browser can load (its browser variant where the shipped one has int8 tensors at
its boundary). Everything else, uploads included, stays in the browser: the server answers GET
and HEAD only.

Safety: every URL the server answers is a key of a table built at start-up from its own
folders, so no request path is ever joined to a folder (`..`, `%2e%2e`, absolute paths and the
like find nothing); a file whose real path leaves its folder (a symlink) is left out, and the
check is repeated when the file is sent. The page runs under a Content-Security-Policy that
allows only this origin's scripts (plus WebAssembly compilation and the import map's hash),
and cross-origin isolation headers (COOP/COEP) so LiteRT.js may use its threaded build.
It binds 127.0.0.1 unless told otherwise, and a non-loopback address only with `public=True`.
"""

import base64
import hashlib
import ipaddress
import json
import os
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from deepedge.errors import InvalidInputError

STATIC_DIR = Path(__file__).parent / "static"
# What the browser may load; the upload limits the page enforces live in static/limits.js.
MODEL_FILES = ("model.tflite", "model_browser.tflite")
BROWSER_DTYPES = ("float32", "int32", "uint8")  # LiteRT.js 2.5.3's tensor types
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json", ".wasm": "application/wasm",
                 ".tflite": "application/octet-stream", ".png": "image/png", ".svg": "image/svg+xml"}
_MODEL_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def _inside(path, root):
    """Whether `path`, symlinks resolved, is a regular file inside `root`."""
    try:
        real = Path(os.path.realpath(path))
        return real.is_file() and real.is_relative_to(Path(os.path.realpath(root)))
    except OSError:
        return False


def unsupported_tensors(meta):
    """`["signature/name: dtype", ...]`: the boundary tensors of `meta` (model.json) LiteRT.js refuses."""
    ios = meta.get("signature_io") or {"serving_default": {"inputs": meta.get("inputs", []),
                                                           "outputs": meta.get("outputs", [])}}
    return [f"{signature}/{spec['name']}: {spec['dtype']}" for signature, io in ios.items()
            for spec in io["inputs"] + io["outputs"] if spec["dtype"] not in BROWSER_DTYPES]


def catalog_entry(folder, meta):
    """What the page needs to pick a model: its task, the file to load, or why it cannot run."""
    entry = {"name": folder.name, "task": meta.get("task"), "family": meta.get("family"),
             "size_bytes": meta.get("size_bytes"), "latency_us": (meta.get("latency_us") or {}).get("median")}
    browser = meta.get("browser")
    refused = unsupported_tensors(meta)
    if browser and browser.get("file") in MODEL_FILES and _inside(folder / browser["file"], folder):
        entry.update(file=browser["file"], io=browser.get("io"))
    elif not refused:
        entry.update(file="model.tflite", io="as shipped")
    else:
        entry["unavailable"] = (f"LiteRT.js refuses {', '.join(refused)}; make a browser variant with "
                                f"`deepedge export {folder.name} --io uint8`.")
    return entry


def _side_files(meta):
    """Files beside model.json that the page reads too: a recogniser's character language model
    for beam search (a plain `.npz` name) and the embedding tables an export lifted out of the
    graph (plain `lookup_*.npy` names); anything else is not served."""
    name = (meta.get("language_model") or {}).get("file") if isinstance(meta.get("language_model"), dict) else None
    files = [name] if isinstance(name, str) and _MODEL_NAME.match(name) and name.endswith(".npz") else []
    lookups = meta.get("lookups") if isinstance(meta.get("lookups"), list) else []
    tables = {entry.get("table") for entry in lookups if isinstance(entry, dict)}
    files += sorted(t for t in tables if isinstance(t, str) and _MODEL_NAME.match(t) and t.startswith("lookup_")
                    and t.endswith(".npy"))
    return tuple(files)


def model_routes(models_dir):
    """`({url path: file}, catalog)` for every exported model folder under `models_dir`."""
    routes, catalog = {}, []
    root = Path(models_dir)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        json_path = folder / "model.json"
        if not _MODEL_NAME.match(folder.name) or not _inside(json_path, root):
            continue
        try:
            meta = json.loads(json_path.read_text())
        except (OSError, ValueError):
            continue
        entry = catalog_entry(folder, meta)
        catalog.append(entry)
        routes[f"/models/{folder.name}/model.json"] = json_path
        for name in MODEL_FILES + _side_files(meta):
            if _inside(folder / name, root):
                routes[f"/models/{folder.name}/{name}"] = folder / name
    return routes, catalog


def static_routes():
    """`{url path: file}` for the page's own files (`static/`, one level of subfolders)."""
    routes = {"/": STATIC_DIR / "index.html"}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.suffix in CONTENT_TYPES and _inside(path, STATIC_DIR):
            routes["/static/" + path.relative_to(STATIC_DIR).as_posix()] = path
    return routes


def content_security_policy(index_html):
    """The page's CSP: this origin only, WebAssembly compilation, and the inline import map by hash."""
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
                      for block in _IMPORT_MAP.findall(index_html))
    return ("default-src 'none'; "
            f"script-src 'self' 'wasm-unsafe-eval' {hashes}; "
            "worker-src 'self' blob:; connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
            "style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Site:
    """The table of what the server answers: URL path -> (file, root it must stay inside)."""

    def __init__(self, models_dir, litert_files):
        self.files = {}
        for url, path in static_routes().items():
            self.files[url] = (path, STATIC_DIR)
        for url, path in litert_files.items():
            self.files[url] = (path, path.parent)
        routes, self.catalog = model_routes(models_dir)
        for url, path in routes.items():
            self.files[url] = (path, Path(models_dir))
        self.generated = {"/models/index.json": json.dumps({"models": self.catalog}).encode()}
        self.csp = content_security_policy((STATIC_DIR / "index.html").read_text())

    def lookup(self, raw_path):
        """`(bytes or Path, content type)` for a request path, or None (404)."""
        path = unquote(urlsplit(raw_path).path)
        if path in self.generated:
            return self.generated[path], CONTENT_TYPES[".json"]
        if path not in self.files:
            return None
        file, root = self.files[path]
        if not _inside(file, root):  # replaced by a symlink since start-up
            return None
        return file, CONTENT_TYPES.get(file.suffix, "application/octet-stream")


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD on the site's table; every other method is refused (nothing is uploaded)."""

    site = None
    server_version = "deepedge"
    sys_version = ""

    def _headers(self, status, content_type, length):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Security-Policy", self.site.csp)
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _error(self, status, text):
        body = f"{status.value} {status.phrase}: {text}\n".encode()
        self._headers(status, "text/plain; charset=utf-8", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self):
        found = self.site.lookup(self.path)
        if found is None:
            self._error(HTTPStatus.NOT_FOUND, "this server serves its page, LiteRT.js and the shipped models only")
            return
        body, content_type = found
        if isinstance(body, Path):
            try:
                body = body.read_bytes()
            except OSError:
                self._error(HTTPStatus.NOT_FOUND, "the file went away")
                return
        self._headers(HTTPStatus.OK, content_type, len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _serve

    def _refuse(self):
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


def check_host(host, public=False):
    """Raises `InvalidInputError` for a non-loopback `host` unless `public`."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not public:
        raise InvalidInputError(f"`deepedge serve` binds a loopback address (127.0.0.1) unless asked: anyone who can "
                                f"reach {host!r} could load the page. Received: --host {host}. Pass --public as "
                                "well to serve it on that address.")


def make_server(host="127.0.0.1", port=8000, models_dir=None, public=False, verbose=False):
    """A `ThreadingHTTPServer` for the site (not started); `port=0` picks a free port.

    Raises:
        InvalidInputError: `host` is not a loopback address and `public` is False.
        WebAssetsError: LiteRT.js is not installed (`deepedge.web.assets.install_litert_js`).
    """
    from deepedge.presets import saved_models_dir
    from deepedge.web.assets import litert_js_files

    check_host(host, public)
    site = Site(models_dir or saved_models_dir(), litert_js_files())
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose
    server.site = site
    return server


def serve_in_thread(**options):
    """Starts `make_server(**options)` in a daemon thread; returns `(server, base url)`."""
    server = make_server(**options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


__all__ = ["Site", "catalog_entry", "check_host", "make_server", "serve_in_thread", "unsupported_tensors"]
