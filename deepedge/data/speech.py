"""Speech synthesised with espeak-ng, flite and Festival (Debian) and Kokoro's neural voices, split by speaker.

| name | source | train | validation | test |
| --- | --- | --- | --- | --- |
| `keywords` | Debian `espeak-ng` + `flite` speaking the 20 Speech Commands core words; unknown words from Jane Austen | 60% of the espeak-ng voice variants; flite `kal`, `kal16`, `awb`; Festival `ked` (with `natural_share`) | 15% of the variants; flite `rms` | 25% of the variants; flite `slt` |
| `neural_keywords` | Kokoro-82M's neural voices (`deepedge.data.kokoro`: PyPI and npm packages) speaking the same words | 44 voices (18 English, 26 of other languages speaking English) | 4 English voices | 6 English voices |
| `sentences` | the espeak-ng and flite voices reading 3-9 word clauses of Jane Austen, with character and phoneme transcripts | train chapters | validation chapters | test chapters (sentences also in train chapters dropped) |
| `alsa_speech` | Debian `alsa-utils` (a real speaker: "Front Left", ...), cut into words | - | - | 16 words + noise |
| `asterisk_speech` | Debian `asterisk-core-sounds-en-wav` (a real speaker on a telephone line, 8 kHz): every one-word prompt | - | - | 11 keywords, ~220 other words, silence |
| `asterisk_sentences` | the same speaker's prompts of two or more words, transcripts normalised | - | - | ~330 prompts |

A *speaker* is an espeak-ng voice variant (`m3`, `f2`, `klatt4`, `Annie`, ... 83 in all)
speaking with one of 8 English accents, or one of flite's 5 voices. Variants are assigned to
a split by their position in a sorted list (`i % 20` in 0..11 train, 12..14 validation,
15..19 test), so a test voice never speaks in training; accents are shared. Each utterance
draws its speaker, speed (espeak-ng 120-210 words a minute, flite duration x0.8-1.3) and
pitch (espeak-ng 15-85, flite a mean F0 from the voice's range) from a generator seeded by
`(seed, split, class, index)`, so every machine synthesises the same data. flite's voices and
Festival's diphone voice `ked` (`natural_speakers`) are built from recordings of real people;
`load_keywords(..., natural_share=0.4)` gives them that share of the utterances, where an even
draw over speakers leaves them 3 of 411 training speakers.

Classes: `KEYWORDS` (yes, no, up, down, left, right, on, off, stop, go, zero .. nine), then
`_silence_` (background noise only) and `_unknown_` (other English words, drawn from Jane
Austen's novels; a word is train/validation/test by a hash of its spelling, so test
unknowns are words the model never heard, and homophones of keywords are excluded).

Synthesis runs once (about a minute for the default training set on 2 cores) and is cached
as int16 under `cache_dir()/speech`. Training clips are rendered anew every epoch by
`SpeechAugmentation` (shift, speed, gain, noise at a random SNR, reverberation, telephone
band), validation and test clips once, clean, at fixed positions.
"""

import concurrent.futures
import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import numpy as np

