"""Browser benchmark: every shipped model in LiteRT.js (WebAssembly) next to the Python runtime.

In one run, on this CPU, headless Debian chromium driven by Playwright loads the page of
`deepedge serve` and times one call of each model's main signature (the one model.json's
`latency_us` records: a step of a recurrent model, a whole clip or image otherwise), inputs
set and outputs read back included, as the page calls it:
- WebAssembly with one thread, and the threaded build with two (cross-origin isolated page);
- WebGPU, on the adapter headless chromium offers with --enable-unsafe-webgpu (SwiftShader, a
  CPU emulation of Vulkan on a machine without a GPU; a model it cannot run records the error);
- the Python runtime (ai-edge-litert, one thread) on the same file: a whole signature call
  (inputs set, outputs read) and the bare `invoke` as model.json records it.
It checks the issue's targets (image models at most 1 ms, the keyword spotter at most 5 ms per
clip, WebAssembly, one thread) and takes the README's screenshots of the page with every
panel filled with held-out inputs (1280 wide, and a 390 x 844 phone viewport).

Results go to `results/browser.json` and `.md`, screenshots to `docs/browser.png` and
`docs/browser_phone.png`.

    .venv/bin/python benchmarks/browser.py
"""

import argparse
import datetime
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [("wasm_1_thread", "?threads=1"), ("wasm_2_threads", "?threads=2"), ("webgpu", "?accelerator=webgpu")]
# Headless chromium offers WebGPU only with this flag, and then on SwiftShader: Vulkan emulated on
# the CPU, not a GPU (the figures say whether the models run on LiteRT.js's WebGPU path at all).
WEBGPU_FLAGS = ["--enable-unsafe-webgpu"]
TARGETS_MS = {"image_classification": 1.0, "keyword_spotting": 5.0}


def python_latency(folder, runs):
    """`{"call_us", "invoke_us", "signature"}` of the Python runtime, one thread."""
    from ai_edge_litert.interpreter import Interpreter

    from deepedge.runtime.bench import measure_latency

    interpreter = Interpreter(model_path=str(folder / "model.tflite"), num_threads=1)
    interpreter.allocate_tensors()
    signatures = interpreter.get_signature_list()
    meta = json.loads((folder / "model.json").read_text())
    signature = (meta.get("latency_us") or {}).get("signature") or next(iter(signatures))
    call = measure_latency(interpreter, runs=runs, signature=signature)["median"]
    invoke = measure_latency(interpreter, runs=runs)["median"] if len(signatures) == 1 else call
    return {"signature": signature, "call_us": call, "invoke_us": invoke}


def browser_latency(browser, url, query, models, runs):
    """`({model: {median_ms, load_ms, signature}}, runtime info or error)` for one configuration."""
    page = browser.new_page()
    try:
        page.goto(f"{url}/{query}")
        page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
        if page.get_attribute("body", "data-ready") != "1":
            return {}, {"error": page.inner_text("#status")}
        info = page.evaluate("deepedge.runtime")
        results = {}
        for name in models:
            try:
                results[name] = page.evaluate("([n, r]) => deepedge.benchmark(n, {runs: r})", [name, runs])
            except Exception as e:  # a configuration that cannot run a model (no WebGPU adapter, ...)
                results[name] = {"error": str(e).splitlines()[0][:300]}
        return results, info
    finally:
        page.close()


def adapter_description(browser, url):
    page = browser.new_page()
    page.goto(f"{url}/")
    try:
        return page.evaluate("async () => { const a = navigator.gpu && await navigator.gpu.requestAdapter(); "
                             "return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() "
                             ": 'no adapter'; }")
    finally:
        page.close()


def screenshots(browser, url, docs):
    from deepedge.web.showcase import fill_panels, showcase_files

    with tempfile.TemporaryDirectory() as folder:
        files = showcase_files(folder)
        for name, width, height, full in (("browser.png", 1280, 900, True), ("browser_phone.png", 390, 844, False)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{url}/")
            page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
            fill_panels(page, files)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(docs / name), full_page=full)
            page.close()


