// The decoding loops of deepedge.ops.decoding in JavaScript: greedy, temperature and top-k
// sampling, and beam search over a `step(token, state) -> [logits, state]` function.
export function logSoftmax(logits) {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const log = Math.log(sum);
  return Float64Array.from(logits, v => v - max - log);
}

// A small seeded generator (mulberry32): reproducible samples in the page (not numpy's stream).
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// deepedge.ops.decoding.Sampler: the next token from the logits.
export function choose(logits, {strategy = "sample", temperature = 1, topK = null, banned = []}, random) {
  const values = Float64Array.from(logits);
  for (const id of banned) values[id] = -Infinity;
  if (strategy === "greedy") {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }
  let candidates = [...values.keys()];
  if (topK && topK < values.length) candidates = candidates.sort((a, b) => values[b] - values[a]).slice(0, topK);
  const max = Math.max(...candidates.map(i => values[i]));
  const weights = candidates.map(i => Math.exp((values[i] - max) / temperature));
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < candidates.length; i++) {
    r -= weights[i];
    if (r < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}

async function prime(step, tokens, state) {
  let logits = null;
  for (const token of tokens) [logits, state] = await step(token, state);
  return [logits, state];
}

// Up to `maxTokens` ids after `prompt`, stopping after `stopToken`; `onToken(id)` as they come.
export async function sampleSequence(step, prompt, state, maxTokens, sampler, stopToken, random, onToken = () => {}) {
  let logits;
  [logits, state] = await prime(step, prompt, state);
  const out = [];
  for (let i = 0; i < maxTokens; i++) {
    const token = choose(logits, sampler, random);
    out.push(token);
    onToken(token, out);
    if (token === stopToken) break;
    [logits, state] = await step(token, state);
  }
  return out;
}

// The `beamWidth` best continuations by summed log-probability, best first: `[[tokens, score]]`
// (deepedge.ops.decoding.beam_search, one state per hypothesis).
export async function beamSearch(step, prompt, state, maxTokens, beamWidth, stopToken, banned = [], lengthPenalty = 0) {
  let logits;
  [logits, state] = await prime(step, prompt, state);
  let beams = [[[], 0, logits, state]];
  const finished = [];
  for (let n = 0; n < maxTokens && beams.length; n++) {
    const candidates = [];
    for (const [tokens, score, beamLogits, beamState] of beams) {
      const logp = logSoftmax(beamLogits);
      for (const id of banned) logp[id] = -Infinity;
      const best = [...logp.keys()].sort((a, b) => logp[b] - logp[a]).slice(0, beamWidth);
      for (const token of best) candidates.push([[...tokens, token], score + logp[token], beamState]);
    }
    candidates.sort((a, b) => b[1] - a[1]);
    beams = [];
    for (const [tokens, score, parentState] of candidates.slice(0, beamWidth)) {
      if (tokens[tokens.length - 1] === stopToken) { finished.push([tokens, score]); continue; }
      const [nextLogits, nextState] = await step(tokens[tokens.length - 1], parentState);
      beams.push([tokens, score, nextLogits, nextState]);
    }
  }
  for (const [tokens, score] of beams) finished.push([tokens, score]);
  const normalised = ([tokens, score]) => score / (lengthPenalty ? tokens.length ** lengthPenalty : 1);
  return finished.sort((a, b) => normalised(b) - normalised(a)).slice(0, beamWidth).map(f => [f[0], normalised(f)]);
}

// Greedy decoding of `rows` inputs side by side with a batched `step(tokens, state)`
// (deepedge.ops.decoding.greedy_batch): one id list per row, without the end token.
export async function greedyBatch(step, state, rows, endId, maxTokens, banned = []) {
  let tokens = new Int32Array(rows).fill(endId);
  const done = new Array(rows).fill(false);
  const out = Array.from({length: rows}, () => []);
  for (let n = 0; n < maxTokens; n++) {
    let logits;
    [logits, state] = await step(tokens, state);
    const vocabulary = logits.length / rows;
    const next = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = -1, bestValue = -Infinity;
      for (let v = 0; v < vocabulary; v++) {
        if (banned.includes(v)) continue;
        const value = logits[r * vocabulary + v];
        if (value > bestValue) { bestValue = value; best = v; }
      }
      next[r] = best;
      if (best === endId) done[r] = true;
      if (!done[r]) out[r].push(best);
    }
    if (done.every(Boolean)) break;
    tokens = next.map((t, r) => done[r] ? endId : t);
  }
  return out;
}

