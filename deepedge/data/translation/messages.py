"""Out-of-domain test text: the German and Spanish translations of Debian's own program messages.

Every Debian system carries gettext catalogues (`/usr/share/locale/LANG/LC_MESSAGES/*.mo`):
the English message of a program (`msgid`) and its human translation (`msgstr`). They are
real parallel text from a domain the translators never see in training (command-line
software instead of dictionary examples or Bible verses), so they show how the models do on
sentences unlike their training data. Test split only; nothing here is ever trained on.

Rules, applied in this order to the catalogues of `PACKAGES` (base packages of every Debian
system), read in that order:
1. Singular messages only (plural forms and the catalogue header are skipped), fuzzy or
   untranslated entries are not in a compiled catalogue.
2. One line each: messages with a newline or a tab are skipped, as are those holding
   format directives (`%s`, `%1$d`, `{0}`), markup (`<...>`), command lines (`--option`),
   paths or URLs (`/`), usage synopses (`[`, `=`), or `\\`.
3. Keyboard accelerators (`_` before a letter, `&`) are removed.
4. Both sides must have 4 to 30 words and end alike (both with `.`, `?`, `!`, `:` or
   neither); `:` and trailing spaces are stripped.
5. Duplicate English sentences keep their first translation.
"""

import re
import struct
from pathlib import Path

from deepedge.errors import DataNotFoundError, InvalidInputError

PACKAGES = ("apt", "dpkg", "coreutils", "bash", "tar", "grep", "sed", "findutils", "diffutils", "libc", "adduser")
LOCALE_DIR = Path("/usr/share/locale")
_SKIP = re.compile(r"%[-+ #0-9.$]*[a-zA-Z]|\{[0-9a-z_]*\}|<[^>]*>|--|/|\\|\t|\n|`|\[|=")


def read_mo(path):
    """`{msgid: msgstr}` of the singular messages of a compiled gettext catalogue."""
    data = Path(path).read_bytes()
    if len(data) < 28:
        raise InvalidInputError(f"{path} is too short to be a gettext catalogue.")
    for order in "<>":
        magic, _, count, ids_at, strs_at = struct.unpack(order + "5I", data[:20])
        if magic == 0x950412DE:
            break
    else:
        raise InvalidInputError(f"{path} is not a gettext catalogue (bad magic number).")
    messages = {}
    for i in range(count):
        id_length, id_offset = struct.unpack(order + "2I", data[ids_at + 8 * i: ids_at + 8 * i + 8])
        str_length, str_offset = struct.unpack(order + "2I", data[strs_at + 8 * i: strs_at + 8 * i + 8])
        msgid = data[id_offset: id_offset + id_length]
        if not msgid or b"\x00" in msgid:  # the header, or a plural entry
            continue
        if b"\x04" in msgid:  # a message context: keep the message only
            msgid = msgid.split(b"\x04", 1)[1]
        try:
            messages[msgid.decode("utf-8")] = data[str_offset: str_offset + str_length].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return messages


def _clean(text):
    text = re.sub(r"_(?=\w)|&(?=\w)", "", text).strip()
    return text[:-1].rstrip() if text.endswith(":") else text


def _ending(text):
    return text[-1] if text and text[-1] in ".?!" else ""


def message_pairs(language, packages=PACKAGES, locale_dir=LOCALE_DIR):
    """`[(translation in language, English)]` by the rules above, from the installed catalogues."""
    pairs, seen, found = [], set(), []
    for package in packages:
        path = Path(locale_dir) / language / "LC_MESSAGES" / f"{package}.mo"
        if not path.exists():
            continue
        found.append(package)
        for english, translated in read_mo(path).items():
            if not translated or _SKIP.search(english) or _SKIP.search(translated):
                continue
            english, translated = _clean(english), _clean(translated)
            if not (4 <= len(english.split()) <= 30 and 4 <= len(translated.split()) <= 30):
                continue
            if _ending(english) != _ending(translated) or english in seen:
                continue
            seen.add(english)
            pairs.append((translated, english))
    if not found:
        raise DataNotFoundError(
            f"No {language} message catalogues of {', '.join(packages)} in {Path(locale_dir) / language}. "
            "They come with those Debian packages; a 'slim' image leaves /usr/share/locale out "
            "(remove its dpkg path-exclude and reinstall the packages).")
    return pairs


def load_messages(language, split="test"):
    """A test-only `ParallelCorpus` of program messages translated into `language` ("de", "es")."""
    from deepedge.data.translation import ParallelCorpus

    if split != "test":
        raise InvalidInputError(f"The program messages are held-out text for testing only: split must be 'test'. "
                                f"Received: split={split!r}.")
    pairs = message_pairs(language)
    return ParallelCorpus(tuple(s for s, _ in pairs), tuple(t for _, t in pairs), tuple(str(i) for i in range(len(pairs))),
                          f"messages_{language}_en", "test", language, "en",
                          f"gettext catalogues of Debian {', '.join(PACKAGES)} in /usr/share/locale/{language}",
                          "the packages' licences (GPL/LGPL)")


def load_messages_de(split="test"):
    return load_messages("de", split)


def load_messages_es(split="test"):
    return load_messages("es", split)


__all__ = ["PACKAGES", "load_messages", "load_messages_de", "load_messages_es", "message_pairs", "read_mo"]
