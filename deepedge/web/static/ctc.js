// CTC decoding in the page (deepedge.ops.ctc): greedy, and the prefix beam search joined by the
// character language model ("shallow fusion"), decoded as the logits stream in.
import {logSoftmax} from "./decoding.js";
import {argmax} from "./ui.js";

const MODULUS = (1n << 61n) - 1n, BASE = 1000003n;
const COMMIT_EVERY = 64, MAX_PENDING = 192;

// numpy's logaddexp, case for case.
function logaddexp(x, y) {
  if (x === y) return x + Math.LN2;
  const d = x - y;
  return d > 0 ? x + Math.log1p(Math.exp(-d)) : y + Math.log1p(Math.exp(d));
}

function ancestor(node, depth) {
  while (node.depth > depth) node = node.parent;
  return node;
}

// Best class per step, repeats merged, blanks (class 0) dropped.
export class GreedyStream {
  constructor(characters) { this.characters = characters; this.previous = 0; this.text = ""; }
  push(logits, classes) {
    for (let row = 0; row < logits.length / classes; row++) {
      const best = argmax(logits.subarray(row * classes, (row + 1) * classes));
      if (best !== this.previous && best !== 0) this.text += this.characters[best - 1];
      this.previous = best;
    }
    return this.text;
  }
}

// The prefix beam search of deepedge.ops.ctc.BeamStream: `push(logits, classes)` gives the best
// transcript so far, `finish()` the final one with the end of the sentence scored.
export class BeamStream {
  constructor(characters, width = 8, languageModel = null, prune = -12.0) {
    Object.assign(this, {characters, width, prune, languageModel});
    this.contextLength = languageModel ? languageModel.order - 1 : 0;
    if (languageModel) { this.alpha = languageModel.lmWeight; this.beta = languageModel.lengthBonus; }
    this.rows = new Map();
    this.nodes = [{parent: null, cls: 0, key: 0n, parentKey: null, context: [], depth: 0}];
    this.pB = [0]; this.pNB = [-Infinity]; this.lm = [0];
    this.committed = []; this.steps = 0;
  }

  lmRow(context) {
    const key = context.join(",");
    let row = this.rows.get(key);
    if (!row) {
      if (this.rows.size > 20000) this.rows.clear();
      row = Float64Array.from(this.languageModel.logProbs(context), v => this.alpha * v + this.beta);
      this.rows.set(key, row);
    }
    return row;
  }

  child(node, c) {
    const context = this.contextLength ? [...node.context, c].slice(-this.contextLength) : [];
    return {parent: node, cls: c, key: (node.key * BASE + BigInt(c + 1)) % MODULUS, parentKey: node.key, context,
            depth: node.depth + 1};
  }

  push(logits, classes) {
    for (let r = 0; r < logits.length / classes; r++) {
      this.step(logSoftmax(logits.subarray(r * classes, (r + 1) * classes)));
      this.steps++;
      if (this.steps % COMMIT_EVERY === 0) this.commit();
    }
    return this.text;
  }

  step(step) {
    const {nodes, pB, pNB, lm, prune} = this;
    const count = nodes.length, classes = step.length;
    const total = nodes.map((_, j) => logaddexp(pB[j], pNB[j]));
    const repeat = nodes.map(n => n.cls > 0 && step[n.cls] > prune);
    const extend = nodes.map((n, j) => {
      const row = Float64Array.from(step, v => total[j] + (v > prune ? v : -Infinity));
      row[0] = -Infinity;
      if (n.cls > 0) row[n.cls] = repeat[j] ? pB[j] + step[n.cls] : -Infinity;
      return row;
    });
    const stayB = total.map(t => t + step[0]);
    const stayNB = nodes.map((n, j) => (repeat[j] ? pNB[j] + step[n.cls] : -Infinity));
    const position = new Map(nodes.map((n, j) => [n.key, j]));
    nodes.forEach((n, j) => {  // an extension that is already in the beam merges
      const parent = n.depth ? position.get(n.parentKey) : undefined;
      if (parent !== undefined) {
        stayNB[j] = logaddexp(stayNB[j], extend[parent][n.cls]);
        extend[parent][n.cls] = -Infinity;
      }
    });
    const extendLm = nodes.map((n, j) => (this.languageModel ? this.lmRow(n.context).map(v => lm[j] + v)
                                                             : new Float64Array(classes)));
    const scores = [...nodes.map((_, j) => logaddexp(stayB[j], stayNB[j]) + lm[j])];
    for (let j = 0; j < count; j++) for (let c = 0; c < classes; c++) scores.push(extend[j][c] + extendLm[j][c]);
    const best = [...scores.keys()].filter(i => Number.isFinite(scores[i]))
      .sort((a, b) => scores[b] - scores[a] || a - b).slice(0, this.width);
    const next = {nodes: [], pB: [], pNB: [], lm: []};
    for (const index of best) {
      if (index < count) {
        next.nodes.push(nodes[index]); next.pB.push(stayB[index]); next.pNB.push(stayNB[index]); next.lm.push(lm[index]);
      } else {
        const j = Math.floor((index - count) / classes), c = (index - count) % classes;
        next.nodes.push(this.child(nodes[j], c)); next.pB.push(-Infinity); next.pNB.push(extend[j][c]);
        next.lm.push(extendLm[j][c]);
      }
    }
    Object.assign(this, next);
  }

  bestIndex(final = false) {
    const scores = this.nodes.map((n, j) => logaddexp(this.pB[j], this.pNB[j]) + this.lm[j] +
      (final && this.languageModel ? this.alpha * this.languageModel.logProbs(n.context)[0] : 0));
    return argmax(scores);
  }

  // What every prefix shares becomes text and is cut from the tree (ops.ctc.BeamStream._commit).
  commit() {
    let heads = this.nodes.map(n => ancestor(n, Math.min(...this.nodes.map(m => m.depth))));
    while (heads.some(n => n !== heads[0])) heads = heads.map(n => n.parent);
    let shared = heads[0];
    const best = this.nodes[this.bestIndex()];
    if (best.depth - shared.depth > MAX_PENDING) {
      shared = ancestor(best, best.depth - MAX_PENDING / 2);
      const keep = this.nodes.flatMap((n, i) => (n.depth >= shared.depth && ancestor(n, shared.depth) === shared ? [i] : []));
      for (const name of ["nodes", "pB", "pNB", "lm"]) this[name] = keep.map(i => this[name][i]);
    }
    this.committed.push(this.labels(shared).map(c => this.characters[c - 1]).join(""));
    shared.parent = null;
  }

  labels(node) {
    const labels = [];
    for (; node.parent !== null; node = node.parent) labels.push(node.cls);
    return labels.reverse();
  }

  transcript(node) { return this.committed.join("") + this.labels(node).map(c => this.characters[c - 1]).join(""); }

  get text() { return this.transcript(this.nodes[this.bestIndex()]); }

  finish() { return this.transcript(this.nodes[this.bestIndex(true)]); }
}
