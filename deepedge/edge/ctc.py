"""CTC decoding and error rates in numpy only (Graves et al. 2006), for Keras and the device.

Class 0 is the blank; class `i + 1` is `characters[i]`.
"""

import numpy as np


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


def beam_decode(logits, characters, beam_width=8, prune=-12.0):
    """CTC prefix beam search (no language model): the most probable transcript.

    Args:
        logits: `(steps, classes)`.
        characters: the alphabet.
        beam_width: int. Prefixes kept after each step.
        prune: float. Classes whose log-probability at a step is below this are skipped.
    """
    log_probs = _log_softmax(logits)
    neg_inf = -np.inf
    beams = {(): (0.0, neg_inf)}  # prefix -> (log p ending in blank, log p ending in non-blank)
    for step in log_probs:
        candidates = [c for c in range(1, len(step)) if step[c] > prune]
        new = {}

        def add(prefix, blank, non_blank):
            old_b, old_nb = new.get(prefix, (neg_inf, neg_inf))
            new[prefix] = (np.logaddexp(old_b, blank), np.logaddexp(old_nb, non_blank))

        for prefix, (p_b, p_nb) in beams.items():
            total = np.logaddexp(p_b, p_nb)
            add(prefix, total + step[0], neg_inf)  # a blank: the prefix stays
            last = prefix[-1] if prefix else None
            for c in candidates:
                if c == last:
                    add(prefix, neg_inf, p_nb + step[c])  # a repeat without blank merges
                    add(prefix + (c,), neg_inf, p_b + step[c])  # after a blank it is a new character
                else:
                    add(prefix + (c,), neg_inf, total + step[c])
        beams = dict(sorted(new.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:beam_width])
    best = max(beams.items(), key=lambda kv: np.logaddexp(*kv[1]))[0]
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
