"""The synthetic speakers (espeak-ng, flite, Kokoro), synthesis, and seeded prosody draws."""

import concurrent.futures
import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from deepedge.data.cache import check_split
from deepedge.errors import DataNotFoundError, InvalidInputError
from deepedge.ops.audio import SAMPLE_RATE, read_wav, resample, to_mono, trim_silence

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
    check_split(split)
    variants = [v for i, v in enumerate(sorted(ESPEAK_VARIANTS, key=str.lower)) if variant_split(i) == split]
    voices = [Voice("espeak-ng", accent, variant) for variant in variants for accent in ESPEAK_ACCENTS]
    return voices + [v for v in natural_speakers(split) if v.engine == "flite"]


def natural_speakers(split):
    """The speakers of a split whose voices are built from recordings of real people: flite's
    (diphone and CMU ARCTIC clustergen voices)."""
    check_split(split)
    return [Voice("flite", name) for name, s in _FLITE_SPLIT.items() if s == split]


def neural_speakers(split):
    """The speakers of a split that are Kokoro's neural voices (`deepedge.data.kokoro`)."""
    from deepedge.data.kokoro import kokoro_voices

    return [Voice("kokoro", name) for name in kokoro_voices(split)]


def check_synthesizers():
    """Raises `DataNotFoundError` naming the Debian packages when espeak-ng or flite is missing."""
    missing = [tool for tool in ("espeak-ng", "flite") if shutil.which(tool) is None]
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
        pitch: float in [0, 1]. Relative pitch (espeak-ng 0..99; flite within the voice's F0
            range; Kokoro's neural voices have no pitch control and ignore it).
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
    elif voice.engine == "kokoro":
        from deepedge.data.kokoro import NATIVE_RATE, synthesizer

        audio, rate = synthesizer()(text, voice.voice, speed), NATIVE_RATE
    else:
        raise InvalidInputError(f"Unknown speech engine {voice.engine!r}. Expected 'espeak-ng', 'flite' "
                                "or 'kokoro'.")
    return trim_silence(resample(to_mono(audio), rate, SAMPLE_RATE))


def seeded_rng(*parts):
    """A numpy Generator seeded by a hash of `parts` (the same on every machine)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def draw_prosody(rng, voice, words_per_minute, duration_stretch):
    """`(speed, pitch)` for one utterance: espeak-ng's rate drawn in `words_per_minute` (pitch
    0.15-0.85), flite's duration stretch in `duration_stretch` (pitch anywhere in its range)."""
    if voice.engine == "espeak-ng":
        return rng.uniform(*words_per_minute) / 165, rng.uniform(0.15, 0.85)
    return 1.0 / rng.uniform(*duration_stretch), rng.uniform(0.0, 1.0)


def parallel_map(func, items, description):
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


__all__ = ["ESPEAK_ACCENTS", "ESPEAK_VARIANTS", "FLITE_VOICES", "Voice", "check_synthesizers",
           "draw_prosody", "natural_speakers", "neural_speakers", "parallel_map", "seeded_rng", "speakers",
           "synthesize", "variant_split"]
