"""CTC decoding and error rates in numpy only (Graves et al. 2006), for Keras and the device.

Class 0 is the blank; class `i + 1` is `characters[i]`.
"""

import math

import numpy as np

from deepedge.errors import InvalidInputError


def _log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def greedy_decode(logits, characters):
    """Best class per step, repeats merged, blanks dropped: the transcript."""
    best = np.argmax(np.asarray(logits), axis=-1)
    out, previous = [], 0
    for c in best:
        if c != previous and c != 0:
            out.append(characters[c - 1])
        previous = c
    return "".join(out)


class GreedyStream:
    """Greedy CTC decoding of logits that arrive chunk by chunk; `text` so far after each `push`."""

    def __init__(self, characters):
        self.characters, self.previous, self.pieces = characters, 0, []

    def push(self, logits):
        for c in np.argmax(np.asarray(logits), axis=-1):
            if c != self.previous and c != 0:
                self.pieces.append(self.characters[c - 1])
            self.previous = c
        return self.text

    @property
    def text(self):
        return "".join(self.pieces)


def beam_decode(logits, characters, beam_width=8, prune=-12.0, language_model=None, lm_weight=None,
                length_bonus=None):
    """CTC prefix beam search, with a character language model if given: the best transcript.

    Args:
        logits: `(steps, classes)`.
        characters: the alphabet.
        beam_width: int. Prefixes kept after each step.
        prune: float. Classes whose log-probability at a step is below this are skipped.
        language_model: a `deepedge.edge.charlm.CharLanguageModel` over the same alphabet, or
            `None` for acoustics alone.
        lm_weight: float. Weight of the language model's log-probabilities; defaults to the
            model's own (tuned on validation sentences when it was built).
        length_bonus: float. Added per character with a language model; defaults to the model's.
    """
    from deepedge.edge.charlm import logaddexp

    if int(beam_width) < 1:
        raise InvalidInputError(f"beam_width must be at least 1. Received: {beam_width!r}.")
    log_probs = _log_softmax(logits)
    if language_model is not None:
        if tuple(language_model.characters) != tuple(characters):
            raise InvalidInputError("The language model's alphabet differs from the recogniser's: "
                                    f"{''.join(language_model.characters)!r} vs {''.join(characters)!r}.")
        alpha = language_model.lm_weight if lm_weight is None else float(lm_weight)
        beta = language_model.length_bonus if length_bonus is None else float(length_bonus)
    neg_inf = -math.inf
    # prefix -> [log p ending in blank, log p ending in non-blank, language-model score]
    beams = {(): [0.0, neg_inf, 0.0]}
    for step in log_probs:
        step = step.tolist()
        candidates = [c for c in range(1, len(step)) if step[c] > prune]
        new = {}

        def add(prefix, blank, non_blank, lm_score):
            entry = new.get(prefix)
            if entry is None:
                new[prefix] = [blank, non_blank, lm_score]
            else:
                entry[0], entry[1] = logaddexp(entry[0], blank), logaddexp(entry[1], non_blank)

        for prefix, (p_b, p_nb, lm_score) in beams.items():
            total = logaddexp(p_b, p_nb)
            add(prefix, total + step[0], neg_inf, lm_score)  # a blank: the prefix stays
            last = prefix[-1] if prefix else None
            next_lm = language_model.log_probs(prefix) if language_model is not None and candidates else None
            for c in candidates:
                extended = lm_score + alpha * next_lm[c] + beta if next_lm is not None else 0.0
                if c == last:
                    add(prefix, neg_inf, p_nb + step[c], lm_score)  # a repeat without blank merges
                    add(prefix + (c,), neg_inf, p_b + step[c], extended)  # after a blank it is a new character
                else:
                    add(prefix + (c,), neg_inf, total + step[c], extended)
        ranked = sorted(new.items(), key=lambda kv: -(logaddexp(kv[1][0], kv[1][1]) + kv[1][2]))
        beams = dict(ranked[:beam_width])

    def final_score(item):
        prefix, (p_b, p_nb, lm_score) = item
        score = logaddexp(p_b, p_nb) + lm_score
        if language_model is not None:
            score += alpha * language_model.log_probs(prefix)[0]  # the end of the sentence
        return score

    best = max(beams.items(), key=final_score)[0]
    return "".join(characters[c - 1] for c in best)


def edit_distance(a, b):
    """Levenshtein distance between two sequences."""
    a, b = list(a), list(b)
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def character_error_rate(references, hypotheses):
    """Edit distance over reference length, in percent, summed over all utterances."""
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    return 100.0 * errors / max(1, sum(len(r) for r in references))


def word_error_rate(references, hypotheses):
    """Word-level edit distance over reference words, in percent."""
    errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses))
    return 100.0 * errors / max(1, sum(len(r.split()) for r in references))
