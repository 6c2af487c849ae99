"""Keyword utterances: what to synthesise, the cached `Utterances`, and 1-second `KeywordDataset` clips."""

import dataclasses
import zlib

import numpy as np

from deepedge.data.cache import cache_dir, check_split
from deepedge.data.speech.augmentation import coloured_noise, silence_clip
from deepedge.data.speech.voices import (check_synthesizers, draw_prosody, neural_speakers, parallel_map, seeded_rng,
                                         speakers, synthesize)
from deepedge.errors import InvalidInputError
from deepedge.fileio import atomic_path
from deepedge.ops.audio import SAMPLE_RATE, fit_clip, resample
from deepedge.ops.keywords import KEYWORD_CLASSES, KEYWORDS, SILENCE, UNKNOWN

# Words that sound like a keyword never serve as `_unknown_`.
_HOMOPHONES = {"know", "now", "too", "to", "for", "fore", "won", "ate", "write", "rite", "wright", "sicks",
               "stops", "goes", "yet", "yess", "ups", "downs", "lefts", "rights", "offs", "ones", "sevens",
               "nein", "tree", "free", "fife", "sex", "gone", "go's", "oh", "own", "of", "un", "an", "in"}
DEFAULT_COUNTS = {"train": 400, "validation": 40, "test": 100}  # utterances per keyword
CACHE_FORMAT = 2  # 2: resampling without zero padding


def _word_split(word):
    slot = zlib.crc32(word.encode()) % 10
    return "test" if slot >= 8 else ("validation" if slot == 7 else "train")


def unknown_words(split, limit=600):
    """English words for `_unknown_`: the commonest words of Jane Austen's novels that are not
    keywords or their homophones, assigned to a split by a hash of their spelling."""
    from collections import Counter

    from deepedge.data.text import load_austen

    counts = Counter()
    for paragraph in load_austen("train").paragraphs:
        counts.update(w for w in paragraph.lower().split() if w.isalpha() and len(w) > 1)
    excluded = set(KEYWORDS) | _HOMOPHONES
    words = [w for w, _ in counts.most_common() if w not in excluded and _word_split(w) == split]
    return words[:limit]


