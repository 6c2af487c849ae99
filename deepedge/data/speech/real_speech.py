"""Real speech the models never train on: Debian's ALSA test sounds and Asterisk's telephone prompts."""

from pathlib import Path

import numpy as np

from deepedge.data.speech.keywords import KeywordDataset, Utterances
from deepedge.data.speech.sentences import SentenceDataset, normalise_transcript
from deepedge.ops.audio import SAMPLE_RATE, fit_clip, load_audio, split_on_silence, trim_silence
from deepedge.ops.keywords import KEYWORD_CLASSES, KEYWORDS, SILENCE, UNKNOWN

# The channel names each ALSA test recording says.
ALSA_WORDS = {"Front_Center": ("front", "center"), "Front_Left": ("front", "left"),
              "Front_Right": ("front", "right"), "Rear_Center": ("rear", "center"),
              "Rear_Left": ("rear", "left"), "Rear_Right": ("rear", "right"),
              "Side_Left": ("side", "left"), "Side_Right": ("side", "right")}


def load_alsa_speech():
    """Real speech: the channel names spoken in Debian `alsa-utils`'s test sounds, cut into words.

    One real speaker says "Front Left", "Rear Right", ...; each recording is split at its
    pause into two words, giving 6 keywords (`left`, `right`) and 10 `_unknown_` words
    (front, rear, side, center), plus its `Noise.wav` as `_silence_`. Returns a
    `KeywordDataset` (split "test"), with the word and file in `utterances.texts`.
    """
    from deepedge.data.debian import fetch_debian_package

    folder = Path("/usr/share/sounds/alsa")
    if not (folder / "Front_Left.wav").exists():
        folder = fetch_debian_package("alsa-utils", "alsa-utils", "The ALSA test sounds") / "usr/share/sounds/alsa"
    pieces, labels, texts = [], [], []
    for stem, words in ALSA_WORDS.items():
        audio = load_audio(folder / f"{stem}.wav")
        segments = split_on_silence(audio)
        if len(segments) != len(words):  # a pause the splitter missed: keep the recording whole as unknown
            segments, words = [(0, len(audio))], (" ".join(words),)
        for (start, stop), word in zip(segments, words):
            pieces.append(audio[start:stop])
            labels.append(KEYWORD_CLASSES.index(word) if word in KEYWORDS else KEYWORD_CLASSES.index(UNKNOWN))
            texts.append(f"{word} ({stem}.wav)")
    noise = load_audio(folder / "Noise.wav")
    pieces.append(noise[:SAMPLE_RATE])
    labels.append(KEYWORD_CLASSES.index(SILENCE))
    texts.append("noise (Noise.wav)")
    clips = np.stack([fit_clip(p) for p in pieces])
    pcm = [(np.clip(p, -1, 1) * 32767).astype(np.int16) for p in pieces]
    utterances = Utterances.from_pieces(pcm, labels, texts, ["alsa-utils speaker"] * len(labels))
    return KeywordDataset(audio=(clips * 32767).astype(np.int16), labels=utterances.labels, utterances=utterances,
                          class_names=KEYWORD_CLASSES, name="alsa_speech", split="test",
                          source="Debian alsa-utils /usr/share/sounds/alsa (real speech)", licence="GPL-2+")


# Asterisk's English prompts: one real speaker (Allison Smith), recorded for telephones.
_ASTERISK_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                  "sixteen seventeen eighteen nineteen").split()
_ASTERISK_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words(n):
    """English words of 0 <= n < 1000 ("press 1" is read "press one")."""
    if n < 20:
        return _ASTERISK_ONES[n]
    if n < 100:
        return _ASTERISK_TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + _ASTERISK_ONES[n % 10])
    return _ASTERISK_ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + _number_words(n % 100))