from deepedge.data.images import SPLITS, _check_split, cache_dir
from deepedge.ops.audio import SAMPLE_RATE, fit_clip, load_audio, read_wav, resample, split_on_silence, to_mono, trim_silence
from deepedge.errors import DataNotFoundError, InvalidInputError
from deepedge.fileio import atomic_path

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SILENCE, UNKNOWN = "_silence_", "_unknown_"
KEYWORD_CLASSES = (*KEYWORDS, SILENCE, UNKNOWN)
# Words that sound like a keyword never serve as `_unknown_`.
_HOMOPHONES = {"know", "now", "too", "to", "for", "fore", "won", "ate", "write", "rite", "wright", "sicks",
               "stops", "goes", "yet", "yess", "ups", "downs", "lefts", "rights", "offs", "ones", "sevens",
               "nein", "tree", "free", "fife", "sex", "gone", "go's", "oh", "own", "of", "un", "an", "in"}

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                  "en-029", "en-us-nyc")
# espeak-ng's voice variants, less the deliberately robotic ones (Demonic, robosoft*, ...).
ESPEAK_VARIANTS = (
    "adam", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "antonio", "aunty", "belinda",
    "benjamin", "boris", "caleb", "croak", "david", "Denis", "Diogo", "ed", "edward", "edward2", "f1", "f2",
    "f3", "f4", "f5", "Gene", "Gene2", "grandma", "grandpa", "gustave", "Henrique", "Hugo", "iven", "iven2",
    "iven3", "iven4", "Jacky", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5",
    "klatt6", "Lee", "linda", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "marcelo", "Marco", "Mario",
    "max", "Michael", "michel", "miguel", "Mike", "Mr", "Nguyen", "norbert", "pablo", "paul", "pedro",
    "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "Storm", "travis", "victor",
    "whisper", "whisperf", "zac",
)
# flite's voices and the range of mean F0 (Hz) each is given.
FLITE_VOICES = {"kal": (85, 140), "kal16": (85, 140), "awb": (90, 150), "rms": (80, 135), "slt": (150, 230)}
_FLITE_SPLIT = {"kal": "train", "kal16": "train", "awb": "train", "rms": "validation", "slt": "test"}
# Festival's diphone voice ked (an American man, cut from real recordings) and its mean F0 range (Hz).
FESTIVAL_VOICES = {"ked_diphone": (80, 140)}
_FESTIVAL_SPLIT = {"ked_diphone": "train"}
_FESTIVAL_PACKAGES = {"ked_diphone": "festvox-kdlpc16k"}
DEFAULT_COUNTS = {"train": 400, "validation": 40, "test": 100}  # utterances per keyword
_FORMAT = 2  # 2: resampling without zero padding


@dataclasses.dataclass(frozen=True)
class Voice:
    """One synthetic speaker: `engine` (espeak-ng or flite), its voice and variant."""

    engine: str
    voice: str
    variant: str = ""

    @property
    def name(self):
        return f"{self.engine}:{self.voice}" + (f"+{self.variant}" if self.variant else "")


def variant_split(index):
    """The split of the `index`-th variant of the sorted variant list."""
    slot = index % 20
    return "train" if slot < 12 else ("validation" if slot < 15 else "test")


def speakers(split):
    """Every synthetic speaker of a split: espeak-ng accent x variant, and flite voices."""
    _check_split(split)
    variants = [v for i, v in enumerate(sorted(ESPEAK_VARIANTS, key=str.lower)) if variant_split(i) == split]
    voices = [Voice("espeak-ng", accent, variant) for variant in variants for accent in ESPEAK_ACCENTS]
    return voices + [v for v in natural_speakers(split) if v.engine == "flite"]


def natural_speakers(split):
    """The speakers of a split whose voices are built from recordings of real people: flite's
    (diphone and CMU ARCTIC clustergen voices) and Festival's diphone voices."""
    _check_split(split)
    return ([Voice("flite", name) for name, s in _FLITE_SPLIT.items() if s == split]
            + [Voice("festival", name) for name, s in _FESTIVAL_SPLIT.items() if s == split])


def neural_speakers(split):
    """The speakers of a split that are Kokoro's neural voices (`deepedge.data.kokoro`)."""
    from deepedge.data.kokoro import kokoro_voices

    return [Voice("kokoro", name) for name in kokoro_voices(split)]


def check_synthesizers(festival=False):
    """Raises `DataNotFoundError` naming the Debian packages when espeak-ng or flite (or, with
    `festival`, Festival's `text2wave` and its voices) is missing."""
    missing = [tool for tool in ("espeak-ng", "flite") if shutil.which(tool) is None]
    if festival:
        if shutil.which("text2wave") is None:
            missing.append("festival")
        missing += [package for voice, package in _FESTIVAL_PACKAGES.items()
                    if not list(Path("/usr/share/festival/voices").glob(f"*/{voice}"))]
    if missing:
        raise DataNotFoundError(f"Speech data is synthesised with {' and '.join(missing)}, not found on this "
                                f"machine. Install the Debian package(s): `apt-get install {' '.join(missing)}` "
                                "(`make setup` does it when run as root).")


