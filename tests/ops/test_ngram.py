"""deepedge.ops.ngram: the Kneser-Ney baseline the language models are measured against."""

import numpy as np
import pytest


def test_kneser_ney_is_a_distribution_and_prefers_seen_text():
    from deepedge.ops.ngram import KneserNey

    rng = np.random.default_rng(0)
    text = list(rng.integers(2, 40, 3000)) + [5, 6, 7, 8] * 200
    kn = KneserNey(order=4).fit(text, vocabulary_size=50)
    for context in ([5, 6, 7], [39, 38, 2], [49, 49, 49], []):
        assert sum(kn.probability(w, context) for w in range(50)) == pytest.approx(1.0, abs=1e-9)
    assert kn.probability(8, [5, 6, 7]) > 0.9
    assert kn.perplexity([5, 6, 7, 8] * 20) < kn.perplexity(list(rng.integers(2, 40, 80)))
