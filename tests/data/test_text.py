"""deepedge.data.text: the Austen corpus, split by chapter."""

import pytest

from deepedge.data.text import BOOKS, chapter_split, load_austen, split_chapters
from deepedge.errors import InvalidInputError


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
