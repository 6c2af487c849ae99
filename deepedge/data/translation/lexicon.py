"""The Ding dictionary's own entries as German-English training pairs: words and phrases.

| name | source | train | split by |
| --- | --- | --- | --- |
| `de_en_lexicon` | Debian `trans-de-en` (Ding; GPL-2+): headwords, inflected forms and phrases | ~300,000 | dictionary entry, as `de_en` |

The example sentences (`de_en`, `ding.py`) are 16,000 training pairs: too few for a
translator to meet most German words even once. The rest of the same dictionary is a
bilingual lexicon, and training on a lexicon as extra short pairs is the oldest way to give a
low-resource translator its vocabulary (Brown et al. 1993 add dictionary entries to their
counts). Only the training split exists: an entry belongs to it by the rule of `de_en`
(`entry_split` of its headword, and not tied to a held-out entry as `de_en` ties them), so no
word pair comes from an entry whose example sentences are held out, and a phrase that equals a held-out German sentence (without its final stop,
case ignored) is dropped as well.

Cleaning, for each aligned sub-entry (the n-th ` | ` part of the German side with the n-th of
the English side) that is not a sentence pair already in `de_en`:

1. `{...}`, `[...]`, `<...>` tags, `/ABBR/` abbreviations, `~see-also` references and `(...)`
   notes are removed, as in `ding.py` rules 1-3.
2. Of the `;`-separated alternatives, the first of each side is kept (`Domäne; Gut :: domain;
   estate` -> `Domäne :: domain`); word variants `a/b` keep the first.
3. Pairs still holding a placeholder (`sth.`, `sb.`, `jdn.`, `etw.` ...), markup, a spaced ` / `,
   or more than `MAX_WORDS` words on either side are dropped; so are pairs with an empty side.
4. Identical pairs are kept once (the first in file order).

Cached as `cache_dir()/translation/de_en_lexicon.v2.json`.
"""

import json
import re

from deepedge.data.cache import cache_dir, check_split
from deepedge.data.translation import ParallelCorpus
from deepedge.data.translation import ding
from deepedge.errors import InvalidInputError
from deepedge.fileio import atomic_write_json

_FORMAT = 2
MAX_WORDS = 8
_SOURCE = "Debian trans-de-en: Ding German-English dictionary (Frank Richter), entries (words and phrases)"


def _clean_phrase(text):
    """Rules 1-3 for one side; None when nothing usable is left."""
    text = ding._TAGS.sub("", text.replace("<>", ""))
    text = ding._SEE_ALSO.sub("", ding._ABBREVIATION.sub("", text))
    while True:
        shorter = ding._NOTE.sub("", text)
        if shorter == text:
            break
        text = shorter
    text = ding._tidy(text.split(";")[0])
    if not text or " / " in text or ding._PLACEHOLDER.search(text):
        return None
    text = ding._WORD_VARIANTS.sub(lambda m: m.group().split("/")[0], ding._NUMBERS.sub(
        lambda m: m.group().replace("/", "\x00"), text)).replace("\x00", "/")
    if ding._MARKUP & set(ding._NUMBERS.sub("0", text)) or len(text.split()) > MAX_WORDS:
        return None
    return text


def _key(sentence):
    return re.sub(r"[.?!\"“”„'‘’]+", "", sentence).strip().lower()


def lexicon_pairs(lines, held_out_sentences=(), held_out_entries=()):
    """`[(german, english, group), ...]` of the training entries among `lines` (the module doc's
    rules). `held_out_entries`: groups (`de-en:<line>`) whose example sentences are held out; an
    entry tied to a held-out one goes with it although its own headword says train."""
    held_out = {_key(s) for s in held_out_sentences}
    held_out_entries = set(held_out_entries)
    pairs, seen = [], set()
    for number, line in enumerate(lines, start=1):
        german, sep, english = line.rstrip("\n").partition(" :: ")
        if not sep or line.startswith("#"):
            continue
        de_parts, en_parts = german.split(" | "), english.split(" | ")
        if (len(de_parts) != len(en_parts) or ding.entry_split(de_parts[0]) != "train"
                or f"de-en:{number}" in held_out_entries):
            continue
        for de, en in zip(de_parts, en_parts):
            if ding.clean_side(de) and ding.clean_side(en):
                continue  # an example sentence: `de_en` has it
            de_clean, en_clean = _clean_phrase(de), _clean_phrase(en)
            if de_clean and en_clean and (de_clean, en_clean) not in seen and _key(de_clean) not in held_out:
                seen.add((de_clean, en_clean))
                pairs.append((de_clean, en_clean, f"de-en:{number}"))
    return pairs


def _lexicon_data():
    cached = cache_dir() / "translation" / f"de_en_lexicon.v{_FORMAT}.json"
    if cached.exists():
        data = json.loads(cached.read_text(encoding="utf-8"))
        if data.get("format") == _FORMAT:
            return data
    path = ding.fetch_ding()
    held_out = [ding.load_ding(split) for split in ("validation", "test")]
    with open(path, encoding="utf-8") as f:
        pairs = lexicon_pairs(f, [s for c in held_out for s in c.sources], [g for c in held_out for g in c.groups])
    data = {"format": _FORMAT, "licence": ding.read_licence(path), "pairs": [list(p) for p in pairs]}
    atomic_write_json(cached, data)
    return data


def load_ding_lexicon(split="train"):
    """The dictionary's word and phrase pairs (training split only) as a `ParallelCorpus`."""
    check_split(split)
    if split != "train":
        raise InvalidInputError(f"The Ding lexicon is training data only: its held-out entries are the example "
                                f"sentences of `de_en`. Received: split={split!r}; use load_parallel('de_en', "
                                f"{split!r}) to evaluate.")
    data = _lexicon_data()
    rows = data["pairs"]
    return ParallelCorpus(sources=tuple(r[0] for r in rows), targets=tuple(r[1] for r in rows),
                          groups=tuple(r[2] for r in rows), name="de_en_lexicon", split=split,
                          source_language="de", target_language="en", source=_SOURCE, licence=data["licence"])


__all__ = ["MAX_WORDS", "lexicon_pairs", "load_ding_lexicon"]
