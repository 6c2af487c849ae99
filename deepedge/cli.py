"""`deepedge`: train, evaluate, export, benchmark and demo the shipped models.

Commands that need Keras import it (through `deepedge.backend`, which keeps TensorFlow's
log lines off the terminal) only when they run, so `deepedge --help`, `info` and `bench`
on an exported model start fast and work with `deepedge[edge]` alone.
"""

import json
import sys
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from deepedge.errors import DeepEdgeError, InvalidInputError
from deepedge.progress import map_in_chunks

console = Console()
err_console = Console(stderr=True)


def _is_exported(path):
    path = Path(path)
    return path.suffix in (".tflite", ".json") or (path.is_dir() and (path / "model.json").exists())


def _resolve_model(model):
    """A path as given, or a shipped model's folder when `model` is a shipped name."""
    path = Path(model)
    if path.exists():
        return path
    from deepedge.presets import shipped_model_dir

    return shipped_model_dir(model)


def _data_name(path, data):
    """The data set a model was trained on: --data, else model.json/training.json beside it."""
    if data:
        return data
    folder = path if path.is_dir() else path.parent
    for name in ("model.json", "training.json"):
        candidate = folder / name
        if candidate.exists():
            recorded = json.loads(candidate.read_text()).get("data")
            if isinstance(recorded, dict):
                recorded = recorded.get("name")
            if recorded:
                return recorded
    raise InvalidInputError(f"Cannot tell which data set {path} belongs to. Pass --data "
                            "(fashion_mnist, mnist_subset or digits).")


def _keras_path(path):
    if path.is_dir():
        return path / "model.keras"
    return path


def _open_model(path, load_keras):
    """`(model, kind)`: the on-device runtime of an exported folder, or the `.keras` model via `load_keras`."""
    if _is_exported(path):
        from deepedge.edge import load

        model = load(path)
        return model, f"litert_{model.metadata['quantization']}"
    return load_keras(_keras_path(path)), "keras_float"


def _evaluate_language_model(path, split, limit):
    from deepedge.data.text import load_austen

    corpus = load_austen(split)
    if limit:
        corpus = corpus.take(limit)
    model, kind = _open_model(path, _load_keras)
    with err_console.status(f"Measuring perplexity on austen/{split}..."):
        value = model.perplexity(corpus)
    return {"model": str(path), "kind": kind, "data": "austen", "split": split,
            "examples": len(model.tokenizer.encode_paragraphs(corpus.paragraphs)), "unit": "tokens",
            "metric": "perplexity", "value": round(value, 4)}


SEGMENTATION_DATA = ("scenes", "nuclei")
SPEECH_DATA = ("keywords", "neural_keywords", "alsa_speech", "asterisk_speech")
SENTENCE_DATA = ("sentences", "neural_sentences", "asterisk_sentences")
REAL_SPEECH = ("alsa_speech", "asterisk_speech", "asterisk_sentences")  # test sets only: never trained on


def _load_recognizer(path):
    from deepedge.apps.speech.recognizer import SpeechRecognizer

    return SpeechRecognizer.load(path)


def _check_real_speech(name, split):
    if name in REAL_SPEECH and split != "test":
        raise InvalidInputError(f"{name} is a test set only (real speech never trained on). "
                                f"Received: split={split!r}")


def load_sentence_dataset(name, split):
    """Spoken sentences by name: synthesised `sentences` or `neural_sentences` (Kokoro's voices
    of the split; any split) or the real speaker's `asterisk_sentences` (test)."""
    from deepedge.data.speech import load_asterisk_sentences, load_sentences

    _check_real_speech(name, split)
    if name == "asterisk_sentences":
        return load_asterisk_sentences()
    return load_sentences(split, neural=name == "neural_sentences")


def _evaluate_recognizer(path, name, split, limit, beam_width=None):
    from deepedge.edge.ctc import character_error_rate, word_error_rate
    from deepedge.progress import progress_bar

    data = load_sentence_dataset(name, split)
    if limit:
        data = data.take(limit)
    model, kind = _open_model(path, _load_recognizer)
    hypotheses = []
    with progress_bar() as progress:
        bar = progress.add_task(f"Transcribing {name}/{split}", total=len(data))
        for i in range(len(data)):
            hypotheses.append(model.transcribe(data.audio(i), beam_width) if beam_width else model.transcribe(data.audio(i)))
            progress.advance(bar)
    return {"model": str(path), "kind": kind, "data": name, "split": split, "examples": len(data),
            "unit": "sentences", "metric": "cer", "value": round(character_error_rate(data.texts, hypotheses), 4),
            "wer": round(word_error_rate(data.texts, hypotheses), 4),
            "decoding": (f"beam {beam_width}" + (" + character language model"
                                                 if getattr(model, "language_model", None) is not None else ""))
            if beam_width else "greedy", "samples": [{"reference": r, "hypothesis": h} for r, h in zip(data.texts[:3], hypotheses)]}


def _load_keyword_spotter(path):
    from deepedge.apps.speech import KeywordSpotter

    return KeywordSpotter.load(path)