def _asterisk_prompts():
    """`[(wav path, normalised transcript)]` of Asterisk's English prompts whose transcript can be
    spelled in `CHARACTERS` as it is spoken, and the folder of the sounds. Tones, notes and
    silences (`[beep]`, `<beep>`, `(...)`), abbreviations read letter by letter (`A.M.`,
    `PBX`) and numbers of 1000 or more are left out."""
    import gzip
    import re

    from deepedge.data.debian import fetch_debian_package

    sounds = fetch_debian_package("asterisk-core-sounds-en-wav", "asterisk-sounds",
                                  "Asterisk's English prompts (a real speaker)")
    texts = fetch_debian_package("asterisk-core-sounds-en", "asterisk-sounds-text",
                                 "The transcripts of Asterisk's English prompts")
    folder = next((sounds / "usr/share/asterisk/sounds").glob("en*"))
    listing = gzip.decompress((texts / "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz").read_bytes())
    prompts = []
    for line in listing.decode("utf-8", "replace").splitlines():
        name, colon, text = line.partition(":")
        path = folder / f"{name.strip()}.wav"
        text = text.strip()
        if (not colon or not text or any(c in text for c in "[<(") or not path.exists()
                or re.search(r"\b[A-Za-z]\.[A-Za-z]\.|\b[A-Z]{2,}\b", text)):
            continue
        if re.search(r"\d{4,}|\d[.,]\d", text):
            continue
        text = re.sub(r"\d+", lambda m: f" {_number_words(int(m.group()))} ", text.replace("#", " pound "))
        text = normalise_transcript(text.replace("-", " "))
        if text:
            prompts.append((path, text))
    return folder, prompts


ASTERISK_SOURCE = "Debian asterisk-core-sounds-en-wav: Allison Smith's telephone prompts, 8 kHz (real speech)"
ASTERISK_LICENCE = "CC-BY-SA-3.0"


def load_asterisk_keywords():
    """Real speech on a telephone line: every one-word prompt of Asterisk's English sounds.

    One real speaker (Allison Smith, recorded at 8 kHz for telephone systems, resampled to
    16 kHz) says the ten digits and "no" (11 keywords) and about 220 other single words
    ("activated", "Monday", "tenth", "alpha", letters, ...) which count as `_unknown_`; the
    package's 1-second silence is `_silence_`. Returns a `KeywordDataset` (split "test"),
    with the word and file in `utterances.texts`. The package (18 MB) is fetched once with
    `apt-get download` into the deepedge cache.
    """
    pieces, labels, texts = [], [], []
    folder, prompts = _asterisk_prompts()
    for path, text in prompts:
        if " " in text:
            continue
        audio = trim_silence(load_audio(path))
        pieces.append(audio if len(audio) else load_audio(path))
        labels.append(KEYWORD_CLASSES.index(text) if text in KEYWORDS else KEYWORD_CLASSES.index(UNKNOWN))
        texts.append(f"{text} ({path.parent.name}/{path.name})")
    silence = folder / "silence" / "1.wav"
    if silence.exists():
        pieces.append(load_audio(silence))
        labels.append(KEYWORD_CLASSES.index(SILENCE))
        texts.append("silence (silence/1.wav)")
    clips = np.stack([fit_clip(p) for p in pieces])
    pcm = [(np.clip(p, -1, 1) * 32767).astype(np.int16) for p in pieces]
    utterances = Utterances.from_pieces(pcm, labels, texts, ["Allison Smith (Asterisk)"] * len(labels))
    return KeywordDataset(audio=(np.clip(clips, -1, 1) * 32767).astype(np.int16), labels=utterances.labels,
                          utterances=utterances, class_names=KEYWORD_CLASSES, name="asterisk_speech", split="test",
                          source=ASTERISK_SOURCE, licence=ASTERISK_LICENCE)


def load_asterisk_sentences(max_seconds=None):
    """Real speech on a telephone line, for the recogniser: Asterisk's English prompts of two
    or more words ("please enter your password followed by the pound key"), as a
    `SentenceDataset` (split "test") with normalised transcripts (numbers spelled out).

    Args:
        max_seconds: float. Leave out longer prompts (default: keep all).
    """
    pieces, texts = [], []
    for path, text in _asterisk_prompts()[1]:
        if " " not in text:
            continue
        audio = load_audio(path)
        if max_seconds is not None and len(audio) > max_seconds * SAMPLE_RATE:
            continue
        pieces.append((np.clip(audio, -1, 1) * 32767).astype(np.int16))
        texts.append(text)
    utterances = Utterances.from_pieces(pieces, np.zeros(len(pieces), np.int64), texts,
                                        ["Allison Smith (Asterisk)"] * len(pieces))
    return SentenceDataset(utterances, ("",) * len(pieces), "asterisk_sentences", "test",
                           ASTERISK_SOURCE, ASTERISK_LICENCE)

__all__ = ["ALSA_WORDS", "ASTERISK_LICENCE", "ASTERISK_SOURCE", "load_alsa_speech", "load_asterisk_keywords",
           "load_asterisk_sentences"]
