"""A character n-gram language model for CTC beam search on device, numpy only.

The recogniser hears sounds; this model knows how English is spelled. In the prefix beam
search (`deepedge.ops.ctc.beam_decode`) every new character's CTC score is joined by
`lm_weight * log P(character | the characters before it)`, a `length_bonus` per character
offsets the language model's preference for short transcripts, and the end of the sentence is
scored too ("shallow fusion", as in Hannun et al. 2014).

The model is an interpolated Kneser-Ney n-gram (`deepedge.ops.ngram`)
over the recogniser's alphabet plus a sentence boundary, fitted on text the recogniser never
hears in testing, and stored as dense tables: for every context seen in training, the full
distribution over the next character, log-probabilities quantised to 8 bits. A context not in
the table backs off to its longest stored suffix, which is exactly the interpolated model's
estimate for a context seen in training with no continuation stored. The file is a `.npz` of
plain arrays (nothing pickled) carrying its fusion weights:

    lm = CharLanguageModel.load("saved_models/asr_ctc/language_model.npz")
    beam_decode(logits, characters, beam_width=16, language_model=lm)

Token 0 is the sentence boundary and token `i + 1` is `characters[i]`, the same numbering as
the recogniser's CTC classes (whose 0 is the blank).
"""

import io
import math
from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError

FORMAT = "deepedge-char-ngram-1"
LOG_PROB_FLOOR = -16.0  # quantisation range [LOG_PROB_FLOOR, 0] in 255 steps (0.063 nats)


