"""German-English example sentences from the Ding dictionary (Debian `trans-de-en`).

| name | source | train | validation | test | split by |
| --- | --- | --- | --- | --- | --- |
| `de_en` | Debian `trans-de-en` 1.9-6 (Ding, Frank Richter; GPL-2+), example sentences | 15,960 | 910 | 978 | dictionary entry |

The dictionary (`/usr/share/trans/de-en`, UTF-8, one entry a line) is `German :: English`; each
side is split into aligned sub-entries by ` | ` (the n-th German sub-entry translates the n-th
English one). The headword comes first, usually a word or phrase (sometimes an idiom that is a
sentence); usage examples follow. A pair is kept when, after the cleaning below, both sides are
a sentence: a capital letter (or digit, or opening quote) first, `.` `?` or `!` last (a closing
quote may follow), and four or more words. Of the 18,431 aligned sub-entries that look like such
sentences before cleaning, 17,335 survive it (most losses are rule 5); with those that become
sentences only through it (a note after the stop, a first alternative without one) there are
17,861 pairs, 17,848 distinct (all counts measured on trans-de-en 1.9-6).

Cleaning rules, applied to each side of an aligned sub-entry in this order (examples from the file):

1. `{...}` grammar tags, `[...]` usage/region/subject notes and `<...>` spelling or lemma notes are
   removed, as is the separable-verb mark `<>`:
   `Zwei Länder sind dem Vertrag noch nicht beigetreten. [pol.]` -> `Zwei Länder sind dem Vertrag
   noch nicht beigetreten.`; `Er legte den Streit bei. <beilegen>` -> `Er legte den Streit bei.`
2. Slash-delimited abbreviations and `~see-also` references are removed: `Mind your own business!
   /MYOB/` -> `Mind your own business!` (`~`, as in `Sprachaufenthalt {m} ~Sprachreise`, occurs in
   no sentence of this version).
3. `(...)` notes and optional words are removed with their contents (innermost first), so the
   sentence reads as it does without the optional part: `Rick und ich (wir) verstehen uns
   blendend.` -> `Rick und ich verstehen uns blendend.`; `I suggest (that) we wait a while before
   we make a decision.` -> `I suggest we wait a while before we make a decision.`
4. `;` separates alternative translations: the first alternative that is a sentence (see above)
   is kept, the others are dropped: `Er wird des Diebstahls beschuldigt; Es wird ihm Diebstahl
   vorgeworfen.` -> `Es wird ihm Diebstahl vorgeworfen.` (the first alternative has no final stop).
   The file marks no difference between an alternative and a semicolon inside a sentence, so
   `There was no breach of the rules; accordingly, there will be no disciplinary action.` is lost.
5. Spaced ` / ` separates alternatives whose extent is not marked. When the text before it is a
   complete sentence, only that is kept (`Don’t worry. I’m dealing with it. / I've got it
   covered.` -> `Don't worry. I'm dealing with it.`); a single last word before the final stop is
   dropped with its slash (`It doesn’t seem to be working properly / right.` -> `It doesn't seem
   to be working properly.`); any other ` / ` drops the pair (`Waren Sie / Warst du schon mal in
   Dresden?` cannot be resolved word by word).
6. Unspaced `a/b/c` word variants are replaced by the first one: `How long were you in the
   queue/line?` -> `How long were you in the queue?`. Numbers (`24/7`, `2009/10`) are kept. A
   variant starting in upper case after a lower-case word (`On the way/On our way/En route to the
   hotel`) marks a variant of a whole phrase and drops the pair.
7. The typographic apostrophe `’` becomes `'` (the file uses both), white space is collapsed,
   spaces left before `.,;:?!` are removed and a final `!.`/`?.` loses its stop (`I hope it
   helps!.; I hope that helps! /HIH/ [chat jargon]` -> `I hope it helps!`). German quotes `„“`
   and other punctuation are kept.
8. Pairs still holding a placeholder (`sth.`, `sb.`, `jdn.`, `jdm.`, `jds.`, `etw.`), an ellipsis
   `…` (a sentence template such as `Wie weit ist … gediehen?`) or any markup character
   (`{}[]<>()|~`, or `/` other than between digits) are dropped: `Es erging der Befehl, etw. zu
   tun.` is not a sentence.

Identical pairs are kept once (the first in file order). A German sentence translated differently
in two entries keeps both pairs, and the two entries are tied together; so are entries sharing an
English sentence, or a whole pair. Each set of tied entries (at most five) goes to the split of its
first entry in file order.

Split: an entry is in the test split when `zlib.crc32(headword) % 100 < 5`, in validation when it is
`< 10`, and in train otherwise, where `headword` is the German side's first sub-entry as written
(`Anstand {m}; Takt {m}`), so adding examples to the dictionary moves no entry. No German (or
English) sentence is in two splits. `groups` holds the entry a pair came from as `de-en:<line>`,
the 1-based line number in the file. The cleaned pairs of all splits are cached as JSON in
`cache_dir()/translation/de_en.v1.json` (the number is the cache format, `_FORMAT`).
"""

