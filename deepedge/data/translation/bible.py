"""Spanish-English Bible verses: the Reina-Valera 1909 and the World English Bible, aligned by verse.

| name | source | pairs | train | validation | test | split by |
| --- | --- | --- | --- | --- | --- | --- |
| `es_en` | Debian `sword-text-sparv` (RV 1909, SWORD module `spaRV1909eb`) and `sword-text-web` (WEB, `engWEB2015eb`), read with Debian `diatheke` | 30,745 | 27,710 | 1,569 | 1,466 | chapter |

Both texts are public domain. Install: `apt-get install diatheke sword-text-sparv sword-text-web`.
The 66 books of the canon (the WEB's deuterocanon has no Spanish side) are dumped with
`diatheke -b MODULE -l en -k "Genesis-Deuteronomy"`, seven book ranges per module in parallel threads,
in diatheke's raw OSIS: it keeps word boundaries that `-f plain` loses (WEB John 3:16 "only
bornSon") and holds Strong's numbers only in tag attributes (`-f plain` prints RV Psalm 9:1
"sobre Muth-labben <H1121>:").

Cleaning (before -> after):

1. Only the text after the verse key is kept: diatheke repeats the latest heading before every
   later verse (`<title ...>A praise psalm by David.</title> ... Proverbs 1:1: ...`). But a WEB
   psalm title that starts at a verse (its markup differs from that before the previous verse)
   is put in front of that verse, as the RV has superscriptions and acrostic letters inside the
   verse: RV Psalm 3:1 "Salmo de David, cuando huía de delante de Absalom su hijo. ¡OH Jehová, ...",
   WEB -> "A Psalm by David, when he fled from Absalom his son. Yahweh, how my adversaries ...";
   RV 119:9 "BETH ¿Con qué limpiará ...", WEB -> "BETH How can a young man keep his way pure? ...".
2. Everything from the end-of-chapter marker `<chapter eID=.../>` on is dropped (the WEB's
   glossary follows Revelation 22:21 in diatheke's output).
3. Headings, footnotes and speaker labels go with their text: `<title>`, `<note>`, `<speaker>`
   (WEB Song 1:4 "... into his rooms. <speaker>Friends</speaker> ... We will be glad" -> "... into
   his rooms. We will be glad").
4. Word elements that touch get a space: WEB Genesis 1:1 `God</w><w ...>created` -> "God created",
   WEB Revelation 1:1 `Christ</w>,<w ...>which` -> "Christ, which", WEB Psalm 42:8
   `Yahweh<w ...>will` -> "Yahweh will", RV Genesis 2:12 `hay allí</w><transChange
   type="added">también` -> "hay allí también". But an added pronoun (lo, la, le, me, nos, ...)
   after a verb form (ending in -r, -d or -ndo, with a written accent, or haz, di, vi, he, da)
   is enclitic and joins it: RV Revelation 1:1 `enviándo</w><transChange type="added">la
   </transChange><w ...>por` -> "enviándola por", Job 38:4 `házme<transChange ...>lo` ->
   "házmelo"; after any other word it stands alone: RV Matthew 14:13 `gentes</w><transChange
   type="added">lo</transChange><w ...>oyeron` -> "gentes lo oyeron".
5. Line, line-group, quote, paragraph and list tags become a space (WEB John 3:16
   `only born</q><q marker=""><w ...>Son` -> "only born Son"); all other tags are removed and their
   text kept, which drops the Strong's numbers in their attributes (`<w savlm="strong:G0025">amó</w>`
   -> "amó") and keeps the RV's added words (`<transChange type="added">están</transChange>` -> "están").
6. Entities are unescaped, whitespace runs become one space, spaces before `,;:.!?)` go, the ends
   are stripped. Punctuation, accents and curly quotes stay (UTF-8).
7. The RV's subscriptions after the closing "Amén." of Romans to Hebrews go (they are not in the
   WEB): RV Hebrews 13:25 "La gracia sea con todos vosotros. Amén. Fué escrita á los Hebreos
   desde Italia con Timoteo." -> "La gracia sea con todos vosotros. Amén."

Alignment: a pair is a verse key ("John 3:16") with text in both. The RV follows the KJV
versification and the WEB the NRSVA, but the RV module also holds other verse divisions in the
KJV frame (RV Jonah 1:17 is empty and RV 2:1 is WEB 1:17; RV Job 40:1 is WEB 40:6; RV 1 Chronicles
21:15-30 run one verse late), and either side merges verses (WEB Romans 14:23 holds the doxology
that is Romans 16:25-27 in the RV). So each chapter's verses are aligned by length (Gale and
Church 1993: beads 1-1, 1-0, 0-1, 2-1, 1-2, 2-2 with priors 0.99, 0.002 each and 0.001; 1.04 English
characters per Spanish one, variance 2.4 per character), and a pair is kept only when its two
verses form a 1-1 bead under the same key. Counts (`counts` in the cache file): 31,104 keys;
31,084 RV and 31,095 WEB verses with text; 31,077 with text in both (27 keys lack one side: the
WEB leaves Acts 8:37, Luke 17:36, ... empty, the RV Jonah 1:17, Job 38:39-41, ...); 332 of them
dropped by the length alignment (most in shifted stretches such as Numbers 13, Job 39-40,
1 Samuel 24, 1 Chronicles 21; the rest merged or split verses, and a few true pairs of unusual
lengths, e.g. in uniform poetry); 30,745 pairs.

Split: by chapter. Chapter "John 3" is in the test split when `zlib.crc32(b"John 3") % 20 == 0`,
in validation when it is 1, and in train otherwise: 1,062 / 65 / 55 of the 1,182 chapters with
pairs. Test sources are 1-10 words long in 77 pairs, 11-20 in 552, 21-30 in 521, 31+ in 316.
Verses of one chapter are never in two splits; `groups` holds each pair's "Book Chapter".
The pairs are cached as JSON in `cache_dir()/translation/bible_es_en_v1.json` (the format
version in the name); the first load dumps the texts in about 15 s, later loads take 0.1 s.
"""