// Indices of the `k` largest values, largest first; ties go to the lower index (as
// deepedge.ops.decoding._top_k's argmax passes do).
function topK(values, k) {
  const taken = new Set();
  const best = [];
  for (let n = 0; n < k; n++) {
    let index = -1;
    for (let i = 0; i < values.length; i++) {
      if (!taken.has(i) && (index < 0 || values[i] > values[index])) index = i;
    }
    taken.add(index);
    best.push(index);
  }
  return best;
}

// Beam search for one input with a batched `step`, one row per live hypothesis, each row's
// state moving with its hypothesis (deepedge.ops.decoding.beam_search_batch): `[[ids, score]]`
// best first, ids without the end token, score = log-probability / length ** lengthPenalty.
export async function beamSearchBatch(step, state, rows, endId, maxTokens, beamWidth = 4, lengthPenalty = 1,
                                      banned = []) {
  const normalised = (score, length) => score / (lengthPenalty ? length ** lengthPenalty : 1);
  let logits;
  [logits, state] = await step(new Int32Array(rows).fill(endId), state);
  let hypotheses = [[]], scores = [0];
  const finished = [];
  for (let n = 0; n < maxTokens; n++) {
    const vocabulary = logits.length / rows;
    const totals = new Float64Array(hypotheses.length * vocabulary);
    for (let r = 0; r < hypotheses.length; r++) {
      const logp = logSoftmax(logits.subarray(r * vocabulary, (r + 1) * vocabulary));
      for (const id of banned) logp[id] = -Infinity;
      for (let v = 0; v < vocabulary; v++) totals[r * vocabulary + v] = scores[r] + logp[v];
    }
    const parents = [], nextHypotheses = [], nextScores = [];
    for (const index of topK(totals, beamWidth)) {
      const row = Math.floor(index / vocabulary), token = index % vocabulary;
      const extended = [...hypotheses[row], token];
      if (token === endId) finished.push([extended, totals[index]]);
      else { parents.push(row); nextHypotheses.push(extended); nextScores.push(totals[index]); }
    }
    if (!nextHypotheses.length) break;
    hypotheses = nextHypotheses;
    scores = nextScores;
    if (finished.length >= beamWidth) {
      const worstKept = finished.map(([h, s]) => normalised(s, h.length)).sort((a, b) => b - a)[beamWidth - 1];
      if (Math.max(...hypotheses.map((h, i) => normalised(scores[i], h.length))) <= worstKept) {
        hypotheses = [];
        break;
      }
    }
    const tokens = new Int32Array(rows).fill(endId);
    hypotheses.forEach((h, i) => { tokens[i] = h[h.length - 1]; });
    const order = Array.from({length: rows}, (_, i) => parents[i] ?? 0);
    const moved = {};
    for (const [name, value] of Object.entries(state)) {
      const width = value.length / rows;
      moved[name] = new value.constructor(value.length);
      order.forEach((parent, i) => moved[name].set(value.subarray(parent * width, (parent + 1) * width), i * width));
    }
    [logits, state] = await step(tokens, moved);
  }
  hypotheses.forEach((h, i) => finished.push([h, scores[i]]));
  const ranked = finished.sort((a, b) => normalised(b[1], b[0].length) - normalised(a[1], a[0].length));
  return ranked.slice(0, beamWidth).map(([h, s]) => [h.filter(t => t !== endId), normalised(s, h.length)]);
}
