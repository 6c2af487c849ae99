"""Jane Austen's six novels, split by chapter into train / validation / test.

| name | source | train | validation | test |
| --- | --- | --- | --- | --- |
| `austen` | Debian `r-cran-janeaustenr` (public domain texts) | 8 of every 10 chapters | chapter 5 of every 10 | chapter 10 of every 10 |

The chapters of the six novels are numbered in publication order (Sense and Sensibility,
Pride and Prejudice, Mansfield Park, Emma, Northanger Abbey, Persuasion); counting from
zero, chapter `i` is in the test split when `i % 10 == 9`, in validation when `i % 10 == 4`,
and in train otherwise. Every split has chapters from every novel. Each chapter is a list of
paragraphs (the blank-line separated blocks of the source, italics underscores removed).

The R package's data is read without R: the `.deb` is fetched with `apt-get download` and
unpacked with `dpkg-deb -x` into the deepedge cache, and its lazy-load database is parsed
with PyPI `rdata`. The parsed corpus is cached as JSON.
"""

import dataclasses
import json
import re
import zlib
from pathlib import Path

from deepedge.data.debian import fetch_debian_package
from deepedge.data.cache import SPLITS, cache_dir, check_split
from deepedge.errors import DataNotFoundError
from deepedge.fileio import atomic_write_json

BOOKS = (
    ("sensesensibility", "Sense and Sensibility"),
    ("prideprejudice", "Pride and Prejudice"),
    ("mansfieldpark", "Mansfield Park"),
    ("emma", "Emma"),
    ("northangerabbey", "Northanger Abbey"),
    ("persuasion", "Persuasion"),
)
AUSTEN_PACKAGE = "r-cran-janeaustenr"
_RDB_SUFFIX = Path("usr/lib/R/site-library/janeaustenr/data/Rdata.rdb")
_CHAPTER = re.compile(r"^\s*chapter\s+([0-9]+|[ivxlc]+)\.?\s*$", re.IGNORECASE)
_VOLUME = re.compile(r"^\s*volume\s+([0-9]+|[ivxlc]+)\.?\s*$", re.IGNORECASE)
_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class TextCorpus:
    """The paragraphs of one split of a text corpus, chapter by chapter."""

    chapters: tuple  # of (book title, chapter number in the book, tuple of paragraphs)
    name: str
    split: str
    source: str
    licence: str

    @property
    def paragraphs(self):
        return [p for _, _, paragraphs in self.chapters for p in paragraphs]

    @property
    def num_words(self):
        return sum(len(p.split()) for p in self.paragraphs)

    def __len__(self):
        return len(self.chapters)

    def take(self, n):
        """The first `n` chapters, as a corpus of the same kind."""
        return dataclasses.replace(self, chapters=self.chapters[:n])


def _rdb_candidates():
    return [Path("/") / _RDB_SUFFIX, cache_dir() / "janeaustenr" / _RDB_SUFFIX]


def fetch_austen():
    """Downloads the Debian package into the deepedge cache (no root, no R); returns the .rdb path."""
    for path in _rdb_candidates():
        if path.exists():
            return path
    return fetch_debian_package(AUSTEN_PACKAGE, "janeaustenr", "Jane Austen's novels") / _RDB_SUFFIX


def _read_books(rdb_path):
    """{book key: array of lines} from the R package's lazy-load database."""
    try:
        import rdata
    except ImportError as e:
        raise DataNotFoundError("Reading the janeaustenr data needs PyPI `rdata`: "
                                "pip install 'deepedge[train]'") from e
    import warnings

    rdx_path = rdb_path.with_suffix(".rdx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = rdata.conversion.convert(rdata.parser.parse_file(rdx_path))
        blob = rdb_path.read_bytes()
        books = {}
        for key, (start, length) in index["variables"].items():
            record = blob[int(start): int(start) + int(length)]
            raw = zlib.decompress(record[4:])  # 4-byte big-endian length, then zlib
            books[str(key)] = [str(line) for line in rdata.conversion.convert(rdata.parser.parse_data(raw))]
    return books


def split_chapters(lines):
    """[(chapter number, [paragraphs])] of one novel's lines; front matter is dropped."""
    chapters, paragraphs, block = [], None, []

    def close_block():
        if block and paragraphs is not None:
            text = " ".join(block).replace("_", "")
            text = re.sub(r"\s+", " ", text).strip()
            if text:
                paragraphs.append(text)
        block.clear()

    for line in lines:
        if _CHAPTER.match(line):
            close_block()
            paragraphs = []
            chapters.append((len(chapters) + 1, paragraphs))
        elif _VOLUME.match(line) or not line.strip():
            close_block()
        else:
            block.append(line.strip())
    close_block()
    return [(number, paragraphs) for number, paragraphs in chapters if paragraphs]


def _austen_chapters():
    cached = cache_dir() / "austen.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        if data.get("format") == _FORMAT:
            return [tuple(c) for c in data["chapters"]]
    books = _read_books(fetch_austen())
    chapters = []
    for key, title in BOOKS:
        if key not in books:
            raise DataNotFoundError(f"The {AUSTEN_PACKAGE} data has no {key!r}; found {sorted(books)}. "
                                    "Reinstall the package.")
        chapters += [(title, number, paragraphs) for number, paragraphs in split_chapters(books[key])]
    atomic_write_json(cached, {"format": _FORMAT, "chapters": chapters})
    return chapters


def chapter_split(index):
    """The split of the `index`-th chapter (0-based, over the six novels in order)."""
    return "test" if index % 10 == 9 else "validation" if index % 10 == 4 else "train"


def load_austen(split="train"):
    """One split of Jane Austen's six novels as a `TextCorpus` (see the module doc)."""
    check_split(split)
    chapters = _austen_chapters()
    chosen = tuple((title, number, tuple(paragraphs)) for i, (title, number, paragraphs) in enumerate(chapters)
                   if chapter_split(i) == split)
    return TextCorpus(chapters=chosen, name="austen", split=split,
                      source=f"Debian {AUSTEN_PACKAGE} (Jane Austen's six novels)",
                      licence="public domain")


__all__ = ["BOOKS", "SPLITS", "TextCorpus", "chapter_split", "fetch_austen", "load_austen",
           "split_chapters"]
