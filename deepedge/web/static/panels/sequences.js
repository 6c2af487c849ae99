// Translation and captioning: the encoder runs once, then the decoder writes one word a step
// for all its rows at once (deepedge.runtime.encoder_decoder + ops.decoding.greedy_batch).
import {beamSearchBatch, greedyBatch} from "../decoding.js";
import {loadModel} from "../runtime.js";
import {plainText, Tokenizer} from "../tokenizer.js";
import {dropZone, el, fail, header, modelPicker, report} from "../ui.js";

export const TASKS = ["translation", "captioning"];

function size(shape) { return shape.reduce((a, b) => a * b, 1); }

// What a translator's encoder reads besides its ids, computed from them as
// deepedge.ops.sources does: the sentence reversed within its length, a one-hot at its end
// token, the order that puts the backward read back, and the decoder's mask (`names` of them).
export function sourceFeeds(ids, endId, names) {
  const steps = ids.length;
  const length = ids.indexOf(endId) + 1 || steps;
  const within = Int32Array.from({length: steps}, (_, t) => (t < length ? length - 1 - t : t));
  const make = {
    source: () => Int32Array.from(ids),
    source_reversed: () => Int32Array.from(within, t => ids[t]),
    source_last: () => { const a = new Float32Array(steps); a[length - 1] = 1; return a; },
    source_order: () => {
      const a = new Float32Array(steps * steps);
      within.forEach((k, t) => { a[t * steps + k] = 1; });
      return a;
    },
    source_mask: () => Float32Array.from({length: steps}, (_, t) => (t < length ? 1 : 0)),
  };
  const out = {};
  for (const name of names) {
    if (!make[name]) throw new Error(`The translator's encoder reads ${name}, which this page does not compute.`);
    out[name] = make[name]();
  }
  return out;
}

// Encoder outputs for one input, and what the decoder reads that the page computes itself (a
// translator's `source_mask`); a translator's short encoder (`encode_16`) where the sentence
// fits, its memory padded with masked (zero) places to the full length. `endId`: the source's
// end token for a translator, null for a captioner (its one input is the picture).
async function encodeOne(model, data, length, endId) {
  const short = Object.keys(model.specs).filter(s => s.startsWith("encode_"))
    .map(s => [Number(s.split("_")[1]), s]).sort((a, b) => a[0] - b[0]).find(([steps]) => length <= steps);
  const [steps, signature] = short ?? [data.length, "encode"];
  const names = model.specs[signature].inputs.map(s => s.name);
  const input = data.slice(0, steps);
  const outputs = await model.run(signature, endId === null ? {[names[0]]: input} : sourceFeeds(input, endId, names));
  for (const spec of model.specs.encode.outputs) {
    if (outputs[spec.name].length < size(spec.shape)) {
      const padded = new Float32Array(size(spec.shape));
      padded.set(outputs[spec.name]);
      outputs[spec.name] = padded;
    }
  }
  const computed = model.specs.decode_step.inputs.map(s => s.name)
    .filter(name => !(name in outputs) && !["token", "h", "c"].includes(name));
  return computed.length ? {...outputs, ...sourceFeeds(data, endId, computed)} : outputs;
}

// Token ids for each of `items` (`[data, length]`, at most the decoder's rows): greedy, all
// items side by side, or with `beamWidth` beam search over the rows for one item.
export async function decode(model, items, endId, banned, maxTokens, beamWidth = null, sourceEndId = null) {
  const rows = model.specs.decode_step.inputs.find(s => s.name === "token").shape[0];
  const encoded = [];
  for (const [data, length] of items) encoded.push(await encodeOne(model, data, length, sourceEndId));
  while (encoded.length < rows) encoded.push(encoded[encoded.length - 1]);
  const stacked = {};
  for (const spec of model.specs.decode_step.inputs) {
    if (spec.name === "token") continue;
    const parts = encoded.map(e => e[spec.name]);
    stacked[spec.name] = new Float32Array(size(spec.shape));
    parts.forEach((part, i) => stacked[spec.name].set(part, i * part.length));
  }
  const state = {h: stacked.h, c: stacked.c};
  delete stacked.h;
  delete stacked.c;
  const step = async (tokens, current) => {
    const out = await model.run("decode_step", {token: tokens, ...stacked, ...current});
    return [out.logits, {h: out.h, c: out.c}];
  };
  if (beamWidth && beamWidth > 1) {
    if (items.length !== 1 || beamWidth > rows) throw new Error(`Beam search decodes one input with at most ${rows} beams.`);
    return [(await beamSearchBatch(step, state, rows, endId, maxTokens, beamWidth, 1.0, banned))[0][0]];
  }
  return (await greedyBatch(step, state, rows, endId, maxTokens, banned)).slice(0, items.length);
}

