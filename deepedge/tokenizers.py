"""Word and character tokenizers: pure Python, JSON-serialisable, the same code in training and on device.

    tokenizer = WordTokenizer.from_texts(corpus.paragraphs, max_vocabulary=10_000)
    ids = tokenizer.encode("It is a truth universally acknowledged")
    tokenizer.decode(ids)            # 'It is a truth universally acknowledged'
    WordTokenizer.from_json(tokenizer.to_json())

Text is a sequence of paragraphs; `encode_paragraphs` ends each with the end token, which a
language model learns to predict like any other token. Ids 0 and 1 are always the unknown
and end tokens.
"""

import collections
import json
import re

import numpy as np

from deepedge.detokenize import detokenize as join_words
from deepedge.errors import InvalidInputError
from deepedge.validation import integer, token_ids

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|--+|[^\w\s]", re.UNICODE)


class Tokenizer:
    """Shared behaviour: a vocabulary of strings, id lookup, unknown and end tokens."""

    kind = None

    def __init__(self, vocabulary, unknown_token="<unk>", end_token="</p>"):
        vocabulary = list(vocabulary)
        if not all(isinstance(token, str) for token in vocabulary):
            raise InvalidInputError(f"A vocabulary is a list of strings. Received: {vocabulary[:5]!r:.100}...")
        if len(vocabulary) < 2 or vocabulary[0] != unknown_token or vocabulary[1] != end_token:
            raise InvalidInputError(
                f"A vocabulary starts with the unknown and end tokens ({unknown_token!r}, {end_token!r}). "
                f"Received: {vocabulary[:3]}...")
        if len(set(vocabulary)) != len(vocabulary):
            raise InvalidInputError("The vocabulary has duplicate entries.")
        self.vocabulary = vocabulary
        self.unknown_token = unknown_token
        self.end_token = end_token
        self.unknown_id, self.end_id = 0, 1
        self._ids = {token: i for i, token in enumerate(vocabulary)}

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def __len__(self):
        return len(self.vocabulary)

    def token_to_id(self, token):
        return self._ids.get(token, self.unknown_id)

    def id_to_token(self, token_id):
        token_id = integer("token_id", token_id, hint="Pass an id from `encode`, or a model's output.")
        if not 0 <= token_id < len(self.vocabulary):
            raise InvalidInputError(f"Token id out of range [0, {len(self.vocabulary)}). Received: {token_id}.")
        return self.vocabulary[token_id]

    def split(self, text):
        raise NotImplementedError

    def encode(self, text):
        """The ids of the tokens of `text` (no end token)."""
        if not isinstance(text, str):
            raise InvalidInputError(f"encode() takes a string. Received: {type(text).__name__}.")
        return [self.token_to_id(token) for token in self.split(text)]

    def encode_paragraphs(self, paragraphs):
        """One id list for many paragraphs, each followed by the end token."""
        if isinstance(paragraphs, str):
            paragraphs = [paragraphs]
        if not hasattr(paragraphs, "__iter__") or isinstance(paragraphs, np.ndarray) and paragraphs.ndim == 0:
            raise InvalidInputError(f"Expected a string or list of strings. Received: {type(paragraphs).__name__}.")
        ids = []
        for paragraph in paragraphs:
            ids += self.encode(paragraph)
            ids.append(self.end_id)
        return ids

    def get_config(self):
        return {"kind": self.kind, "vocabulary": self.vocabulary,
                "unknown_token": self.unknown_token, "end_token": self.end_token}

    def to_json(self):
        return json.dumps(self.get_config(), ensure_ascii=False)

    @classmethod
    def from_config(cls, config):
        config = dict(config) if isinstance(config, dict) else {"kind": config}
        kind = config.pop("kind", cls.kind)
        target = TOKENIZERS.get(kind) if isinstance(kind, str) else None
        if target is None:
            raise InvalidInputError(f"Unknown tokenizer kind {kind!r:.80}; expected one of {sorted(TOKENIZERS)}.")
        try:
            return target(**config)
        except TypeError as e:  # an unknown key, a value of the wrong type
            raise InvalidInputError(f"Not a {kind} tokenizer's config ({e}). Received keys {sorted(map(str, config))}. "
                                    "Pass the config its `get_config()` wrote.") from e

    @classmethod
    def from_json(cls, text):
        return cls.from_config(json.loads(text))

    @staticmethod
    def _counted_vocabulary(counts, max_vocabulary, min_count, specials):
        if max_vocabulary is not None and max_vocabulary <= len(specials):
            raise InvalidInputError(f"max_vocabulary must exceed {len(specials)} (the special tokens). "
                                    f"Received: {max_vocabulary}.")
        ranked = sorted((t for t, n in counts.items() if n >= min_count and t not in specials),
                        key=lambda t: (-counts[t], t))
        if max_vocabulary is not None:
            ranked = ranked[: max_vocabulary - len(specials)]
        return list(specials) + ranked


