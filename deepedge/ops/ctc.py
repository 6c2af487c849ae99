"""CTC decoding and error rates in numpy only (Graves et al. 2006), for Keras and the device.

Class 0 is the blank; class `i + 1` is `characters[i]`.
"""


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
        language_model: a `deepedge.ops.charlm.CharLanguageModel` over the same alphabet, or
            `None` for acoustics alone.
        lm_weight: float. Weight of the language model's log-probabilities; defaults to the
            model's own (tuned on validation sentences when it was built).
        length_bonus: float. Added per character with a language model; defaults to the model's.
    """
    if int(beam_width) < 1:
        raise InvalidInputError(f"beam_width must be at least 1. Received: {beam_width!r}.")
    log_probs = _log_softmax(logits)
    if language_model is not None:
        if tuple(language_model.characters) != tuple(characters):
            raise InvalidInputError("The language model's alphabet differs from the recogniser's: "
                                    f"{''.join(language_model.characters)!r} vs {''.join(characters)!r}.")
        alpha = language_model.lm_weight if lm_weight is None else float(lm_weight)
        beta = language_model.length_bonus if length_bonus is None else float(length_bonus)
    width = int(beam_width)
    # The beam as parallel arrays: prefixes (tuples of class ids), log p of each ending in a
    # blank / a non-blank, and each prefix's language-model score (weighted log p + bonus).
    prefixes = [()]
    p_b, p_nb, lm_scores = np.zeros(1), np.full(1, -np.inf), np.zeros(1)
    lm_rows = {}
    for step in log_probs:
        count = len(prefixes)
        rows = np.arange(count)
        total = np.logaddexp(p_b, p_nb)
        last = np.array([prefix[-1] if prefix else 0 for prefix in prefixes])
        repeat = (last > 0) & (step[last] > prune)
        # Extending each prefix by each class: after a blank or another class it is new; the
        # prefix's own last class extends only what ended in a blank (else it is the repeat).
        extend = total[:, None] + np.where(step > prune, step, -np.inf)[None, :]
        extend[:, 0] = -np.inf
        extend[rows[last > 0], last[last > 0]] = np.where(repeat, p_b + step[last], -np.inf)[last > 0]
        stay_b = total + step[0]  # a blank: the prefix stays
        stay_nb = np.where(repeat, p_nb + step[last], -np.inf)  # a repeat without blank merges
        position = {prefix: j for j, prefix in enumerate(prefixes)}
        for j, prefix in enumerate(prefixes):  # an extension that is already in the beam merges
            parent = position.get(prefix[:-1]) if prefix else None
            if parent is not None:
                stay_nb[j] = np.logaddexp(stay_nb[j], extend[parent, prefix[-1]])
                extend[parent, prefix[-1]] = -np.inf
        if language_model is not None:
            for prefix in prefixes:
                if prefix not in lm_rows:
                    lm_rows[prefix] = alpha * language_model.log_probs(prefix) + beta
            extend_lm = lm_scores[:, None] + np.stack([lm_rows[prefix] for prefix in prefixes])
        else:
            extend_lm = np.zeros_like(extend)
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb) + lm_scores, (extend + extend_lm).ravel()])
        finite = int(np.isfinite(scores).sum())
        keep = min(width, finite)
        best = np.argpartition(-scores, keep - 1)[:keep] if keep < len(scores) else np.arange(len(scores))
        best = best[np.isfinite(scores[best])]
        best = best[np.argsort(-scores[best], kind="stable")]
        new_prefixes, new_b, new_nb, new_lm = [], [], [], []
        for index in best.tolist():
            if index < count:
                new_prefixes.append(prefixes[index])
                new_b.append(stay_b[index]), new_nb.append(stay_nb[index]), new_lm.append(lm_scores[index])
            else:
                j, c = divmod(index - count, extend.shape[1])
                new_prefixes.append(prefixes[j] + (c,))
                new_b.append(-np.inf), new_nb.append(extend[j, c]), new_lm.append(extend_lm[j, c])
        prefixes, p_b, p_nb, lm_scores = new_prefixes, np.array(new_b), np.array(new_nb), np.array(new_lm)

    final = np.logaddexp(p_b, p_nb) + lm_scores
    if language_model is not None:  # the end of the sentence
        final = final + alpha * np.array([language_model.log_probs(prefix)[0] for prefix in prefixes])
    best = prefixes[int(np.argmax(final))]
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
