// The recogniser's character n-gram language model (deepedge.ops.charlm) read from its .npz in
// the page: a zip of .npy arrays, inflated with the browser's DecompressionStream.
const LOG_PROB_FLOOR = -16.0;

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// `{name: {dtype, shape, data}}` of the arrays in an .npz (numpy's zip, zip64 sizes included).
export async function readNpz(buffer) {
  const bytes = new Uint8Array(buffer), view = new DataView(buffer);
  const arrays = {};
  let offset = 0;
  while (offset + 30 <= bytes.length && view.getUint32(offset, true) === 0x04034b50) {
    const method = view.getUint16(offset + 8, true);
    let compressed = view.getUint32(offset + 18, true);
    const nameLength = view.getUint16(offset + 26, true), extraLength = view.getUint16(offset + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(offset + 30, offset + 30 + nameLength));
    const extra = offset + 30 + nameLength;
    for (let e = extra; e + 4 <= extra + extraLength;) {  // zip64: the real sizes
      const id = view.getUint16(e, true), size = view.getUint16(e + 2, true);
      if (id === 1 && compressed === 0xFFFFFFFF) compressed = Number(view.getBigUint64(e + 12, true));
      e += 4 + size;
    }
    const start = extra + extraLength;
    const raw = bytes.subarray(start, start + compressed);
    const content = method === 8 ? await inflate(raw) : raw.slice();
    arrays[name.replace(/\.npy$/, "")] = parseNpy(content);
    offset = start + compressed;
  }
  return arrays;
}

function parseNpy(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = (major === 1 ? 10 : 12) + headerLength;
  const header = new TextDecoder().decode(bytes.subarray(dataStart - headerLength, dataStart));
  const dtype = header.match(/'descr':\s*'([^']+)'/)[1];
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(",").filter(s => s.trim()).map(Number);
  const data = bytes.slice(dataStart).buffer;
  if (dtype === "<i8") return {dtype, shape, data: Float64Array.from(new BigInt64Array(data), Number)};
  if (dtype === "<f8") return {dtype, shape, data: new Float64Array(data)};
  if (dtype === "|u1") return {dtype, shape, data: new Uint8Array(data)};
  if (dtype.startsWith("<U")) {
    return {dtype, shape, data: String.fromCodePoint(...new Uint32Array(data)).replace(/\0+$/, "")};
  }
  throw new Error(`Unexpected array type ${dtype} in the language model file.`);
}

// Next-character log-probabilities after a context of class ids (0: the sentence boundary),
// backing off to the longest stored suffix of the context.
export class CharLanguageModel {
  constructor(arrays) {
    if (arrays.format.data !== "deepedge-char-ngram-1") throw new Error(`Unknown language model format ${arrays.format.data}.`);
    this.characters = [...arrays.characters.data];
    this.order = arrays.order.data[0];
    this.lmWeight = arrays.lm_weight.data[0];
    this.lengthBonus = arrays.length_bonus.data[0];
    this.vocabulary = this.characters.length + 1;
    this.tables = [...Array(this.order).keys()].map(n => ({
      index: new Map(Array.from(arrays[`keys_${n}`].data, (key, row) => [key, row])),
      codes: arrays[`codes_${n}`].data,
    }));
    this.cache = new Map();
  }

  static async load(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return new CharLanguageModel(await readNpz(await response.arrayBuffer()));
  }

  logProbs(context) {
    const width = this.order - 1;  // the start of a sentence reads as boundaries
    const full = width ? [...new Array(width).fill(0), ...context].slice(-width) : [];
    const cacheKey = full.join(",");
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    for (let length = full.length; length >= 0; length--) {
      const suffix = full.slice(full.length - length);
      const row = this.tables[length].index.get(suffix.reduce((code, token) => code * this.vocabulary + token, 0));
      if (row !== undefined) {
        const values = Float64Array.from(this.tables[length].codes.subarray(row * this.vocabulary,
                                                                            (row + 1) * this.vocabulary),
                                         v => v * (LOG_PROB_FLOOR / 255.0));
        if (this.cache.size > 50000) this.cache.clear();
        this.cache.set(cacheKey, values);
        return values;
      }
    }
    throw new Error("The character language model has no unigram row.");
  }
}
