// The word and character tokenizers of deepedge.tokenizers, from the config model.json carries:
// the same splitting, ids and detokenising as in training and in the Python runtime.
const WORD = /[\p{L}\p{Nl}\p{No}]+(?:'[\p{L}\p{Nl}\p{No}]+)*|\p{Nd}+|--+|[^\p{L}\p{N}_\s]/gu;
const NO_SPACE_BEFORE = new Set([...".,;:!?)]%”»", "--", "'s", "n't"]);
const NO_SPACE_AFTER = new Set([..."([‘«‚¿¡$", "--"]);  // („ and “: their own rule)
const GLUED = new Set([..."-/—"]);
const SENTENCE_END = new Set([...".!?"]);
const CONTRACTIONS = new Set(["s", "t", "ll", "re", "ve", "d", "m"]);
const ORDINALS = new Set(["s", "th", "st", "nd", "rd"]);
const isAlpha = c => /^\p{L}/u.test(c);
// the character classes of deepedge.tokenizers: _LETTER, _ALNUM, _NUMBER
const isLetter = s => /^[\p{L}\p{Nl}\p{No}]/u.test(s);
const isAlnum = s => /^[\p{L}\p{N}]/u.test(s);
const isNumber = s => /^\p{Nd}+$/u.test(s);

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

  // deepedge.detokenize.detokenize, rule for rule
  detokenize(words) {
    const out = [];
    let doubleOpen = false, singleOpen = false, lowOpen = false, capitalise = true, glue = true;
    words.forEach((word, i) => {
      const before = i ? words[i - 1] : "", after = i + 1 < words.length ? words[i + 1] : "";
      if (word === '"') {
        out.push(doubleOpen ? '"' : (glue ? "" : " ") + '"');
        glue = !doubleOpen;
        doubleOpen = !doubleOpen;
        return;
      }
      if (word === "'") {
        const opening = !singleOpen && isAlnum(after) && !(before.endsWith("s") && isLetter(after));
        out.push(opening ? (glue ? "" : " ") + "'" : "'");
        glue = singleOpen = opening;
        return;
      }
      if (word === "„" || word === "“") {
        if (word === "„" || !lowOpen) {
          out.push((glue ? "" : " ") + word);
          glue = true;
          lowOpen = word === "„";
        } else {
          out.push(word);
          glue = lowOpen = false;
        }
        return;
      }
      if (word === "’") {
        out.push("’");
        glue = isLetter([...before].slice(-1)[0] || "") && CONTRACTIONS.has(after);
        return;
      }
      let text = word;
      const numberInside = (word === "," || word === ".") && isNumber(before) && isNumber(after);
      const ordinal = ORDINALS.has(word) && isNumber(before);
      const initials = [...word].length === 1 && isLetter(word) && before === "." && i >= 2
        && [...words[i - 2]].length === 1 && isLetter(words[i - 2]);
      const attached = glue || NO_SPACE_BEFORE.has(word) || GLUED.has(word) || numberInside || ordinal || initials;
      if (this.lowercase && (capitalise || word === "i") && isAlpha(word[0] || "") && !(ordinal || initials)) {
        text = word[0].toUpperCase() + word.slice(1);
      }
      if (isAlnum(word)) capitalise = false;
      out.push((attached ? "" : " ") + text);
      glue = NO_SPACE_AFTER.has(word) || GLUED.has(word) || numberInside;
      if (SENTENCE_END.has(word) && !numberInside) capitalise = true;
    });
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
