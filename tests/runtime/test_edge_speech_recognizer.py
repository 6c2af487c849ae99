"""EdgeSpeechRecognizer: one exported streaming step transcribes on device, with or without an
attached character language model."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError, ModelFileError


@pytest.mark.slow
def test_recogniser_exports_one_streaming_step_and_transcribes_on_device(tiny_recognizer, tmp_path):
    from deepedge.data.speech import load_sentences
    from deepedge.edge import load

    data = load_sentences("validation", 3)
    meta = tiny_recognizer.export(tmp_path / "asr", calibration_data=data, num_calibration=40, latency_runs=20)
    assert meta["signatures"] == {"step": {"inputs": sorted(meta["signatures"]["step"]["inputs"]),
                                           "outputs": sorted(meta["signatures"]["step"]["outputs"])}}
    assert {"TRANSPOSE", "LOG", "FULLY_CONNECTED"} <= set(meta["ops"]) and "RFFT2D" not in meta["ops"] and meta["input"]["chunk_samples"] == 1280
    runtime = load(tmp_path / "asr")
    audio = data.waveform(0)
    logits = runtime.logits(audio)
    keras_logits = tiny_recognizer.logits(audio)
    assert logits.shape == keras_logits.shape and np.abs(logits - keras_logits).max() < 0.25
    partial = list(runtime.transcribe_stream(audio))
    assert len(partial) == int(np.ceil(len(audio) / 1280)) and partial[-1][0] >= len(audio) / 16000
    assert isinstance(runtime.transcribe(audio, beam_width=4), str) and runtime.language_model is None
    with pytest.raises(InvalidInputError, match="mono"):
        runtime.transcribe(np.zeros((100, 2), np.float32))

    # A character language model attached to the folder joins beam search on device.
    from deepedge.apps.speech.character_lm import fit_char_lm
    from deepedge.apps.speech.recognizer_family import attach_language_model

    lm = fit_char_lm(runtime.characters, order=3, texts=data.texts * 4)
    entry = attach_language_model(tmp_path / "asr", lm)
    with_lm = load(tmp_path / "asr")
    assert with_lm.metadata["language_model"] == entry and with_lm.language_model.num_contexts == lm.num_contexts
    assert isinstance(with_lm.transcribe(audio, beam_width=4), str)
    assert with_lm.transcribe(audio) == runtime.transcribe(audio)  # greedy decoding ignores it
    (tmp_path / "asr" / entry["file"]).write_bytes(b"not an npz")
    with pytest.raises(ModelFileError, match="does not match"):
        load(tmp_path / "asr").transcribe(audio, beam_width=4)
    with pytest.raises(InvalidInputError, match="alphabet"):
        attach_language_model(tmp_path / "asr", fit_char_lm(list(" ab"), order=2, texts=["ab ba"]))
