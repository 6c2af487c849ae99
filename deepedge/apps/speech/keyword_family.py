"""Keyword spotting as the tools see it: synthesised, neural and real spoken keywords,
accuracy and false accepts, the export with real speech on its card, training by recipe,
spotting keywords in a user's recording, the demo."""

from pathlib import Path

from deepedge.apps.family import Family
from deepedge.apps.speech.presets import KWS_ARCHITECTURES, KWS_TRAINED
from deepedge.errors import InvalidInputError

REAL_SPEECH = ("alsa_speech", "asterisk_speech")  # test sets only: never trained on


def check_test_only(name, split, real):
    if name in real and split != "test":
        raise InvalidInputError(f"{name} is a test set only (real speech never trained on). Received: split={split!r}")


class KeywordSpotting(Family):
    family = "speech"
    task_name = "keyword_spotting"
    title = "Keyword spotting"
    keras_classes = ("KeywordSpotter",)
    data_names = ("keywords", "neural_keywords", "alsa_speech", "asterisk_speech")
    unit = "1-second clips of voices held out from training"
    demo_name = "speech"
    predict_name = "speech"
    default_model = "kws_dscnn"
    shipped = ("kws_dscnn",)
    task_class = "deepedge.apps.speech.keyword_spotter:KeywordSpotter"
    architectures = KWS_ARCHITECTURES
    recipes = KWS_TRAINED

    def load_data(self, name, split):
        """Synthesised `keywords` or `neural_keywords` (Kokoro's voices of the split; any split),
        or real speech never trained on (test only): `alsa_speech` (alsa-utils' speaker) or
        `asterisk_speech` (Asterisk's telephone prompts)."""
        from deepedge.data.speech import load_alsa_speech, load_asterisk_keywords, load_keywords, neural_keywords

        check_test_only(name, split, REAL_SPEECH)
        if name == "alsa_speech":
            return load_alsa_speech()
        if name == "asterisk_speech":
            return load_asterisk_keywords()
        if name == "neural_keywords":
            return neural_keywords(split)
        return load_keywords(split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from rich.console import Console

        dataset = self.load_data(data_name, split)
        if limit:
            dataset = dataset.take(limit)
        model, kind = self.open_model(path)
        with Console(stderr=True).status(f"Spotting keywords in {data_name}/{split}..."):
            report = model.evaluate_report(dataset)
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(dataset),
                "unit": "1-second clips", "metric": "accuracy", "value": round(report["accuracy"], 4),
                **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.items()
                   if k not in ("accuracy", "examples")}}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        import numpy as np

        from deepedge.data.speech import (SpeechAugmentation, load_alsa_speech, load_asterisk_keywords,
                                          load_keywords, neural_keywords)

        model = self.load_keras(model_path)
        calibration_samples = calibration_samples or 500
        train = load_keywords("train")
        # Calibration on clips as training sees them (rooms, noise, phone lines), from a seed no epoch drew.
        calibration = train.take(calibration_samples).clips(np.random.default_rng(7), SpeechAugmentation())
        test = load_keywords("test")
        real, telephone, neural = load_alsa_speech(), load_asterisk_keywords(), neural_keywords("test")

        def real_speech_report(folder, meta):
            from deepedge.runtime import load

            runtime = load(folder)
            reports = {}
            for name, data in (("keywords/test", test), ("neural_keywords/test (held-out neural voices)", neural),
                               ("alsa_speech (real)", real), ("asterisk_speech (real, telephone)", telephone)):
                reports[name] = {"keras_float": model.evaluate_report(data),
                                 f"litert_{quantization}": runtime.evaluate_report(data)}
            return {"metrics": {"keyword_reports": reports}}

        data_info = {"name": "keywords", "source": f"{test.source}; neural voices: {neural.source}",
                     "licence": f"{test.licence}; {neural.licence}",
                     "train_examples": len(train), "test_examples": len(test),
                     "test_speakers": len(set(test.speakers)), "real_speech": f"{real.source}; {telephone.source}"}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=calibration, evaluation_data=test,
                            force=force, num_calibration=calibration_samples, extra_metadata={"data": "keywords"},
                            report=real_speech_report, card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, accuracy float "
                f"{metrics['keras_float']:.2f}% vs {quantization} {metrics[f'litert_{quantization}']:.2f}% on "
                f"held-out voices, median {meta['latency_us']['median']:.0f} us per 1-second clip")

    def card_sections(self, card):
        reports = (card.get("metrics") or {}).get("keyword_reports")
        if not reports:
            return []
        threshold = next(iter(next(iter(reports.values())).values())).get("threshold", 0.0)
        lines = ["", f"## Keywords, false accepts and real speech (threshold {threshold:.2f})", "",
                 "| data | model | accuracy | keyword accuracy | false accepts, unknown words | "
                 "false accepts, silence | clips |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for data_name, kinds in reports.items():
            for kind, r in kinds.items():
                lines.append(f"| {data_name} | {kind} | {r['accuracy_with_threshold']:.1f}% | "
                             f"{_percent(r.get('keyword_accuracy'))} | {_percent(r.get('false_accepts_unknown'))} | "
                             f"{_percent(r.get('false_accepts_silence'))} | {r['examples']} |")
        return lines + ["", "Accuracy here applies the rejection threshold (a keyword below it counts as "
                            "`_unknown_`); the parity figure above is the plain argmax."]

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.speech.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        validation = report["validation"]
        return (f"Trained {preset}: validation accuracy {validation['accuracy']:.2f}%, false accepts "
                f"{validation['false_accepts_unknown']:.1f}% at threshold {validation['threshold']:.2f}, in "
                f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def predict_file(self, runtime, file, out=None, top_k=3, console=None):
        from deepedge.apps.speech.demo import print_detections
        from deepedge.ops.audio import fit_clip, load_audio
        from deepedge.plots import draw_keyword_stream

        audio = load_audio(file, runtime.sample_rate)
        seconds = len(audio) / runtime.sample_rate
        if len(audio) <= runtime.clip_samples * 1.1:
            clip = fit_clip(audio, runtime.clip_samples)
            decision = runtime.label(clip)[0]
            console.print(f"{Path(file).name}: {seconds:.2f} s -> [bold]{decision}[/] "
                          f"(rejection threshold {runtime.threshold:.2f})", highlight=False)
            for label, score in runtime.classify(clip, top_k=top_k)[0]:
                console.print(f"{label:>12s}  {score:.3f}")
            audio, scores, detections = clip, runtime.predict(clip), []
        else:
            console.print(f"{Path(file).name}: {seconds:.1f} s, streamed in 1-second windows every 0.25 s:")
            detections, scores = print_detections(runtime, audio, console)
            if not detections:
                console.print("  no keyword detected")
        if out:
            path = draw_keyword_stream(audio, scores, runtime.class_names, [], detections, out,
                                       title=f"{Path(file).name}")
            console.print(f"wrote {path}")

    def commands(self):
        from deepedge.apps.speech.commands import command

        return [command]

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.speech.demo import run_keyword_demo

        return run_keyword_demo(self, out, limit=limit, console=console)


def _percent(value):
    return "-" if value is None else f"{value:.1f}%"
