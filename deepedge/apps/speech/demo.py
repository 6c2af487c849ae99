"""`deepedge demo speech`: the shipped keyword spotter on held-out and real voices, keywords
detected in a stream as it arrives, and the recogniser transcribing held-out sentences as they stream."""

from pathlib import Path

import numpy as np

from deepedge.fileio import atomic_write_json
from deepedge.plots import draw_ctc_outputs, draw_keyword_stream
from deepedge.progress import map_in_chunks


def print_detections(runtime, audio, console, hop_seconds=0.25):
    """Streams `audio` through a keyword spotter, printing each detection as it fires; returns
    `(detections, window_scores)`."""
    from deepedge.ops.keywords import detect_stream

    scores = []

    def windows():
        for s in runtime.window_scores(audio, hop_seconds):
            scores.append(s)
            yield s

    detections = []
    for t, word, p in detect_stream(windows(), runtime.class_names, runtime.threshold, hop_seconds):
        console.print(f"  {t:6.2f} s  [bold]{word}[/]  {p:.2f}", highlight=False)
        detections.append((t, word, p))
    return detections, np.array(scores)


def run_keyword_demo(family, out, limit=None, console=None, seed=0):
    """The shipped keyword spotter on device: held-out voices, real speech, and a live stream."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.data.speech import KEYWORDS, compose_stream, load_alsa_speech, load_keywords
    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency
    from deepedge.ops.keywords import keyword_report
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Keyword spotting on device (voices never heard in training)")
    table.add_column("model", no_wrap=True)
    for column in ("data", "float acc %", "int8 acc %", "false accepts %", "KiB", "int8 us / 1 s"):
        table.add_column(column, justify="right")
    rows = []
    for name in family.shipped:
        runtime = load(shipped_model_dir(name))
        latency = measure_latency(runtime.interpreter, runs=300)["median"]
        size = runtime.tflite_path.stat().st_size
        recorded = (runtime.metadata.get("metrics") or {}).get("keyword_reports", {})
        for data_name, data in (("keywords/test", load_keywords("test")), ("alsa_speech (real)", load_alsa_speech())):
            if limit:
                data = data.take(limit)
            scores = map_in_chunks(runtime.predict, data.audio, f"{name} on {data_name}", chunk=100)
            report = keyword_report(scores, data.labels, runtime.class_names, runtime.threshold)
            float_report = recorded.get(data_name, {}).get("keras_float")
            table.add_row(name, data_name,
                          f"{float_report['accuracy_with_threshold']:.1f}" if float_report and not limit else "-",
                          f"{report['accuracy_with_threshold']:.1f}", f"{report['false_accepts_unknown']:.1f}",
                          f"{size / 1024:.1f}", f"{latency:.0f}")
            rows.append({"model": name, "data": data_name, "examples": len(data), "int8": report,
                         "size_bytes": size, "latency_us": latency})
        # A stream: held-out voices saying keywords and other words, detected as the audio arrives.
        test = load_keywords("test")
        rng = np.random.default_rng(seed)
        keyword_ids = [i for i, t in enumerate(test.utterances.texts) if t in KEYWORDS]
        other_ids = [i for i, label in enumerate(test.labels) if test.class_names[label] == "_unknown_"]
        chosen = list(rng.choice(keyword_ids, 6, replace=False)) + list(rng.choice(other_ids, 2, replace=False))
        rng.shuffle(chosen)
        audio, said = compose_stream(test.utterances, chosen, rng)
        console.print(f"\n[bold]{name}[/], streaming {len(audio) / 16000:.1f} s of held-out voices saying: "
                      + ", ".join(text for _, _, text in said))
        detections, scores = print_detections(runtime, audio, console)
        picture = draw_keyword_stream(audio, scores, runtime.class_names, said, detections,
                                      out / f"{name}_stream.png", title=f"{name}: held-out voices, streamed")
        console.print(f"wrote {picture}")
        real = load_alsa_speech()
        real_audio, real_said = compose_stream(real.utterances, range(len(real) - 1), rng, noise_db=-70)
        console.print(f"\n[bold]{name}[/], streaming a real speaker (alsa-utils test sounds): "
                      + ", ".join(text.split(" (")[0] for _, _, text in real_said))
        real_detections, real_scores = print_detections(runtime, real_audio, console)
        picture = draw_keyword_stream(real_audio, real_scores, runtime.class_names,
                                      [(a, b, t.split(" (")[0]) for a, b, t in real_said], real_detections,
                                      out / f"{name}_real_speech.png", title=f"{name}: a real speaker, streamed")
        console.print(f"wrote {picture}")
    console.print(table)
    atomic_write_json(out / "speech_demo_results.json", rows)
    return rows


def run_recognizer_demo(family, out, limit=None, console=None, show=4):
    """The shipped recogniser on device: held-out sentences transcribed as they stream, CER, a picture."""
    import time

    from rich.console import Console

    from deepedge.data.speech import load_sentences
    from deepedge.ops.ctc import character_error_rate, word_error_rate
    from deepedge.presets import saved_models_dir
    from deepedge.runtime import load

    console = console or Console()
    folder = saved_models_dir() / family.default_model
    if not (folder / "model.json").exists():
        return []
    runtime = load(folder)
    test = load_sentences("test")
    test = test.take(limit or 100)
    console.print("\n[bold]asr_ctc[/], held-out voices reading held-out chapters, transcribed as the audio streams:")
    references, hypotheses, started, seconds = [], [], time.perf_counter(), 0.0
    for i in range(len(test)):
        audio = test.waveform(i)
        seconds += len(audio) / 16000
        partial = list(runtime.transcribe_stream(audio))
        hypotheses.append(partial[-1][1])
        references.append(test.texts[i])
        if i < show:
            console.print(f"  said:  {test.texts[i]}", highlight=False)
            middle = partial[len(partial) // 2]
            console.print(f"  {middle[0]:.2f} s: {middle[1]}", highlight=False)
            console.print(f"  heard: {partial[-1][1]}", highlight=False)
    rtf = (time.perf_counter() - started) / seconds
    cer, wer = character_error_rate(references, hypotheses), word_error_rate(references, hypotheses)
    console.print(f"asr_ctc on device: CER {cer:.1f}%, WER {wer:.1f}% over {len(test)} test sentences "
                  f"(float Keras: {runtime.metadata['metrics']['keras_float']:.1f}% CER on all "
                  f"{runtime.metadata['metrics']['examples']}), real-time factor {rtf:.4f} on one thread")
    picture = draw_ctc_outputs(test.waveform(0), runtime.logits(test.waveform(0)), runtime.characters,
                               out / "asr_ctc_outputs.png", title="asr_ctc on device", said=test.texts[0])
    console.print(f"wrote {picture}")
    rows = [{"model": "asr_ctc", "data": "sentences/test", "examples": len(test), "cer": round(cer, 2),
             "wer": round(wer, 2), "real_time_factor": round(rtf, 4)}]
    atomic_write_json(Path(out) / "recognizer_demo_results.json", rows)
    return rows