export async function translate(model, text, beamWidth = null) {
  const source = model.sourceTokenizer ??= new Tokenizer(model.meta.source_tokenizer);
  const target = model.targetTokenizer ??= new Tokenizer(model.meta.target_tokenizer);
  const tokens = source.encode(text);
  const length = model.meta.max_source_length;
  if (!tokens.length) throw new Error("Type a sentence with at least one word.");
  if (tokens.length > length - 1) throw new Error(`The sentence has ${tokens.length} words; this model takes ${length - 1}.`);
  const ids = new Int32Array(length).fill(source.endId);
  ids.set(tokens);
  const [out] = await decode(model, [[ids, tokens.length + 1]], target.endId, [target.unknownId],
                             model.meta.max_target_length, beamWidth, source.endId);
  return {text: target.decode(out), ids: out};
}

// `pixels`: float 0-255 RGB, image_size x image_size x 3.
export async function caption(model, pixels, beamWidth = null) {
  const tokenizer = model.tokenizer ??= new Tokenizer(model.meta.tokenizer);
  const [out] = await decode(model, [[Float32Array.from(pixels), 0]], tokenizer.endId, [tokenizer.unknownId],
                             model.meta.max_caption_length, beamWidth);
  return {text: plainText(tokenizer, out), ids: out};
}

// A picture as the captioner's input: RGB 0-255, resized (not cropped), transparency on white.
function picturePixels(bitmap, side) {
  const canvas = new OffscreenCanvas(side, side);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, side, side);
  context.drawImage(bitmap, 0, 0, side, side);
  const rgba = context.getImageData(0, 0, side, side).data;
  return Float32Array.from({length: side * side * 3}, (_, i) => rgba[4 * Math.floor(i / 3) + (i % 3)]);
}

export function create(section, entries) {
  header(section, "Translation and captioning", "Type a German or Spanish sentence, or drop a picture: the " +
         "encoder-decoder (with attention where the model has it) writes the English, one int8 step per word.");
  let entry = entries[0];
  const input = el("input", {type: "text", value: "Ich habe keine Zeit.", "aria-label": "sentence"});
  const output = el("p", {class: "output", "aria-live": "polite"});
  const info = el("p", {class: "timing"});
  // beam search first: the decoder steps its 4 rows anyway, so 3 beams cost about what greedy does
  const search = el("select", {"aria-label": "decoding"}, el("option", {value: "3", text: "beam search (3)"}),
                    el("option", {value: "", text: "greedy"}));
  const beam = () => Number(search.value) || null;
  const show = (started, result) => {
    output.textContent = result.text || "(nothing)";
    report(info, `${entry.name}: ${result.ids.length + 1} decoder steps in ` +
      `${(performance.now() - started).toFixed(0)} ms in the browser.`);
  };
  const go = el("button", {text: "Translate", onclick: async () => {
    try {
      if (entry.task !== "translation") throw new Error(`${entry.name} captions pictures: drop one below.`);
      const started = performance.now();
      show(started, await translate(await loadModel(entry), input.value, beam()));
    } catch (error) { fail(info, error); }
  }});
  const drop = dropZone("image", "Drop a picture to caption, or choose one ", async file => {
    try {
      if (entry.task !== "captioning") throw new Error(`${entry.name} translates: pick a captioning model.`);
      const model = await loadModel(entry);
      const started = performance.now();
      show(started, await caption(model, picturePixels(await createImageBitmap(file), model.meta.image_size), beam()));
    } catch (error) { fail(info, error); }
  }, error => fail(info, error));
  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; }), search, go), input, drop, output,
                 info);
  return {
    sequences: {
      async translate(name, text, beamWidth = null) {
        return translate(await loadModel(entries.find(e => e.name === name)), text, beamWidth);
      },
      async caption(name, pixels, beamWidth = null) {
        return caption(await loadModel(entries.find(e => e.name === name)), pixels, beamWidth);
      },
    },
  };
}
