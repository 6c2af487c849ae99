// LiteRT.js behind one small interface: load a model from the catalog, run a signature on
// named typed arrays, get named typed arrays back. Tensors are deleted after every call.
import {loadLiteRt, loadAndCompile, Tensor} from "@litertjs/core";

const ARRAYS = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array};
let runtimeInfo = null;
let compileOptions = {accelerator: "wasm"};
const compiled = new Map();

// `threads`: CPU threads per model (more than one loads the threaded WebAssembly build, which
// needs cross-origin isolation: the server's COOP/COEP headers). `accelerator`: "wasm" or "webgpu".
export async function initRuntime({threads = 1, accelerator = "wasm"} = {}) {
  if (runtimeInfo) return runtimeInfo;
  const isolated = globalThis.crossOriginIsolated === true;
  const threaded = threads > 1 && isolated;
  await loadLiteRt("/litert/core/wasm/", threaded ? {threads: true} : {});
  compileOptions = {accelerator, ...(threaded ? {cpuOptions: {numThreads: threads}} : {})};
  runtimeInfo = {threads: threaded ? threads : 1, accelerator, crossOriginIsolated: isolated};
  return runtimeInfo;
}

export async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// The tensors of each signature as model.json records them (the browser variant's own
// inputs and outputs where the model has one).
export function signatureSpecs(meta) {
  if (meta.browser?.signature_io) return meta.browser.signature_io;
  if (meta.signature_io) return meta.signature_io;
  const io = meta.browser || meta;
  const names = Object.values(meta.signatures || {})[0] || {inputs: [], outputs: []};
  const key = Object.keys(meta.signatures || {serving_default: 0})[0];
  const rename = (specs, given) => specs.map((spec, i) => ({...spec, name: given[i] ?? spec.name}));
  return {[key]: {inputs: rename(io.inputs, names.inputs), outputs: rename(io.outputs, names.outputs)}};
}

