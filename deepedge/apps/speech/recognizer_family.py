"""Speech recognition as the tools see it: spoken sentences (synthesised, neural, real telephone),
character error rate, the streaming export with its character language model and the held-out
voices on its card, training by recipe, transcribing a user's recording as it streams, the demo."""

import time
from pathlib import Path

import numpy as np

from deepedge.apps.family import Family
from deepedge.apps.speech.keyword_family import check_test_only
from deepedge.apps.speech.presets import ASR_ARCHITECTURES, ASR_TRAINED
from deepedge.errors import InvalidInputError, ModelFileError

LM_BEAM_WIDTH = 16
PLOT_SECONDS = 30  # `predict --out` draws the outputs of the first 30 s of a recording
LM_TUNING_SENTENCES = 100
REAL_SPEECH = ("asterisk_sentences",)  # a test set only: never trained on


class SpeechRecognition(Family):
    family = "speech"
    task_name = "speech_recognition"
    title = "Speech recognition"
    keras_classes = ("SpeechRecognizer",)
    data_names = ("sentences", "neural_sentences", "asterisk_sentences")
    unit = "sentences, voices and chapters held out from training"
    demo_name = "speech"
    default_model = "asr_ctc"
    beam_search = True
    shipped = ("asr_ctc",)
    task_class = "deepedge.apps.speech.speech_recognizer:SpeechRecognizer"
    architectures = ASR_ARCHITECTURES
    recipes = ASR_TRAINED

    def load_data(self, name, split):
        """Spoken sentences: synthesised `sentences` or `neural_sentences` (Kokoro's voices of the
        split; any split) or the real speaker's `asterisk_sentences` (test)."""
        from deepedge.data.speech import load_asterisk_sentences, load_sentences

        check_test_only(name, split, REAL_SPEECH)
        if name == "asterisk_sentences":
            return load_asterisk_sentences()
        return load_sentences(split, neural=name == "neural_sentences")

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from deepedge.ops.ctc import character_error_rate, word_error_rate
        from deepedge.progress import progress_bar

        data = self.load_data(data_name, split)
        if limit:
            data = data.take(limit)
        model, kind = self.open_model(path)
        hypotheses = []
        with progress_bar() as progress:
            bar = progress.add_task(f"Transcribing {data_name}/{split}", total=len(data))
            for i in range(len(data)):
                hypotheses.append(model.transcribe(data.waveform(i), beam_width) if beam_width
                                  else model.transcribe(data.waveform(i)))
                progress.advance(bar)
        with_lm = " + character language model" if getattr(model, "language_model", None) is not None else ""
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "unit": "sentences", "metric": "cer", "value": round(character_error_rate(data.texts, hypotheses), 4),
                "wer": round(word_error_rate(data.texts, hypotheses), 4),
                "decoding": f"beam {beam_width}{with_lm}" if beam_width else "greedy",
                "samples": [{"reference": r, "hypothesis": h} for r, h in zip(data.texts[:3], hypotheses)]}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        from deepedge.data.kokoro import LICENCE, SOURCE
        from deepedge.data.speech import load_sentences

        model = self.load_keras(model_path)
        train, test = load_sentences("train"), load_sentences("test")
        data_info = {"name": "sentences", "source": f"{test.source}; neural voices: {SOURCE}",
                     "licence": f"{test.licence}; {LICENCE}", "train_examples": len(train),
                     "test_examples": len(test), "test_speakers": len(set(test.speakers))}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 150, latency_runs=300,
                            extra_metadata={"data": "sentences"},
                            report=lambda folder, meta: self._report(folder, test),
                            card=self.card_info(data_info, command))

    def _report(self, folder, test):
        """Greedy and language-model transcripts of the exported model, its real-time factor, and the
        held-out neural and real voices; writes the character language model beside the model."""
        from deepedge.data.speech import load_asterisk_sentences, load_sentences
        from deepedge.ops.ctc import character_error_rate, word_error_rate
        from deepedge.progress import progress_bar
        from deepedge.runtime import load

        runtime = load(folder)
        started, audio_seconds, test_logits, greedy = time.perf_counter(), 0.0, [], []
        for i in range(len(test)):
            audio = test.waveform(i)
            audio_seconds += len(audio) / 16000
            test_logits.append(runtime.logits(audio))
            greedy.append(runtime.decode(test_logits[-1]))
        rtf = (time.perf_counter() - started) / audio_seconds
        language_model = _recognizer_language_model(runtime, folder)
        runtime = load(folder)  # now with its language model
        lm_beam = LM_BEAM_WIDTH
        with progress_bar() as progress:
            bar = progress.add_task("Beam search on sentences/test", total=len(test) + min(200, len(test)))
            beam, fused, fused_seconds = [], [], 0.0
            for i, sentence_logits in enumerate(test_logits):
                if i < 200:
                    beam.append(runtime.decode(sentence_logits, 8, use_language_model=False))
                    progress.advance(bar)
                started = time.perf_counter()
                fused.append(runtime.decode(sentence_logits, lm_beam))
                fused_seconds += time.perf_counter() - started
                progress.advance(bar)
        real = _sentences_report(runtime, load_asterisk_sentences(), lm_beam, "Real speech (asterisk_sentences)")
        neural = _sentences_report(runtime, load_sentences("test", neural=True), lm_beam,
                                   "Held-out neural voices (neural_sentences)")
        recognition = {
            "wer_greedy": round(word_error_rate(test.texts, greedy), 3),
            "cer_beam8_first200": round(character_error_rate(test.texts[:len(beam)], beam), 3),
            "cer_greedy_first200": round(character_error_rate(test.texts[:len(beam)], greedy[:len(beam)]), 3),
            "cer_beam_lm": round(character_error_rate(test.texts, fused), 3),
            "wer_beam_lm": round(word_error_rate(test.texts, fused), 3), "beam_lm_width": lm_beam,
            "real_time_factor": round(rtf, 4),
            "real_time_factor_beam_lm": round(rtf + fused_seconds / audio_seconds, 4),
            "audio_seconds": round(audio_seconds, 1),
            "samples": [{"reference": r, "hypothesis": h, "hypothesis_lm": f}
                        for r, h, f in zip(test.texts[:5], greedy[:5], fused[:5])],
            "real_speech": {"data": "asterisk_sentences", **real},
            "neural_voices": {"data": "neural_sentences/test", **neural}}
        return {"language_model": language_model, "metrics": {"recognition": recognition}}

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        recognition = metrics["recognition"]
        neural, real = recognition["neural_voices"], recognition["real_speech"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, CER float "
                f"{metrics['keras_float']:.2f}% vs {quantization} {metrics[f'litert_{quantization}']:.2f}% on "
                f"held-out voices and chapters, real-time factor {recognition['real_time_factor']:.4f} on one "
                f"thread; with the character language model (beam {recognition['beam_lm_width']}): CER "
                f"{recognition['cer_beam_lm']:.2f}%; held-out neural voices {neural['cer_greedy']:.2f}% greedy, "
                f"{neural['cer_beam_lm']:.2f}% with the language model; real telephone speech "
                f"{real['cer_greedy']:.2f}% / {real['cer_beam_lm']:.2f}%")

    def card_sections(self, card):
        metrics = card.get("metrics") or {}
        lines = []
        recognition = metrics.get("recognition")
        if recognition:  # speech recognition: words, beam search, streaming speed, examples
            lines += ["", "## Recognition on device (test split)", "",
                      f"Word error rate {recognition['wer_greedy']:.1f}% (greedy). Beam search (width 8, no language "
                      f"model) on the first 200 sentences: CER {recognition['cer_beam8_first200']:.1f}% against "
                      f"{recognition['cer_greedy_first200']:.1f}% greedy. Streaming real-time factor "
                      f"{recognition['real_time_factor']:.4f} on one thread over {recognition['audio_seconds']:.0f} s "
                      "of audio (chunks in, state carried, CTC decoding in numpy)."]
            lm = card.get("language_model")
            if "cer_beam_lm" in recognition and lm:
                lines += ["", f"With the character language model ({lm['kind']}, {lm['contexts']:,} contexts, "
                          f"{lm['size_bytes'] / 1024:.0f} KiB, `{lm['file']}`; weight {lm['lm_weight']:g} and "
                          f"{lm['length_bonus']:g} per character, tuned on {lm['tuning']['sentences']} validation "
                          f"sentences), beam {recognition['beam_lm_width']}: CER "
                          f"{recognition['cer_beam_lm']:.2f}%, word error rate {recognition['wer_beam_lm']:.1f}%, "
                          f"real-time factor {recognition['real_time_factor_beam_lm']:.4f} with decoding."]
            with_lm = any("hypothesis_lm" in x for x in recognition.get("samples", []))
            lines += ["", "| said | heard (int8, greedy) |" + (" with the language model |" if with_lm else ""),
                      "| --- | --- |" + (" --- |" if with_lm else "")]
            lines += [f"| {x['reference']} | {x['hypothesis']} |"
                      + (f" {x.get('hypothesis_lm', '')} |" if with_lm else "")
                      for x in recognition.get("samples", [])]
        for key, heading, unit in (("neural_voices", "Held-out neural voices (never trained on)", "sentences"),
                                   ("real_speech", "Real speech (never trained on)", "prompts")):
            held_out = (recognition or {}).get(key)
            if held_out:  # speech recognition on voices the model never heard
                lines += ["", f"## {heading}", "",
                          f"{held_out['source']}: {held_out['sentences']} {unit}, "
                          f"{held_out['audio_seconds']:.0f} s. CER "
                          f"{held_out['cer_greedy']:.1f}% greedy (word error rate {held_out['wer_greedy']:.1f}%), "
                          f"{held_out['cer_beam_lm']:.1f}% with the language model (word error rate "
                          f"{held_out['wer_beam_lm']:.1f}%).",
                          "", "| said | heard (int8, greedy) | with the language model |", "| --- | --- | --- |"]
                lines += [f"| {x['reference']} | {x['hypothesis']} | {x['hypothesis_lm']} |"
                          for x in held_out.get("samples", [])]
        return lines

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.speech.recipes import train_recognizer

        _, report = train_recognizer(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation character error rate {report['validation_metric']:.2f}% "
                f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def predict_file(self, runtime, file, out=None, top_k=3, console=None):
        """Transcribes a recording as it streams: the greedy transcript as it grows, then beam
        search (beam 8, and with the language model), all three decoded in the same pass, so
        time and memory per second of audio stay the same for a recording of any length."""
        from deepedge.ops.audio import load_audio
        from deepedge.ops.ctc import BeamStream, GreedyStream

        audio = load_audio(file, runtime.sample_rate)
        console.print(f"{Path(file).name}: {len(audio) / runtime.sample_rate:.1f} s, streamed in "
                      f"{runtime.chunk_samples / runtime.sample_rate * 1000:.0f} ms chunks:")
        decoders = {"greedy": GreedyStream(runtime.characters), "beam 8": BeamStream(runtime.characters, 8)}
        if runtime.language_model is not None:
            decoders[f"beam {LM_BEAM_WIDTH} + character language model"] = BeamStream(
                runtime.characters, LM_BEAM_WIDTH, language_model=runtime.language_model)
        greedy, shown, plotted = decoders["greedy"], 0, []
        plot_steps = int(PLOT_SECONDS * runtime.sample_rate / runtime.chunk_samples)
        started = time.perf_counter()
        for seconds, chunk_logits in runtime.stream(audio):
            for decoder in decoders.values():
                decoder.advance(chunk_logits)
            if len(greedy.pieces) != shown:  # the newest words, not the whole transcript again
                shown = len(greedy.pieces)
                console.print(f"  {seconds:6.2f} s  {''.join(greedy.pieces[-70:])}", highlight=False)
            if out and len(plotted) < plot_steps:
                plotted.append(chunk_logits)
        texts = {name: decoder.text if name == "greedy" else decoder.finish() for name, decoder in decoders.items()}
        elapsed = time.perf_counter() - started
        for name, text in texts.items():
            console.print(f"{name}: [bold]{text}[/]", highlight=False)
        console.print(f"real-time factor {elapsed / max(len(audio) / runtime.sample_rate, 1e-9):.4f} on one thread, "
                      "all three decodings included")
        if out:
            from deepedge.plots import draw_ctc_outputs

            logits = np.concatenate(plotted) if plotted else np.zeros((0, len(runtime.characters) + 1))
            shown_audio = audio[:len(plotted) * runtime.chunk_samples]
            console.print(f"wrote {draw_ctc_outputs(shown_audio, logits, runtime.characters, out, title=Path(file).name)}"
                          + (f" (the first {PLOT_SECONDS} s)" if len(audio) > len(shown_audio) else ""))

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.speech.demo import run_recognizer_demo

        return run_recognizer_demo(self, out, limit=limit, console=console)


def _recognizer_language_model(runtime, out):
    """Builds the character language model from the training chapters, tunes its weight on
    validation sentences, writes `language_model.npz` beside the model; its model.json entry."""
    from deepedge.apps.speech.character_lm import DEFAULT_ORDER, LM_MIN_COUNT, fit_char_lm, tune_fusion
    from deepedge.data.speech import load_sentences

    language_model = fit_char_lm(runtime.characters, order=DEFAULT_ORDER, min_count=LM_MIN_COUNT)
    validation = load_sentences("validation").take(LM_TUNING_SENTENCES)
    logits = [runtime.logits(validation.waveform(i)) for i in range(len(validation))]
    tuning = tune_fusion(language_model, logits, validation.texts, beam_width=LM_BEAM_WIDTH)
    return attach_language_model(
        out, language_model, kind=f"interpolated Kneser-Ney character {DEFAULT_ORDER}-gram",
        trained_on="every clause of the training chapters", min_count=LM_MIN_COUNT,
        tuning={"sentences": len(validation), "split": "validation", "beam_width": LM_BEAM_WIDTH,
                "cer": [{"lm_weight": w, "length_bonus": b, "cer": round(c, 3)} for (w, b), c in tuning.items()]})


def _sentences_report(runtime, data, beam_width, description):
    """Greedy and language-model CER/WER of the on-device recogniser `runtime` on `data`, with examples."""
    from deepedge.data.speech import SAMPLE_RATE
    from deepedge.ops.ctc import character_error_rate, word_error_rate
    from deepedge.progress import progress_bar

    greedy, fused = [], []
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(data))
        for i in range(len(data)):
            logits = runtime.logits(data.waveform(i))
            greedy.append(runtime.decode(logits))
            fused.append(runtime.decode(logits, beam_width))
            progress.advance(bar)
    return {"source": data.source, "sentences": len(data),
            "audio_seconds": round(float(np.diff(data.utterances.offsets).sum()) / SAMPLE_RATE, 1),
            "cer_greedy": round(character_error_rate(data.texts, greedy), 3),
            "wer_greedy": round(word_error_rate(data.texts, greedy), 3),
            "cer_beam_lm": round(character_error_rate(data.texts, fused), 3),
            "wer_beam_lm": round(word_error_rate(data.texts, fused), 3),
            "samples": [{"reference": r, "hypothesis": h, "hypothesis_lm": f}
                        for r, h, f in zip(data.texts[:40:8], greedy[:40:8], fused[:40:8])]}


