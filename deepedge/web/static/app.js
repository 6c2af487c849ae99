// The page: reads the model catalog the server built from model.json files, and gives every
// task that has a panel one panel with its models. `window.deepedge` is the same code for
// scripts (the parity test and the benchmark drive it).
import {benchmark, fetchJson, initRuntime, loadModel, medianMs} from "./runtime.js";
import * as image from "./panels/image.js";
import * as keywords from "./panels/keywords.js";
import * as speech from "./panels/speech.js";
import * as language from "./panels/language.js";
import * as scenes from "./panels/scenes.js";
import * as sequences from "./panels/sequences.js";
import * as agents from "./panels/agents.js";

const PANELS = [image, keywords, speech, language, scenes, sequences, agents];
const status = document.getElementById("status");

async function main() {
  const params = new URLSearchParams(location.search);
  const info = await initRuntime({threads: Number(params.get("threads") || 1),
                                  accelerator: params.get("accelerator") === "webgpu" ? "webgpu" : "wasm"});
  const {models} = await fetchJson("/models/index.json");
  const api = {};
  const main = document.getElementById("panels");
  for (const panel of PANELS) {
    const entries = models.filter(m => panel.TASKS.includes(m.task) && !m.unavailable);
    if (!entries.length) continue;
    const section = document.createElement("section");
    section.className = "panel";
    main.append(section);
    Object.assign(api, panel.create(section, entries));
  }
  const skipped = models.filter(m => m.unavailable || !PANELS.some(p => p.TASKS.includes(m.task)));
  const bench = (name, options) => benchmark(models.find(m => m.name === name), options);
  window.deepedge = {models, api, loadModel, medianMs, benchmark: bench, runtime: info, skipped};
  const where = info.accelerator === "webgpu" ? "WebGPU" : `WebAssembly, ${info.threads} thread${info.threads > 1 ? "s" : ""}`;
  status.textContent = `LiteRT.js ready (${where}): ` +
    `${models.length - skipped.length} models in ${main.children.length} panels.`;
  document.body.dataset.ready = "1";
}

main().catch(error => {
  status.textContent = `Could not start: ${error.message}`;
  status.className = "error";
  document.body.dataset.ready = "error";
  console.error(error);
});
