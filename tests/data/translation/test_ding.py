"""deepedge.data.translation.ding: the Ding dictionary's German-English example sentences."""

import pytest

from deepedge.data.cache import SPLITS, cache_dir
from deepedge.data.translation import load_parallel
from deepedge.data.translation import ding
from deepedge.errors import DataNotFoundError, InvalidInputError


@pytest.fixture(scope="module")
def corpus():
    return {split: ding.load_ding(split) for split in SPLITS}


def test_counts_and_metadata(corpus):
    sizes = {split: len(c) for split, c in corpus.items()}
    total = sum(sizes.values())
    assert 17_000 <= total <= 19_000, sizes
    assert 0.85 <= sizes["train"] / total <= 0.93, sizes
    for split in ("validation", "test"):
        assert 0.03 <= sizes[split] / total <= 0.07, sizes
    test = corpus["test"]
    assert (test.name, test.split, test.source_language, test.target_language) == ("de_en", "test", "de", "en")
    assert test.licence == "GPL-2+"
    assert "trans-de-en" in test.source and "Ding" in test.source
    assert all(g.startswith("de-en:") for c in corpus.values() for g in c.groups)
    assert (cache_dir() / "translation" / "de_en.v1.json").exists()


def test_no_sentence_in_two_splits(corpus):
    for side in ("sources", "targets"):
        seen = {}
        for split, c in corpus.items():
            for text in set(getattr(c, side)):
                assert seen.setdefault(text, split) == split, (side, text)
    groups = {split: set(c.groups) for split, c in corpus.items()}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["validation"]
    assert not groups["validation"] & groups["test"]
    pairs = [p for c in corpus.values() for p in c.pairs()]
    assert len(pairs) == len(set(pairs))


def test_pairs_are_clean_sentences(corpus):
    for c in corpus.values():
        for text in c.sources + c.targets:
            assert len(text.split()) >= ding.MIN_WORDS, text
            assert not set("{}[]<>()|~…’") & set(text), text
            assert " :: " not in text and " / " not in text, text
            assert text[-1] in ".?!\"“'" and text == text.strip(), text
            for placeholder in ("sth.", "sb.", "jdn.", "jdm.", "etw."):
                assert placeholder not in text.split(), text


def test_known_pairs_from_the_file(corpus):
    pairs = {p: split for split, c in corpus.items() for p in c.pairs()}
    expected = [
        # line 135734, rule 1: "[pol.]" removed
        ("Zwei Länder sind dem Vertrag noch nicht beigetreten.", "Two countries have not yet acceded to the Treaty."),
        # line 134175, rule 3 "(wir)" and rule 6 "along/on"
        ("Rick und ich verstehen uns blendend.", "Rick and I get along like a house of fire."),
        # line 171241, rule 3: "(that)" removed
        ("Ich würde vorschlagen, wir warten noch zu, bevor wir eine Entscheidung treffen.",
         "I suggest we wait a while before we make a decision."),
        # line 136351, rule 4: the first alternative has no final stop
        ("Es wird ihm Diebstahl vorgeworfen.", "He has been charged with theft."),
        # line 135280, rules 5 and 7: a whole sentence before " / ", typographic apostrophes
        ("Keine Angst. Ich bin an der Sache dran.", "Don't worry. I'm dealing with it."),
        # line 158602, rule 5: "properly / right."
        ("Es scheint nicht richtig zu funktionieren.", "It doesn't seem to be working properly."),
        # line 7882, rules 3 and 6: "(eine) Arbeit", "get/land/find"
        ("Sie versucht, in der Stadt Arbeit zu finden.", "She's trying to get a job in the city."),
        # line 17082, rule 6: a number keeps its slash
        ("Wir legen einen Schulkalender 2009/10 zur weiteren Verwendung bei.",
         "We are enclosing a 2009/10 School Calendar for your reference."),
    ]
    for pair in expected:
        assert pair in pairs, pair
    assert not any(de.startswith("Waren Sie / Warst") or "Warst du schon mal" in de for de, _ in pairs)


