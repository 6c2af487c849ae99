"""Speech synthesised with espeak-ng and flite (Debian) and Kokoro's neural voices, split by speaker.

| name | source | train | validation | test |
| --- | --- | --- | --- | --- |
| `keywords` | Debian `espeak-ng` + `flite` speaking the 20 Speech Commands core words; unknown words from Jane Austen | 60% of the espeak-ng voice variants; flite `kal`, `kal16`, `awb` | 15% of the variants; flite `rms` | 25% of the variants; flite `slt` |
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
`(seed, split, class, index)`, so every machine synthesises the same data. flite's voices
(`natural_speakers`) are built from recordings of real people.

Classes: `KEYWORDS` (yes, no, up, down, left, right, on, off, stop, go, zero .. nine), then
`_silence_` (background noise only) and `_unknown_` (other English words, drawn from Jane
Austen's novels; a word is train/validation/test by a hash of its spelling, so test
unknowns are words the model never heard, and homophones of keywords are excluded).

Synthesis runs once (about a minute for the default training set on 2 cores) and is cached
as int16 under `cache_dir()/speech`. Training clips are rendered anew every epoch by
`SpeechAugmentation` (shift, speed, gain, noise at a random SNR, reverberation, telephone
band), validation and test clips once, clean, at fixed positions.

Modules: `voices` (speakers and synthesis), `keywords` (`Utterances`, `KeywordDataset` and their
loaders), `augmentation` (`SpeechAugmentation`), `sentences` (`SentenceDataset`, for the
recogniser) and `real_speech` (the ALSA and Asterisk recordings).
"""

from deepedge.data.cache import SPLITS
from deepedge.data.speech.augmentation import CONDITIONS, SpeechAugmentation
from deepedge.data.speech.keywords import (DEFAULT_COUNTS, KEYWORD_CLASSES, KEYWORDS, SILENCE, UNKNOWN, KeywordDataset,
                                           Utterances, compose_stream, join_keywords, load_keywords,
                                           load_neural_keywords, load_utterances, neural_keywords, render_clips,
                                           unknown_words)
from deepedge.data.speech.real_speech import (ALSA_WORDS, ASTERISK_LICENCE, ASTERISK_SOURCE, load_alsa_speech,
                                              load_asterisk_keywords, load_asterisk_sentences)
from deepedge.data.speech.sentences import (CHARACTERS, SENTENCE_COUNTS, SentenceDataset, austen_clauses,
                                            austen_sentences, load_sentences, normalise_transcript, phonemes)
from deepedge.data.speech.voices import (ESPEAK_ACCENTS, ESPEAK_VARIANTS, FLITE_VOICES, Voice,
                                         check_synthesizers, natural_speakers, neural_speakers, speakers, synthesize,
                                         variant_split)
from deepedge.ops.audio import SAMPLE_RATE

__all__ = ["ALSA_WORDS", "ASTERISK_LICENCE", "ASTERISK_SOURCE", "CHARACTERS", "CONDITIONS", "DEFAULT_COUNTS",
           "ESPEAK_ACCENTS", "ESPEAK_VARIANTS", "FLITE_VOICES", "KEYWORDS", "KEYWORD_CLASSES",
           "KeywordDataset", "SAMPLE_RATE", "SENTENCE_COUNTS", "SILENCE", "SPLITS", "SentenceDataset",
           "SpeechAugmentation", "UNKNOWN", "Utterances", "Voice", "austen_clauses", "austen_sentences",
           "check_synthesizers", "compose_stream", "join_keywords", "load_alsa_speech", "load_asterisk_keywords",
           "load_asterisk_sentences", "load_keywords", "load_neural_keywords", "load_sentences", "load_utterances",
           "natural_speakers", "neural_keywords", "neural_speakers", "normalise_transcript", "phonemes",
           "render_clips", "speakers", "synthesize", "unknown_words", "variant_split"]
