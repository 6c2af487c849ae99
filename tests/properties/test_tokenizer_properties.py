"""Property tests of the tokenizers (issue 23): `encode`, `decode`, `encode_paragraphs`,
`from_config` and `from_texts` of the word, subword and character tokenizers, on unicode of
every kind (emoji, control characters, lone surrogates, right-to-left marks, empty and blank
strings), ids of any type and range, and random or damaged configs: a valid result or a
`DeepEdgeError` (targets in `fuzz_io_targets.py`). Round trips keep the text."""

import pytest
from hypothesis import given, strategies as st

from deepedge.tokenizers import CharTokenizer, Tokenizer
from fuzz_core import check_target, targets_of
from fuzz_io_targets import TOKENIZERS, tokenizer_of
from fuzz_strategies import texts


@pytest.mark.parametrize("target", targets_of("tokenizers"), ids=lambda target: target.name)
def test_a_valid_result_or_a_deepedge_error(target, resources, properties_settings):
    check_target(target, resources, properties_settings)


def test_characters_decode_to_the_text_they_encode(properties_settings):
    @properties_settings(60)
    @given(st.lists(texts(), min_size=1, max_size=4))
    def round_trip(paragraphs):
        tokenizer = CharTokenizer.from_texts(paragraphs)
        for text in paragraphs:
            assert tokenizer.decode(tokenizer.encode(text)) == text
        assert tokenizer.decode(tokenizer.encode_paragraphs(paragraphs), "\n") == "\n".join(paragraphs) + "\n"

    round_trip()


def test_a_tokenizer_from_its_own_json_encodes_alike(resources, properties_settings):
    @properties_settings(40)
    @given(st.sampled_from(TOKENIZERS), texts(60))
    def same_ids(source, text):
        tokenizer = tokenizer_of(resources, source)
        again = Tokenizer.from_json(tokenizer.to_json())
        assert again.encode(text) == tokenizer.encode(text)
        assert again.decode(tokenizer.encode(text)) == tokenizer.decode(tokenizer.encode(text))

    same_ids()