def load_speech_dataset(name, split):
    """A keyword data set by name: synthesised `keywords` or `neural_keywords` (Kokoro's
    neural voices of the split; any split), or real speech never trained on (test only):
    `alsa_speech` (alsa-utils' speaker) or `asterisk_speech` (Asterisk's telephone prompts)."""
    from deepedge.data.speech import load_alsa_speech, load_asterisk_keywords, load_keywords, neural_keywords

    _check_real_speech(name, split)
    if name == "alsa_speech":
        return load_alsa_speech()
    if name == "asterisk_speech":
        return load_asterisk_keywords()
    if name == "neural_keywords":
        return neural_keywords(split)
    return load_keywords(split)


def _evaluate_keyword_spotter(path, name, split, limit):
    from deepedge.edge.keywords import keyword_report

    dataset = load_speech_dataset(name, split)
    if limit:
        dataset = dataset.take(limit)
    model, kind = _open_model(path, _load_keyword_spotter)
    with err_console.status(f"Spotting keywords in {name}/{split}..."):
        scores = model.predict(dataset.audio) if kind != "keras_float" else model.scores(dataset.audio)
    report = keyword_report(scores, dataset.labels, model.class_names, model.threshold)
    return {"model": str(path), "kind": kind, "data": name, "split": split, "examples": len(dataset),
            "unit": "1-second clips", "metric": "accuracy", "value": round(report["accuracy"], 4),
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.items()
               if k not in ("accuracy", "examples")}}


def _load_scene_labeller(path):
    from deepedge.apps import SceneLabeller

    return SceneLabeller.load(path)


def _evaluate_scene_labeller(path, name, split, limit):
    from deepedge.data.scenes import load_segmentation_dataset
    from deepedge.demo import segmentation_scores_with_progress
    from deepedge.edge.dense import metric_from_confusion

    dataset = load_segmentation_dataset(name, split)
    if limit:
        dataset = dataset.take(limit)
    model, kind = _open_model(path, _load_scene_labeller)
    scores, confusion = segmentation_scores_with_progress(model, dataset, f"Labelling {name}/{split}")
    return {"model": str(path), "kind": kind, "data": name, "split": split, "examples": len(dataset),
            "unit": "images", "metric": model.metric_name, "value": round(metric_from_confusion(confusion,
                                                                                                 model.metric_name), 4),
            "pixel_accuracy": round(100 * scores["pixel_accuracy"], 4), "iou": scores["iou"]}


def _load_keras(path):
    from deepedge.backend import keras
    import deepedge.apps  # noqa: F401  (registers the task classes)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError) as e:
        from deepedge.errors import ModelFileError

        raise ModelFileError(f"Cannot load {path} as a deepedge .keras model: {str(e)[:300]}") from e


def evaluate_model(model, split="test", data=None, limit=None, beam_width=None):
    """The task metric of a `.keras` or exported model on a split: a dict for `--json`.

    `beam_width` applies to speech recognisers (CTC beam search, with the exported character
    language model where there is one)."""
    from deepedge.data import load_image_dataset

    path = _resolve_model(model)
    name = _data_name(path, data)
    if beam_width and name not in SENTENCE_DATA:
        raise InvalidInputError(f"--beam applies to speech recognisers; {path} is evaluated on {name!r}.")
    if name == "austen":
        return _evaluate_language_model(path, split, limit)
    if name in SEGMENTATION_DATA:
        return _evaluate_scene_labeller(path, name, split, limit)
    if name in SPEECH_DATA:
        return _evaluate_keyword_spotter(path, name, split, limit)
    if name in SENTENCE_DATA:
        return _evaluate_recognizer(path, name, split, limit, beam_width)
    dataset = load_image_dataset(name, split)
    if limit:
        dataset = dataset.take(limit)
    if _is_exported(path):
        from deepedge.edge import load

        runtime = load(path)
        kind = f"litert_{runtime.metadata['quantization']}"
        predict = runtime.predict
    else:
        from deepedge.apps import ImageClassifier

        classifier = ImageClassifier.load(_keras_path(path))
        kind = "keras_float"
        predict = lambda x: classifier.predict(x, verbose=0)  # noqa: E731
    scores = map_in_chunks(predict, dataset.images, f"Evaluating on {dataset.name}/{split}")
    accuracy = float(100.0 * np.mean(np.argmax(scores, -1) == dataset.labels))
    return {"model": str(path), "kind": kind, "data": dataset.name, "split": split,
            "examples": len(dataset), "metric": "accuracy", "value": round(accuracy, 4)}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deepedge")
def cli():
    """deepedge: Keras applications of the Nature 'Deep learning' review, shipped as int8 LiteRT."""