import html
import json
import math
import os
import re
import shutil
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor

from deepedge.data.cache import SPLITS, cache_dir, check_split
from deepedge.data.translation import ParallelCorpus
from deepedge.errors import DataNotFoundError
from deepedge.fileio import atomic_write_json

SPANISH_MODULE, SPANISH_PACKAGE = "spaRV1909eb", "sword-text-sparv"
ENGLISH_MODULE, ENGLISH_PACKAGE = "engWEB2015eb", "sword-text-web"
BIBLE_PACKAGES = ("diatheke", SPANISH_PACKAGE, ENGLISH_PACKAGE)
INSTALL_COMMAND = "apt-get install " + " ".join(BIBLE_PACKAGES)
BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "I Samuel",
    "II Samuel", "I Kings", "II Kings", "I Chronicles", "II Chronicles", "Ezra", "Nehemiah", "Esther",
    "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations",
    "Ezekiel", "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk",
    "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans",
    "I Corinthians", "II Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians",
    "I Thessalonians", "II Thessalonians", "I Timothy", "II Timothy", "Titus", "Philemon", "Hebrews",
    "James", "I Peter", "II Peter", "I John", "II John", "III John", "Jude", "Revelation of John",
)
_RANGES = ((0, 5), (5, 17), (17, 22), (22, 27), (27, 39), (39, 44), (44, 66))  # BOOKS[a:b], one call each
_SUBSCRIBED = BOOKS[BOOKS.index("Romans"):BOOKS.index("Hebrews") + 1]
SOURCE = ("Reina-Valera 1909 (sword-text-sparv) and World English Bible (sword-text-web), "
          "aligned by verse")
_FORMAT = 1
_CACHE_NAME = f"bible_es_en_v{_FORMAT}.json"