class CharLanguageModel:
    """Next-character log-probabilities from the characters so far.

    Args:
        characters: the alphabet, in the recogniser's order.
        order: int. The n of the n-grams (contexts of up to `order - 1` tokens).
        tables: one `(keys, codes)` pair per context length 0..order-1: `keys` int64 sorted
            context codes, `codes` uint8 `(len(keys), len(characters) + 1)` quantised
            negated log-probabilities.
        lm_weight: float. Default weight of the language model in beam search.
        length_bonus: float. Default score added per character in beam search.
    """

    def __init__(self, characters, order, tables, lm_weight=1.0, length_bonus=1.5):
        self.characters = tuple(characters)
        self.order = int(order)
        self.vocabulary_size = len(self.characters) + 1
        if self.order < 1 or len(tables) != self.order:
            raise ModelFileError(f"A character language model of order {order} needs {order} tables. "
                                 f"Received: {len(tables)}.")
        self.tables = []
        for length, (keys, codes) in enumerate(tables):
            keys, codes = np.asarray(keys, np.int64), np.asarray(codes, np.uint8)
            if codes.shape != (len(keys), self.vocabulary_size):
                raise ModelFileError(f"Table {length} of the character language model has shape {codes.shape}; "
                                     f"expected ({len(keys)}, {self.vocabulary_size}). The file is damaged.")
            self.tables.append((keys, codes))
        if len(self.tables[0][0]) != 1:
            raise ModelFileError("The character language model has no unigram distribution. The file is damaged.")
        self.lm_weight, self.length_bonus = float(lm_weight), float(length_bonus)
        self._index = [dict(zip(keys.tolist(), range(len(keys)))) for keys, _ in self.tables]
        self._token_of = {c: i + 1 for i, c in enumerate(self.characters)}
        self._cache = {}

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def from_probabilities(cls, characters, order, contexts, probability, lm_weight=1.0, length_bonus=1.5):
        """Tabulates `probability(token, context)` for every context of `contexts` (tuples of ids).

        `contexts` must hold every suffix of each of its members (as the contexts of an n-gram
        model do) and the empty context.
        """
        vocabulary = len(characters) + 1
        by_length = [[] for _ in range(order)]
        for context in set(map(tuple, contexts)):
            if len(context) >= order:
                raise InvalidInputError(f"Context {context} is longer than order - 1 = {order - 1}.")
            by_length[len(context)].append(context)
        tables = []
        for contexts_of_length in by_length:
            keys = np.array([_code(c, vocabulary) for c in contexts_of_length], np.int64)
            order_of_keys = np.argsort(keys)
            rows = np.empty((len(keys), vocabulary), np.uint8)
            for row, i in enumerate(order_of_keys):
                p = np.array([probability(token, contexts_of_length[i]) for token in range(vocabulary)])
                rows[row] = _quantise(np.log(np.maximum(p, 1e-30)))
            tables.append((keys[order_of_keys], rows))
        return cls(characters, order, tables, lm_weight, length_bonus)

    @classmethod
    def from_kneser_ney(cls, model, characters, min_count=1, **kwargs):
        """Tabulates a fitted `KneserNey` over tokens 0 (boundary) .. len(characters).

        Contexts of two or more tokens seen fewer than `min_count` times are left out (pruned):
        they back off to their longest stored suffix.
        """
        contexts = [()] + [history for k in range(2, model.order + 1)
                           for history, stats in model.context_stats[k].items()
                           if len(history) < 2 or stats[0] >= min_count]
        return cls.from_probabilities(characters, model.order, contexts, model.probability, **kwargs)

    # -- queries --------------------------------------------------------------------------------
    def log_probs(self, context):
        """Log-probabilities `(len(characters) + 1,)` of the next token after `context` (token ids;
        the start of a sentence is a boundary, token 0). Index 0 is the end of the sentence."""
        context = (0,) * (self.order - 1) + tuple(context)
        context = context[len(context) - (self.order - 1):] if self.order > 1 else ()
        cached = self._cache.get(context)
        if cached is not None:
            return cached
        for length in range(len(context), -1, -1):
            suffix = context[len(context) - length:]
            row = self._index[length].get(_code(suffix, self.vocabulary_size))
            if row is not None:
                values = self.tables[length][1][row].astype(np.float64) * (LOG_PROB_FLOOR / 255.0)
                break
        if len(self._cache) > 50_000:  # bounded: about 18 MB of rows
            self._cache.clear()
        self._cache[context] = values
        return values

    def score(self, text):
        """Natural-log probability of a whole sentence, its end included."""
        ids = self.encode(text)
        total = 0.0
        for i, token in enumerate(ids + [0]):
            total += self.log_probs(ids[:i])[token]
        return total

    def encode(self, text):
        unknown = sorted(set(text) - set(self._token_of))
        if unknown:
            raise InvalidInputError(f"Characters {unknown} are not in the language model's alphabet "
                                    f"{''.join(self.characters)!r}.")
        return [self._token_of[c] for c in text]

    @property
    def num_contexts(self):
        return [len(keys) for keys, _ in self.tables]

    # -- files ----------------------------------------------------------------------------------
    def save(self, path):
        """Writes the model as a `.npz` of plain arrays, atomically."""
        from deepedge.fileio import atomic_write_bytes

        arrays = {"format": np.array(FORMAT), "characters": np.array("".join(self.characters)),
                  "order": np.array(self.order), "lm_weight": np.array(self.lm_weight),
                  "length_bonus": np.array(self.length_bonus)}
        for length, (keys, codes) in enumerate(self.tables):
            arrays[f"keys_{length}"], arrays[f"codes_{length}"] = keys, codes
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"No character language model at {path}.")
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != FORMAT:
                    raise ModelFileError(f"{path} is a {str(z['format'])!r} file; expected {FORMAT!r}.")
                order = int(z["order"])
                tables = [(z[f"keys_{i}"], z[f"codes_{i}"]) for i in range(order)]
                return cls(str(z["characters"]), order, tables, float(z["lm_weight"]), float(z["length_bonus"]))
        except ModelFileError:
            raise
        except Exception as error:  # zipfile.BadZipFile, KeyError, ValueError from a damaged file
            raise ModelFileError(f"{path} is not a readable character language model ({error}). Rebuild it with "
                                 f"`deepedge export` of the recogniser.") from error


def _code(context, vocabulary):
    code = 0
    for token in context:
        code = code * vocabulary + int(token)
    return code


def _quantise(log_probs):
    clipped = np.clip(log_probs, LOG_PROB_FLOOR, 0.0)
    return np.round(clipped / LOG_PROB_FLOOR * 255.0).astype(np.uint8)


def logaddexp(a, b):
    """log(exp(a) + exp(b)) on Python floats (numpy's costs microseconds a call in the beam loop)."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))