@dataclasses.dataclass(frozen=True)
class Utterances:
    """Variable-length utterances: int16 samples back to back, cut by `offsets`."""

    samples: np.ndarray  # int16, all utterances concatenated
    offsets: np.ndarray  # int64, len(labels) + 1
    labels: np.ndarray  # int64 class indices
    texts: tuple
    speakers: tuple

    def __len__(self):
        return len(self.labels)

    def waveform(self, i):
        """Utterance `i` as float32 in [-1, 1]."""
        return self.samples[self.offsets[i]:self.offsets[i + 1]].astype(np.float32) / 32768.0

    @classmethod
    def from_pieces(cls, pieces, labels, texts, speakers):
        """Utterances from a list of int16 arrays, one per utterance."""
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
        samples = np.concatenate(pieces).astype(np.int16) if len(pieces) else np.zeros(0, np.int16)
        return cls(samples, offsets, np.asarray(labels, np.int64), tuple(texts), tuple(speakers))

    def concatenate(self, other):
        """These utterances followed by `other`'s."""
        return Utterances(np.concatenate([self.samples, other.samples]),
                          np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]),
                          np.concatenate([self.labels, other.labels]), self.texts + other.texts,
                          self.speakers + other.speakers)

    def subset(self, index):
        """The utterances at `index` (a sequence of positions), in that order."""
        return Utterances.from_pieces([self.samples[self.offsets[i]:self.offsets[i + 1]] for i in index],
                                      self.labels[np.asarray(index, np.int64)], [self.texts[i] for i in index],
                                      [self.speakers[i] for i in index])

    def save(self, path, **extra):
        """Writes the utterances (and `extra` string arrays) to an `.npz`, atomically; nothing pickled."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, samples=self.samples, offsets=self.offsets, labels=self.labels,
                     texts=np.array(self.texts, dtype=str), speakers=np.array(self.speakers, dtype=str),
                     **{k: np.array(v, dtype=str) for k, v in extra.items()})

    @classmethod
    def load(cls, path, *extra):
        """`Utterances` from `save`, plus the named extra string arrays as tuples."""
        with np.load(path, allow_pickle=False) as f:
            utterances = cls(f["samples"], f["offsets"], f["labels"], tuple(f["texts"].tolist()),
                             tuple(f["speakers"].tolist()))
            return (utterances, *(tuple(f[k].tolist()) for k in extra)) if extra else utterances


@dataclasses.dataclass(frozen=True)
class KeywordDataset:
    """One split of the keyword data: 1-second clips, labels, and the utterances behind them.

    `audio` holds the clean clips (int16, (N, 16000)) rendered at fixed positions; training
    renders new ones each epoch from `utterances` with `SpeechAugmentation`.
    """

    audio: np.ndarray
    labels: np.ndarray
    utterances: Utterances
    class_names: tuple
    name: str
    split: str
    source: str
    licence: str

    def __len__(self):
        return len(self.labels)

    @property
    def speakers(self):
        return self.utterances.speakers

    def take(self, n):
        """`n` examples spread over the classes (every `len/n`-th), as a dataset of the same kind."""
        return self.select(np.linspace(0, len(self) - 1, min(n, len(self))).round().astype(int))

    def select(self, index, name=None):
        """The examples at `index`, as a dataset of the same kind (optionally renamed)."""
        return dataclasses.replace(self, audio=self.audio[index], labels=self.labels[index],
                                   utterances=self.utterances.subset(index), name=name or self.name)

    def clips(self, rng=None, augmentation=None):
        """Fresh 1-second float32 clips of every utterance (random placement when `rng` is given)."""
        return render_clips(self.utterances, rng or np.random.default_rng(0), augmentation, random_place=rng is not None)


def _plan(split, per_keyword, seed):
    """What to synthesise: `(label, text, voice, speed, pitch)` for every utterance of a split,
    every speaker of `speakers(split)` equally likely."""
    voices = speakers(split)
    unknown = unknown_words(split)
    per_unknown = max(1, per_keyword * 5 // 4)  # as many unknowns as ~1.25 keywords
    per_silence = max(1, per_keyword // 2)
    plan = []
    for label, name in enumerate(KEYWORD_CLASSES):
        count = per_unknown if name == UNKNOWN else (per_silence if name == SILENCE else per_keyword)
        for i in range(count):
            rng = seeded_rng(seed, split, name, i)
            voice = voices[rng.integers(len(voices))]  # the order of the draws fixes the data
            text = "" if name == SILENCE else (unknown[rng.integers(len(unknown))] if name == UNKNOWN else name)
            speed, pitch = draw_prosody(rng, voice, (120, 210), (0.8, 1.3))
            plan.append((label, text, voice, speed, pitch))
    return plan


def _synthesize_plan(plan, description):
    def one(item):
        _, text, voice, speed, pitch = item
        if not text:
            return np.zeros(0, np.int16)
        audio = synthesize(text, voice, speed, pitch)
        if len(audio) > SAMPLE_RATE:  # too slow to fit a second: speed it up to 0.95 s
            audio = resample(audio, len(audio), int(0.95 * SAMPLE_RATE))
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        return (audio / max(peak, 1e-4) * 0.7 * 32767).astype(np.int16)

    return parallel_map(one, plan, description)


def load_utterances(split="train", per_keyword=None, seed=2017):
    """The synthesised utterances of a split (cached as int16 under `cache_dir()/speech`).

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        per_keyword: int. Utterances per keyword; `_unknown_` gets 1.25x as many and
            `_silence_` half. Defaults to 400 / 40 / 100 for train / validation / test.
        seed: int. Seeds every utterance's speaker, speed and pitch.
    """
    check_split(split)
    per_keyword = DEFAULT_COUNTS[split] if per_keyword is None else int(per_keyword)
    if per_keyword < 1:
        raise InvalidInputError(f"`per_keyword` must be at least 1. Received: per_keyword={per_keyword}")
    path = cache_dir() / "speech" / f"keywords-v{CACHE_FORMAT}-{split}-{per_keyword}-{seed}.npz"
    if path.exists():
        return Utterances.load(path)
    plan = _plan(split, per_keyword, seed)
    check_synthesizers()
    pieces = _synthesize_plan(plan, f"synthesising {split} speech")
    utterances = Utterances.from_pieces(pieces, [p[0] for p in plan], [p[1] for p in plan],
                                        [p[2].name for p in plan])
    utterances.save(path)
    return utterances


def load_keywords(split="train", per_keyword=None, seed=2017):
    """One split of the keyword data as a `KeywordDataset` (see `deepedge.data.speech` and `load_utterances`)."""
    utterances = load_utterances(split, per_keyword, seed)
    clips = render_clips(utterances, seeded_rng(seed, split, "placement"), None, random_place=True)
    return KeywordDataset(audio=(clips * 32767).astype(np.int16), labels=utterances.labels, utterances=utterances,
                          class_names=KEYWORD_CLASSES, name="keywords", split=split,
                          source="Debian espeak-ng 1.51 and flite 2.2 voices; unknown words from Jane Austen",
                          licence="GPL-3 (espeak-ng), BSD-like (flite); the words are public domain")


def load_neural_keywords(split="train", per_keyword=None, seed=2017, unknown_factor=1.25):
    """Keyword utterances spoken by Kokoro's neural voices of `split` (`deepedge.data.kokoro`),
    cached as int16 under `cache_dir()/speech`.

    Each of the 20 keywords is said `per_keyword` times and `_unknown_` (words of the split
    from Jane Austen) `unknown_factor` times as often, each time by a random voice of the
    split at a speed drawn from 0.85-1.2; `_silence_` needs no voice (training renders noise
    for it). Defaults to 100 / 10 / 20 per keyword. Synthesis runs at about real time per
    core (the default training set takes some 15 minutes on 2 cores), once: the unknown words
    beyond the default 1.25x are cached in a file of their own, so raising `unknown_factor`
    only synthesises those.

    Returns:
        `Utterances`, with speakers named `kokoro:<voice>`.
    """
    check_split(split)
    per_keyword = {"train": 100, "validation": 10, "test": 20}[split] if per_keyword is None else int(per_keyword)
    if per_keyword < 1 or not float(unknown_factor) > 0:
        raise InvalidInputError(f"`per_keyword` must be at least 1 and `unknown_factor` positive. Received: "
                                f"per_keyword={per_keyword}, unknown_factor={unknown_factor!r}")
    base_unknowns = max(1, per_keyword * 5 // 4)
    unknowns = max(1, int(per_keyword * unknown_factor))
    base = _neural_keyword_part(split, per_keyword, seed, range(base_unknowns), "")
    if unknowns <= base_unknowns:
        is_unknown = base.labels == KEYWORD_CLASSES.index(UNKNOWN)
        keep = ~is_unknown | (np.cumsum(is_unknown) <= unknowns)
        return base if keep.all() else base.subset(np.flatnonzero(keep))
    extra = _neural_keyword_part(split, 0, seed, range(base_unknowns, unknowns), f"-unknown{base_unknowns}-{unknowns}")
    return base.concatenate(extra)


def _neural_keyword_part(split, per_keyword, seed, unknown_indices, tag):
    """The keywords (`per_keyword` each) and the `_unknown_` utterances numbered `unknown_indices`
    of `load_neural_keywords`, synthesised once and cached."""
    path = cache_dir() / "speech" / f"neural-keywords-v{CACHE_FORMAT}-{split}-{per_keyword}-{seed}{tag}.npz"
    if path.exists():
        return Utterances.load(path)
    voices = neural_speakers(split)
    unknown = unknown_words(split)
    plan = []
    for label, name in enumerate(KEYWORD_CLASSES):
        if name == SILENCE:
            continue
        for i in (unknown_indices if name == UNKNOWN else range(per_keyword)):
            rng = seeded_rng(seed, split, "kokoro", name, i)
            voice = voices[rng.integers(len(voices))]
            text = unknown[rng.integers(len(unknown))] if name == UNKNOWN else name
            plan.append((label, text, voice, rng.uniform(0.85, 1.2), 0.5))
    pieces = _synthesize_plan(plan, f"synthesising {split} speech with neural voices")
    utterances = Utterances.from_pieces(pieces, [p[0] for p in plan], [p[1] for p in plan],
                                        [p[2].name for p in plan])
    utterances.save(path)
    return utterances


def neural_keywords(split="test", per_keyword=None, seed=2017):
    """`load_neural_keywords` as a `KeywordDataset` of clean 1-second clips: for evaluation on
    neural voices that never speak in training."""
    from deepedge.data import kokoro

    utterances = load_neural_keywords(split, per_keyword, seed)
    clips = render_clips(utterances, seeded_rng(seed, split, "kokoro-placement"), None, random_place=True)
    return KeywordDataset(audio=(clips * 32767).astype(np.int16), labels=utterances.labels, utterances=utterances,
                          class_names=KEYWORD_CLASSES, name="neural_keywords", split=split,
                          source=f"{kokoro.SOURCE}; unknown words from Jane Austen",
                          licence=f"{kokoro.LICENCE}; the words are public domain")


def join_keywords(first, second, name=None):
    """Two `KeywordDataset`s (or a dataset and extra `Utterances`, rendered clean) as one."""
    if isinstance(second, Utterances):
        clips = render_clips(second, seeded_rng(first.split, "join-placement"), None, random_place=True)
        second = dataclasses.replace(first, audio=(clips * 32767).astype(np.int16), labels=second.labels,
                                     utterances=second)
    return dataclasses.replace(first, audio=np.concatenate([first.audio, second.audio]),
                               labels=np.concatenate([first.labels, second.labels]),
                               utterances=first.utterances.concatenate(second.utterances), name=name or first.name)


def render_clips(utterances, rng, augmentation=None, random_place=True):
    """1-second float32 clips (N, 16000): each utterance placed in the second, then augmented.

    Args:
        utterances: `Utterances`.
        rng: numpy Generator for placement, speed and augmentation.
        augmentation: a `SpeechAugmentation`, or None for clean clips.
        random_place: bool. Place each word at a random offset (else centred).
    """
    clips = np.zeros((len(utterances), SAMPLE_RATE), np.float32)
    for i in range(len(utterances)):
        clips[i] = render_clip(utterances, i, rng, augmentation, random_place)
    return clips


def render_clip(utterances, i, rng, augmentation=None, random_place=True):
    """Utterance `i` of `utterances` as one 1-second float32 clip (see `render_clips`); the
    silence class gets background noise alone, other utterances of the set make the babble."""
    word = utterances.waveform(i)
    if utterances.labels[i] == KEYWORD_CLASSES.index(SILENCE) or len(word) == 0:
        return silence_clip(rng, augmentation, utterances)
    if augmentation is not None:
        factor = rng.uniform(*augmentation.speed)
        word = resample(word, SAMPLE_RATE, int(SAMPLE_RATE / factor))
    word = word[:int(0.98 * SAMPLE_RATE)]
    offset = rng.integers(0, SAMPLE_RATE - len(word) + 1) if random_place else None
    clip = fit_clip(word, SAMPLE_RATE, offset)
    return augmentation(clip, rng, utterances) if augmentation is not None else clip


def compose_stream(utterances, indices, rng, gap_seconds=(0.5, 1.0), noise_db=-50.0):
    """One long recording: the utterances `indices` one after another with pauses and a noise floor.

    Returns `(audio, said)`: float32 audio and a list of `(start_s, stop_s, text)`.
    """
    pieces, said, position = [], [], 0
    for i in indices:
        gap = np.zeros(int(rng.uniform(*gap_seconds) * SAMPLE_RATE), np.float32)
        word = utterances.waveform(int(i))
        pieces += [gap, word]
        position += len(gap)
        said.append((position / SAMPLE_RATE, (position + len(word)) / SAMPLE_RATE, utterances.texts[int(i)]))
        position += len(word)
    pieces.append(np.zeros(int(gap_seconds[1] * SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    audio = audio + coloured_noise(rng, len(audio), "pink") * 10 ** (noise_db / 20)
    return np.clip(audio, -1, 1).astype(np.float32), said


__all__ = ["CACHE_FORMAT", "DEFAULT_COUNTS", "KEYWORD_CLASSES", "KEYWORDS", "KeywordDataset", "SILENCE", "UNKNOWN",
           "Utterances", "compose_stream", "join_keywords", "load_keywords", "load_neural_keywords",
           "load_utterances", "neural_keywords", "render_clip", "render_clips", "unknown_words"]
