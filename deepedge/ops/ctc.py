"""CTC decoding and error rates in numpy only (Graves et al. 2006), for Keras and the device.

Class 0 is the blank; class `i + 1` is `characters[i]`.
"""


import numpy as np

from deepedge.errors import InvalidInputError


def _log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _checked_logits(logits, characters):
    """`logits` as a numeric array `(steps, len(characters) + 1)` of finite values, or
    `InvalidInputError` saying what was received."""
    from deepedge.validation import uniform_batch

    logits = uniform_batch("logits", logits, "step")
    classes = len(characters) + 1
    if logits.ndim != 2 or logits.shape[1] != classes or logits.dtype.kind not in "iuf":
        raise InvalidInputError(f"Expected logits of shape (steps, {classes}) (a blank and {classes - 1} "
                                f"characters) holding numbers. Received: shape={logits.shape}, dtype={logits.dtype}. "
                                "Pass the recogniser's per-step logits.")
    if not np.all(np.isfinite(logits)):
        raise InvalidInputError("The logits hold NaN or infinite values. Received: "
                                f"{int(np.sum(~np.isfinite(logits)))} of them in shape {logits.shape}. "
                                "Pass finite logits (a large negative number for an impossible class).")
    return logits


def greedy_decode(logits, characters):
    """Best class per step, repeats merged, blanks dropped: the transcript."""
    best = np.argmax(_checked_logits(logits, characters), axis=-1)
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
        self.advance(logits)
        return self.text

    def advance(self, logits):
        """`push` without building the text (its cost grows with the transcript)."""
        for c in np.argmax(_checked_logits(logits, self.characters), axis=-1):
            if c != self.previous and c != 0:
                self.pieces.append(self.characters[c - 1])
            self.previous = c

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
    stream = BeamStream(characters, beam_width, prune, language_model, lm_weight, length_bonus)
    stream.advance(logits)
    return stream.finish()


# A prefix is a node of a tree shared by the beam: [parent, class, key, parent's key, the last
# `order - 1` classes (the language model's context), depth]. Keys hash the whole labelling
# (a polynomial hash modulo a Mersenne prime), so finding a prefix or its parent costs the same
# at any length; nodes no prefix of the beam descends from are freed as the beam moves on.
_PARENT, _CLASS, _KEY, _PARENT_KEY, _CONTEXT, _DEPTH = range(6)
_MODULUS, _BASE = (1 << 61) - 1, 1_000_003
_COMMIT_EVERY = 64  # steps between moves of the committed text (the beam's common ancestor)
_MAX_PENDING = 192  # labels the beam may still disagree on before the lagging prefixes are dropped


def _ancestor(node, depth):
    while node[_DEPTH] > depth:
        node = node[_PARENT]
    return node