import json
import re
import zlib
from pathlib import Path

from deepedge.data.cache import SPLITS, cache_dir, check_split
from deepedge.data.debian import fetch_debian_package
from deepedge.data.translation import ParallelCorpus
from deepedge.errors import DataNotFoundError
from deepedge.fileio import atomic_write_json

DING_PACKAGE = "trans-de-en"
_DICT_SUFFIX = Path("usr/share/trans/de-en")
_COPYRIGHT_SUFFIX = Path("usr/share/doc/trans-de-en/copyright")
_FORMAT = 1
_SOURCE = "Debian trans-de-en: Ding German-English dictionary (Frank Richter), example sentences"
MIN_WORDS = 4

_TAGS = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]|<[^<>]*>")
_ABBREVIATION = re.compile(r"(?<!\S)/[^\s/][^/]*?/(?=[\s;,.?!]|$)")
_SEE_ALSO = re.compile(r"(?<!\S)~\S+")
_NOTE = re.compile(r"\s*\([^()]*\)")
_LAST_WORD_VARIANTS = re.compile(r"(?: / [\w'-]+)+(?=[.?!][\"“”']?$)")
_WORD_VARIANTS = re.compile(r"[\w'-]+(?:/[\w'-]+)+")
_NUMBERS = re.compile(r"[\d.,]+(?:/[\d.,]+)+")
_PLACEHOLDER = re.compile(r"\b(?:sth|sb|jdn|jdm|jds|etw)\.")
_SENTENCE = re.compile(r"^[\"„“‚'(]?[A-ZÄÖÜ0-9].*[.?!][\"“”'‘’)]?$")
_STOP = re.compile(r"[.?!]")
_MARKUP = set("{}[]<>()|~/…")


def _is_sentence(text):
    return bool(_SENTENCE.match(text)) and len(text.split()) >= MIN_WORDS


def _tidy(text):
    text = text.replace("’", "'")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r" +(?=[.,;:?!])", "", text)
    return re.sub(r"([?!])\.$", r"\1", text)


def _resolve_slashes(text):
    """Rules 5 and 6; None when a variant cannot be resolved."""
    while " / " in text:
        head = text.split(" / ", 1)[0].rstrip()
        if _SENTENCE.match(head):
            text = head
            continue
        text = _LAST_WORD_VARIANTS.sub("", text, count=1)
        if " / " in text:
            return None
    numbers = {}

    def keep_number(match):
        numbers[f"\x00{len(numbers)}\x00"] = match.group()
        return f"\x00{len(numbers) - 1}\x00"

    text = _NUMBERS.sub(keep_number, text)
    for match in _WORD_VARIANTS.finditer(text):
        first, *others = match.group().split("/")
        if first[:1].islower() and any(o[:1].isupper() for o in others):
            return None
    text = _WORD_VARIANTS.sub(lambda m: m.group().split("/")[0], text)
    for key, number in numbers.items():
        text = text.replace(key, number)
    return text


def clean_side(text):
    """The cleaned sentence of one side of an aligned sub-entry, or None when it has none (rules 1-8)."""
    text = _TAGS.sub("", text.replace("<>", ""))
    text = _SEE_ALSO.sub("", _ABBREVIATION.sub("", text))
    while True:
        shorter = _NOTE.sub("", text)
        if shorter == text:
            break
        text = shorter
    for alternative in text.split(";"):
        alternative = _tidy(alternative)
        if not _is_sentence(alternative.replace(" / ", " ")):
            continue
        alternative = _resolve_slashes(alternative)
        if alternative is None:
            continue
        alternative = _tidy(alternative)
        if (_is_sentence(alternative) and not _PLACEHOLDER.search(alternative)
                and not _MARKUP & set(_NUMBERS.sub("0", alternative))):
            return alternative
    return None


