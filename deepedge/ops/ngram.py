"""The count-based baseline: an interpolated modified Kneser-Ney n-gram model (Chen & Goodman 1998).

This is the estimator KenLM's `lmplz` builds (interpolated, three discounts per order estimated
from counts of counts, continuation counts for the lower orders, the unigram interpolated
with the uniform distribution), written in pure Python over the same token ids as the neural
models, so the table compares like with like: same tokenizer, vocabulary, unknown token,
paragraph-end token and split. Its distributions sum to one over the vocabulary for every
context (tested).

    kn = KneserNey(order=5).fit(train_ids, vocabulary_size=10_000)
    kn.perplexity(test_ids)
"""

import collections
import math

import numpy as np

from deepedge.errors import InvalidInputError


class KneserNey:
    """Interpolated modified Kneser-Ney n-gram language model over integer token ids.

    Args:
        order: int. The n of the n-grams (5 by default).
        start_token: int. The id read before the first token (deepedge's paragraph end, 1).
    """

    def __init__(self, order=5, start_token=1):
        if int(order) < 1:
            raise InvalidInputError(f"order must be at least 1. Received: {order!r}.")
        self.order = int(order)
        self.start_token = int(start_token)
        self.vocabulary_size = None

    def fit(self, ids, vocabulary_size):
        ids = [self.start_token] + [int(i) for i in ids]
        n = self.order
        self.vocabulary_size = int(vocabulary_size)
        highest = collections.Counter(tuple(ids[i - n + 1: i + 1]) for i in range(n - 1, len(ids)))
        # Lower orders use continuation counts (distinct left extensions), except for n-grams
        # at the very start of the stream, which have no left context and keep raw counts.
        counts = {n: highest}
        for k in range(n - 1, 0, -1):
            continuation = collections.Counter(gram[1:] for gram in counts[k + 1])
            for i in range(k - 1, min(len(ids), k)):
                continuation[tuple(ids[i - k + 1: i + 1])] += 1
            counts[k] = continuation
        self.counts = counts
        self.discounts = {k: self._discounts(c) for k, c in counts.items()}
        self.context_stats = {}
        for k, c in counts.items():
            stats = collections.defaultdict(lambda: [0, 0, 0, 0])  # total, n1, n2, n3+
            for gram, value in c.items():
                s = stats[gram[:-1]]
                s[0] += value
                s[min(value, 3)] += 1
            self.context_stats[k] = dict(stats)
        return self

    @staticmethod
    def _discounts(counter):
        of = collections.Counter(v for v in counter.values() if v <= 4)
        n1, n2, n3, n4 = (max(of[i], 1) for i in (1, 2, 3, 4))
        y = n1 / (n1 + 2 * n2)
        return (0.0, max(0.0, 1 - 2 * y * n2 / n1), max(0.0, 2 - 3 * y * n3 / n2), max(0.0, 3 - 4 * y * n4 / n3))

    def _discount(self, k, count):
        return self.discounts[k][min(count, 3)]

    def _gamma(self, k, stats):
        d = self.discounts[k]
        return (d[1] * stats[1] + d[2] * stats[2] + d[3] * stats[3]) / stats[0]

    def probability(self, word, context):
        """P(word | context), context being the ids before `word` (only the last order-1 are used)."""
        if self.vocabulary_size is None:
            raise InvalidInputError("Call fit() before asking for probabilities.")
        context = tuple(int(c) for c in context)[-(self.order - 1):] if self.order > 1 else ()
        stats = self.context_stats[1][()]
        count = self.counts[1].get((word,), 0)
        p = max(count - self._discount(1, count), 0.0) / stats[0] + self._gamma(1, stats) / self.vocabulary_size
        for k in range(2, self.order + 1):
            if len(context) < k - 1:
                break
            history = context[len(context) - (k - 1):]
            stats = self.context_stats[k].get(history)
            if stats is None:
                break  # unseen history: the lower-order estimate stands (and so for longer ones)
            count = self.counts[k].get(history + (word,), 0)
            p = max(count - self._discount(k, count), 0.0) / stats[0] + self._gamma(k, stats) * p
        return p

    def token_nll(self, ids):
        ids = [int(i) for i in ids]
        stream = [self.start_token] * (self.order - 1) + ids
        nll = np.empty(len(ids), np.float64)
        for i, word in enumerate(ids):
            context = stream[i: i + self.order - 1]
            nll[i] = -math.log(self.probability(word, context))
        return nll

    def perplexity(self, ids):
        return float(math.exp(self.token_nll(ids).mean()))

    @property
    def num_ngrams(self):
        return {k: len(c) for k, c in self.counts.items()}