@pytest.mark.parametrize("raw, clean", [
    ("Zwei Länder sind dem Vertrag noch nicht beigetreten. [pol.]",
     "Zwei Länder sind dem Vertrag noch nicht beigetreten."),
    ("Er legte den Streit bei. <beilegen>", "Er legte den Streit bei."),
    ("Mind your own business! /MYOB/", "Mind your own business!"),
    ("I suggest (that) we wait a while before we make a decision.",
     "I suggest we wait a while before we make a decision."),
    ("Er wird des Diebstahls beschuldigt; Es wird ihm Diebstahl vorgeworfen.", "Es wird ihm Diebstahl vorgeworfen."),
    ("Don’t worry. I’m dealing with it. / I've got it covered.", "Don't worry. I'm dealing with it."),
    ("It doesn’t seem to be working properly / right.", "It doesn't seem to be working properly."),
    ("How long were you in the queue/line?", "How long were you in the queue?"),
    ("I hope it helps!.; I hope that helps! /HIH/ [chat jargon]", "I hope it helps!"),
    ("He hasn't read Emily Post. [Am.]; He hasn't read Debrett's. [Br.]", "He hasn't read Emily Post."),
    # dropped: unresolvable " / ", phrase variants, placeholders, templates, fewer than four words
    ("Waren Sie / Warst du schon mal in Dresden?", None),
    ("On the way/On our way/En route to the hotel we passed the Palais with its 55 stairs.", None),
    ("Es erging der Befehl, etw. zu tun.", None),
    ("Wie weit ist … gediehen?", None),
    ("Worauf wartest du? <warten>", None),
    ("Aal {m} (auf der Speisekarte) [cook.]", None),
])
def test_clean_side_rules(raw, clean):
    assert ding.clean_side(raw) == clean


def test_entry_pairs_keeps_aligned_sentences_only():
    line = ("Anstand {m}; Schicklichkeit {f} | Er hat keinen Funken Anstand. | Er hat (wirklich) keinen Anstand. "
            ":: decency | He has not a spark of decency. | He has no decency (at all).\n")
    assert ding.entry_pairs(line) == ("Anstand {m}; Schicklichkeit {f}",
                                      [("Er hat keinen Funken Anstand.", "He has not a spark of decency."),
                                       ("Er hat keinen Anstand.", "He has no decency.")])
    assert ding.entry_pairs("Aal {m} | Der Aal ist glatt. :: eel\n")[1] == []  # not aligned


def test_build_pairs_dedups_and_ties_entries():
    lines = ["# comment\n",
             "Aa {n} | Das ist ein Satz hier. :: aa | This is a sentence here.\n",
             "Bb {n} | Das ist ein Satz hier. | Noch ein Satz steht hier. :: bb | This is a sentence here. | "
             "Another sentence stands here.\n",
             "Cc {n} | Das ist ein Satz hier. :: cc | Here is a sentence.\n"]
    splits = ding.build_pairs(lines)
    rows = [row for split in SPLITS for row in splits[split]]
    assert sorted(rows) == sorted([("Das ist ein Satz hier.", "This is a sentence here.", "de-en:2"),
                                   ("Noch ein Satz steht hier.", "Another sentence stands here.", "de-en:3"),
                                   ("Das ist ein Satz hier.", "Here is a sentence.", "de-en:4")])
    split = ding.entry_split("Aa {n}")
    assert len(splits[split]) == 3  # entries tied by a shared German sentence share the first one's split


def test_entry_split_is_fixed():
    assert ding.entry_split("Anstand {m}; Takt {m}") == ding.entry_split("Anstand {m}; Takt {m}")
    counts = {split: 0 for split in SPLITS}
    for i in range(2000):
        counts[ding.entry_split(f"Wort{i} {{n}}")] += 1
    assert 80 <= counts["test"] <= 120 and 80 <= counts["validation"] <= 120


def test_loads_are_deterministic_and_take_works(corpus):
    again = load_parallel("de_en", "test")
    assert again == corpus["test"]
    first = again.take(5)
    assert len(first) == 5 and first.pairs() == corpus["test"].pairs()[:5]
    assert first.groups == corpus["test"].groups[:5] and first.licence == "GPL-2+"


def test_unknown_split_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="split"):
        ding.load_ding("dev")


def test_missing_package_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    monkeypatch.setattr(ding, "_candidates", lambda suffix: [])
    monkeypatch.setattr("deepedge.data.debian.shutil.which", lambda name: None)
    with pytest.raises(DataNotFoundError, match="trans-de-en"):
        ding.load_ding("test")
