"""deepedge.data.translation.bible: Reina-Valera 1909 and World English Bible verses, split by chapter.

The corpus tests read the cached pairs (the first run dumps them with diatheke, about 15 s);
the test marked slow dumps them again into an empty cache.
"""

import re
import shutil
import time

import pytest

from deepedge.data.cache import SPLITS, cache_dir
from deepedge.data.translation import load_parallel
from deepedge.data.translation import bible
from deepedge.errors import DataNotFoundError, InvalidInputError

INSTALL = "apt-get install diatheke sword-text-sparv sword-text-web"


@pytest.fixture(scope="module")
def corpus():
    return {split: bible.load_bible(split) for split in SPLITS}


@pytest.fixture(scope="module")
def by_key():
    return {key: (es, en) for key, es, en in bible.bible_pairs()}


def test_counts_and_metadata(corpus):
    sizes = {split: len(c) for split, c in corpus.items()}
    total = sum(sizes.values())
    assert 30_000 <= total <= 31_200, sizes
    assert 0.87 <= sizes["train"] / total <= 0.93, sizes
    for split in ("validation", "test"):
        assert 0.035 <= sizes[split] / total <= 0.07, sizes
    test = corpus["test"]
    assert (test.name, test.split, test.source_language, test.target_language) == ("es_en", "test", "es", "en")
    assert test.licence == "public domain"
    assert test.source == ("Reina-Valera 1909 (sword-text-sparv) and World English Bible (sword-text-web), "
                           "aligned by verse")
    assert (cache_dir() / "translation" / "bible_es_en_v1.json").exists()
    assert load_parallel("es_en", "test") == test


def test_no_chapter_in_two_splits(corpus):
    groups = {split: set(c.groups) for split, c in corpus.items()}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["validation"]
    assert not groups["validation"] & groups["test"]
    for split, c in corpus.items():
        assert all(bible.chapter_split(group) == split for group in groups[split])
        assert all(re.fullmatch(r"(?:I{1,3} )?[A-Z][a-z]+(?: of [A-Z][a-z]+)? \d+", g) for g in groups[split])
    assert 40 <= len(groups["test"]) <= 80 and 40 <= len(groups["validation"]) <= 90


def test_chapter_split_is_fixed():
    assert [bible.chapter_split(c) for c in ("Genesis 1", "Genesis 12", "John 3", "Psalms 119")] == [
        "validation", "test", "train", "train"]


def test_no_markup_or_strongs_numbers_left(corpus):
    for c in corpus.values():
        for text in c.sources + c.targets:
            assert text and text == text.strip() and "  " not in text, text
            assert not set("<>&{}[]¶") & set(text), text
            assert not re.search(r"\b[HG]\d{3,4}\b|strong:|savlm|lemma", text), text
            assert not re.search(r"[a-záéíóúñ][A-ZÁÉÍÓÚÑ]|[,;:!?][^\W\d_]| [,;:.!?]", text), text


def test_known_verses(by_key):
    assert by_key["John 3:16"] == (
        "Porque de tal manera amó Dios al mundo, que ha dado á su Hijo unigénito, para que todo aquel que en "
        "él cree, no se pierda, mas tenga vida eterna.",
        "For God so loved the world, that he gave his only born Son, that whoever believes in him should "
        "not perish, but have eternal life.")
    assert by_key["Genesis 1:1"] == ("EN el principio crió Dios los cielos y la tierra.",
                                     "In the beginning, God created the heavens and the earth.")
    # rule 1: the WEB's psalm title goes in front of verse 1, as in the RV
    es, en = by_key["Psalms 3:1"]
    assert es.startswith("Salmo de David, cuando huía de delante de Absalom su hijo. ¡OH Jehová")
    assert en.startswith("A Psalm by David, when he fled from Absalom his son. Yahweh, how my")
    assert by_key["Psalms 119:9"][1].startswith("BETH How can a young man")
    assert not by_key["Psalms 119:10"][1].startswith("BETH")
    # rule 4: enclitic pronouns join their verb, other added pronouns stand alone
    assert "enviándola por su ángel" in by_key["Revelation of John 1:1"][0]
    assert "házmelo saber" in by_key["Job 38:4"][0]
    assert "cuando las gentes lo oyeron" in by_key["Matthew 14:13"][0]
    assert "hay allí también bdelio" in by_key["Genesis 2:12"][0]
    # rule 7: the RV's subscription goes
    assert by_key["Hebrews 13:25"] == ("La gracia sea con todos vosotros. Amén.", "Grace be with you all. Amen.")
    # rule 2: no glossary after the last verse
    assert by_key["Revelation of John 22:21"][1] == "The grace of the Lord Jesus Christ be with all the saints. Amen."


def test_misaligned_verses_are_dropped(by_key):
    for key in ("Jonah 1:17", "Jonah 2:2", "Numbers 13:2", "Job 40:10", "Romans 14:23", "Acts 8:37",
                "I Chronicles 21:26", "Acts 19:40", "II Corinthians 13:13"):
        assert key not in by_key, key
    assert "Job 41:1" in by_key and "Jonah 1:15" in by_key and "Jonah 3:1" in by_key


def test_take_and_determinism(corpus):
    test = corpus["test"]
    first = test.take(3)
    assert len(first) == 3 and first.groups == ("Genesis 12",) * 3 and first.split == "test"
    assert first.pairs()[0] == (
        "EMPERO Jehová había dicho á Abram: Vete de tu tierra y de tu parentela, y de la casa de tu padre, "
        "á la tierra que te mostraré;",
        "Now Yahweh said to Abram, “Leave your country, and your relatives, and your father’s house, and go "
        "to the land that I will show you.")
    assert bible.load_bible("test") == test


def test_unknown_split_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="split"):
        bible.load_bible("dev")


def test_missing_diatheke_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    with pytest.raises(DataNotFoundError, match=re.escape(INSTALL)):
        bible.load_bible("test")


def test_missing_module_names_its_package(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "diatheke"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nprintf 'Biblical Texts:\\nengWEB2015eb : World English Bible\\n'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(DataNotFoundError, match=r"spaRV1909eb.*apt-get install sword-text-sparv"):
        bible.load_bible("train")


def test_clean_verse_rules():
    raw = ('<w savlm="strong:H0430">God</w><w savlm="strong:H1254">created</w> <title>Heading</title>'
           '<w>light</w> ,<w>and</w> born</q><q marker=""><w>Son</w>. &amp; <note>a footnote</note>'
           ' <w>enviándo</w><transChange type="added">la</transChange><w>por</w> <w>gentes</w>'
           '<transChange type="added">lo</transChange><w>oyeron</w>.<chapter eID="Gen.1"/> Glossary text')
    assert bible.clean_verse(raw) == "God created light, and born Son. & enviándola por gentes lo oyeron."


def test_length_alignment_finds_a_merged_verse():
    spanish = ["a" * 50, "b" * 120, "c" * 60]
    english = ["a" * 52, "b" * 60, "b" * 62, "c" * 61]
    beads = bible.length_alignment(spanish, english)
    assert beads == [((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]


@pytest.mark.slow
def test_a_fresh_dump_matches_the_cache(tmp_path, monkeypatch, by_key):
    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    start = time.perf_counter()
    pairs, counts = bible.dump_bible()
    assert time.perf_counter() - start < 120
    assert {key: (es, en) for key, es, en in pairs} == by_key
    assert counts["pairs"] == len(pairs)
    assert counts["text_in_both"] - counts["dropped_by_length_alignment"] == len(pairs)
    assert 31_000 <= counts["text_in_both"] <= 31_104 and counts["dropped_by_length_alignment"] < 600