def attach_language_model(model_dir, language_model, file_name="language_model.npz", **info):
    """Writes `language_model` into an exported recogniser's folder and lists it in its
    model.json (file, checksum, size, weights and any `info`), so `deepedge.edge.load` picks it
    up for beam search. Returns the model.json entry."""
    import hashlib
    import json

    from deepedge.fileio import atomic_write_json
    from deepedge.runtime.metadata import METADATA_NAME

    model_dir = Path(model_dir)
    json_path = model_dir / METADATA_NAME
    if not json_path.is_file():
        raise ModelFileError(f"No {METADATA_NAME} in {model_dir}: export the recogniser there first.")
    meta = json.loads(json_path.read_text())
    if meta.get("task") != "speech_recognition":
        raise InvalidInputError(f"{model_dir} holds a {meta.get('task')!r} model; a character language model "
                                "goes with a speech recogniser.")
    if tuple(meta.get("characters", ())) != language_model.characters:
        raise InvalidInputError(f"The language model's alphabet {''.join(language_model.characters)!r} differs from "
                                f"the recogniser's {''.join(meta.get('characters', ()))!r}.")
    path = language_model.save(model_dir / file_name)
    entry = {"file": file_name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
             "size_bytes": path.stat().st_size, "order": language_model.order,
             "contexts": sum(language_model.num_contexts), "lm_weight": language_model.lm_weight,
             "length_bonus": language_model.length_bonus, **info}
    meta["language_model"] = entry
    atomic_write_json(json_path, meta)
    return entry