_CHAPTER_END = re.compile(r"<chapter\b[^>]*\beID=[^>]*>.*", re.DOTALL)
_DROPPED = re.compile(r"<(title|note|speaker)\b[^>]*>.*?</\1>", re.DOTALL)
_TOUCHING_WORDS = re.compile(r"<(?:(?<=</w><)|(?<=</transChange><)|(?<=[,;:.!?]<))(?=(?:w|transChange)\b)"
                             r"|<(?<=\w<)(?=w\b)")  # "\w<transChange" is an enclitic: _ADDED_PRONOUN
_BREAK_TAG = re.compile(r"</?(?:l|lg|lb|q|p|div|chapter|milestone|list|item)\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")
_VERSE_NUMBER = re.compile(r" (\d+):(\d+): ")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,;:.!?)])")
_ADDED_PRONOUN = re.compile(r"(\w+)(</w>)?<transChange\b[^>]*>(l[oae]s?|les|[mts]e|n?os)</transChange>")
_ACCENTED = re.compile("[áéíóú]")
_SHORT_VERBS = ("haz", "di", "vi", "he", "da")
_PSALM_TITLE = re.compile(r'<title\b[^>]*type="psalm"[^>]*>(.*?)</title>', re.DOTALL)
_SUBSCRIPTION = re.compile(r"(?<=Amén\.) [^.]*\b(?:escrita|enviada)\b.*$", re.IGNORECASE | re.DOTALL)

# Gale and Church (1993) length alignment: English characters per Spanish one, their variance
# per Spanish character (both measured on the aligned verses), and the prior of each bead.
_CHARS_RATIO, _VARIANCE = 1.04, 2.4
_BEADS = {(1, 1): 0.99, (1, 0): 0.002, (0, 1): 0.002, (2, 1): 0.002, (1, 2): 0.002, (2, 2): 0.001}


def _pronoun(match):
    """An added pronoun after a verb form is enclitic ("házme" + "lo"), else it stands alone."""
    word, close, pronoun = match.groups()
    verb = word.endswith(("r", "d", "ndo")) or _ACCENTED.search(word) or word.lower() in _SHORT_VERBS
    return f"{word}{pronoun}{close or ''}" if verb else f"{word}{close or ''} {pronoun} "


def clean_verse(raw):
    """The text of one verse of diatheke's raw OSIS output (the module doc, cleaning rules 2-6)."""
    text = _CHAPTER_END.sub("", raw)
    text = _DROPPED.sub(" ", text)
    text = _ADDED_PRONOUN.sub(_pronoun, text)
    text = _TOUCHING_WORDS.sub(" <", text)
    text = _BREAK_TAG.sub(" ", text)
    text = html.unescape(_ANY_TAG.sub("", text))
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    return text.strip()


def _diatheke():
    """The diatheke executable, once both modules are found; else `DataNotFoundError`."""
    executable = shutil.which("diatheke")
    if executable is None:
        raise DataNotFoundError(f"The es_en Bible corpus is read with the SWORD tool diatheke, which is not "
                                f"on PATH. Install it and both texts (Debian, as root): `{INSTALL_COMMAND}`.")
    listing = subprocess.run([executable, "-b", "system", "-k", "modulelist"], capture_output=True,
                             text=True, check=False).stdout
    for module, package in ((SPANISH_MODULE, SPANISH_PACKAGE), (ENGLISH_MODULE, ENGLISH_PACKAGE)):
        if not re.search(rf"^{module} :", listing, re.MULTILINE):
            raise DataNotFoundError(f"diatheke has no SWORD module {module} (Debian {package}). Install it "
                                    f"(as root): `apt-get install {package}`; all of es_en: `{INSTALL_COMMAND}`.")
    return executable


