// Speech recognition: a recording streams through the LSTM-CTC recogniser chunk by chunk; the
// greedy CTC transcript grows as it goes (deepedge.runtime.speech_recognizer, greedy decoding).
import {decodeAudio, listen, record} from "../audio.js";
import {CharLanguageModel} from "../charlm.js";
import {BeamStream, GreedyStream} from "../ctc.js";
import {loadModel} from "../runtime.js";
import {dropZone, el, fail, header, modelPicker, report} from "../ui.js";

export const TASKS = ["speech_recognition"];

// The character language model exported beside the recogniser (its model.json names the file).
function languageModel(model) {
  const file = model.meta.language_model?.file;
  if (!file) throw new Error(`${model.entry.name} has no character language model for beam search.`);
  return (model.languageModel ??= CharLanguageModel.load(`/models/${model.entry.name}/${file}`));
}

// Greedy CTC decoding, or prefix beam search of `beamWidth` with the language model.
async function decoder(model, beamWidth) {
  if (!beamWidth) return new GreedyStream(model.meta.characters);
  return new BeamStream(model.meta.characters, beamWidth, await languageModel(model));
}

// Calls `onText(seconds, text so far)` after every chunk; resolves with the transcript.
export async function transcribe(model, audio, onText = () => {}, beamWidth = null) {
  const chunk = model.meta.input.chunk_samples;
  const rate = model.meta.input.sample_rate || 16000;
  const classes = model.meta.characters.length + 1;
  const stream = await decoder(model, beamWidth);
  let state = model.initialState("step");
  for (let start = 0; start < audio.length; start += chunk) {
    const piece = new Float32Array(chunk);
    piece.set(audio.subarray(start, start + chunk));
    const [outputs, next] = await model.step("step", {audio: piece}, state);
    state = next;
    onText((start + chunk) / rate, stream.push(outputs.logits, classes));
  }
  return beamWidth ? stream.finish() : stream.text;
}

export function create(section, entries) {
  header(section, "Speech recognition", "Drop, record or stream a sentence: the LSTM-CTC recogniser reads it 128 ms " +
         "at a time and writes the characters as it goes (greedy, or beam search with its character language model).");
  let entry = entries[0];
  const output = el("p", {class: "output", "aria-live": "polite"});
  const info = el("p", {class: "timing"});
  const search = el("select", {"aria-label": "decoding"}, el("option", {value: "", text: "greedy"}),
                    el("option", {value: "16", text: "beam 16 + language model"}));
  const beam = () => Number(search.value) || null;

  async function run(audio) {
    try {
      const model = await loadModel(entry);
      const started = performance.now();
      const text = await transcribe(model, audio, (seconds, text) => { output.textContent = text; }, beam());
      const ms = performance.now() - started;
      output.textContent = text || "(nothing recognised)";
      report(info, `${entry.name}: ${(audio.length / 16000).toFixed(1)} s of audio in ${ms.toFixed(0)} ms ` +
        `(${(ms / (audio.length / 16000) / 10).toFixed(1)}% of real time).`);
    } catch (error) { fail(info, error); }
  }

  const drop = dropZone("audio", "Drop a WAV file, or choose one ", async file => run(await decodeAudio(file, 16000)),
                        error => fail(info, error));
  const mic = el("button", {class: "secondary", text: "Record 3 s", onclick: async () => {
    try { run(await record(3, 16000)); } catch (error) { fail(info, error); }
  }});
  // Live: the microphone streams through the recogniser chunk by chunk as it arrives.
  let stop = null;
  const live = el("button", {class: "secondary", text: "Listen", onclick: async () => {
    if (stop) { await stop(); stop = null; live.textContent = "Listen"; return; }
    try {
      const model = await loadModel(entry);
      const chunk = model.meta.input.chunk_samples;
      const classes = model.meta.characters.length + 1;
      const stream = await decoder(model, beam());
      let state = model.initialState("step"), pending = new Float32Array(0), chunks = 0, queue = Promise.resolve();
      stop = await listen(16000, block => {
        const joined = new Float32Array(pending.length + block.length);
        joined.set(pending);
        joined.set(block, pending.length);
        pending = joined;
        while (pending.length >= chunk) {
          const piece = pending.slice(0, chunk);
          pending = pending.slice(chunk);
          queue = queue.then(async () => {
            const [outputs, next] = await model.step("step", {audio: piece}, state);
            state = next;
            output.textContent = stream.push(outputs.logits, classes) || "(listening)";
            output.dataset.chunks = ++chunks;
          });
        }
      });
      live.textContent = "Stop";
    } catch (error) { fail(info, error); }
  }});
  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; }), search, mic, live), drop, output,
                 info);
  return {
    speech: {
      async transcribe(name, samples, beamWidth = null) {
        const model = await loadModel(entries.find(e => e.name === name));
        return transcribe(model, Float32Array.from(samples), () => {}, beamWidth);
      },
    },
  };
}
