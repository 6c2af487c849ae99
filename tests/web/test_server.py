"""`deepedge serve`: it answers its own files only (no path traversal, no uploads), with a
restrictive CSP and cross-origin isolation, binds loopback unless told, and imports no TensorFlow."""

import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepedge.errors import InvalidInputError, WebAssetsError

SHIPPED = Path(__file__).resolve().parents[2] / "saved_models"


def fake_litert(tmp_path):
    """Stand-ins for the LiteRT.js files (their content does not matter to the server)."""
    folder = tmp_path / "litert"
    folder.mkdir()
    files = {}
    for name in ("index.js", "litert_wasm_internal.wasm"):
        (folder / name).write_bytes(b"// " + name.encode())
        files[f"/litert/core/{name}"] = folder / name
    return files


def copy_model(source, target):
    target.mkdir(parents=True)
    for name in ("model.json", "model.tflite", "model.keras", "card.md"):
        (target / name).write_bytes((source / name).read_bytes())


@pytest.fixture()
def served(tmp_path, monkeypatch):
    """A server on a free port over a models folder in tmp_path: a copy of kws_dscnn, a model
    whose model.tflite is a symlink to a file outside the folder, and a symlinked model folder."""
    from deepedge.web import server as server_module

    models = tmp_path / "models"
    copy_model(SHIPPED / "kws_dscnn", models / "kws_dscnn")
    outside = tmp_path / "secret"
    copy_model(SHIPPED / "kws_dscnn", outside)
    (models / "linked").mkdir()
    (models / "linked" / "model.json").write_bytes((outside / "model.json").read_bytes())
    (models / "linked" / "model.tflite").symlink_to(outside / "model.tflite")
    (models / "folder_link").symlink_to(outside, target_is_directory=True)
    monkeypatch.setattr("deepedge.web.assets.litert_js_files", lambda: fake_litert(tmp_path))
    server, url = server_module.serve_in_thread(port=0, models_dir=models)
    yield server, models, outside
    server.shutdown()
    server.server_close()


def request(server, path, method="GET", body=None):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Content-Type", "application/octet-stream")
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_serves_the_page_runtime_and_models_with_safe_headers(served):
    server, models, _ = served
    status, headers, body = request(server, "/")
    assert status == 200 and b'<script type="importmap">' in body and headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "'wasm-unsafe-eval'" in csp and "'sha256-" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", "")
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = request(server, "/models/kws_dscnn/model.tflite")
    assert status == 200 and body == (models / "kws_dscnn" / "model.tflite").read_bytes()
    assert request(server, "/litert/core/litert_wasm_internal.wasm")[1]["Content-Type"] == "application/wasm"
    status, _, body = request(server, "/models/index.json")
    catalog = {m["name"]: m for m in json.loads(body)["models"]}
    assert catalog["kws_dscnn"]["file"] == "model.tflite" and catalog["kws_dscnn"]["task"] == "keyword_spotting"
    status, headers, body = request(server, "/models/kws_dscnn/model.json", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/%2e%2e/server.py", "/static/%2E%2E%2Fserver.py", "/static/..%2fserver.py",
    "/models/kws_dscnn/../../secret/model.tflite", "/models/%2e%2e/secret/model.tflite", "//etc/passwd",
    "/etc/passwd", "/models/kws_dscnn/model.keras", "/models/kws_dscnn/card.md", "/models/kws_dscnn/",
    "/static/", "/%2fetc%2fpasswd", "/models/kws_dscnn/model.tflite/..", "/static/index.html%00.js",
    "/models/linked/model.tflite", "/models/folder_link/model.tflite", "/models/folder_link/model.json",
    "http://evil.example/etc/passwd", "/static/./index.html",
])
def test_nothing_outside_its_own_files_is_served(served, path):
    status, _, body = request(served[0], path)
    assert status == 404 and b"root:" not in body and b"TFL3" not in body