def parse_dump(raw, books):
    """[(book, chapter, verse, markup before the key, raw verse)] of a diatheke dump of `books`.

    A key ("I John 3:16: ") starts a line or follows a tag; the text before it on its line is
    the heading markup that diatheke repeats (the module doc, rule 1).
    """
    raw = re.sub(r"\n\(\w+\)\s*$", "", raw)  # the closing "(module name)" line
    keys = []
    for number in _VERSE_NUMBER.finditer(raw):
        line_start = raw.rfind("\n", 0, number.start()) + 1
        head = raw[line_start:number.start()]
        book = next((b for b in books if head.endswith(b) and head[:-len(b)].rstrip(" ")[-1:] in ("", ">")),
                    None)
        if book is not None:
            keys.append((book, int(number.group(1)), int(number.group(2)), line_start,
                         number.start() - len(book), number.end()))
    verses = []
    for key, following in zip(keys, keys[1:] + [None]):
        end = len(raw) if following is None else following[3] if following[3] > key[5] else following[4]
        verses.append((key[0], key[1], key[2], raw[key[3]:key[4]], raw[key[5]:end]))
    return verses


def dump_verses(raw, books, english):
    """{(book, chapter, verse): clean text} of one dump (the module doc, rules 1-7)."""
    verses, previous = {}, None
    for book, chapter, verse, before, text in parse_dump(raw, books):
        title = _PSALM_TITLE.search(before)
        if english and book == "Psalms" and title and before != previous:
            text = title.group(1) + " " + text
        previous = before
        verses[(book, chapter, verse)] = clean_verse(text)
    if not english:
        for book in set(books) & set(_SUBSCRIBED):
            last = max(key for key in verses if key[0] == book)
            verses[last] = _SUBSCRIPTION.sub("", verses[last])
    return verses


def _dump(executable, module, books):
    key = f"{books[0]}-{books[-1]}"
    result = subprocess.run([executable, "-b", module, "-l", "en", "-k", key],  # English book names
                            capture_output=True, text=True, check=False)
    if result.returncode != 0 or f"{books[0]} 1:1: " not in result.stdout:
        raise DataNotFoundError(f"`diatheke -b {module} -k {key!r}` gave no verses "
                                f"({result.stderr.strip()[:200]!r}). Reinstall: `{INSTALL_COMMAND}`.")
    return result.stdout


_PRIOR_COST = {beads: -math.log(prior) for beads, prior in _BEADS.items()}


def _bead_cost(beads, spanish_chars, english_chars):
    """-log P(bead) P(lengths | bead), Gale and Church's match cost."""
    if spanish_chars == 0 or english_chars == 0:
        return _PRIOR_COST[beads]
    delta = abs(english_chars - spanish_chars * _CHARS_RATIO) / math.sqrt(spanish_chars * _VARIANCE)
    return _PRIOR_COST[beads] - math.log(max(math.erfc(delta / math.sqrt(2)), 1e-300))


def length_alignment(spanish, english, band=6):
    """Gale-Church beads [(spanish indices, english indices)] of two lists of texts.

    Dynamic programming over the cells within `band` (plus the difference in length) of the
    diagonal: verse numbers of one chapter drift at most 5 apart here (RV Job 40).
    """
    n, m = len(spanish), len(english)
    es_sum, en_sum = [0], [0]
    for text in spanish:
        es_sum.append(es_sum[-1] + len(text))
    for text in english:
        en_sum.append(en_sum[-1] + len(text))
    width = band + abs(n - m)
    cost, back = {(0, 0): 0.0}, {}
    for i in range(n + 1):
        middle = i * m // n if n else 0
        for j in range(max(0, middle - width), min(m, middle + width) + 1):
            best, choice = cost.get((i, j), math.inf), None
            for beads in _BEADS:
                di, dj = beads
                previous = cost.get((i - di, j - dj))
                if previous is not None and previous < best:
                    c = previous + _bead_cost(beads, es_sum[i] - es_sum[i - di], en_sum[j] - en_sum[j - dj])
                    if c < best:
                        best, choice = c, beads
            cost[(i, j)] = best
            if choice:
                back[(i, j)] = choice
    beads, i, j = [], n, m
    while i or j:
        di, dj = back[(i, j)]
        beads.append((tuple(range(i - di, i)), tuple(range(j - dj, j))))
        i, j = i - di, j - dj
    return beads[::-1]


