"""deepedge.tokenizers: word and character tokenizers (pure Python, shared by training and device)."""

import json

import pytest

from deepedge.errors import InvalidInputError
from deepedge.tokenizers import CharTokenizer, Tokenizer, WordTokenizer


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


def test_subword_tokenizer_splits_rare_words_into_known_pieces_and_round_trips():
    from deepedge.tokenizers import SubwordTokenizer, Tokenizer

    texts = ["Der Haustür ist offen.", "Die Tür ist zu.", "Das Haus ist groß.", "Der Schlüssel liegt hier.",
             "Die Haustür und der Schlüssel.", "Ein Haus, eine Tür, ein Schlüssel."] * 3
    tokenizer = SubwordTokenizer.from_texts(texts, max_vocabulary=200)
    pieces = tokenizer.split("Haustürschlüssel")  # never seen whole: made of seen pieces
    assert len(pieces) > 1 and all(p.endswith("@@") for p in pieces[:-1]) and not pieces[-1].endswith("@@")
    assert tokenizer.unknown_id not in tokenizer.encode("Haustürschlüssel")
    assert tokenizer.decode(tokenizer.encode("Die Haustür ist zu.")) == "Die haustür ist zu."
    assert tokenizer.decode(tokenizer.encode("Haus 😀")) == "Haus \N{REPLACEMENT CHARACTER}"  # unknown, not a crash
    again = Tokenizer.from_json(tokenizer.to_json())
    assert isinstance(again, SubwordTokenizer) and again.merges == tokenizer.merges
    assert again.encode("Haustürschlüssel ist hier") == tokenizer.encode("Haustürschlüssel ist hier")
    with pytest.raises(InvalidInputError, match="pair"):
        SubwordTokenizer(["<unk>", "</p>"], merges=[["a", "b", "c"]])


def test_subword_merges_are_learned_most_frequent_first():
    from deepedge.tokenizers import SubwordTokenizer

    tokenizer = SubwordTokenizer.from_texts(["abab abab abab cd"], max_vocabulary=50, merges=5)
    # a word's last symbol is marked (</w>); "cd" occurs once, so it is never merged
    assert tokenizer.merges == [("a", "b"), ("a", "b</w>"), ("ab", "ab</w>")]
    assert tokenizer.split("abab cd") == ["abab", "c@@", "d"]


@pytest.mark.parametrize("text", [
    "Now Yahweh said to Abram, “Leave your father’s house.” They didn’t go—not yet.",
    "He said, “Tell them, ‘My little finger is thicker than my father’s waist.’”",
    "'It's Father's Day tomorrow.' 'It is indeed, you're right!'",
    "The parents' house is 3,5 km away; the fee is $30, or 50% off.",
    "Abram was seventy-five years old at 6 a.m. on the 7th April 30 A.D. in the 1990s.",
    "„Du wolltest doch den Installateur anrufen.“ „Ach ja!“",
    "Ask him (and/or her) [twice]: ¿Dónde está? «Sí», dijo.",
])
def test_detokenizing_a_split_gives_the_text_back(text):
    """Decoded translations read as written and score as written: sacrebleu retokenises them, so
    `father ’ s` against the reference's `father’s` costs BLEU (9 points on the es_en references)."""
    tokenizer = WordTokenizer(["<unk>", "</p>"], lowercase=False)
    assert tokenizer.detokenize(tokenizer.split(text)) == text


def test_lowercase_detokenizing_capitalises_sentences_but_not_initials():
    tokenizer = WordTokenizer(["<unk>", "</p>"])
    assert tokenizer.detokenize(tokenizer.split("At 6 a.m. we left. 2 houses and i stayed.")) == \
        "At 6 a.m. We left. 2 houses and I stayed."