def synthesize(text, voice, speed=1.0, pitch=0.5):
    """Speech of `text` by `voice` as float32 mono at 16 kHz, silence trimmed.

    Args:
        text: str. What to say.
        voice: a `Voice`.
        speed: float. 1.0 is the engine's normal rate (espeak-ng 165 words a minute).
        pitch: float in [0, 1]. Relative pitch (espeak-ng 0..99; flite and Festival within the
            voice's F0 range; Kokoro's neural voices have no pitch control and ignore it).
    """
    if voice.engine == "espeak-ng":
        command = ["espeak-ng", "-v", f"{voice.voice}+{voice.variant}" if voice.variant else voice.voice,
                   "-s", str(int(round(165 * speed))), "-p", str(int(round(99 * pitch))), "--stdout", "--", text]
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode != 0 or len(result.stdout) < 48:
            raise DataNotFoundError(f"espeak-ng failed for {voice.name} saying {text!r}: "
                                    f"{result.stderr.decode(errors='replace').strip()[:200]}")
        audio, rate = read_wav(result.stdout)
    elif voice.engine == "flite":
        low, high = FLITE_VOICES[voice.voice]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            command = ["flite", "-voice", voice.voice, "--setf", f"duration_stretch={1.0 / speed:.3f}",
                       "--setf", f"int_f0_target_mean={low + (high - low) * pitch:.1f}", "-t", text, "-o", str(out)]
            result = subprocess.run(command, capture_output=True, check=False)
            if result.returncode != 0 or not out.exists():
                raise DataNotFoundError(f"flite failed for {voice.name} saying {text!r}: "
                                        f"{result.stderr.decode(errors='replace').strip()[:200]}")
            audio, rate = read_wav(out)
    elif voice.engine == "festival":
        low, high = FESTIVAL_VOICES[voice.voice]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            # The diphone voices scale a predicted F0 contour to `target_f0_mean`.
            command = ["text2wave", "-eval", f"(voice_{voice.voice})",
                       "-eval", f"(set! int_lr_params '((target_f0_mean {low + (high - low) * pitch:.1f}) "
                                "(target_f0_std 15) (model_f0_mean 170) (model_f0_std 34)))",
                       "-eval", f"(Parameter.set 'Duration_Stretch {1.1 / speed:.3f})", "-o", str(out)]
            result = subprocess.run(command, input=text.encode(), capture_output=True, check=False)
            if result.returncode != 0 or not out.exists() or out.stat().st_size < 48:
                raise DataNotFoundError(f"festival failed for {voice.name} saying {text!r}: "
                                        f"{result.stderr.decode(errors='replace').strip()[:200]}")
            audio, rate = read_wav(out)
    elif voice.engine == "kokoro":
        from deepedge.data.kokoro import NATIVE_RATE, synthesizer

        audio, rate = synthesizer()(text, voice.voice, speed), NATIVE_RATE
    else:
        raise InvalidInputError(f"Unknown speech engine {voice.engine!r}. Expected 'espeak-ng', 'flite', "
                                "'festival' or 'kokoro'.")
    return trim_silence(resample(to_mono(audio), rate, SAMPLE_RATE))


def _rng(*parts):
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


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

    def audio(self, i):
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


def _draw_prosody(rng, voice, words_per_minute, duration_stretch):
    """`(speed, pitch)` for one utterance: espeak-ng's rate drawn in `words_per_minute` (pitch
    0.15-0.85), flite's duration stretch in `duration_stretch` (pitch anywhere in its range)."""
    if voice.engine == "espeak-ng":
        return rng.uniform(*words_per_minute) / 165, rng.uniform(0.15, 0.85)
    return 1.0 / rng.uniform(*duration_stretch), rng.uniform(0.0, 1.0)