class WordTokenizer(Tokenizer):
    """Words and punctuation marks as tokens, lower-cased by default; `--` dashes are one token.

    Args:
        vocabulary: list of tokens, starting with the unknown and end tokens.
        lowercase: bool. Lower-case text before splitting. Defaults to `True`.
    """

    kind = "word"

    def __init__(self, vocabulary, lowercase=True, unknown_token="<unk>", end_token="</p>"):
        super().__init__(vocabulary, unknown_token, end_token)
        self.lowercase = lowercase

    @classmethod
    def from_texts(cls, texts, max_vocabulary=10_000, min_count=1, lowercase=True):
        """The `max_vocabulary` most frequent tokens of `texts` (ties broken alphabetically)."""
        counts = collections.Counter()
        probe = cls(["<unk>", "</p>"], lowercase=lowercase)
        for text in texts:
            counts.update(probe.split(text))
        return cls(cls._counted_vocabulary(counts, max_vocabulary, min_count, ("<unk>", "</p>")),
                   lowercase=lowercase)

    def split(self, text):
        return _WORD.findall(text.lower() if self.lowercase else text)

    def decode(self, ids, paragraph_separator="\n\n"):
        """Readable text: punctuation attached, quotes paired, sentences capitalised."""
        paragraphs, words = [], []
        for token_id in token_ids("ids", ids, self.vocabulary_size):  # checked: ints in range
            token = self.id_to_token(token_id)
            if token_id == self.end_id:
                paragraphs.append(words)
                words = []
            else:
                words.append(token)
        if words:
            paragraphs.append(words)
        return paragraph_separator.join(self.detokenize(words) for words in paragraphs)

    def detokenize(self, words):
        """Readable text from token strings (what `decode` does after looking the ids up):
        `deepedge.detokenize`, sentences capitalised when the tokenizer lowercases."""
        return join_words(words, capitalise_sentences=self.lowercase)

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase}


