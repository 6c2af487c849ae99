"""deepedge.ops.decoding: sampling controls, beam search and the evaluation segments (numpy only)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.decoding import Sampler, beam_search, sample_sequence, segment_starts


def _markov_step(table):
    """A step function over a fixed transition table (rows: previous token)."""
    def step(token, state):
        return np.log(table[token]), state
    return step


def test_sampling_controls():
    rng = np.random.default_rng(0)
    logits = np.array([0.0, 3.0, 1.0, 2.9])
    assert Sampler("greedy")(logits, rng) == 1
    assert Sampler("sample", top_k=1)(logits, rng) == 1
    assert Sampler("greedy", banned=(1,))(logits, rng) == 3
    draws = [Sampler("sample", top_k=2)(logits, rng) for _ in range(200)]
    assert set(draws) == {1, 3}
    cold = [Sampler("sample", temperature=0.05)(logits, rng) for _ in range(50)]
    assert cold.count(1) > 40
    with pytest.raises(InvalidInputError):
        Sampler("sample", temperature=0)


def test_beam_search_finds_what_greedy_misses():
    # From token 0, greedy takes 1 (p=0.6) and then 0 (p=0.55): 0.33 in all. The better path
    # is 2 (p=0.4) then 3 (p=1.0): 0.4.
    table = np.full((4, 4), 1e-9)
    table[0, 1], table[0, 2] = 0.6, 0.4
    table[1, 3], table[1, 0] = 0.45 - 3e-9, 0.55
    table[2, 3] = 1.0
    table[3, 3] = 1.0
    step = _markov_step(table)
    greedy = sample_sequence(step, [0], {}, 2, Sampler("greedy"))
    best = beam_search(step, [0], {}, 2, beam_width=2, stop_token=3)[0][0]
    assert greedy == [1, 0] and best == [2, 3]


def test_segments_cover_the_stream_once():
    starts = segment_starts(10_000)
    assert starts[0] == 0 and len(starts) == 16 and starts == sorted(set(starts))
    assert segment_starts(100) == [0]
