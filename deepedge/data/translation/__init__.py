"""Parallel text for translation: sentence pairs with fixed splits, cached, from Debian packages.

| name | source | pairs | split by |
| --- | --- | --- | --- |
| `de_en` | Debian `trans-de-en`: the example sentences of the Ding German-English dictionary | ~18,000 | dictionary entry (`ding.py`) |
| `de_en_lexicon` | the same dictionary's word and phrase entries: extra training pairs, training split only | ~313,000 | dictionary entry (`lexicon.py`) |
| `messages_de_en`, `messages_es_en` | German / Spanish translations of Debian's program messages (gettext catalogues): out-of-domain text, test split only | ~1,200 each | - (`messages.py`) |
| `es_en` | Debian `sword-text-sparv` (Reina-Valera 1909) and `sword-text-web` (World English Bible), aligned by verse, read with `diatheke` | ~31,000 | chapter (`bible.py`) |

`load_parallel(name, split)` returns a `ParallelCorpus`; each module documents its cleaning
rules and its split. Nothing is downloaded at import time; a loader that cannot find its
source raises `DataNotFoundError` naming the Debian package to install.
"""

import dataclasses

from deepedge.data.cache import check_split
from deepedge.errors import InvalidInputError


@dataclasses.dataclass(frozen=True)
class ParallelCorpus:
    """Aligned sentence pairs of one split.

    Attributes:
        sources, targets: tuples of str, one pair per index.
        groups: tuple of str. What the split was made by for each pair (a dictionary entry,
            a Bible chapter): pairs of one group are always in the same split.
        name, split: the data set and the split.
        source_language, target_language: ISO 639-1 codes ("de", "en").
        source, licence: where the text comes from and under which terms.
    """

    sources: tuple
    targets: tuple
    groups: tuple
    name: str
    split: str
    source_language: str
    target_language: str
    source: str
    licence: str

    def __post_init__(self):
        if not len(self.sources) == len(self.targets) == len(self.groups):
            raise InvalidInputError(f"A parallel corpus needs one target and one group per source. Received: "
                                    f"{len(self.sources)} sources, {len(self.targets)} targets, "
                                    f"{len(self.groups)} groups.")

    def __len__(self):
        return len(self.sources)

    def take(self, n):
        """The first `n` pairs."""
        return dataclasses.replace(self, sources=self.sources[:n], targets=self.targets[:n], groups=self.groups[:n])

    def pairs(self):
        """`[(source, target), ...]`."""
        return list(zip(self.sources, self.targets))


PARALLEL_DATASETS = {"de_en": "deepedge.data.translation.ding:load_ding",
                     "de_en_lexicon": "deepedge.data.translation.lexicon:load_ding_lexicon",
                     "es_en": "deepedge.data.translation.bible:load_bible",
                     "messages_de_en": "deepedge.data.translation.messages:load_messages_de",
                     "messages_es_en": "deepedge.data.translation.messages:load_messages_es"}


def load_parallel(name, split="train"):
    """The parallel corpus `name` (`"de_en"`, `"es_en"`), split `split`."""
    import importlib

    check_split(split)
    if name not in PARALLEL_DATASETS:
        raise InvalidInputError(f"Unknown parallel corpus. Expected one of {sorted(PARALLEL_DATASETS)}. "
                                f"Received: name={name!r}")
    module, _, function = PARALLEL_DATASETS[name].partition(":")
    return getattr(importlib.import_module(module), function)(split)


__all__ = ["PARALLEL_DATASETS", "ParallelCorpus", "load_parallel"]
