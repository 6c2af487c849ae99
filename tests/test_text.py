"""The Austen corpus loader and the tokenizers (pure Python, shared by training and device)."""

import json

import pytest

from deepedge.data.text import BOOKS, chapter_split, load_austen, split_chapters
from deepedge.errors import InvalidInputError
from deepedge.tokenizers import CharTokenizer, Tokenizer, WordTokenizer


@pytest.fixture(scope="module")
def corpus():
    return {split: load_austen(split) for split in ("train", "validation", "test")}


def test_chapter_split_is_fixed_and_disjoint(corpus):
    keys = {split: {(title, number) for title, number, _ in c.chapters} for split, c in corpus.items()}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["validation"]
    assert (len(corpus["train"]), len(corpus["validation"]), len(corpus["test"])) == (216, 27, 26)
    for split in corpus:  # every novel appears in every split
        assert {title for title, _, _ in corpus[split].chapters} == {title for _, title in BOOKS}
    assert [chapter_split(i) for i in range(10)].count("test") == 1
    first = corpus["test"].chapters[0]
    assert first[:2] == ("Sense and Sensibility", 10)
    assert first[2][0].startswith("Marianne's preserver")


def test_pride_and_prejudice_opens_as_it_should(corpus):
    pride = [c for c in corpus["train"].chapters if c[0] == "Pride and Prejudice"][0]
    assert pride[1] == 1
    assert pride[2][0] == ("It is a truth universally acknowledged, that a single man in possession "
                           "of a good fortune, must be in want of a wife.")


def test_split_chapters_drops_front_matter_and_volume_lines():
    lines = ["EMMA", "", "VOLUME I", "", "CHAPTER I", "", "Emma _Woodhouse_,", "handsome.", "",
             "Second.", "", "CHAPTER II", "", "VOLUME II", "Third"]
    assert split_chapters(lines) == [(1, ["Emma Woodhouse, handsome.", "Second."]), (2, ["Third"])]


def test_unknown_split_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="split"):
        load_austen("dev")


def test_word_tokenizer_round_trip_and_json():
    tok = WordTokenizer.from_texts(['"Oh! Mr. Darcy," said she -- "you\'re too kind."'], max_vocabulary=100)
    ids = tok.encode('Mr. Darcy said she was kind.')
    assert tok.vocabulary[:2] == ["<unk>", "</p>"]
    assert tok.id_to_token(ids[0]) == "mr" and ids[-3] == tok.unknown_id  # "was" is unseen
    assert tok.decode(tok.encode('"oh! mr. darcy," said she')) == '"Oh! Mr. Darcy," said she'
    again = Tokenizer.from_json(tok.to_json())
    assert isinstance(again, WordTokenizer) and again.vocabulary == tok.vocabulary
    assert json.loads(tok.to_json())["kind"] == "word"
    assert tok.encode_paragraphs(["kind", "kind"]) == [tok.token_to_id("kind"), 1, tok.token_to_id("kind"), 1]


def test_vocabulary_cap_keeps_the_most_frequent():
    tok = WordTokenizer.from_texts(["a a a b b c"], max_vocabulary=4)
    assert tok.vocabulary == ["<unk>", "</p>", "a", "b"]
    assert tok.encode("c") == [tok.unknown_id]


def test_char_tokenizer_keeps_case():
    tok = CharTokenizer.from_texts(["Emma", "emma"])
    assert tok.decode(tok.encode_paragraphs(["Emma"])) == "Emma\n\n"
    assert tok.token_to_id("E") != tok.token_to_id("e")


@pytest.mark.parametrize("bad, match", [
    (lambda t: t.encode(5), "string"),
    (lambda t: t.id_to_token(10_000), "out of range"),
    (lambda t: WordTokenizer(["a", "b"]), "starts with"),
    (lambda t: WordTokenizer.from_texts(["a"], max_vocabulary=2), "max_vocabulary"),
    (lambda t: Tokenizer.from_config({"kind": "bpe", "vocabulary": []}), "Unknown tokenizer"),
])
def test_bad_tokenizer_input_is_a_clear_error(bad, match):
    tok = WordTokenizer.from_texts(["hello world"])
    with pytest.raises(InvalidInputError, match=match):
        bad(tok)
