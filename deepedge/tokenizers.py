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

from deepedge.errors import InvalidInputError

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|--+|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = set(".,;:!?)'") | {"--", "'s", "n't"}
_NO_SPACE_AFTER = set("(") | {"--"}
_SENTENCE_END = set(".!?")


class Tokenizer:
    """Shared behaviour: a vocabulary of strings, id lookup, unknown and end tokens."""

    kind = None

    def __init__(self, vocabulary, unknown_token="<unk>", end_token="</p>"):
        vocabulary = list(vocabulary)
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
        token_id = int(token_id)
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
        config = dict(config)
        kind = config.pop("kind", cls.kind)
        target = TOKENIZERS.get(kind)
        if target is None:
            raise InvalidInputError(f"Unknown tokenizer kind {kind!r}; expected one of {sorted(TOKENIZERS)}.")
        return target(**config)

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
        for token_id in ids:
            token = self.id_to_token(token_id)
            if token_id == self.end_id:
                paragraphs.append(words)
                words = []
            else:
                words.append(token)
        if words:
            paragraphs.append(words)
        return paragraph_separator.join(self._detokenize(words) for words in paragraphs)

    def detokenize(self, words):
        """Readable text from token strings (what `decode` does after looking the ids up)."""
        return self._detokenize(list(words))

    def _detokenize(self, words):
        out, quote_open, capitalise, glue = [], False, True, True
        for word in words:
            if word == '"':
                if quote_open:
                    out.append('"')
                    glue = False
                else:
                    out.append(('' if glue else ' ') + '"')
                    glue = True
                quote_open = not quote_open
                continue
            text = word
            if self.lowercase and (capitalise or word == "i") and word[:1].isalpha():
                text = word[:1].upper() + word[1:]
                capitalise = False
            space = "" if (glue or word in _NO_SPACE_BEFORE) else " "
            out.append(space + text)
            glue = word in _NO_SPACE_AFTER
            if word in _SENTENCE_END:
                capitalise = True
        return "".join(out).strip()

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase}


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
        for token_id in ids:
            token = self.id_to_token(token_id)
            pieces.append(paragraph_separator if token_id == self.end_id
                          else "\N{REPLACEMENT CHARACTER}" if token_id == self.unknown_id else token)
        return "".join(pieces)


TOKENIZERS = {cls.kind: cls for cls in (WordTokenizer, CharTokenizer)}

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


__all__ = ["CharTokenizer", "TOKENIZERS", "Tokenizer", "WordTokenizer", "encode_sentences"]
