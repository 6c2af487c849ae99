// Keyword spotting: upload or record a second of speech; the keyword the DS-CNN hears.
import {decodeAudio, listen, loudestWindow, record} from "../audio.js";
import {loadModel} from "../runtime.js";
import {argmax, dropZone, el, fail, header, modelPicker, report, showBars} from "../ui.js";

export const TASKS = ["keyword_spotting"];
const SILENCE = "_silence_", UNKNOWN = "_unknown_";
const RATE = 16000;  // the page resamples every recording to the models' rate

// The decision with the model's rejection threshold: a weak keyword becomes `_unknown_`
// (deepedge.ops.keywords.decide).
export function decide(scores, names, threshold) {
  let best = argmax(scores);
  const keyword = ![SILENCE, UNKNOWN].includes(names[best]);
  if (threshold > 0 && names.includes(UNKNOWN) && keyword && scores[best] < threshold) best = names.indexOf(UNKNOWN);
  return names[best];
}

// Keyword detections in a stream of one-second windows `hop` seconds apart, as
// deepedge.ops.keywords.detect_stream finds them: the posteriors averaged over `smoothing`
// windows; a keyword fires at max(threshold, 0.5), once until it falls below half of that,
// and not again within `refractory` seconds.
export class Detector {
  constructor(names, threshold, hop, smoothing = 3, refractory = 0.75) {
    Object.assign(this, {names, hop, smoothing, refractory, fireAt: Math.max(threshold, 0.5), history: [], count: 0});
    this.keywords = names.flatMap((n, i) => ([SILENCE, UNKNOWN].includes(n) ? [] : [i]));
    this.armed = new Set(this.keywords);
    this.lastFired = new Map();
  }
  // `[seconds, keyword, probability]` when this window fires, else null.
  push(scores) {
    this.history = [...this.history, Float32Array.from(scores)].slice(-this.smoothing);
    const smoothed = this.history[0].map((_, i) => this.history.reduce((sum, h) => sum + h[i], 0) / this.history.length);
    for (const i of this.keywords) if (smoothed[i] < this.fireAt / 2) this.armed.add(i);
    const best = argmax(smoothed);
    const t = 1.0 + this.count++ * this.hop;
    if (this.armed.has(best) && smoothed[best] >= this.fireAt && t - (this.lastFired.get(best) ?? -1e9) >= this.refractory) {
      this.lastFired.set(best, t);
      this.armed.delete(best);
      return [Math.round(t * 1000) / 1000, this.names[best], smoothed[best]];
    }
    return null;
  }
}

// Detections over a whole recording: one-second windows every `hop` seconds (EdgeKeywordSpotter.detect).
export async function detect(model, audio, hop = 0.25) {
  const samples = model.specs[model.defaultSignature].inputs[0].shape.at(-1);
  const rate = model.meta.input.sample_rate || 16000;
  if (audio.length < samples) { const padded = new Float32Array(samples); padded.set(audio); audio = padded; }
  const detector = new Detector(model.meta.labels, model.meta.threshold || 0, hop);
  const step = Math.max(1, Math.round(hop * rate));
  const found = [];
  for (let start = 0; start + samples <= audio.length; start += step) {
    const hit = detector.push(await spot(model, audio.subarray(start, start + samples)));
    if (hit) found.push(hit);
  }
  return found;
}

export async function spot(model, clip) {
  const spec = model.specs[model.defaultSignature];
  const outputs = await model.run(null, {[spec.inputs[0].name]: clip});
  return model.dequantize(null, spec.outputs[0].name, outputs[spec.outputs[0].name]);
}

export function create(section, entries) {
  header(section, "Keyword spotting", "Drop a WAV file or record a second: the int8 DS-CNN (log-mel front end " +
         "inside the model) listens for the 20 Speech Commands keywords.");
  let entry = entries[0];
  const bars = el("ul", {class: "bars"});
  const verdict = el("p", {class: "output"});
  const info = el("p", {class: "timing"});

  async function run(audio) {
    try {
      const model = await loadModel(entry);
      const samples = model.specs[model.defaultSignature].inputs[0].shape.at(-1);
      const clip = loudestWindow(audio, samples);
      const started = performance.now();
      const scores = await spot(model, clip);
      report(info, `${entry.name}: ${(performance.now() - started).toFixed(2)} ms per 1-second clip in the ` +
        `browser; Python runtime ${entry.latency_us} us.`);
      verdict.textContent = `Heard: ${decide(scores, model.meta.labels, model.meta.threshold || 0)}`;
      if (audio.length > 1.5 * samples) {  // a longer recording: every keyword in it, when it was said
        const found = await detect(model, audio);
        verdict.textContent += ` (loudest second). In the whole recording: ${found.length ? found.map(
          ([t, word, p]) => `${word} at ${t.toFixed(2)} s (${p.toFixed(2)})`).join(", ") : "no keyword"}.`;
      }
      showBars(bars, model.meta.labels, scores);
    } catch (error) { fail(info, error); }
  }

  const drop = dropZone("audio", "Drop a WAV file, or choose one ", async file => run(await decodeAudio(file, RATE)),
                        error => fail(info, error));
  const mic = el("button", {class: "secondary", text: "Record 1 s", onclick: async () => {
    try { run(await record(1.2, RATE)); } catch (error) { fail(info, error); }
  }});
  // Live: the last second of the microphone, scored every 250 ms as it streams.
  let stop = null;
  const live = el("button", {class: "secondary", text: "Listen", onclick: async () => {
    if (stop) { await stop(); stop = null; live.textContent = "Listen"; return; }
    try {
      const model = await loadModel(entry);
      const samples = model.specs[model.defaultSignature].inputs[0].shape.at(-1);
      const clip = new Float32Array(samples);
      let fresh = 0, busy = false, windows = 0;
      const detector = new Detector(model.meta.labels, model.meta.threshold || 0, 0.25);
      const heard = [];
      stop = await listen(RATE, async block => {
        clip.copyWithin(0, block.length);
        clip.set(block.subarray(Math.max(0, block.length - samples)), samples - Math.min(block.length, samples));
        fresh += block.length;
        if (fresh < samples / 4 || busy) return;
        fresh = 0;
        busy = true;
        const started = performance.now();
        const scores = await spot(model, clip.slice());
        windows++;
        const hit = detector.push(scores);
        if (hit) heard.push(hit[1]);
        verdict.textContent = `Live: ${decide(scores, model.meta.labels, model.meta.threshold || 0)}` +
          (heard.length ? `; heard ${heard.slice(-5).join(", ")}` : "");
        verdict.dataset.windows = windows;
        report(info, `${entry.name}: window ${windows}, ${(performance.now() - started).toFixed(2)} ms.`);
        showBars(bars, model.meta.labels, scores);
        busy = false;
      });
      live.textContent = "Stop";
    } catch (error) { fail(info, error); }
  }});
  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; }), mic, live), drop, verdict, bars,
                 info);
  return {
    keywords: {
      async spot(name, samples) {
        const model = await loadModel(entries.find(e => e.name === name));
        const scores = await spot(model, Float32Array.from(samples));
        return {scores: Array.from(scores), label: decide(scores, model.meta.labels, model.meta.threshold || 0)};
      },
      async detect(name, samples) {
        return detect(await loadModel(entries.find(e => e.name === name)), Float32Array.from(samples));
      },
    },
  };
}