def test_a_file_replaced_by_a_symlink_after_start_up_is_refused(served):
    server, models, outside = served
    target = models / "kws_dscnn" / "model.tflite"
    target.unlink()
    target.symlink_to(outside / "model.tflite")
    assert request(server, "/models/kws_dscnn/model.tflite")[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_uploads_and_other_methods_are_refused(served, method):
    status, headers, _ = request(served[0], "/models/kws_dscnn/model.tflite", method=method, body=b"x" * 100)
    assert status == 405 and headers["Allow"] == "GET, HEAD"


def test_a_public_address_needs_the_flag(tmp_path, monkeypatch):
    from deepedge.web.server import check_host, make_server

    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.5"):
        check_host(host)
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org"):
        with pytest.raises(InvalidInputError, match="--public"):
            check_host(host)
    monkeypatch.setattr("deepedge.web.assets.litert_js_files", lambda: fake_litert(tmp_path))
    server = make_server("0.0.0.0", 0, models_dir=tmp_path, public=True)
    assert server.server_address[0] == "0.0.0.0"
    server.server_close()


def test_serve_command_refuses_a_public_host_without_the_flag():
    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "serve", "--host", "0.0.0.0"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "--public" in result.stderr and "Received: --host 0.0.0.0" in result.stderr


def test_a_model_litert_js_cannot_load_is_listed_with_the_fix(tmp_path):
    from deepedge.web.server import model_routes

    copy_model(SHIPPED / "fashion_lenet5", tmp_path / "lenet")
    meta = json.loads((tmp_path / "lenet" / "model.json").read_text())
    meta.pop("browser", None)
    (tmp_path / "lenet" / "model.json").write_text(json.dumps(meta))
    routes, catalog = model_routes(tmp_path)
    assert "int8" in catalog[0]["unavailable"] and "--io uint8" in catalog[0]["unavailable"]
    assert "/models/lenet/model.tflite" in routes


def test_missing_npm_is_a_clear_error(tmp_path, monkeypatch):
    from deepedge.web.assets import install_litert_js, litert_js_files

    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WebAssetsError, match="`npm` was not found"):
        install_litert_js()
    with pytest.raises(WebAssetsError, match="not installed"):
        litert_js_files()


def test_the_server_imports_no_tensorflow():
    code = ("import sys, deepedge.web.server, deepedge.web.assets, deepedge.cli.serve; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "tensorflow" not in result.stdout and "keras" not in result.stdout


def test_serve_command_serves_the_page_until_stopped():
    import re
    import signal
    import urllib.request

    from conftest import litert_js_or_skip

    litert_js_or_skip()
    # started with SIGINT ignored, as a shell's background job is: Ctrl-C must still stop it
    process = subprocess.Popen([sys.executable, "-m", "deepedge.cli", "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "models/index.json", timeout=10) as response:
            catalog = json.loads(response.read())["models"]
        assert f"Serving {len(catalog)} models" in line
        assert {m["name"] for m in catalog} == {p.name for p in SHIPPED.iterdir() if (p / "model.json").exists()}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_a_taken_port_is_a_clear_error(tmp_path):
    import socket

    from conftest import litert_js_or_skip

    litert_js_or_skip()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "deepedge.cli", "serve", "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and f"Cannot serve on 127.0.0.1:{port}" in result.stderr, result.stderr


def test_a_recognisers_language_model_is_served_and_nothing_else_it_names(tmp_path):
    from deepedge.web.server import model_routes

    for name, listed in (("asr", "language_model.npz"), ("bad", "../secret.npz"), ("odd", "model.keras")):
        folder = tmp_path / name
        copy_model(SHIPPED / "kws_dscnn", folder)
        meta = json.loads((folder / "model.json").read_text())
        meta["language_model"] = {"file": listed}
        (folder / "model.json").write_text(json.dumps(meta))
        (folder / "language_model.npz").write_bytes(b"PK")
    (tmp_path / "secret.npz").write_bytes(b"PK")
    routes, _ = model_routes(tmp_path)
    assert "/models/asr/language_model.npz" in routes
    assert not [url for url in routes if url.startswith(("/models/bad/", "/models/odd/")) and
                not url.endswith(("model.json", "model.tflite"))]


def test_a_token_models_lifted_lookup_tables_are_served_and_nothing_else_beside_them(tmp_path, monkeypatch):
    from deepedge.web import server as server_module

    models = tmp_path / "models"
    source = SHIPPED / "scenes_captioner"
    copy_model(source, models / "captioner")
    meta = json.loads((source / "model.json").read_text())
    tables = sorted({entry["table"] for entry in meta["lookups"]})
    for name in tables:
        (models / "captioner" / name).write_bytes((source / name).read_bytes())
    (models / "captioner" / "other.npy").write_bytes(b"\x93NUMPY")
    meta["lookups"].append({**meta["lookups"][0], "table": "../../secret.npy"})  # a model.json naming a path
    (models / "captioner" / "model.json").write_text(json.dumps(meta))
    monkeypatch.setattr("deepedge.web.assets.litert_js_files", lambda: fake_litert(tmp_path))
    server, _ = server_module.serve_in_thread(port=0, models_dir=models)
    try:
        for name in tables:
            status, _, body = request(server, f"/models/captioner/{name}")
            assert status == 200 and body == (source / name).read_bytes()
        for path in ("/models/captioner/other.npy", "/models/secret.npy", "/models/captioner/..%2f..%2fsecret.npy"):
            assert request(server, path)[0] == 404
    finally:
        server.shutdown()
        server.server_close()
