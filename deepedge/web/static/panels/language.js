// Language modelling: type a prompt; the step-wise LM writes on token by token in the page
// (sampling, greedy or beam search: deepedge.ops.decoding.generate_text in JavaScript).
import {beamSearch, sampleSequence, seededRandom} from "../decoding.js";
import {loadModel} from "../runtime.js";
import {Tokenizer} from "../tokenizer.js";
import {el, fail, header, modelPicker, report} from "../ui.js";

export const TASKS = ["language_model"];

function stepper(model, counter) {
  return async (token, state) => {
    counter.steps++;
    const [outputs, next] = await model.step("step", {token: Int32Array.of(token)}, state);
    return [outputs.logits, next];
  };
}

// `{text, ids, steps}`: the continuation of `prompt` as generate_text writes it.
export async function generate(model, prompt, {maxTokens = 50, strategy = "sample", temperature = 1, topK = null,
                                               beamWidth = null, seed = 0} = {}, onText = () => {}) {
  const tokenizer = model.tokenizer ??= new Tokenizer(model.meta.tokenizer);
  const promptIds = [tokenizer.endId, ...tokenizer.encode(prompt)];
  const counter = {steps: 0};
  const step = stepper(model, counter);
  const banned = [tokenizer.unknownId];
  let tokens;
  if (beamWidth) {
    [[tokens]] = await beamSearch(step, promptIds, model.initialState("step"), maxTokens, beamWidth, tokenizer.endId,
                                  banned);
  } else {
    tokens = await sampleSequence(step, promptIds, model.initialState("step"), maxTokens,
                                  {strategy, temperature, topK, banned}, tokenizer.endId, seededRandom(seed),
                                  (token, sofar) => onText(tokenizer.decode([...promptIds.slice(1), ...sofar]).trim()));
  }
  return {text: tokenizer.decode([...promptIds.slice(1), ...tokens]).trim(), ids: tokens, steps: counter.steps};
}

export function create(section, entries) {
  header(section, "Language modelling", "Type the start of a sentence: the LSTM (or Bengio's NPLM) trained on Jane " +
         "Austen's novels writes on, one int8 step per word, in this page.");
  let entry = entries[0];
  const prompt = el("input", {type: "text", value: "It is a truth universally acknowledged", "aria-label": "prompt"});
  const strategy = el("select", {"aria-label": "decoding"});
  for (const [value, text] of [["sample", "sample (T 0.8, top 40)"], ["greedy", "greedy"], ["beam", "beam search (4)"]]) {
    strategy.append(el("option", {value, text}));
  }
  const output = el("p", {class: "output", "aria-live": "polite"});
  const info = el("p", {class: "timing"});
  const write = el("button", {text: "Write", onclick: async () => {
    write.disabled = true;
    try {
      const model = await loadModel(entry);
      const options = strategy.value === "beam" ? {beamWidth: 4, maxTokens: 30}
        : {strategy: strategy.value, temperature: 0.8, topK: 40, seed: Date.now() % 100000, maxTokens: 60};
      const started = performance.now();
      const result = await generate(model, prompt.value, options, text => { output.textContent = text; });
      const ms = performance.now() - started;
      output.textContent = result.text;
      report(info, `${entry.name}: ${result.steps} steps in ${ms.toFixed(0)} ms ` +
        `(${(ms / result.steps).toFixed(2)} ms a step in the browser; Python runtime ${entry.latency_us} us).`);
    } catch (error) { fail(info, error); } finally { write.disabled = false; }
  }});
  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; }), strategy, write), prompt,
                 output, info);
  return {
    language: {
      async generate(name, text, options) {
        const model = await loadModel(entries.find(e => e.name === name));
        return generate(model, text, options);
      },
    },
  };
}