def entry_pairs(line):
    """`(headword, [(german, english), ...])` of one dictionary line: its aligned sub-entries that are sentences."""
    german, sep, english = line.rstrip("\n").partition(" :: ")
    if not sep:
        return None, []
    de_parts, en_parts = german.split(" | "), english.split(" | ")
    if len(de_parts) != len(en_parts):
        return de_parts[0], []
    pairs = []
    for de, en in zip(de_parts, en_parts):
        if not (_STOP.search(de) and _STOP.search(en)):
            continue  # no sentence end on one side: a quick test before the cleaning
        de_clean, en_clean = clean_side(de), clean_side(en)
        if de_clean and en_clean:
            pairs.append((de_clean, en_clean))
    return de_parts[0], pairs


def entry_split(headword):
    """The split of a dictionary entry, by the crc32 of its German headword (see the module doc)."""
    bucket = zlib.crc32(headword.encode("utf-8")) % 100
    return "test" if bucket < 5 else "validation" if bucket < 10 else "train"


def _candidates(suffix):
    return [Path("/") / suffix, cache_dir() / DING_PACKAGE / suffix]


def fetch_ding():
    """The dictionary file: the installed package's, else fetched into the deepedge cache (no root)."""
    for path in _candidates(_DICT_SUFFIX):
        if path.exists():
            return path
    path = fetch_debian_package(DING_PACKAGE, DING_PACKAGE, "The Ding German-English dictionary") / _DICT_SUFFIX
    if not path.exists():
        raise DataNotFoundError(f"The Debian package {DING_PACKAGE} has no {_DICT_SUFFIX}. Reinstall it: "
                                f"`apt-get install {DING_PACKAGE}`, or delete {path.parents[3]} to fetch it again.")
    return path


def read_licence(dictionary_path):
    """The `License:` of `Files: *` in the package's copyright file (`GPL-2+`)."""
    copyright_path = dictionary_path.parents[3] / _COPYRIGHT_SUFFIX
    if copyright_path.exists():
        match = re.search(r"^Files: \*\n(?:\S.*\n)*?License: (.+)$", copyright_path.read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return "GPL-2+"


def build_pairs(lines):
    """`{split: [(german, english, group), ...]}` from the dictionary's lines (dedup and split as documented)."""
    pairs, entries = [], []  # pairs: (entry index, german, english), duplicates included
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        headword, found = entry_pairs(line)
        if found:
            entries.append((number, headword))
            pairs += [(len(entries) - 1, de, en) for de, en in found]
    parent = list(range(len(entries)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with = {}
    for entry, de, en in pairs:
        for key in (("de", de), ("en", en)):
            other = first_with.setdefault(key, entry)
            a, b = root(entry), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the root is the set's first entry in file order
    splits, seen = {split: [] for split in SPLITS}, set()
    for entry, de, en in pairs:
        if (de, en) in seen:
            continue
        seen.add((de, en))
        number, _ = entries[entry]
        splits[entry_split(entries[root(entry)][1])].append((de, en, f"de-en:{number}"))
    return splits


def _ding_data():
    cached = cache_dir() / "translation" / f"de_en.v{_FORMAT}.json"
    if cached.exists():
        data = json.loads(cached.read_text(encoding="utf-8"))
        if data.get("format") == _FORMAT:
            return data
    path = fetch_ding()
    with open(path, encoding="utf-8") as f:
        splits = build_pairs(f)
    data = {"format": _FORMAT, "licence": read_licence(path),
            "splits": {split: [list(p) for p in pairs] for split, pairs in splits.items()}}
    atomic_write_json(cached, data)
    return data


def load_ding(split="train"):
    """One split of the Ding example sentences as a German -> English `ParallelCorpus`."""
    check_split(split)
    data = _ding_data()
    rows = data["splits"][split]
    return ParallelCorpus(sources=tuple(r[0] for r in rows), targets=tuple(r[1] for r in rows),
                          groups=tuple(r[2] for r in rows), name="de_en", split=split,
                          source_language="de", target_language="en", source=_SOURCE,
                          licence=data["licence"])


__all__ = ["DING_PACKAGE", "MIN_WORDS", "build_pairs", "clean_side", "entry_pairs", "entry_split",
           "fetch_ding", "load_ding", "read_licence"]