@cli.command()
@click.argument("preset")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder. Defaults to saved_models/PRESET.")
@click.option("--epochs", type=click.IntRange(min=1), help="Override the recipe's epochs.")
@click.option("--limit", type=click.IntRange(min=1), help="Train on the first N training images only.")
@click.option("--export/--no-export", default=True, show_default=True, help="Export int8 with a model card afterwards.")
def train(preset, out, epochs, limit, export):
    """Train a preset by its recipe; run it again after an interruption to resume.

    Language-model presets train in mixed bfloat16 with oneDNN kernels (about 3x faster on
    CPUs with AVX-512 BF16); --limit then counts training chapters. Scene-labelling presets
    train with oneDNN kernels on fresh scenes every epoch; --limit then counts scenes (or
    nuclei tiles) per epoch. The keyword spotter renders fresh augmented clips every epoch;
    --limit then counts utterances per keyword.
    """
    import os

    from deepedge.presets import LANGUAGE_PRESETS, SCENE_PRESETS, SPEECH_PRESETS, saved_models_dir

    out = Path(out) if out else saved_models_dir() / preset
    # oneDNN's CPU kernels train every family here 20-30% faster; read once, at TensorFlow's import.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if preset in SPEECH_PRESETS:
        if preset == "asr_ctc":
            from deepedge.apps.speech.training import train_recognizer

            model, report = train_recognizer(preset, out, epochs=epochs, limit=limit)
            console.print(f"Trained {preset}: validation character error rate {report['validation_metric']:.2f}% "
                          f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")
            if export:
                _export(out / "model.keras", out, "int8", False, None, None)
            return
        from deepedge.apps.speech.training import train_preset

        model, report = train_preset(preset, out, epochs=epochs, limit=limit)
        validation = report["validation"]
        console.print(f"Trained {preset}: validation accuracy {validation['accuracy']:.2f}%, false accepts "
                      f"{validation['false_accepts_unknown']:.1f}% at threshold {validation['threshold']:.2f}, in "
                      f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")
    elif preset in SCENE_PRESETS:
        from deepedge.apps.scene_labelling.training import train_preset

        model, report = train_preset(preset, out, epochs=epochs, limit=limit)
        console.print(f"Trained {preset}: validation {model.metric_name.replace('_', ' ')} "
                      f"{report['validation_metric']:.2f} in {report['training_seconds'] / 60:.1f} min. "
                      f"Saved {out / 'model.keras'}")
    elif preset in LANGUAGE_PRESETS:
        from deepedge.apps.language_modelling.training import train_preset

        model, report = train_preset(preset, out, epochs=epochs, limit=limit)
        console.print(f"Trained {preset}: validation perplexity {report['validation_perplexity']:.2f} "
                      f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")
    else:
        from deepedge.apps.image_recognition.training import train_preset

        model, report = train_preset(preset, out, epochs=epochs, limit=limit)
        console.print(f"Trained {preset}: validation accuracy {100 * report['validation_accuracy']:.2f}% "
                      f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")
    if export:
        _export(out / "model.keras", out, "int8", False, None, None)


def _export_language_model(model_path, out, quantization, force, calibration_samples):
    from deepedge.data.text import load_austen
    from deepedge.edge.card import write_model_card
    from deepedge.edge.convert import export

    model = _load_keras(model_path)
    train, test = load_austen("train"), load_austen("test")
    with err_console.status(f"Converting to {quantization} and checking perplexity on austen/test..."):
        meta = export(model, out, quantization=quantization, calibration_data=train, evaluation_data=test,
                      force=force, num_calibration=calibration_samples, extra_metadata={"data": "austen"})
    data_info = {"name": "austen", "source": train.source, "licence": train.licence,
                 "train_words": train.num_words, "test_words": test.num_words}
    command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
    write_model_card(out, data=data_info, export_command=command)
    metrics = meta["metrics"]
    console.print(f"Exported {out}/model.tflite: {meta['size_bytes'] / 2**20:.1f} MiB, perplexity float "
                  f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                  f"median {meta['latency_us']['median']:.1f} us a step")
    return meta


def _export_scene_labeller(model_path, out, quantization, force, name, calibration_samples):
    from deepedge.apps import SceneLabeller
    from deepedge.data.scenes import load_nuclei, load_scenes
    from deepedge.edge import load
    from deepedge.edge.card import write_model_card

    model = SceneLabeller.load(model_path)
    calibration_samples = calibration_samples or 200
    if name == "scenes":
        train = load_scenes("train", calibration_samples, seed=7)  # scenes no training epoch drew
        test = load_scenes("test")
    else:
        train = load_nuclei("train", tile=model.export_size, stride=model.export_size // 4)
        test = load_nuclei("test")
    with err_console.status(f"Converting to {quantization} and checking {model.metric_name} on {name}/test..."):
        meta = model.export(out, quantization=quantization, calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples, latency_runs=200,
                            extra_metadata={"data": name})
    with err_console.status("Measuring IoU per class, float and exported..."):
        per_class = {"keras_float": model.evaluate_scores(test, tiled=True),
                     f"litert_{quantization}": load(out).evaluate_scores(test)}
        if test.images.shape[1:3] != model.edge_input_shape[:2]:  # larger than a tile: also whole
            per_class["keras_float_whole_image"] = model.evaluate_scores(test)
    meta["metrics"]["scores"] = per_class
    from deepedge.fileio import atomic_write_json

    atomic_write_json(Path(out) / "model.json", meta)
    data_info = {"name": name, "source": test.source, "licence": test.licence,
                 "test_images": len(test), "test_image_size": list(test.images.shape[1:3])}
    command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
    write_model_card(out, data=data_info, export_command=command)
    metrics = meta["metrics"]
    console.print(f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, {metrics['metric']} float "
                  f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                  f"median {meta['latency_us']['median'] / 1000:.2f} ms per {model.export_size}x"
                  f"{model.export_size} tile")
    return meta


def _export_keyword_spotter(model_path, out, quantization, force, name, calibration_samples):
    from deepedge.apps.speech import KeywordSpotter
    from deepedge.data.speech import (SpeechAugmentation, load_alsa_speech, load_asterisk_keywords, load_keywords,
                                      neural_keywords)
    from deepedge.edge import load
    from deepedge.edge.card import write_model_card
    from deepedge.edge.keywords import keyword_report
    from deepedge.fileio import atomic_write_json

    model = KeywordSpotter.load(model_path)
    calibration_samples = calibration_samples or 500
    train = load_keywords("train")
    # Calibration on clips as training sees them (rooms, noise, phone lines), from a seed no epoch drew.
    calibration = train.take(calibration_samples).clips(np.random.default_rng(7), SpeechAugmentation())
    test = load_keywords("test")
    with err_console.status(f"Converting to {quantization} and checking accuracy on keywords/test..."):
        meta = model.export(out, quantization=quantization, calibration_data=calibration, evaluation_data=test,
                            force=force, num_calibration=calibration_samples, extra_metadata={"data": "keywords"})
    with err_console.status("Measuring false accepts and real speech, float and exported..."):
        runtime = load(out)
        real, telephone, neural = load_alsa_speech(), load_asterisk_keywords(), neural_keywords("test")
        reports = {}
        for data_name, data in (("keywords/test", test), ("neural_keywords/test (held-out neural voices)", neural),
                                ("alsa_speech (real)", real), ("asterisk_speech (real, telephone)", telephone)):
            reports[data_name] = {
                "keras_float": keyword_report(model.scores(data.audio), data.labels, model.class_names,
                                              model.threshold),
                f"litert_{quantization}": runtime.evaluate_report(data)}
    meta["metrics"]["keyword_reports"] = reports
    atomic_write_json(Path(out) / "model.json", meta)
    data_info = {"name": "keywords", "source": f"{test.source}; neural voices: {neural.source}",
                 "licence": f"{test.licence}; {neural.licence}",
                 "train_examples": len(train), "test_examples": len(test),
                 "test_speakers": len(set(test.speakers)), "real_speech": f"{real.source}; {telephone.source}"}
    command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
    write_model_card(out, data=data_info, export_command=command)
    metrics = meta["metrics"]
    console.print(f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, accuracy float "
                  f"{metrics['keras_float']:.2f}% vs {quantization} {metrics[f'litert_{quantization}']:.2f}% on "
                  f"held-out voices, median {meta['latency_us']['median']:.0f} us per 1-second clip")
    return meta


LM_BEAM_WIDTH = 16
LM_TUNING_SENTENCES = 100


def _recognizer_language_model(runtime, out):
    """Builds the character language model from the training chapters, tunes its weight on
    validation sentences, writes `language_model.npz` beside the model; its model.json entry."""
    from deepedge.apps.speech.language_model import DEFAULT_ORDER, LM_MIN_COUNT, fit_char_lm, tune_fusion
    from deepedge.data.speech import load_sentences
    from deepedge.edge.charlm import attach_language_model

    with err_console.status(f"Fitting a character {DEFAULT_ORDER}-gram model on the training chapters..."):
        language_model = fit_char_lm(runtime.characters, order=DEFAULT_ORDER, min_count=LM_MIN_COUNT)
    validation = load_sentences("validation").take(LM_TUNING_SENTENCES)
    logits = [runtime.logits(validation.audio(i)) for i in range(len(validation))]
    tuning = tune_fusion(language_model, logits, validation.texts, beam_width=LM_BEAM_WIDTH)
    return attach_language_model(
        out, language_model, kind=f"interpolated Kneser-Ney character {DEFAULT_ORDER}-gram",
        trained_on="every clause of the training chapters", min_count=LM_MIN_COUNT,
        tuning={"sentences": len(validation), "split": "validation", "beam_width": LM_BEAM_WIDTH,
                "cer": [{"lm_weight": w, "length_bonus": b, "cer": round(c, 3)} for (w, b), c in tuning.items()]})


def _sentences_report(runtime, data, beam_width, description):
    """Greedy and language-model CER/WER of the on-device recogniser `runtime` on `data`, with examples."""
    from deepedge.data.speech import SAMPLE_RATE
    from deepedge.edge.ctc import character_error_rate, word_error_rate
    from deepedge.progress import progress_bar

    greedy, fused = [], []
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(data))
        for i in range(len(data)):
            logits = runtime.logits(data.audio(i))
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


def _export_recognizer(model_path, out, quantization, force, calibration_samples):
    from deepedge.apps.speech.recognizer import SpeechRecognizer
    from deepedge.data.kokoro import LICENCE, SOURCE
    from deepedge.data.speech import load_asterisk_sentences, load_sentences
    from deepedge.edge import load
    from deepedge.edge.card import write_model_card
    from deepedge.edge.ctc import character_error_rate, word_error_rate
    from deepedge.fileio import atomic_write_json
    from deepedge.progress import progress_bar

    model = SpeechRecognizer.load(model_path)
    train, test = load_sentences("train"), load_sentences("test")
    with err_console.status(f"Converting to {quantization} (streaming step) and checking CER on sentences/test..."):
        meta = model.export(out, quantization=quantization, calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 150, latency_runs=300,
                            extra_metadata={"data": "sentences"})
    runtime = load(out)
    with err_console.status("Greedy transcripts and the real-time factor on device..."):
        import time

        started, audio_seconds, test_logits, greedy = time.perf_counter(), 0.0, [], []
        for i in range(len(test)):
            audio = test.audio(i)
            audio_seconds += len(audio) / 16000
            test_logits.append(runtime.logits(audio))
            greedy.append(runtime.decode(test_logits[-1]))
        rtf = (time.perf_counter() - started) / audio_seconds
    meta["language_model"] = _recognizer_language_model(runtime, out)  # written into model.json too
    runtime = load(out)  # now with its language model
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
    meta["metrics"]["recognition"] = {
        "wer_greedy": round(word_error_rate(test.texts, greedy), 3),
        "cer_beam8_first200": round(character_error_rate(test.texts[:len(beam)], beam), 3),
        "cer_greedy_first200": round(character_error_rate(test.texts[:len(beam)], greedy[:len(beam)]), 3),
        "cer_beam_lm": round(character_error_rate(test.texts, fused), 3),
        "wer_beam_lm": round(word_error_rate(test.texts, fused), 3), "beam_lm_width": lm_beam,
        "real_time_factor": round(rtf, 4), "real_time_factor_beam_lm": round(rtf + fused_seconds / audio_seconds, 4),
        "audio_seconds": round(audio_seconds, 1),
        "samples": [{"reference": r, "hypothesis": h, "hypothesis_lm": f}
                    for r, h, f in zip(test.texts[:5], greedy[:5], fused[:5])],
        "real_speech": {"data": "asterisk_sentences", **real},
        "neural_voices": {"data": "neural_sentences/test", **neural}}
    atomic_write_json(Path(out) / "model.json", meta)
    data_info = {"name": "sentences", "source": f"{test.source}; neural voices: {SOURCE}",
                 "licence": f"{test.licence}; {LICENCE}", "train_examples": len(train), "test_examples": len(test),
                 "test_speakers": len(set(test.speakers))}
    command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
    write_model_card(out, data=data_info, export_command=command)
    metrics = meta["metrics"]
    console.print(f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, CER float "
                  f"{metrics['keras_float']:.2f}% vs {quantization} {metrics[f'litert_{quantization}']:.2f}% on "
                  f"held-out voices and chapters, real-time factor {rtf:.4f} on one thread; with the character "
                  f"language model (beam {lm_beam}): CER {metrics['recognition']['cer_beam_lm']:.2f}%; held-out "
                  f"neural voices {neural['cer_greedy']:.2f}% greedy, {neural['cer_beam_lm']:.2f}% with the language "
                  f"model; real telephone speech {real['cer_greedy']:.2f}% / {real['cer_beam_lm']:.2f}%")
    return meta


def _export(model_path, out, quantization, force, data, calibration_samples):
    from deepedge.data import load_image_dataset
    from deepedge.edge.card import write_model_card

    model_path = Path(model_path)
    name = _data_name(model_path, data)
    if name == "austen":
        return _export_language_model(model_path, out, quantization, force, calibration_samples)
    if name in SEGMENTATION_DATA:
        return _export_scene_labeller(model_path, out, quantization, force, name, calibration_samples)
    if name in SPEECH_DATA:
        return _export_keyword_spotter(model_path, out, quantization, force, name, calibration_samples)
    if name in SENTENCE_DATA:
        return _export_recognizer(model_path, out, quantization, force, calibration_samples)
    from deepedge.apps import ImageClassifier

    classifier = ImageClassifier.load(model_path)
    calibration_samples = calibration_samples or 500
    train = load_image_dataset(name, "train")
    test = load_image_dataset(name, "test")
    with err_console.status(f"Converting to {quantization} and checking parity on {name}/test..."):
        meta = classifier.export(out, quantization=quantization, calibration_data=train, evaluation_data=test,
                                 force=force, num_calibration=calibration_samples,
                                 extra_metadata={"data": name})
    data_info = {"name": name, "source": train.source, "licence": train.licence,
                 "train_examples": len(train), "test_examples": len(test)}
    command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
    write_model_card(out, data=data_info, export_command=command)
    metrics = meta["metrics"]
    console.print(f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, "
                  f"accuracy float {metrics['keras_float']:.2f}% vs {quantization} "
                  f"{metrics[f'litert_{quantization}']:.2f}%, median {meta['latency_us']['median']:.1f} us")
    return meta


@cli.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for model.tflite and model.json.")
@click.option("--quantization", type=click.Choice(["int8", "float16", "dynamic", "float32"]), default="int8",
              show_default=True)
@click.option("--force", is_flag=True, help="Write the model even if it fails the parity check.")
@click.option("--data", help="Data set for calibration and parity (default: the one it was trained on).")
@click.option("--calibration-samples", type=click.IntRange(min=1),
              help="Calibration samples for int8 (default: 500 images, 2000 language-model steps).")
def export(model, out, quantization, force, data, calibration_samples):
    """Export a .keras model to LiteRT (builtin ops only) with model.json and a model card."""
    _export(model, Path(out), quantization, force, data, calibration_samples)


@cli.command()
@click.argument("model")
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="test", show_default=True)
@click.option("--data", help="Data set name (default: the one the model was trained on).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N examples.")
@click.option("--beam", type=click.IntRange(min=1),
              help="Recognisers: CTC beam search with this many prefixes (and the exported character language "
                   "model), instead of greedy decoding.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(model, split, data, limit, beam, as_json):
    """Print the task metric of a .keras file, an exported model, or a shipped model name."""
    result = evaluate_model(model, split, data, limit, beam)
    if as_json:
        click.echo(json.dumps(result))
    else:
        unit = "%" if result["metric"] == "accuracy" else ""
        console.print(f"{result['model']} ({result['kind']}): {result['metric']} {result['value']:.2f}{unit} "
                      f"on {result['data']}/{result['split']} ({result['examples']:,} {result.get('unit', 'examples')})")


@cli.command()
@click.argument("model")
@click.option("--runs", type=click.IntRange(min=10), default=1000, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(model, runs, threads, as_json):
    """Median latency of an exported model in the LiteRT runtime."""
    from deepedge.edge import load, measure_latency

    path = _resolve_model(model)
    runtime = load(path, num_threads=threads)
    with err_console.status(f"Timing {runs} invokes..."):
        signature = "step" if "signature_io" in runtime.metadata else None
        latency = measure_latency(runtime.interpreter, runs=runs, signature=signature)
    result = {"model": str(path), "quantization": runtime.metadata["quantization"],
              "size_bytes": runtime.tflite_path.stat().st_size, "threads": threads, "latency_us": latency}
    if as_json:
        click.echo(json.dumps(result))
    else:
        console.print(f"{path}: median {latency['median']:.1f} us (p10 {latency['p10']:.1f}, "
                      f"p90 {latency['p90']:.1f}) over {runs} invokes, {threads} thread(s)")


@cli.command()
@click.argument("model")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--false-accepts", type=click.FloatRange(0, 100), default=5.0, show_default=True,
              help="Percent of the recorded other words the threshold may let through.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Write a calibrated copy of the model here (needed for a shipped model's name).")
@click.option("--dry-run", is_flag=True, help="Report the threshold without writing it into model.json.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calibrate(model, folder, false_accepts, out, dry_run, as_json):
    """Set an exported keyword spotter's rejection threshold from your own recordings.

    FOLDER holds WAV files in folders named after what they say, as in Speech Commands:
    yes/*.wav, left/*.wav, ... for keywords, any other folder name for words that are not
    keywords (at least one such word is needed), _silence_/ for background sound. The
    threshold becomes the lowest that takes at most --false-accepts percent of the other
    words for keywords, measured with your speakers, microphone and room; it is written
    into the model.json of MODEL (an exported folder), or of a copy in --out (the shipped
    threshold was calibrated on synthetic voices).
    """
    import shutil

    from deepedge.edge import load
    from deepedge.edge.keywords import load_keyword_folder

    path = _resolve_model(model)
    if out is None and not Path(model).exists() and not dry_run:
        raise InvalidInputError(f"{model} is a shipped model; pass --out FOLDER for a calibrated copy "
                                "(the shipped files stay as they are).")
    if out is not None and not dry_run:
        shutil.copytree(path if path.is_dir() else path.parent, out, dirs_exist_ok=True)
        path = Path(out)
    runtime = load(path)
    if runtime.task_name != "keyword_spotting":
        raise InvalidInputError(f"{path} is a {runtime.task_name} model; calibrate sets a keyword spotter's threshold.")
    clips, labels, _ = load_keyword_folder(folder, runtime.class_names, runtime.clip_samples, runtime.sample_rate)
    result = runtime.calibrate(clips, labels, false_accepts, save=not dry_run)
    result |= {"model": str(path), "clips": int(len(labels)), "written": not dry_run}
    if as_json:
        click.echo(json.dumps(result))
        return
    for when, threshold in (("before", result["previous"]), ("after", result["threshold"])):
        r = result[when]
        keywords = "-" if r["keyword_accuracy"] is None else f"{r['keyword_accuracy']:.1f}%"
        console.print(f"threshold {threshold:.2f}: keywords recognised {keywords}, other words taken for "
                      f"keywords {r['false_accepts_unknown']:.1f}%, accuracy {r['accuracy_with_threshold']:.1f}% "
                      f"({len(labels)} clips)")
    console.print(f"{'Wrote' if not dry_run else 'Would write'} threshold {result['threshold']:.2f} "
                  f"(was {result['previous']:.2f}) into {path}/model.json")


@cli.command()
@click.argument("model", required=False)
def info(model):
    """Describe an exported model, or list the shipped models and presets."""
    from deepedge.edge.metadata import read_metadata, resolve_model_paths
    from deepedge.presets import saved_models_dir

    if model is None:
        table = Table(title=f"Shipped models ({saved_models_dir()})")
        for column in ("name", "task", "quantization", "size", "metric", "float / exported"):
            table.add_column(column)
        for folder in sorted(p for p in saved_models_dir().glob("*") if (p / "model.json").exists()):
            meta = read_metadata(folder / "model.json")
            metrics = meta.get("metrics") or {}
            values = [metrics.get("keras_float"), metrics.get(f"litert_{meta['quantization']}")]
            table.add_row(folder.name, meta["task"], meta["quantization"], f"{meta['size_bytes'] / 1024:.1f} KiB",
                          metrics.get("metric", "-"),
                          " / ".join("-" if v is None else f"{v:.2f}" for v in values))
        console.print(table)
        return
    tflite, meta_path = resolve_model_paths(_resolve_model(model))
    meta = read_metadata(meta_path, tflite)
    console.print_json(json.dumps({k: meta[k] for k in meta if k not in ("labels",)} | {
        "labels": meta.get("labels", [])[:20]}))


@cli.command()
@click.argument("family", type=click.Choice(["all", "images", "language", "scene", "speech"]), default="all")
@click.option("--out", type=click.Path(file_okay=False), default="demo_output", show_default=True,
              help="Folder for the pictures.")
@click.option("--limit", type=click.IntRange(min=1),
              help="Evaluate on the first N test images (language: test chapters) only.")
def demo(family, out, limit):
    """Run the shipped models on device over held-out data; print tables, draw pictures.

    images: Fashion-MNIST classifiers, feature maps (Fig. 2). language: Austen language models,
    perplexity against a Kneser-Ney 5-gram, generated text, word vectors (Fig. 4). scene:
    pixel labellers on composed scenes and on held-out microscopy, with coloured overlays.
    speech: the keyword spotter on held-out voices and a real speaker, then streams of speech
    with detections printed as they fire, and pictures of log-mel input and probabilities.
    """
    from deepedge.demo import run_image_demo, run_language_demo, run_scene_demo, run_speech_demo

    if family in ("all", "images"):
        run_image_demo(Path(out), limit=limit, console=console)
    if family in ("all", "language"):
        run_language_demo(Path(out), limit=limit, console=console)
    if family in ("all", "scene"):
        run_scene_demo(Path(out), limit=limit, console=console)
    if family in ("all", "speech"):
        run_speech_demo(Path(out), limit=limit, console=console)


@cli.command()
@click.argument("prompt")
@click.option("--model", default="austen_lstm_word", show_default=True,
              help="An exported language model folder or a shipped model name.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=80, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.01), default=0.8, show_default=True)
@click.option("--top-k", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--greedy", is_flag=True, help="Always take the most likely token.")
@click.option("--beam", type=click.IntRange(min=1), help="Beam search with this many hypotheses.")
@click.option("--seed", type=int, help="Seed for reproducible sampling.")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True)
def generate(prompt, model, max_tokens, temperature, top_k, greedy, beam, seed, samples):
    """Continue PROMPT with an int8 language model in the LiteRT runtime (no TensorFlow)."""
    import time

    from deepedge.edge import load
    from deepedge.edge.runtime import EdgeLanguageModel

    runtime = load(_resolve_model(model))
    if not isinstance(runtime, EdgeLanguageModel):
        raise InvalidInputError(f"{model} is a {runtime.task_name} model, not a language model.")
    for i in range(samples):
        steps_before = runtime.steps_run
        started = time.perf_counter()
        text = runtime.generate(prompt, max_tokens=max_tokens, strategy="greedy" if greedy else "sample",
                                temperature=temperature, top_k=top_k, beam_width=beam,
                                seed=None if seed is None else seed + i)
        seconds = time.perf_counter() - started
        steps = runtime.steps_run - steps_before
        click.echo(text)
        err_console.print(f"[dim]{steps} steps in {seconds * 1000:.0f} ms: {steps / seconds:,.0f} tokens/s "
                          f"on {runtime.metadata['quantization']} LiteRT, 1 thread[/]")


def read_image(path, channels):
    """An image file (PNG, JPEG, ... via Pillow, or a .npy array) as uint8 (H, W, channels)."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise InvalidInputError(f"{path} is not a readable .npy array: {e}") from e
        if array.ndim == 2 and channels == 1:
            array = array[..., None]
        return array
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise InvalidInputError("Reading image files needs Pillow: pip install pillow "
                                "(or pass a .npy array).") from e
    try:
        with Image.open(path) as image:
            image.load()
            if image.width < 1 or image.height < 1:
                raise InvalidInputError(f"{path} is an empty image.")
            return np.asarray(image.convert("L" if channels == 1 else "RGB")).reshape(
                image.height, image.width, channels)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise InvalidInputError(f"{path} is not an image Pillow can read ({e}). "
                                "Pass a PNG, JPEG, BMP or TIFF file, or a .npy array.") from e


@cli.command()
@click.argument("family", type=click.Choice(["scene", "image", "speech"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", help="An exported model folder or a shipped model name "
                              "(default: scenes_labeller / fashion_edgenet / kws_dscnn).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="scene: where to write the coloured overlay (default: FILE_labels.png beside the input). "
                   "speech: a picture of the log-mel input and the keyword probabilities over time.")
@click.option("--top-k", type=click.IntRange(min=1), default=3, show_default=True, help="image: classes to show.")
def predict(family, file, model, out, top_k):
    """Run a shipped (or your own exported) model on device over your own FILE.

    scene: any image size; grey or colour (converted to grey). Prints the share of each class
    and writes the image with its labels painted over it. image: an image classifier; the
    picture is converted to grey and resized to the model's input. speech: a WAV file at any
    sample rate and channel count (resampled to 16 kHz, mixed down); a clip up to a second long
    is classified, a longer one streamed through the spotter, detections printed as they fire.
    With a speech recogniser (`--model asr_ctc`) the file is transcribed as it streams.
    """
    import time

    from deepedge.edge import load

    defaults = {"scene": "scenes_labeller", "image": "fashion_edgenet", "speech": "kws_dscnn"}
    runtime = load(_resolve_model(model or defaults[family]))
    expected = {"scene": "scene_labelling", "image": "image_classification", "speech": "keyword_spotting"}[family]
    if family == "speech" and runtime.task_name == "speech_recognition":
        return _transcribe_file(runtime, file, out)
    if runtime.task_name != expected:
        raise InvalidInputError(f"{model} is a {runtime.task_name} model; `predict {family}` needs a {expected} model.")
    if family == "speech":
        return _predict_speech(runtime, file, out, top_k)
    channels = runtime.input_specs[0]["shape"][-1]
    image = read_image(file, channels)
    if family == "image":
        height, width = runtime.image_shape[:2]
        if image.shape[:2] != (height, width):
            from PIL import Image

            image = np.asarray(Image.fromarray(image[..., 0] if channels == 1 else image).resize(
                (width, height), Image.BILINEAR)).reshape(height, width, channels)
        for label, score in runtime.classify(image, top_k=top_k)[0]:
            console.print(f"{label:>20s}  {score:.3f}")
        return
    started = time.perf_counter()
    labels, painted = runtime.overlay(image)
    seconds = time.perf_counter() - started
    table = Table(title=f"{Path(file).name}: {image.shape[1]}x{image.shape[0]} pixels, labelled on device "
                        f"in {seconds * 1000:.0f} ms")
    table.add_column("class")
    table.add_column("pixels %", justify="right")
    shares = np.bincount(labels.ravel(), minlength=len(runtime.class_names)) / labels.size
    for name, share in sorted(zip(runtime.class_names, shares), key=lambda t: -t[1]):
        if share > 0:
            table.add_row(name, f"{100 * share:.1f}")
    console.print(table)
    out = Path(out) if out else Path(file).with_name(Path(file).stem + "_labels.png")
    from PIL import Image

    from deepedge.fileio import atomic_path

    with atomic_path(out) as tmp:
        Image.fromarray(painted).save(tmp, format="PNG")
    console.print(f"wrote {out}")


def _transcribe_file(runtime, file, out):
    import time

    from deepedge.edge.audio import load_audio
    from deepedge.edge.ctc import beam_decode

    audio = load_audio(file, runtime.sample_rate)
    console.print(f"{Path(file).name}: {len(audio) / runtime.sample_rate:.1f} s, streamed in "
                  f"{runtime.chunk_samples / runtime.sample_rate * 1000:.0f} ms chunks:")
    from deepedge.edge.ctc import GreedyStream

    started, shown, logits = time.perf_counter(), "", []
    decoder = GreedyStream(runtime.characters)
    for seconds, chunk_logits in runtime.stream(audio):
        logits.append(chunk_logits)
        text = decoder.push(chunk_logits)
        if text != shown:
            console.print(f"  {seconds:6.2f} s  {text}", highlight=False)
            shown = text
    elapsed = time.perf_counter() - started
    logits = np.concatenate(logits)
    console.print(f"greedy: [bold]{shown}[/]", highlight=False)
    console.print(f"beam 8: [bold]{beam_decode(logits, runtime.characters, 8)}[/]", highlight=False)
    if runtime.language_model is not None:
        console.print(f"beam {LM_BEAM_WIDTH} + character language model: "
                      f"[bold]{runtime.decode(logits, LM_BEAM_WIDTH)}[/]", highlight=False)
    console.print(f"real-time factor {elapsed / (len(audio) / runtime.sample_rate):.4f} on one thread")
    if out:
        from deepedge.demo import draw_ctc_outputs

        console.print(f"wrote {draw_ctc_outputs(audio, logits, runtime.characters, out, title=Path(file).name)}")


def _predict_speech(runtime, file, out, top_k):
    from deepedge.edge.audio import fit_clip, load_audio

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
        from deepedge.demo import print_detections

        console.print(f"{Path(file).name}: {seconds:.1f} s, streamed in 1-second windows every 0.25 s:")
        detections, scores = print_detections(runtime, audio, console)
        if not detections:
            console.print("  no keyword detected")
    if out:
        from deepedge.demo import draw_keyword_stream

        path = draw_keyword_stream(audio, scores, runtime.class_names, [], detections, out,
                                   title=f"{Path(file).name}")
        console.print(f"wrote {path}")


def main():
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except DeepEdgeError as e:
        err_console.print(f"[bold red]error:[/] {type(e).__name__}: {e}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
