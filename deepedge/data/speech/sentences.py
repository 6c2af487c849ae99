"""Sentences for speech recognition: Jane Austen's clauses spoken by the split's voices, with transcripts."""

import dataclasses
import subprocess

import numpy as np

from deepedge.data.cache import cache_dir, check_split
from deepedge.data.speech.keywords import CACHE_FORMAT, Utterances
from deepedge.data.speech.voices import (check_synthesizers, draw_prosody, neural_speakers, parallel_map, seeded_rng,
                                         speakers, synthesize)
from deepedge.errors import InvalidInputError

CHARACTERS = tuple(" 'abcdefghijklmnopqrstuvwxyz")  # what the recogniser writes; CTC adds a blank
SENTENCE_COUNTS = {"train": 6000, "validation": 300, "test": 600}


def normalise_transcript(text):
    """Lower case letters, apostrophes and single spaces: the recogniser's alphabet."""
    import re

    text = text.lower().replace("\u2019", "'").replace("--", " ")
    text = re.sub(r"[^a-z' ]+", " ", text)
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


def austen_sentences(split, min_words=3, max_words=9):
    """Sentences (and clauses between punctuation) of Jane Austen's chapters of `split`, normalised.

    Train, validation and test sentences come from different chapters (see `load_austen`), and
    a validation or test sentence that also occurs in a training chapter ("said Elinor") is
    left out, so a test transcript is never heard in training.
    """
    seen, sentences = (set(austen_sentences("train", min_words, max_words)) if split != "train" else set()), []
    for text in austen_clauses(split):
        n = len(text.split())
        if min_words <= n <= max_words and text not in seen:
            seen.add(text)
            sentences.append(text)
    return sentences


def austen_clauses(split):
    """Every clause between punctuation of Jane Austen's chapters of `split`, in order, normalised
    to the recogniser's alphabet (repeats kept, clauses with digits left out): the text a
    character language model for the recogniser learns from."""
    import re

    from deepedge.data.text import load_austen

    for paragraph in load_austen(split).paragraphs:
        paragraph = re.sub(r"\b(Mr|Mrs|Dr|St)\.", r"\1", paragraph)  # not a sentence end
        for piece in re.split(r"[.!?;:,\"()]+|--", paragraph):
            if any(ch.isdigit() for ch in piece):
                continue
            text = normalise_transcript(piece)
            if text:
                yield text


def phonemes(text, voice="en-us"):
    """espeak-ng's phonemes of `text` (IPA), as it would say them."""
    check_synthesizers()
    result = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice, "--", text], capture_output=True,
                            text=True, check=False)
    return " ".join(result.stdout.split())


@dataclasses.dataclass(frozen=True)
class SentenceDataset:
    """Spoken sentences of one split: utterances (int16) with their character and phoneme transcripts."""

    utterances: Utterances
    phonemes: tuple
    name: str
    split: str
    source: str
    licence: str

    def __len__(self):
        return len(self.utterances)

    @property
    def texts(self):
        return self.utterances.texts

    @property
    def speakers(self):
        return self.utterances.speakers

    def waveform(self, i):
        """Sentence `i` as float32 samples in [-1, 1] (sentences differ in length, so one at a time)."""
        return self.utterances.waveform(i)

    def concatenate(self, other, name=None):
        """These sentences followed by `other`'s (named `name`, or this dataset's name)."""
        return dataclasses.replace(self, utterances=self.utterances.concatenate(other.utterances),
                                   phonemes=self.phonemes + other.phonemes, name=name or self.name)

    def take(self, n):
        u = self.utterances
        n = min(n, len(u))
        end = int(u.offsets[n])
        return dataclasses.replace(self, utterances=Utterances(u.samples[:end], u.offsets[:n + 1], u.labels[:n],
                                                               u.texts[:n], u.speakers[:n]),
                                   phonemes=self.phonemes[:n])


def load_sentences(split="train", count=None, seed=2014, neural=False):
    """Sentences from Jane Austen spoken by the split's voices (cached under `cache_dir()/speech`).

    Each sentence (3-9 words, from the split's own chapters) is said by a random speaker of the
    split at a random speed and pitch, like the keywords. Transcripts are normalised to
    `CHARACTERS`; phonemes are espeak-ng's IPA for the same text.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        count: int. Sentences; defaults to 6000 / 300 / 600 (with `neural`, 150 per split).
        seed: int.
        neural: bool. Spoken by Kokoro's neural voices of the split (`deepedge.data.kokoro`,
            about real time per core to synthesise) instead of espeak-ng's and flite's.
    """
    check_split(split)
    count = (150 if neural else SENTENCE_COUNTS[split]) if count is None else int(count)
    if count < 1:
        raise InvalidInputError(f"`count` must be at least 1. Received: count={count}")
    name = "neural_sentences" if neural else "sentences"
    path = cache_dir() / "speech" / f"{name}-v{CACHE_FORMAT}-{split}-{count}-{seed}.npz"
    from deepedge.data import kokoro

    source = (kokoro.SOURCE if neural else "Debian espeak-ng 1.51 and flite 2.2 voices") \
        + " reading Jane Austen (Debian r-cran-janeaustenr)"
    licence = (kokoro.LICENCE if neural else "GPL-3 (espeak-ng), BSD-like (flite)") + "; the texts are public domain"
    if path.exists():
        return SentenceDataset(*Utterances.load(path, "phonemes"), name, split, source, licence)
    check_synthesizers()
    texts = austen_sentences(split)
    voices = neural_speakers(split) if neural else speakers(split)
    plan = []
    for i in range(count):
        rng = seeded_rng(seed, split, "sentence", i)
        voice = voices[rng.integers(len(voices))]
        text = texts[rng.integers(len(texts))]
        speed, pitch = draw_prosody(rng, voice, (130, 200), (0.85, 1.2))
        plan.append((i, text, voice, speed, pitch))

    def one(item):
        _, text, voice, speed, pitch = item
        audio = synthesize(text, voice, speed, pitch)
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        return (audio / max(peak, 1e-4) * 0.7 * 32767).astype(np.int16), phonemes(text)

    results = parallel_map(one, plan, f"synthesising {split} sentences" + (" with neural voices" if neural else ""))
    utterances = Utterances.from_pieces([r[0] for r in results], np.arange(count), [p[1] for p in plan],
                                        [p[2].name for p in plan])
    phones = tuple(r[1] for r in results)
    utterances.save(path, phonemes=phones)
    return SentenceDataset(utterances, phones, name, split, source, licence)


__all__ = ["CHARACTERS", "SENTENCE_COUNTS", "SentenceDataset", "austen_clauses", "austen_sentences", "load_sentences",
           "normalise_transcript", "phonemes"]