// An int8 table saved by numpy (`np.save`, C order): `{data: Int8Array, shape}`.
export function parseNpyInt8(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.slice(1, 6)) !== "NUMPY") throw new Error("not a .npy file");
  const view = new DataView(buffer);
  const headerStart = bytes[6] === 1 ? 10 : 12;
  const headerLength = bytes[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const header = new TextDecoder().decode(bytes.slice(headerStart, headerStart + headerLength));
  if (!/'descr':\s*'\|i1'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`expected a C-ordered int8 table, found ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(",").filter(s => s.trim()).map(Number);
  return {data: new Int8Array(buffer, headerStart + headerLength, shape.reduce((a, b) => a * b, 1)), shape};
}

// The page's names for a signature's inputs: token ids in place of the embedding rows that an
// export lifted out of the graph (deepedge.export.lookups), as the Python runtime takes them.
function userSpecs(specs, lookups) {
  const out = {};
  for (const [signature, io] of Object.entries(specs)) {
    const lifted = new Map((lookups[signature] || []).map(l => [l.rows_input, l]));
    const inputs = [];
    for (const spec of io.inputs) {
      const lookup = lifted.get(spec.name);
      if (!lookup) inputs.push(spec);
      else if (!lookup.ids_kept) inputs.push({name: lookup.ids, shape: lookup.ids_shape, dtype: "int32", scale: 0, zero_point: 0});
    }
    out[signature] = {...io, inputs};
  }
  return out;
}

export class BrowserModel {
  constructor(entry, meta, model, loadMs, tables = {}) {
    this.entry = entry;
    this.meta = meta;
    this.model = model;
    this.loadMs = loadMs;
    this.lookups = {};
    const dequantized = new Map();  // signatures sharing a table share its float32 values
    for (const lookup of meta.lookups || []) {
      const key = `${lookup.table} ${lookup.scale} ${lookup.zero_point}`;
      if (!dequantized.has(key)) {
        const table = tables[lookup.table];
        dequantized.set(key, {shape: table.shape, values: Float32Array.from(table.data, q => (q - lookup.zero_point) * lookup.scale)});
      }
      (this.lookups[lookup.signature] ??= []).push({...lookup, table: dequantized.get(key)});
    }
    this.tfliteSpecs = signatureSpecs(meta);
    this.specs = userSpecs(this.tfliteSpecs, this.lookups);
    this.defaultSignature = Object.keys(this.specs)[0];
    this.state = meta.state || {};
  }

  // The dequantized embedding rows of each lifted lookup of `signature`, added to `inputs`: the
  // float32 values that the model's QUANTIZE turns back into the table's int8 rows exactly.
  expand(signature, inputs) {
    const lookups = this.lookups[signature];
    if (!lookups) return inputs;
    const out = {...inputs};
    for (const lookup of lookups) {
      const ids = inputs[lookup.ids];
      if (ids === undefined) throw new Error(`${this.entry.name}/${signature}: missing input ${lookup.ids}`);
      const [rows, width] = lookup.table.shape;
      const table = lookup.table.values;
      const values = new Float32Array(ids.length * width);
      for (let i = 0; i < ids.length; i++) {
        const id = Number(ids[i]);
        if (!Number.isInteger(id) || id < 0 || id >= rows) throw new Error(`${lookup.ids}: id ${ids[i]} is outside the vocabulary [0, ${rows})`);
        values.set(table.subarray(id * width, (id + 1) * width), i * width);
      }
      out[lookup.rows_input] = values;
      if (!lookup.ids_kept) delete out[lookup.ids];
    }
    return out;
  }

  // `inputs`: {name: TypedArray or array}; shapes and dtypes come from model.json.
  async run(signature, inputs) {
    signature = signature || this.defaultSignature;
    const spec = this.tfliteSpecs[signature];
    if (!spec) throw new Error(`${this.entry.name} has no signature ${signature}; it has ${Object.keys(this.specs)}`);
    inputs = this.expand(signature, inputs);
    const tensors = {};
    try {
      for (const input of spec.inputs) {
        const value = inputs[input.name];
        if (value === undefined) throw new Error(`${this.entry.name}/${signature}: missing input ${input.name}`);
        const data = value instanceof ARRAYS[input.dtype] ? value : ARRAYS[input.dtype].from(value);
        const size = input.shape.reduce((a, b) => a * b, 1);
        if (data.length !== size) throw new Error(`${input.name}: expected ${size} values, received ${data.length}`);
        tensors[input.name] = new Tensor(data, input.shape);
      }
      const outputs = await this.model.signatures[signature].run(tensors);
      const named = {};
      for (const [name, tensor] of Object.entries(outputs)) {
        // A WebGPU output is read back asynchronously; a WebAssembly one is copied out of the heap.
        named[name] = tensor.accelerator === "wasm" ? tensor.toTypedArray().slice() : await tensor.data();
        tensor.delete();
      }
      return named;
    } finally {
      for (const tensor of Object.values(tensors)) tensor.delete();
    }
  }

  initialState(signature) {
    const out = {};
    for (const s of this.state[signature] || []) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      out[s.name] = new ARRAYS[s.dtype](size).fill(s.initial);
    }
    return out;
  }

  // `(outputs, state)`: runs `signature` on `inputs` plus `state`, split as model.json says. A
  // state with `shift` (an NPLM's window of ids) is the page's to update: that input shifted in.
  async step(signature, inputs, state) {
    const feeds = {...inputs, ...state};
    const shifted = {};
    for (const s of this.state[signature] || []) {
      if (!s.shift) continue;
      const ids = inputs[s.shift], window = state[s.name];
      const next = new ARRAYS[s.dtype](window.length);
      next.set(window.subarray(ids.length));
      next.set(ids, window.length - ids.length);
      shifted[s.name] = feeds[s.name] = next;
      delete feeds[s.shift];
    }
    const outputs = await this.run(signature, feeds);
    const next = {};
    for (const s of this.state[signature] || []) {
      next[s.name] = s.shift ? shifted[s.name] : outputs[s.name];
      delete outputs[s.name];
    }
    return [outputs, next];
  }

  // The real value of a uint8 output of the browser variant (scale and zero point).
  dequantize(signature, name, data) {
    const spec = this.specs[signature || this.defaultSignature].outputs.find(s => s.name === name);
    if (!spec || spec.dtype === "float32" || !spec.scale) return Float32Array.from(data);
    return Float32Array.from(data, v => (v - spec.zero_point) * spec.scale);
  }
}

export async function loadModel(entry) {
  if (compiled.has(entry.name)) return compiled.get(entry.name);
  const promise = (async () => {
    if (entry.unavailable) throw new Error(entry.unavailable);
    const meta = await fetchJson(`/models/${entry.name}/model.json`);
    const started = performance.now();
    const model = await loadAndCompile(`/models/${entry.name}/${entry.file}`, compileOptions);
    const tables = {};
    for (const file of new Set((meta.lookups || []).map(l => l.table))) {
      const response = await fetch(`/models/${entry.name}/${file}`);
      if (!response.ok) throw new Error(`${entry.name}/${file}: HTTP ${response.status}`);
      tables[file] = parseNpyInt8(await response.arrayBuffer());
    }
    return new BrowserModel(entry, meta, model, performance.now() - started, tables);
  })();
  compiled.set(entry.name, promise);
  promise.catch(() => compiled.delete(entry.name));
  return promise;
}

// Median milliseconds of `runs` calls of `fn` after `warmup` calls.
export async function medianMs(fn, runs = 50, warmup = 5) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// Zeros for every input of a signature (the Python runtime's latency measurement feeds zeros too).
export function zeroInputs(model, signature) {
  const out = {};
  for (const spec of model.specs[signature].inputs) out[spec.name] = new ARRAYS[spec.dtype](spec.shape.reduce((a, b) => a * b, 1));
  return out;
}

// `{signature, median_ms, load_ms}`: the median time of one call of a model's main signature.
export async function benchmark(entry, {runs = 100, warmup = 10} = {}) {
  const model = await loadModel(entry);
  const signature = model.meta.latency_us?.signature || model.defaultSignature;
  const inputs = zeroInputs(model, signature);
  const ms = await medianMs(() => model.run(signature, inputs), runs, warmup);
  return {signature, median_ms: ms, load_ms: model.loadMs, runs, fully_accelerated: model.model.isFullyAccelerated};
}
