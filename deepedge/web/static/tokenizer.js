// The word and character tokenizers of deepedge.tokenizers, from the config model.json carries:
// the same splitting, ids and detokenising as in training and in the Python runtime.
const WORD = /[\p{L}\p{Nl}\p{No}]+(?:'[\p{L}\p{Nl}\p{No}]+)*|\p{Nd}+|--+|[^\p{L}\p{N}_\s]/gu;
const NO_SPACE_BEFORE = new Set([...".,;:!?)'", "--", "'s", "n't"]);
const NO_SPACE_AFTER = new Set(["(", "--"]);
const SENTENCE_END = new Set([...".!?"]);
const isAlpha = c => /^\p{L}/u.test(c);

export class Tokenizer {
  constructor(config) {
    if (!["word", "char"].includes(config.kind)) {
      throw new Error(`The page knows word and char tokenizers; this model's is ${config.kind}.`);
    }
    this.kind = config.kind;
    this.vocabulary = config.vocabulary;
    this.lowercase = config.lowercase ?? true;
    this.unknownId = 0;
    this.endId = 1;
    this.ids = new Map(this.vocabulary.map((token, i) => [token, i]));
  }

  get vocabularySize() { return this.vocabulary.length; }

  split(text) {
    if (this.kind === "char") return [...text];
    return (this.lowercase ? text.toLowerCase() : text).match(WORD) || [];
  }

  encode(text) { return this.split(text).map(token => this.ids.get(token) ?? this.unknownId); }

  decode(ids, separator = "\n\n") {
    if (this.kind === "char") {
      return ids.map(id => id === this.endId ? separator : id === this.unknownId ? "\uFFFD" : this.vocabulary[id]).join("");
    }
    const paragraphs = [];
    let words = [];
    for (const id of ids) {
      if (id === this.endId) { paragraphs.push(words); words = []; } else words.push(this.vocabulary[id]);
    }
    if (words.length) paragraphs.push(words);
    return paragraphs.map(p => this.detokenize(p)).join(separator);
  }

  detokenize(words) {
    const out = [];
    let quoteOpen = false, capitalise = true, glue = true;
    for (const word of words) {
      if (word === '"') {
        out.push(quoteOpen ? '"' : (glue ? "" : " ") + '"');
        glue = !quoteOpen;
        quoteOpen = !quoteOpen;
        continue;
      }
      let text = word;
      if (this.lowercase && (capitalise || word === "i") && isAlpha(word[0] || "")) {
        text = word[0].toUpperCase() + word.slice(1);
        capitalise = false;
      }
      out.push((glue || NO_SPACE_BEFORE.has(word) ? "" : " ") + text);
      glue = NO_SPACE_AFTER.has(word);
      if (SENTENCE_END.has(word)) capitalise = true;
    }
    return out.join("").trim();
  }
}

// The tokens of `ids` up to the first end token, joined by spaces as they are
// (deepedge.ops.decoding.plain_text: captions and translations).
export function plainText(tokenizer, ids) {
  const words = [];
  for (const id of ids) {
    if (id === tokenizer.endId) break;
    words.push(tokenizer.vocabulary[id]);
  }
  return words.join(" ");
}
