"""Property tests of the decoders (issue 23): CTC `greedy_decode`, `beam_decode`, `GreedyStream`
and `BeamStream` (with and without the character language model) on logits of any shape, dtype
and values, NaN and infinities included; the sampler and `as_token_ids` on awkward input: a
valid result or a `DeepEdgeError` (targets in `fuzz_io_targets.py`). Streaming in chunks decodes
as the whole does, and a beam over sharp logits finds the greedy path."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from deepedge.ops.ctc import BeamStream, GreedyStream, beam_decode, greedy_decode
from fuzz_core import check_target, targets_of

CHARACTERS = list(" abc'")
LOGITS = hnp.arrays(np.float32, st.tuples(st.integers(0, 40), st.just(len(CHARACTERS) + 1)),
                    elements=st.floats(-30, 30, width=32))


@pytest.mark.parametrize("target", targets_of("decoders"), ids=lambda target: target.name)
def test_a_valid_result_or_a_deepedge_error(target, resources, properties_settings):
    check_target(target, resources, properties_settings)


def test_streams_in_any_chunks_decode_as_the_whole(properties_settings):
    @properties_settings(40)
    @given(LOGITS, st.lists(st.integers(1, 12), max_size=6), st.integers(1, 6))
    def same_text(logits, sizes, width):
        cuts = np.cumsum([0] + sizes)
        chunks = [logits[a:b] for a, b in zip(cuts, cuts[1:])] + [logits[cuts[-1]:]]
        greedy, beam = GreedyStream(CHARACTERS), BeamStream(CHARACTERS, width)
        for chunk in chunks:
            greedy.push(chunk)
            beam.push(chunk)
        assert greedy.text == greedy_decode(logits, CHARACTERS)
        assert beam.finish() == beam_decode(logits, CHARACTERS, width)

    same_text()


def test_a_beam_over_sharp_logits_finds_the_greedy_path(properties_settings):
    @properties_settings(40)
    @given(st.lists(st.integers(0, len(CHARACTERS)), max_size=30), st.integers(1, 8))
    def greedy_path(path, width):
        logits = np.eye(len(CHARACTERS) + 1, dtype=np.float32)[path].reshape(-1, len(CHARACTERS) + 1) * 40.0
        assert beam_decode(logits, CHARACTERS, width) == greedy_decode(logits, CHARACTERS)

    greedy_path()
