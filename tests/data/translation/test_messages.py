"""deepedge.data.translation.messages: program messages as out-of-domain test text."""

import re
import struct

import pytest

from deepedge.errors import DataNotFoundError, InvalidInputError


def write_mo(path, messages):
    """A little-endian gettext catalogue of `{msgid: msgstr}` (what msgfmt writes)."""
    items = sorted(messages.items())
    ids = [k.encode() for k, _ in items]
    strs = [v.encode() for _, v in items]
    header = 28
    ids_table, strs_table = header, header + 8 * len(items)
    data_at = strs_table + 8 * len(items)
    blob, id_entries, str_entries = b"", [], []
    for text in ids:
        id_entries.append((len(text), data_at + len(blob)))
        blob += text + b"\x00"
    for text in strs:
        str_entries.append((len(text), data_at + len(blob)))
        blob += text + b"\x00"
    out = struct.pack("<7I", 0x950412DE, 0, len(items), ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", *e) for e in id_entries) + b"".join(struct.pack("<2I", *e) for e in str_entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out + blob)


def test_catalogues_are_read_and_cleaned_by_the_documented_rules(tmp_path):
    from deepedge.data.translation.messages import message_pairs, read_mo

    write_mo(tmp_path / "de" / "LC_MESSAGES" / "apt.mo", {
        "": "Content-Type: text/plain; charset=UTF-8\n",               # the header
        "The list of sources could not be read.": "Die Liste der Quellen konnte nicht gelesen werden.",
        "Could not open file %s": "Datei %s konnte nicht geöffnet werden",  # a format directive
        "_Cancel the whole operation now": "Den ganzen Vorgang jetzt _abbrechen",  # accelerators
        "Too short": "Zu kurz",                                        # under four words
        "Read the file /etc/apt/sources.list": "Die Datei /etc/apt/sources.list lesen",  # a path
        "Do you want to continue?": "Möchten Sie fortfahren.",         # endings differ
        "Usage: apt [options] command": "Aufruf: apt [Optionen] Befehl",  # a synopsis
    })
    assert len(read_mo(tmp_path / "de" / "LC_MESSAGES" / "apt.mo")) == 7  # everything but the header
    pairs = message_pairs("de", packages=("apt", "dpkg"), locale_dir=tmp_path)
    assert pairs == [("Die Liste der Quellen konnte nicht gelesen werden.", "The list of sources could not be read."),
                     ("Den ganzen Vorgang jetzt abbrechen", "Cancel the whole operation now")]  # msgid order
    with pytest.raises(DataNotFoundError, match="message catalogues"):
        message_pairs("es", packages=("apt",), locale_dir=tmp_path)
    (tmp_path / "bad.mo").write_bytes(b"\x00" * 40)
    with pytest.raises(InvalidInputError, match="magic number"):
        read_mo(tmp_path / "bad.mo")


def test_installed_catalogues_give_a_test_split_only():
    from deepedge.data.translation import load_parallel
    from deepedge.data.translation.messages import LOCALE_DIR

    if not (LOCALE_DIR / "de" / "LC_MESSAGES" / "apt.mo").exists():
        pytest.skip("this system has no German apt catalogue (a slim image)")
    data = load_parallel("messages_de_en", "test")
    assert len(data) > 300 and data.source_language == "de" and data.split == "test"
    assert all(4 <= len(s.split()) <= 30 and not re.search(r"%[sdiu]", s) for s in data.sources)
    with pytest.raises(InvalidInputError, match="testing only"):
        load_parallel("messages_de_en", "train")