class SubwordTokenizer(WordTokenizer):
    """Words split into byte-pair-encoding pieces (Sennrich et al. 2016), pure Python.

    Frequent words stay whole; rare ones (a German compound, a name) become pieces the model
    has seen, so few tokens are unknown. A piece that does not end its word carries `@@`
    (`haus@@ tür`). The merges (in the order they were learned) travel in the config, so
    training and the device split alike.

    Args:
        vocabulary: list of pieces, starting with the unknown and end tokens.
        merges: list of `[left, right]` symbol pairs, in the order they are applied.
        lowercase: bool. Lower-case text before splitting. Defaults to `True`.
    """

    kind = "subword"
    marker = "@@"

    def __init__(self, vocabulary, merges=(), lowercase=True, unknown_token="<unk>", end_token="</p>"):
        super().__init__(vocabulary, lowercase, unknown_token, end_token)
        self.merges = [tuple(pair) for pair in merges]
        if any(len(pair) != 2 for pair in self.merges):
            raise InvalidInputError("Each merge is a pair of symbols.")
        self._ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self._cache = {}

    @classmethod
    def from_texts(cls, texts, max_vocabulary=8_000, min_count=1, lowercase=True, merges=None):
        """Learns merges on the words of `texts` until the vocabulary (every character seen
        `min_count` times, inside and at the end of a word, plus one piece per merge) has
        `max_vocabulary` entries, or `merges` merges when given. As in Sennrich et al., a
        word's last symbol is marked, so the pieces that end a word and those inside one
        are learned apart and every piece a merge makes is in the vocabulary."""
        import heapq

        probe = WordTokenizer(["<unk>", "</p>"], lowercase=lowercase)
        word_counts = collections.Counter()
        for text in texts:
            word_counts.update(probe.split(text))
        words = collections.Counter()
        for word, count in word_counts.items():
            words[cls._symbols(word)] += count
        base = collections.Counter()
        for word, count in words.items():
            for symbol in word:
                base[symbol] += count
        base_symbols = sorted((b for b, n in base.items() if n >= min_count), key=lambda b: (-base[b], b))
        budget = int(merges) if merges is not None else float("inf") if max_vocabulary is None \
            else max_vocabulary - 2 - len(base_symbols)  # no max_vocabulary: merge while a pair is seen twice
        pair_counts = collections.Counter()
        holders = collections.defaultdict(set)
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pair_counts[pair] += count
                holders[pair].add(word)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)
        learned = []
        while heap and len(learned) < budget:
            negative, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -negative or -negative < 2:
                continue  # a stale entry, or nothing left worth merging
            learned.append(pair)
            touched = set()
            for word in list(holders.pop(pair, ())):
                count = words.pop(word)
                for old in zip(word, word[1:]):
                    pair_counts[old] -= count
                    holders[old].discard(word)
                    touched.add(old)
                merged = cls._merge_once(word, pair)
                words[merged] += count
                for new in zip(merged, merged[1:]):
                    pair_counts[new] += count
                    holders[new].add(merged)
                    touched.add(new)
            pair_counts.pop(pair, None)
            for changed in touched:
                if pair_counts.get(changed, 0) > 0:
                    heapq.heappush(heap, (-pair_counts[changed], changed))
        symbols = base_symbols + [left + right for left, right in learned]
        vocabulary = ["<unk>", "</p>"] + list(dict.fromkeys(cls._token(symbol) for symbol in symbols))
        return cls(vocabulary, learned, lowercase=lowercase)

    @staticmethod
    def _symbols(word):
        return tuple(word[:-1]) + (word[-1] + "</w>",)

    @classmethod
    def _token(cls, symbol):
        return symbol[:-4] if symbol.endswith("</w>") else symbol + cls.marker

    @staticmethod
    def _merge_once(symbols, pair):
        out, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                out.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        return tuple(out)

    def _pieces(self, word):
        """The pieces of one word, `@@` on all but the last."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        symbols = self._symbols(word)
        while len(symbols) > 1:
            ranked = [(self._ranks[p], p) for p in zip(symbols, symbols[1:]) if p in self._ranks]
            if not ranked:
                break
            symbols = self._merge_once(symbols, min(ranked)[1])
        pieces = [self._token(symbol) for symbol in symbols]
        if len(self._cache) < 100_000:  # bounded: memory does not grow with what users type
            self._cache[word] = pieces
        return pieces

    def split(self, text):
        return [piece for word in super().split(text) for piece in self._pieces(word)]

    def decode(self, ids, paragraph_separator="\n\n"):
        paragraphs, words, partial = [], [], ""
        for token_id in token_ids("ids", ids, self.vocabulary_size):  # checked: ints in range
            if token_id == self.end_id:
                paragraphs.append(words + ([partial] if partial else []))
                words, partial = [], ""
                continue
            token = "\N{REPLACEMENT CHARACTER}" if token_id == self.unknown_id else self.id_to_token(token_id)
            if token.endswith(self.marker):
                partial += token[:-len(self.marker)]
            else:
                words.append(partial + token)
                partial = ""
        if words or partial:
            paragraphs.append(words + ([partial] if partial else []))
        return paragraph_separator.join(self.detokenize(words) for words in paragraphs)

    def get_config(self):
        return {**super().get_config(), "merges": [list(pair) for pair in self.merges]}


class CharTokenizer(Tokenizer):
    """Characters as tokens, case kept; the end token marks a paragraph's end."""

    kind = "char"

    @classmethod
    def from_texts(cls, texts, max_vocabulary=None, min_count=1):
        counts = collections.Counter()
        for text in texts:
            counts.update(text)
        return cls(cls._counted_vocabulary(counts, max_vocabulary, min_count, ("<unk>", "</p>")))

    def split(self, text):
        return list(text)

    def decode(self, ids, paragraph_separator="\n\n"):
        pieces = []
        for token_id in token_ids("ids", ids, self.vocabulary_size):  # checked: ints in range
            token = self.id_to_token(token_id)
            pieces.append(paragraph_separator if token_id == self.end_id
                          else "\N{REPLACEMENT CHARACTER}" if token_id == self.unknown_id else token)
        return "".join(pieces)


TOKENIZERS = {cls.kind: cls for cls in (WordTokenizer, SubwordTokenizer, CharTokenizer)}

def as_tokenizer(value, what="tokenizer"):
    """`value` as a `Tokenizer`: a tokenizer, or its config (what a saved model's config holds).
    Raises `InvalidInputError` naming the argument `what` for anything else."""
    if isinstance(value, dict):
        value = Tokenizer.from_config(value)
    if not isinstance(value, Tokenizer):
        raise InvalidInputError(f"`{what}` must be a deepedge Tokenizer or its config. "
                                f"Received: {type(value).__name__}.")
    return value


def encode_sentences(tokenizer, texts, max_length, what="source"):
    """Token ids `(N, max_length)` int32, each sentence followed by the end token and padded with it.

    Raises `InvalidInputError` for an empty sentence or one longer than `max_length - 1` tokens:
    nothing is cut off silently.
    """
    if isinstance(texts, str):
        texts = [texts]
    ids = np.full((len(texts), max_length), tokenizer.end_id, np.int32)
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"Every {what} sentence needs at least one word. Received: {text!r}")
        tokens = tokenizer.encode(text)
        if not tokens:
            raise InvalidInputError(f"The {what} sentence {text!r} has no token the tokenizer knows how to split.")
        if len(tokens) > max_length - 1:
            raise InvalidInputError(f"The {what} sentence has {len(tokens)} tokens; this model takes at most "
                                    f"{max_length - 1}. Split it into shorter sentences. Received: {text[:80]!r}...")
        ids[i, :len(tokens)] = tokens
    return ids


__all__ = ["CharTokenizer", "SubwordTokenizer", "TOKENIZERS", "Tokenizer", "WordTokenizer", "as_tokenizer",
           "encode_sentences"]
