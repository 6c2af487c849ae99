"""deepedge.ops.ctc: greedy and beam CTC decoding (with a character language model) and error rates."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError


def test_greedy_ctc_merges_repeats_and_drops_blanks():
    from deepedge.ops.ctc import GreedyStream, greedy_decode

    chars = ["a", "b"]
    best = [1, 1, 0, 1, 2, 2, 0, 0, 2]  # a a _ a b b _ _ b -> "aabb"
    logits = np.eye(3)[best] * 5
    assert greedy_decode(logits, chars) == "aabb"
    stream = GreedyStream(chars)
    assert [stream.push(logits[i:i + 3]) for i in (0, 3, 6)] == ["a", "aab", "aabb"]


def test_beam_search_finds_the_most_probable_labelling():
    """Summed over alignments, "a" beats the best single path (blank, blank)."""
    from itertools import product

    from deepedge.ops.ctc import beam_decode, greedy_decode

    probs = np.array([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25]])  # classes: blank, a, b
    logits = np.log(probs)
    assert greedy_decode(logits, ["a", "b"]) == ""
    totals = {}
    for path in product(range(3), repeat=2):
        text = greedy_decode(np.eye(3)[list(path)], ["a", "b"])
        totals[text] = totals.get(text, 0.0) + np.prod([probs[t, c] for t, c in enumerate(path)])
    assert max(totals, key=totals.get) == "a" == beam_decode(logits, ["a", "b"], beam_width=4)


def test_wide_beam_search_is_exact_on_small_problems():
    """With a beam wide enough for every prefix, the search returns the labelling with the most
    probability summed over its alignments (repeats, merges and blanks included)."""
    from itertools import product

    from deepedge.ops.ctc import _log_softmax, beam_decode, greedy_decode

    rng = np.random.default_rng(3)
    for _ in range(12):
        logits = rng.normal(0.0, 1.5, (5, 3))
        probs = np.exp(_log_softmax(logits))
        totals = {}
        for path in product(range(3), repeat=5):
            text = greedy_decode(np.eye(3)[list(path)], ["a", "b"])
            totals[text] = totals.get(text, 0.0) + np.prod([probs[t, c] for t, c in enumerate(path)])
        assert beam_decode(logits, ["a", "b"], beam_width=64, prune=-50.0) == max(totals, key=totals.get)


def test_beam_search_with_a_language_model_spells_what_the_acoustics_leave_open():
    """One frame sounds slightly more like "k" than "c": acoustics alone write "kat", the
    language model, having read "cat" and never "kat", corrects it."""
    from deepedge.apps.speech.character_lm import fit_char_lm
    from deepedge.ops.ctc import beam_decode, greedy_decode

    chars = list(" acehkst")
    lm = fit_char_lm(chars, order=3, texts=["the cat sat", "the cat", "a cat", "the hat", "sat the cat"])
    frames = []
    for ch in "the cat":
        p = np.full(len(chars) + 1, 0.01)
        if ch == "c":
            p[chars.index("c") + 1], p[chars.index("k") + 1] = 0.42, 0.5
        else:
            p[chars.index(ch) + 1] = 0.9
        frames += [p / p.sum(), np.eye(len(chars) + 1)[0] * 0.9 + 0.1 / (len(chars) + 1)]
    logits = np.log(np.array(frames))
    assert greedy_decode(logits, chars) == "the kat" == beam_decode(logits, chars, 8)
    assert beam_decode(logits, chars, 8, language_model=lm, lm_weight=1.0, length_bonus=0.5) == "the cat"
    with pytest.raises(InvalidInputError, match="alphabet"):
        beam_decode(logits, list(" acehkst'"), 8, language_model=lm)


def test_error_rates_count_edits():
    from deepedge.ops.ctc import character_error_rate, edit_distance, word_error_rate

    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    assert character_error_rate(["abcd", "ef"], ["abd", "ef"]) == pytest.approx(100 / 6)
    assert word_error_rate(["the cat sat"], ["the bat sat down"]) == pytest.approx(200 / 3)