def _plan(split, per_keyword, seed, natural_share=None):
    """What to synthesise: `(label, text, voice, speed, pitch)` for every utterance of a split.

    Every speaker of `speakers(split)` is equally likely; with `natural_share`, that share of
    the utterances goes to `natural_speakers(split)` and the rest to espeak-ng's voices."""
    voices = speakers(split)
    if natural_share is not None:
        natural, espeak = natural_speakers(split), [v for v in voices if v.engine == "espeak-ng"]
    unknown = unknown_words(split)
    per_unknown = max(1, per_keyword * 5 // 4)  # as many unknowns as ~1.25 keywords
    per_silence = max(1, per_keyword // 2)
    plan = []
    for label, name in enumerate(KEYWORD_CLASSES):
        count = per_unknown if name == UNKNOWN else (per_silence if name == SILENCE else per_keyword)
        for i in range(count):
            rng = _rng(seed, split, name, i)
            if natural_share is None:
                voice = voices[rng.integers(len(voices))]  # the order of the draws fixes the data
            else:
                pool = natural if rng.random() < natural_share else espeak
                voice = pool[rng.integers(len(pool))]
            text = "" if name == SILENCE else (unknown[rng.integers(len(unknown))] if name == UNKNOWN else name)
            speed, pitch = _draw_prosody(rng, voice, (120, 210), (0.8, 1.3))
            plan.append((label, text, voice, speed, pitch))
    return plan


def _parallel_map(func, items, description):
    """`[func(item) for item in items]` on a thread pool (synthesis runs in subprocesses), with a bar."""
    from deepedge.progress import progress_bar

    results = [None] * len(items)
    with progress_bar() as progress, concurrent.futures.ThreadPoolExecutor(max(2, 2 * (os.cpu_count() or 1))) as pool:
        bar = progress.add_task(description, total=len(items))
        futures = {pool.submit(func, item): i for i, item in enumerate(items)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            progress.advance(bar)
    return results


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

    return _parallel_map(one, plan, description)


def load_utterances(split="train", per_keyword=None, seed=2017, natural_share=None):
    """The synthesised utterances of a split (cached as int16 under `cache_dir()/speech`).

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        per_keyword: int. Utterances per keyword; `_unknown_` gets 1.25x as many and
            `_silence_` half. Defaults to 400 / 40 / 100 for train / validation / test.
        seed: int. Seeds every utterance's speaker, speed and pitch.
        natural_share: float in [0, 1] or None. The share of utterances spoken by the voices
            built from real recordings (`natural_speakers`: flite's and Festival's, which needs
            Debian `festival festvox-kdlpc16k`); the rest by espeak-ng. Defaults to `None`:
            every speaker of `speakers(split)` equally likely (3 of the 411 training speakers
            are flite's). A share of 0.4 trained a worse spotter on both synthetic and real
            test speech (see the README), so the shipped recipe keeps the even draw.
    """
    _check_split(split)
    per_keyword = DEFAULT_COUNTS[split] if per_keyword is None else int(per_keyword)
    if per_keyword < 1:
        raise InvalidInputError(f"`per_keyword` must be at least 1. Received: per_keyword={per_keyword}")
    if natural_share is not None and not 0.0 <= float(natural_share) <= 1.0:
        raise InvalidInputError(f"`natural_share` must be in [0, 1] or None. Received: natural_share={natural_share!r}")
    tag = "" if natural_share is None else f"-natural{float(natural_share):g}"
    path = cache_dir() / "speech" / f"keywords-v{_FORMAT}-{split}-{per_keyword}-{seed}{tag}.npz"
    if path.exists():
        return Utterances.load(path)
    plan = _plan(split, per_keyword, seed, None if natural_share is None else float(natural_share))
    check_synthesizers(festival=any(p[2].engine == "festival" for p in plan))
    pieces = _synthesize_plan(plan, f"synthesising {split} speech")
    utterances = Utterances.from_pieces(pieces, [p[0] for p in plan], [p[1] for p in plan],
                                        [p[2].name for p in plan])
    utterances.save(path)
    return utterances


def load_keywords(split="train", per_keyword=None, seed=2017, natural_share=None):
    """One split of the keyword data as a `KeywordDataset` (see the module doc and `load_utterances`)."""
    utterances = load_utterances(split, per_keyword, seed, natural_share)
    clips = render_clips(utterances, _rng(seed, split, "placement"), None, random_place=True)
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
    _check_split(split)
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
    path = cache_dir() / "speech" / f"neural-keywords-v{_FORMAT}-{split}-{per_keyword}-{seed}{tag}.npz"
    if path.exists():
        return Utterances.load(path)
    voices = neural_speakers(split)
    unknown = unknown_words(split)
    plan = []
    for label, name in enumerate(KEYWORD_CLASSES):
        if name == SILENCE:
            continue
        for i in (unknown_indices if name == UNKNOWN else range(per_keyword)):
            rng = _rng(seed, split, "kokoro", name, i)
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
    clips = render_clips(utterances, _rng(seed, split, "kokoro-placement"), None, random_place=True)
    return KeywordDataset(audio=(clips * 32767).astype(np.int16), labels=utterances.labels, utterances=utterances,
                          class_names=KEYWORD_CLASSES, name="neural_keywords", split=split,
                          source=f"{kokoro.SOURCE}; unknown words from Jane Austen",
                          licence=f"{kokoro.LICENCE}; the words are public domain")


def join_keywords(first, second, name=None):
    """Two `KeywordDataset`s (or a dataset and extra `Utterances`, rendered clean) as one."""
    if isinstance(second, Utterances):
        clips = render_clips(second, _rng(first.split, "join-placement"), None, random_place=True)
        second = dataclasses.replace(first, audio=(clips * 32767).astype(np.int16), labels=second.labels,
                                     utterances=second)
    return dataclasses.replace(first, audio=np.concatenate([first.audio, second.audio]),
                               labels=np.concatenate([first.labels, second.labels]),
                               utterances=first.utterances.concatenate(second.utterances), name=name or first.name)


# === Augmentation ===

def _coloured_noise(rng, n, colour):
    """White, pink (1/f) or brown (1/f^2) noise of unit RMS."""
    white = rng.standard_normal(n).astype(np.float32)
    if colour == "white":
        return white
    spectrum = np.fft.rfft(white)
    f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 20.0)
    spectrum /= f ** (0.5 if colour == "pink" else 1.0)
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-9)


def _room_impulse(rng):
    """A synthetic room: direct path, then exponentially decaying noise (RT60 0.15-0.8 s)."""
    rt60 = rng.uniform(0.15, 0.8)
    n = int(min(rt60, 0.5) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * rng.uniform(0.1, 0.5)
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0
    tail[0] = 1.0
    return tail.astype(np.float32)


def _convolve(audio, kernel):
    n = len(audio) + len(kernel) - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(kernel, size), size)[:len(audio)]
    return out.astype(np.float32)


def _telephone(audio, rng):
    """Band-limited to 300-3400 Hz, as a phone line; sometimes mu-law companded to 8 bits."""
    spectrum = np.fft.rfft(audio)
    f = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    low, high = rng.uniform(200, 400), rng.uniform(3000, 3600)
    gain = 1.0 / (1.0 + (low / np.maximum(f, 1.0)) ** 8) / (1.0 + (f / high) ** 8)
    out = np.fft.irfft(spectrum * gain, len(audio)).astype(np.float32)
    if rng.random() < 0.5:
        mu = 255.0
        peak = np.abs(out).max() + 1e-9
        y = np.sign(out / peak) * np.log1p(mu * np.abs(out / peak)) / np.log1p(mu)
        y = np.round(y * 127) / 127
        out = (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu * peak).astype(np.float32)
    return out


@dataclasses.dataclass
class SpeechAugmentation:
    """What real microphones do to speech, applied to 1-second training clips.

    Args:
        speed: (low, high) speed factors (tempo and pitch together). Defaults to `(0.85, 1.15)`.
        noise_probability: float. Chance of added noise. Defaults to `0.8`.
        snr_db: (low, high) signal-to-noise ratio of added noise in dB. Defaults to `(0, 30)`.
        reverb_probability: float. Chance of a synthetic room. Defaults to `0.3`.
        telephone_probability: float. Chance of a phone-line band. Defaults to `0.15`.
        gain_db: (low, high) peak level in dB re full scale. Defaults to `(-35, -1)`.
        noise_kinds: the noises drawn from: `"white"`, `"pink"`, `"brown"` and `"babble"`
            (other utterances of the same set, 3 to 6 at once).
    """

    speed: tuple = (0.85, 1.15)
    noise_probability: float = 0.8
    snr_db: tuple = (0.0, 30.0)
    reverb_probability: float = 0.3
    telephone_probability: float = 0.15
    gain_db: tuple = (-35.0, -1.0)
    noise_kinds: tuple = ("white", "pink", "brown", "babble")

    def noise(self, rng, n, babble_source=None):
        kinds = [k for k in self.noise_kinds if k != "babble" or babble_source is not None] or ["white"]
        kind = kinds[rng.integers(len(kinds))]
        if kind != "babble":
            return _coloured_noise(rng, n, kind)
        mix = np.zeros(n, np.float32)
        for _ in range(rng.integers(3, 7)):
            word = babble_source.audio(rng.integers(len(babble_source)))
            if len(word):
                mix += fit_clip(word, n, offset=rng.integers(-len(word) // 2, n))
        return mix / (np.sqrt(np.mean(mix ** 2)) + 1e-9)

    def __call__(self, speech, rng, babble_source=None):
        """Augments one clip of placed speech (float32, 1 second)."""
        clip = speech
        if rng.random() < self.reverb_probability:
            clip = _convolve(clip, _room_impulse(rng))
        if rng.random() < self.telephone_probability:
            clip = _telephone(clip, rng)
        peak = np.abs(clip).max()
        if peak > 0:
            clip = clip / peak * 10 ** (rng.uniform(*self.gain_db) / 20)
        if rng.random() < self.noise_probability:
            power = np.mean(clip[np.abs(clip) > 0.05 * np.abs(clip).max()] ** 2) if peak > 0 else 1e-6
            noise = self.noise(rng, len(clip), babble_source)
            clip = clip + noise * np.sqrt(power / 10 ** (rng.uniform(*self.snr_db) / 10))
        return np.clip(clip, -1.0, 1.0).astype(np.float32)


CONDITIONS = {
    "clean": None,
    "babble, 10 dB SNR": SpeechAugmentation((1, 1), 1.0, (10, 10), 0.0, 0.0, (-6, -6), ("babble",)),
    "white noise, 5 dB SNR": SpeechAugmentation((1, 1), 1.0, (5, 5), 0.0, 0.0, (-6, -6), ("white",)),
    "telephone band": SpeechAugmentation((1, 1), 0.0, (30, 30), 0.0, 1.0, (-6, -6)),
    "reverberant room": SpeechAugmentation((1, 1), 0.0, (30, 30), 1.0, 0.0, (-6, -6)),
    "fast / slow speech (x0.8-1.25)": SpeechAugmentation((0.8, 1.25), 0.0, (30, 30), 0.0, 0.0, (-6, -6)),
}


def _silence_clip(rng, augmentation, utterances):
    level = 10 ** (rng.uniform(-70, -25) / 20)
    if augmentation is None:
        return _coloured_noise(rng, SAMPLE_RATE, ("white", "pink", "brown")[rng.integers(3)]) * level
    return augmentation.noise(rng, SAMPLE_RATE, utterances if rng.random() < 0.3 else None) * level


def render_clips(utterances, rng, augmentation=None, random_place=True):
    """1-second float32 clips (N, 16000): each utterance placed in the second, then augmented.

    Args:
        utterances: `Utterances`.
        rng: numpy Generator for placement, speed and augmentation.
        augmentation: a `SpeechAugmentation`, or None for clean clips.
        random_place: bool. Place each word at a random offset (else centred).
    """
    clips = np.zeros((len(utterances), SAMPLE_RATE), np.float32)
    silence = KEYWORD_CLASSES.index(SILENCE)
    for i in range(len(utterances)):
        word = utterances.audio(i)
        if utterances.labels[i] == silence or len(word) == 0:
            clips[i] = _silence_clip(rng, augmentation, utterances)
            continue
        if augmentation is not None:
            factor = rng.uniform(*augmentation.speed)
            word = resample(word, SAMPLE_RATE, int(SAMPLE_RATE / factor))
        word = word[:int(0.98 * SAMPLE_RATE)]
        offset = rng.integers(0, SAMPLE_RATE - len(word) + 1) if random_place else None
        clip = fit_clip(word, SAMPLE_RATE, offset)
        clips[i] = augmentation(clip, rng, utterances) if augmentation is not None else clip
    return clips


# === Real speech the models never train on ===

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

__all__ = ["ALSA_WORDS", "CHARACTERS", "CONDITIONS", "DEFAULT_COUNTS", "ESPEAK_ACCENTS", "ESPEAK_VARIANTS", "FESTIVAL_VOICES", "FLITE_VOICES", "KEYWORDS",
           "KEYWORD_CLASSES", "KeywordDataset", "SILENCE", "SPLITS", "SentenceDataset", "austen_clauses", "austen_sentences", "load_sentences", "normalise_transcript", "phonemes", "SpeechAugmentation", "UNKNOWN", "Utterances",
           "Voice", "check_synthesizers", "compose_stream", "load_alsa_speech", "load_asterisk_keywords", "load_asterisk_sentences", "load_keywords", "load_utterances", "natural_speakers", "render_clips",
           "speakers", "synthesize", "unknown_words"]


def compose_stream(utterances, indices, rng, gap_seconds=(0.5, 1.0), noise_db=-50.0):
    """One long recording: the utterances `indices` one after another with pauses and a noise floor.

    Returns `(audio, said)`: float32 audio and a list of `(start_s, stop_s, text)`.
    """
    pieces, said, position = [], [], 0
    for i in indices:
        gap = np.zeros(int(rng.uniform(*gap_seconds) * SAMPLE_RATE), np.float32)
        word = utterances.audio(int(i))
        pieces += [gap, word]
        position += len(gap)
        said.append((position / SAMPLE_RATE, (position + len(word)) / SAMPLE_RATE, utterances.texts[int(i)]))
        position += len(word)
    pieces.append(np.zeros(int(gap_seconds[1] * SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    audio = audio + _coloured_noise(rng, len(audio), "pink") * 10 ** (noise_db / 20)
    return np.clip(audio, -1, 1).astype(np.float32), said


# === Sentences, for speech recognition ===

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

    def audio(self, i):
        return self.utterances.audio(i)

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
    _check_split(split)
    count = (150 if neural else SENTENCE_COUNTS[split]) if count is None else int(count)
    if count < 1:
        raise InvalidInputError(f"`count` must be at least 1. Received: count={count}")
    name = "neural_sentences" if neural else "sentences"
    path = cache_dir() / "speech" / f"{name}-v{_FORMAT}-{split}-{count}-{seed}.npz"
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
        rng = _rng(seed, split, "sentence", i)
        voice = voices[rng.integers(len(voices))]
        text = texts[rng.integers(len(texts))]
        speed, pitch = _draw_prosody(rng, voice, (130, 200), (0.85, 1.2))
        plan.append((i, text, voice, speed, pitch))

    def one(item):
        _, text, voice, speed, pitch = item
        audio = synthesize(text, voice, speed, pitch)
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        return (audio / max(peak, 1e-4) * 0.7 * 32767).astype(np.int16), phonemes(text)

    results = _parallel_map(one, plan, f"synthesising {split} sentences" + (" with neural voices" if neural else ""))
    utterances = Utterances.from_pieces([r[0] for r in results], np.arange(count), [p[1] for p in plan],
                                        [p[2].name for p in plan])
    phones = tuple(r[1] for r in results)
    utterances.save(path, phonemes=phones)
    return SentenceDataset(utterances, phones, name, split, source, licence)