def markdown(result):
    configs = [name for name, _ in CONFIGS]
    lines = [f"# Browser benchmark ({result['date']})", "",
             f"{result['browser']} headless, LiteRT.js {result['litert_js']}, on {result['machine']}. Median of "
             f"{result['runs']} calls of each model's main signature, inputs set and outputs read included "
             "(Python: a signature call, and the bare invoke model.json records).", "",
             "| model | task | signature | WASM 1 thread (ms) | WASM 2 threads (ms) | WebGPU (ms) | Python call (ms) | "
             "Python invoke (ms) | WASM / Python | target |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in result["models"].items():
        cells = []
        for config in configs:
            value = row["browser"].get(config, {})
            if "median_ms" not in value:
                cells.append("failed" if "error" in value else "-")
                continue
            partly = config == "webgpu" and not value.get("fully_accelerated")
            cells.append(f"{value['median_ms']:.3f}{' (CPU ops)' if partly else ''}")
        target = TARGETS_MS.get(row["task"])
        verdict = "" if target is None else f"<= {target:g} ms: {'met' if row['target_met'] else 'missed'}"
        lines.append(f"| {name} | {row['task']} | {row['python']['signature']} | {' | '.join(cells)} | "
                     f"{row['python']['call_us'] / 1000:.3f} | {row['python']['invoke_us'] / 1000:.3f} | "
                     f"{row['ratio']:.1f}x | {verdict} |")
    lines += ["", "WebGPU runs on SwiftShader (Vulkan emulated on the CPU: this machine has no GPU). "
              "\"(CPU ops)\": LiteRT.js "
              "left ops of that model on its CPU path (int8 kernels); \"failed\": the WebGPU path could not run it "
              "(the error is in browser.json).", "", "Runtimes:", ""]
    for config in configs:
        lines.append(f"- {config}: {json.dumps(result['configs'][config])}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="Timed calls per model and runtime.")
    parser.add_argument("--no-screenshots", action="store_true")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from deepedge.export.card import machine_description
    from deepedge.fileio import atomic_write_json, atomic_write_text
    from deepedge.presets import saved_models_dir
    from deepedge.web.assets import LITERT_JS_VERSION, install_litert_js
    from deepedge.web.server import serve_in_thread

    install_litert_js()
    server, url = serve_in_thread(port=0)
    catalog = {m["name"]: m for m in server.site.catalog if "unavailable" not in m}
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "runs": args.runs,
              "litert_js": LITERT_JS_VERSION, "configs": {}, "models": {}}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        gpu_browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", *WEBGPU_FLAGS])
        result["browser"] = f"chromium {browser.version}"
        timings = {}
        for config, query in CONFIGS:
            timings[config], result["configs"][config] = browser_latency(
                gpu_browser if config == "webgpu" else browser, url, query, catalog, args.runs)
            if config == "webgpu":
                result["configs"][config]["adapter"] = adapter_description(gpu_browser, url)
        gpu_browser.close()
        for name, entry in catalog.items():
            python = python_latency(saved_models_dir() / name, max(args.runs, 1000))
            one_thread = timings["wasm_1_thread"].get(name, {}).get("median_ms")
            target = TARGETS_MS.get(entry["task"])
            result["models"][name] = {
                "task": entry["task"], "file": entry["file"], "python": python,
                "browser": {config: timings[config].get(name, {}) for config, _ in CONFIGS},
                "ratio": round(one_thread * 1000 / python["call_us"], 2) if one_thread else None,
                "target_met": None if target is None or one_thread is None else one_thread <= target}
        if not args.no_screenshots:
            screenshots(browser, url, ROOT / "docs")
        browser.close()
    server.shutdown()
    out = ROOT / "benchmarks" / "results"
    atomic_write_json(out / "browser.json", result)
    atomic_write_text(out / "browser.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
