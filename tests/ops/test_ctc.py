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


def _long_logits(seconds_of_text, seed=0):
    """Peaked but noisy logits spelling a long text (2-4 frames per character, blanks between)."""
    rng = np.random.default_rng(seed)
    chars = list(" abcdefghijklmnopqrstuvwxyz")
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "slept"]
    text = " ".join(rng.choice(words, size=seconds_of_text))
    frames = []
    for ch in text:
        frames += [chars.index(ch) + 1] * int(rng.integers(1, 3)) + [0] * int(rng.integers(1, 3))
    logits = np.eye(len(chars) + 1)[frames] * 4.0 + rng.normal(0.0, 1.2, (len(frames), len(chars) + 1))
    return logits, chars, text


def test_beam_stream_in_chunks_is_the_whole_search_and_keeps_its_tree_small(monkeypatch):
    from deepedge.ops import ctc

    logits, chars, text = _long_logits(400)
    whole = ctc.beam_decode(logits, chars, 8)
    stream = ctc.BeamStream(chars, 8)
    deepest = 0
    for start in range(0, len(logits), 37):
        partial = stream.push(logits[start:start + 37])
        assert whole.startswith(partial[:len(partial) - 40])  # the committed part never changes
        deepest = max(deepest, max(len(stream._labels(node)) for node in stream.nodes))
    assert stream.finish() == whole
    assert deepest <= ctc._MAX_PENDING + ctc._COMMIT_EVERY < len(whole), deepest  # short tree, long text
    monkeypatch.setattr(ctc, "_COMMIT_EVERY", 10 ** 9)  # the search with an unbounded tree
    unbounded = ctc.beam_decode(logits, chars, 8)
    assert ctc.character_error_rate([text], [whole]) <= ctc.character_error_rate([text], [unbounded]) + 0.5


def test_beam_stream_refuses_bad_widths_and_logits():
    from deepedge.ops.ctc import BeamStream

    for width in (0, -1, 2.5, True, "8"):
        with pytest.raises(InvalidInputError, match="beam_width"):
            BeamStream(["a"], width)
    with pytest.raises(InvalidInputError, match=r"shape \(steps, 2\)"):
        BeamStream(["a"], 4).push(np.zeros((3, 5)))
