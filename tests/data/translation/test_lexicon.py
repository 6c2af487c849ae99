"""deepedge.data.translation.lexicon: the Ding dictionary's word and phrase entries as training pairs."""

import pytest

from deepedge.data.cache import cache_dir
from deepedge.data.translation import load_parallel
from deepedge.data.translation import ding, lexicon
from deepedge.errors import InvalidInputError

LINES = [
    "Abholort {m} | Abholorte {pl} :: collection location; pickup location | collection locations; pickup locations\n",
    "Hund {m} | Der Hund bellt sehr laut. | nasser Hund | jdn. anbellen :: dog | The dog barks very loudly. | "
    "wet dog | to bark at sb.\n",
    "Varieté {n}; Varietétheater {n} [art] <Varietee> :: music hall [Br.]; variety theater [Am.]\n",
    "Stuhl {m} | Stühle {pl} :: chair | chairs\n",  # a test-split entry
    "Tisch {m} | Tische {pl} | der Tisch/Schreibtisch :: table | tables | the table/desk\n",
    "Auto {n} | Autos {pl} :: car | cars | motor cars\n",  # misaligned: skipped
]


def test_rules_on_dictionary_lines():
    assert ding.entry_split("Stuhl {m}") == "test" and ding.entry_split("Hund {m}") == "train"
    pairs = lexicon.lexicon_pairs(LINES)
    assert [(de, en) for de, en, _ in pairs] == [
        ("Abholort", "collection location"), ("Abholorte", "collection locations"),  # first alternatives, tags gone
        ("Hund", "dog"), ("nasser Hund", "wet dog"),  # the example sentence (de_en has it) and `jdn.` are not here
        ("Varieté", "music hall"),  # `[Br.]`, `<...>` and the other alternatives removed
        ("Tisch", "table"), ("Tische", "tables"), ("der Tisch", "the table")]  # word variants: the first
    assert pairs[0][2] == "de-en:1" and pairs[-1][2] == "de-en:5"
    held_out = lexicon.lexicon_pairs(LINES, held_out_sentences=["Nasser Hund!"])
    assert ("nasser Hund", "wet dog") not in [(de, en) for de, en, _ in held_out]
    tied = lexicon.lexicon_pairs(LINES, held_out_entries=["de-en:2"])  # tied to a held-out entry
    assert [p for p in pairs if p[2] != "de-en:2"] == tied


@pytest.mark.slow
def test_lexicon_is_training_data_only_and_never_from_held_out_entries():
    words = load_parallel("de_en_lexicon", "train")
    assert 250_000 <= len(words) <= 400_000
    assert (words.name, words.split, words.licence) == ("de_en_lexicon", "train", "GPL-2+")
    assert (cache_dir() / "translation" / "de_en_lexicon.v2.json").exists()
    held_out = {split: ding.load_ding(split) for split in ("validation", "test")}
    entries = {g for c in held_out.values() for g in c.groups}
    assert not set(words.groups) & entries
    sentences = {lexicon._key(s) for c in held_out.values() for s in c.sources}
    assert not {lexicon._key(s) for s in words.sources} & sentences
    for text in words.sources[::97] + words.targets[::97]:
        assert text and not set("{}[]<>()|~") & set(text) and len(text.split()) <= lexicon.MAX_WORDS, text
        assert not ding._PLACEHOLDER.search(text), text
    pairs = set(words.pairs())
    assert len(pairs) == len(words) and ("Abholservice", "pick-up service") in pairs
    with pytest.raises(InvalidInputError, match="training data only"):
        load_parallel("de_en_lexicon", "test")