def align(spanish, english):
    """[(key, spanish, english)] of two {(book, chapter, verse): text}, and the counts by rule."""
    order = {book: i for i, book in enumerate(BOOKS)}
    chapters = {}
    for key in sorted(set(spanish) | set(english), key=lambda k: (order[k[0]], k[1], k[2])):
        chapters.setdefault(key[:2], []).append(key)
    in_both = sum(1 for k in set(spanish) & set(english) if spanish[k] and english[k])
    pairs = []
    for keys in chapters.values():
        es_keys = [k for k in keys if spanish.get(k)]
        en_keys = [k for k in keys if english.get(k)]
        for es, en in length_alignment([spanish[k] for k in es_keys], [english[k] for k in en_keys]):
            if len(es) == 1 and len(en) == 1 and es_keys[es[0]] == en_keys[en[0]]:
                book, chapter, verse = key = es_keys[es[0]]
                pairs.append((f"{book} {chapter}:{verse}", spanish[key], english[key]))
    counts = {"keys": len(set(spanish) | set(english)),
              "spanish_verses": sum(1 for t in spanish.values() if t),
              "english_verses": sum(1 for t in english.values() if t),
              "text_in_both": in_both, "dropped_by_length_alignment": in_both - len(pairs), "pairs": len(pairs)}
    return pairs, counts


def dump_bible():
    """All aligned pairs, dumped with diatheke: ([(key, spanish, english)], counts by rule)."""
    executable = _diatheke()
    jobs = [(module, BOOKS[a:b]) for a, b in _RANGES for module in (SPANISH_MODULE, ENGLISH_MODULE)]
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        dumps = list(pool.map(lambda job: _dump(executable, *job), jobs))
    texts = {SPANISH_MODULE: {}, ENGLISH_MODULE: {}}
    for (module, books), raw in zip(jobs, dumps):
        texts[module].update(dump_verses(raw, books, english=module == ENGLISH_MODULE))
    return align(texts[SPANISH_MODULE], texts[ENGLISH_MODULE])


def bible_pairs():
    """[(key, spanish, english)] of all aligned verses, from the cache or else `dump_bible`."""
    path = cache_dir() / "translation" / _CACHE_NAME
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == _FORMAT:
            return [tuple(pair) for pair in data["pairs"]]
    pairs, counts = dump_bible()
    atomic_write_json(path, {"format": _FORMAT, "counts": counts, "pairs": pairs})
    return pairs


def chapter_of(key):
    """"John 3" of "John 3:16"."""
    return key.rpartition(":")[0]


def chapter_split(chapter):
    """The split of a chapter ("John 3"), by `zlib.crc32` (see the module doc)."""
    bucket = zlib.crc32(chapter.encode("utf-8")) % 20
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def load_bible(split="train"):
    """One split of the Spanish-English Bible verses as a `ParallelCorpus` (see the module doc)."""
    check_split(split)
    chosen = [(key, es, en) for key, es, en in bible_pairs() if chapter_split(chapter_of(key)) == split]
    return ParallelCorpus(sources=tuple(es for _, es, _ in chosen), targets=tuple(en for _, _, en in chosen),
                          groups=tuple(chapter_of(key) for key, _, _ in chosen), name="es_en", split=split,
                          source_language="es", target_language="en", source=SOURCE, licence="public domain")


__all__ = ["BIBLE_PACKAGES", "BOOKS", "INSTALL_COMMAND", "SPLITS", "align", "bible_pairs", "chapter_of",
           "chapter_split", "clean_verse", "dump_bible", "dump_verses", "length_alignment", "load_bible",
           "parse_dump"]