class BeamStream:
    """CTC prefix beam search over logits that arrive chunk by chunk, in constant memory.

    `push(logits)` returns the best transcript so far; `finish()` scores the end of the
    sentence and returns the final one (`beam_decode` does both at once). Time and memory per
    step do not grow with the recording: the part of the transcript that every prefix in the
    beam shares is committed as text and cut from the tree, and the language model is asked
    only about each prefix's last `order - 1` characters. Arguments as in `beam_decode`.
    """

    def __init__(self, characters, beam_width=8, prune=-12.0, language_model=None, lm_weight=None,
                 length_bonus=None):
        if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
            raise InvalidInputError(f"beam_width must be an integer of at least 1. Received: {beam_width!r}.")
        self.characters, self.width, self.prune = list(characters), int(beam_width), float(prune)
        self.language_model = language_model
        self._context_length = 0
        if language_model is not None:
            if tuple(language_model.characters) != tuple(characters):
                raise InvalidInputError("The language model's alphabet differs from the recogniser's: "
                                        f"{''.join(language_model.characters)!r} vs {''.join(characters)!r}.")
            self.alpha = language_model.lm_weight if lm_weight is None else float(lm_weight)
            self.beta = language_model.length_bonus if length_bonus is None else float(length_bonus)
            self._context_length = language_model.order - 1
        self._rows = {}  # weighted language-model rows by context
        root = [None, 0, 0, None, (), 0]
        self.nodes = [root]
        self.p_b, self.p_nb, self.lm_scores = np.zeros(1), np.full(1, -np.inf), np.zeros(1)
        self.committed, self.steps = [], 0

    def _lm_row(self, context):
        row = self._rows.get(context)
        if row is None:
            if len(self._rows) > 20_000:
                self._rows.clear()
            row = self._rows[context] = self.alpha * self.language_model.log_probs(context) + self.beta
        return row

    def _child(self, node, c):
        context = (node[_CONTEXT] + (c,))[-self._context_length:] if self._context_length else ()
        return [node, c, (node[_KEY] * _BASE + c + 1) % _MODULUS, node[_KEY], context, node[_DEPTH] + 1]

    def push(self, logits):
        """Advances the search by `logits` `(steps, classes)`; returns the best transcript so far."""
        self.advance(logits)
        return self.text

    def advance(self, logits):
        """`push` without building the text (its cost grows with the transcript)."""
        for step in _log_softmax(_checked_logits(logits, self.characters)):
            self._step(step)
            self.steps += 1
            if self.steps % _COMMIT_EVERY == 0:
                self._commit()

    def _step(self, step):
        nodes, p_b, p_nb, lm_scores, prune = self.nodes, self.p_b, self.p_nb, self.lm_scores, self.prune
        count = len(nodes)
        rows = np.arange(count)
        total = np.logaddexp(p_b, p_nb)
        last = np.array([node[_CLASS] for node in nodes])
        repeat = (last > 0) & (step[last] > prune)
        # Extending each prefix by each class: after a blank or another class it is new; the
        # prefix's own last class extends only what ended in a blank (else it is the repeat).
        extend = total[:, None] + np.where(step > prune, step, -np.inf)[None, :]
        extend[:, 0] = -np.inf
        extend[rows[last > 0], last[last > 0]] = np.where(repeat, p_b + step[last], -np.inf)[last > 0]
        stay_b = total + step[0]  # a blank: the prefix stays
        stay_nb = np.where(repeat, p_nb + step[last], -np.inf)  # a repeat without blank merges
        position = {node[_KEY]: j for j, node in enumerate(nodes)}
        for j, node in enumerate(nodes):  # an extension that is already in the beam merges
            parent = position.get(node[_PARENT_KEY]) if node[_DEPTH] else None
            if parent is not None:
                stay_nb[j] = np.logaddexp(stay_nb[j], extend[parent, node[_CLASS]])
                extend[parent, node[_CLASS]] = -np.inf
        if self.language_model is not None:
            extend_lm = lm_scores[:, None] + np.stack([self._lm_row(node[_CONTEXT]) for node in nodes])
        else:
            extend_lm = np.zeros_like(extend)
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb) + lm_scores, (extend + extend_lm).ravel()])
        keep = min(self.width, int(np.isfinite(scores).sum()))
        best = np.argpartition(-scores, keep - 1)[:keep] if keep < len(scores) else np.arange(len(scores))
        best = best[np.isfinite(scores[best])]
        best = best[np.argsort(-scores[best], kind="stable")]
        new_nodes, new_b, new_nb, new_lm = [], [], [], []
        for index in best.tolist():
            if index < count:
                new_nodes.append(nodes[index])
                new_b.append(stay_b[index]), new_nb.append(stay_nb[index]), new_lm.append(lm_scores[index])
            else:
                j, c = divmod(index - count, extend.shape[1])
                new_nodes.append(self._child(nodes[j], c))
                new_b.append(-np.inf), new_nb.append(extend[j, c]), new_lm.append(extend_lm[j, c])
        self.nodes, self.p_b, self.p_nb, self.lm_scores = new_nodes, np.array(new_b), np.array(new_nb), np.array(new_lm)

    def _commit(self):
        """Moves what every prefix of the beam shares into `committed` and cuts it from the tree.

        Prefixes that have disagreed with the best one for more than `_MAX_PENDING` labels (an
        early doubt the acoustics never settle) are dropped, so the tree's depth stays bounded.
        """
        nodes = [_ancestor(node, min(node[_DEPTH] for node in self.nodes)) for node in self.nodes]
        while any(node is not nodes[0] for node in nodes):
            nodes = [node[_PARENT] for node in nodes]
        shared = nodes[0]
        best = self.nodes[int(np.argmax(np.logaddexp(self.p_b, self.p_nb) + self.lm_scores))]
        if best[_DEPTH] - shared[_DEPTH] > _MAX_PENDING:
            shared = _ancestor(best, best[_DEPTH] - _MAX_PENDING // 2)
            keep = [i for i, node in enumerate(self.nodes)
                    if node[_DEPTH] >= shared[_DEPTH] and _ancestor(node, shared[_DEPTH]) is shared]
            self.nodes = [self.nodes[i] for i in keep]
            self.p_b, self.p_nb, self.lm_scores = self.p_b[keep], self.p_nb[keep], self.lm_scores[keep]
        self.committed.append("".join(self.characters[c - 1] for c in self._labels(shared)))
        shared[_PARENT] = None  # the tree above is text now

    @staticmethod
    def _labels(node):
        """Classes from the last cut down to `node`."""
        labels = []
        while node[_PARENT] is not None:
            labels.append(node[_CLASS])
            node = node[_PARENT]
        return labels[::-1]

    def _transcript(self, node):
        return "".join(self.committed) + "".join(self.characters[c - 1] for c in self._labels(node))

    @property
    def text(self):
        """The most probable transcript so far (the end of the sentence not yet scored)."""
        return self._transcript(self.nodes[int(np.argmax(np.logaddexp(self.p_b, self.p_nb) + self.lm_scores))])

    def finish(self):
        """The final transcript: the best prefix with the end of the sentence scored."""
        final = np.logaddexp(self.p_b, self.p_nb) + self.lm_scores
        if self.language_model is not None:
            final = final + self.alpha * np.array([self.language_model.log_probs(node[_CONTEXT])[0]
                                                   for node in self.nodes])
        return self._transcript(self.nodes[int(np.argmax(final))])


def edit_distance(a, b):
    """Levenshtein distance between two sequences (strings, or lists of words).

    One numpy pass per element of `a`, each row vectorised over `b` (insertions along a row are
    a running minimum), so an hour's transcript against its reference takes seconds.
    """
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    ids = {}
    a_ids = np.array([ids.setdefault(x, len(ids)) for x in a], np.int64)
    b_ids = np.array([ids.setdefault(y, len(ids)) for y in b], np.int64)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, x in enumerate(a_ids, 1):
        candidates = np.empty_like(row)
        candidates[0] = i
        # a deletion (from above) or a substitution or match (from the upper left)
        candidates[1:] = np.minimum(row[1:] + 1, row[:-1] + (b_ids != x))
        # then insertions along the row: new[j] = min over k <= j of candidates[k] + (j - k)
        row = np.minimum.accumulate(candidates - steps) + steps
    return int(row[-1])


def character_error_rate(references, hypotheses):
    """Edit distance over reference length, in percent, summed over all utterances."""
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    return 100.0 * errors / max(1, sum(len(r) for r in references))


def word_error_rate(references, hypotheses):
    """Word-level edit distance over reference words, in percent."""
    errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses))
    return 100.0 * errors / max(1, sum(len(r.split()) for r in references))
